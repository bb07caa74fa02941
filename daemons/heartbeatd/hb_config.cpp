#include "elastic/hb_config.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "elastic/log_config.h"
#include "elastic/parse_number.h"
#include "elastic/placement.h"
#include "elastic/secure.h"

namespace elastic::hb {
namespace {

constexpr const char* kSection = "elastic.heartbeat";
const std::set<std::string> kKnownKeys = {"port",         "interval", "misses",
                                          "key",          "socket",   "plugin_socket",
                                          "syncd_socket", "notify",   "allow_two_node_without_witness",
                                          "loglevel"};

// "FILE:LINE: key: what"; a key that is not set is reported at its closest enclosing section.
Error bad(const sync::Settings& s, const std::string& key, const std::string& what) {
  return s.error(key, what);
}

Result<bool> yes_no(const std::string& v) {
  if (v == "yes" || v == "true" || v == "1") return true;
  if (v == "no" || v == "false" || v == "0" || v.empty()) return false;
  return make_error("expected yes or no, got '" + v + "'");
}

Result<std::string> read_key(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return make_error("cannot read key file " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return make_error("key file " + path + " is not a regular file");
  if (st.st_size > 4096) return make_error("key file " + path + " is larger than 4096 bytes (not a key?)");
  if (st.st_mode & 077) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return make_error("key file " + path + " has mode " + mode +
                      ": it must be readable by its owner only (chmod 600 or 400)");
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) return make_error("cannot read key file " + path + ": " + std::strerror(errno));
  std::stringstream ss;
  ss << f.rdbuf();
  std::string key = ss.str();
  if (key.size() < 32) {
    const size_t n = key.size();
    secure_wipe(key);
    return make_error("key file " + path + " holds " + std::to_string(n) + " bytes, at least 32 are needed");
  }
  return key;
}

}  // namespace

HeartbeatConfig::~HeartbeatConfig() {
  secure_wipe(key);
}

const HbMember& HeartbeatConfig::self() const {
  for (const auto& m : members)
    if (m.name == node) return m;
  return members.front();  // load_heartbeat_config guarantees node is a member
}

Result<std::chrono::milliseconds> parse_interval(const std::string& v) {
  if (v.empty()) return make_error("empty duration");
  // Whole numbers only (parse_u64: no sign, exponent, hex or fraction), then the unit.
  const size_t digits = v.find_first_not_of("0123456789");
  const std::string unit = digits == std::string::npos ? "" : v.substr(digits);
  if (unit != "" && unit != "ms" && unit != "s") return make_error("'" + v + "' is not a duration (e.g. 20ms, 1s)");
  auto n = parse_u64(v.substr(0, digits), "duration");
  if (!n) {
    if (digits == 0) return make_error("'" + v + "' is not a duration (e.g. 20ms, 1s)");
    return make_error("'" + v + "' is out of range (10ms .. 10s)");
  }
  const uint64_t ms = unit == "s" ? (*n > 10 ? 10001 : *n * 1000) : *n;  // no overflow
  if (ms < 10 || ms > 10000) return make_error("'" + v + "' is out of range (10ms .. 10s)");
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

Result<HeartbeatConfig> load_heartbeat_config(const sync::Settings& s) {
  HeartbeatConfig c;
  c.node = s.get("elastic.node");
  if (c.node.empty()) return bad(s, "elastic.node", "is not set (this node's member name)");
  const std::string members = "elastic.cluster.members";
  // The sections syncd and heartbeatd share: unknown keys are errors here too (a witness host
  // runs heartbeatd alone); elastic.syncd is checked by elastic-syncd.
  if (auto ok = s.check_keys("elastic", {"node"}, {"cluster", "syncd", "heartbeat"}); !ok) return ok.error();
  if (auto ok = s.check_keys("elastic.cluster", {"replicas"}, {"members"}); !ok) return ok.error();
  for (const auto& name : s.sections(members)) {
    const std::string k = members + "." + name;
    if (auto ok = s.check_keys(k, {"address", "weight", "witness"}, {}); !ok) return ok.error();
    if (auto again = s.reopened(k); again.line) return s.error_at(again, k, "member listed twice");
    const std::string addr = s.get(k + ".address");
    auto colon = addr.rfind(':');
    if (colon == std::string::npos || colon == 0) return bad(s, k + ".address", "'" + addr + "': expected HOST:PORT");
    if (auto port = parse_u64(addr.substr(colon + 1), "port", 1, 65535); !port)
      return bad(s, k + ".address", "'" + addr + "': " + port.error().message);
    HbMember m;
    m.name = name;
    m.host = addr.substr(0, colon);
    if (m.host.size() > 2 && m.host.front() == '[' && m.host.back() == ']')
      m.host = m.host.substr(1, m.host.size() - 2);
    unsigned char ip[16];
    if (inet_pton(AF_INET, m.host.c_str(), ip) != 1 && inet_pton(AF_INET6, m.host.c_str(), ip) != 1)
      return bad(s, k + ".address", "'" + addr + "': the heartbeat needs an IP address, not a host name");
    const std::string w = s.get(k + ".weight", "1");
    auto weight = parse_u64(w, "weight", 1, 1000);
    if (!weight) return bad(s, k + ".weight", "'" + w + "': expected a whole number from 1 to 1000");
    m.weight = static_cast<double>(*weight);
    auto wit = yes_no(s.get(k + ".witness"));
    if (!wit) return bad(s, k + ".witness", wit.error().message);
    m.witness = *wit;
    for (const auto& o : c.members)
      if (o.name == name) return bad(s, k, "member listed twice");
    c.members.push_back(std::move(m));
  }
  if (c.members.size() > 32) return bad(s, members, "at most 32 members are supported");
  bool self_found = false;
  for (const auto& m : c.members) self_found |= m.name == c.node;
  if (!self_found) return bad(s, "elastic.node", "'" + c.node + "' is not in " + members);
  if (c.node.size() > 64) return bad(s, "elastic.node", "name longer than 64 characters");

  const std::string r = s.get("elastic.cluster.replicas", "1");
  auto replicas = sync::parse_replicas(r);
  if (!replicas) return bad(s, "elastic.cluster.replicas", "'" + r + "': " + replicas.error().message);
  c.replicas = *replicas;

  for (const auto& k : s.keys(kSection))
    if (!kKnownKeys.count(k)) return bad(s, std::string(kSection) + "." + k, "unknown key");
  if (auto subs = s.sections(kSection); !subs.empty())
    return bad(s, std::string(kSection) + "." + subs.front(), "unknown section");
  auto key = [](const char* k) { return std::string(kSection) + "." + k; };

  const std::string port = s.get(key("port"), "7401");
  {
    auto p = parse_u64(port, "port", 1, 65535);
    if (!p) return bad(s, key("port"), "'" + port + "': expected 1..65535");
    c.port = static_cast<uint16_t>(*p);
  }
  auto iv = parse_interval(s.get(key("interval"), "20ms"));
  if (!iv) return bad(s, key("interval"), iv.error().message);
  c.interval = *iv;
  const std::string misses = s.get(key("misses"), "3");
  {
    auto n = parse_u64(misses, "misses", 2, 1000);
    if (!n) return bad(s, key("misses"), "'" + misses + "': expected a number from 2 to 1000");
    c.misses = static_cast<int>(*n);
  }
  c.socket = s.get(key("socket"), c.socket);
  c.plugin_socket = s.get(key("plugin_socket"), c.plugin_socket);
  c.syncd_socket = s.get(key("syncd_socket"));
  c.notify = s.get(key("notify"));
  auto two = yes_no(s.get(key("allow_two_node_without_witness")));
  if (!two) return bad(s, key("allow_two_node_without_witness"), two.error().message);
  c.allow_two_node = *two;
  auto level = log::configured_level(s, key("loglevel"));
  if (!level) return level.error();
  c.loglevel = *level;

  size_t witnesses = 0;
  for (const auto& m : c.members) witnesses += m.witness;
  if (c.members.size() < 2) return bad(s, members, "at least 2 members are needed");
  if (witnesses == c.members.size()) return bad(s, members, "every member is a witness");
  if (c.members.size() == 2 && !witnesses) {
    if (!c.allow_two_node)
      return bad(s, members,
                 "2 members without a witness cannot tell a partition from a failure: add a member with "
                 "witness = yes (or set elastic.heartbeat.allow_two_node_without_witness = yes, unsafe)");
    c.quorum = 1;
  } else {
    c.quorum = c.members.size() / 2 + 1;
  }

  const std::string key_path = s.get(key("key"), "/etc/elastic/heartbeat.key");
  auto k = read_key(key_path);
  if (!k) return bad(s, key("key"), k.error().message);
  c.key = std::move(k.value());
  return c;
}

}  // namespace elastic::hb
