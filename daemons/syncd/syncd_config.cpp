#include "elastic/syncd_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cerrno>
#include <cstring>

#include "elastic/log_config.h"
#include "elastic/parse_number.h"
#include "elastic/tls.h"

namespace elastic::sync {
namespace {

const std::string kMembers = "elastic.cluster.members";

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

// "IP:PORT" or "[IPv6]:PORT"; the host must be an IP literal (no name resolution in the daemon).
Result<HostPort> host_port(const Settings& s, const std::string& key, const std::string& v) {
  auto colon = v.rfind(':');
  if (colon == std::string::npos || colon == 0) return s.error(key, "'" + v + "': expected IP:PORT");
  auto port = parse_u64(v.substr(colon + 1), "port", 1, 65535);
  if (!port) return s.error(key, "'" + v + "': " + port.error().message);
  std::string host = v.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  if (ec) return s.error(key, "'" + v + "': '" + host + "' is not an IP address (host names are not resolved)");
  return HostPort{host, static_cast<uint16_t>(*port)};
}

Result<uint64_t> number(const Settings& s, const std::string& key, uint64_t def, uint64_t min, uint64_t max) {
  if (!s.has(key)) return def;
  auto v = parse_u64(s.get(key), "value", min, max);
  if (!v) return s.error(key, v.error().message);
  return v;
}

Result<bool> yes_no(const Settings& s, const std::string& key) {
  const std::string v = s.get(key);
  if (v == "yes" || v == "true" || v == "1") return true;
  if (v == "no" || v == "false" || v == "0" || v.empty()) return false;
  return s.error(key, "'" + v + "': expected yes or no");
}

Result<void> check_known_keys(const Settings& s) {
  // `heartbeat { }` belongs to elastic-heartbeatd, which checks it.
  if (auto ok = s.check_keys("elastic", {"node"}, {"cluster", "syncd", "heartbeat"}); !ok) return ok;
  if (auto ok = s.check_keys("elastic.cluster", {"replicas"}, {"members"}); !ok) return ok;
  for (const auto& name : s.sections(kMembers))
    if (auto ok = s.check_keys(kMembers + "." + name, {"address", "weight", "witness"}, {}); !ok) return ok;
  if (auto ok = s.check_keys("elastic.syncd",
                             {"listen", "socket", "metrics", "queue_limit", "max_connections", "local_backlog_bytes",
                              "tombstone_ttl_s", "loglevel"},
                             {"tls", "timeouts"});
      !ok)
    return ok;
  if (auto ok = s.check_keys("elastic.syncd.tls", {"ca", "cert", "key"}, {}); !ok) return ok;
  return s.check_keys("elastic.syncd.timeouts", {"handshake_ms", "hello_ms", "idle_ms"}, {});
}

// A file the daemon will read: it must open for reading now (errno text otherwise).
Result<void> readable(const Settings& s, const std::string& key, const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return s.error(key, "cannot read " + path + ": " + std::strerror(errno));
  char c;
  const ssize_t n = ::read(fd, &c, 1);
  const int err = errno;
  ::close(fd);
  if (n < 0) return s.error(key, "cannot read " + path + ": " + std::strerror(err));
  return {};
}

}  // namespace

Result<SyncdConfig> load_syncd_config(const Settings& s) {
  if (auto ok = check_known_keys(s); !ok) return ok.error();
  SyncdConfig c;
  c.node = s.get("elastic.node");
  if (c.node.empty()) return s.error("elastic.node", "is not set (this gateway's member name)");
  bool self_found = false;
  for (const auto& name : s.sections(kMembers)) {
    const std::string k = kMembers + "." + name;
    if (auto again = s.reopened(k); again.line) return s.error_at(again, k, "member listed twice");
    // A witness (elastic-heartbeatd's tie-breaker) votes on membership but holds no VPNs.
    auto witness = yes_no(s, k + ".witness");
    if (!witness) return witness.error();
    if (*witness) continue;
    auto hp = host_port(s, k + ".address", s.get(k + ".address"));
    if (!hp) return hp.error();
    auto weight = number(s, k + ".weight", 1, 1, 1000);
    if (!weight) return weight.error();
    c.members.push_back({name, static_cast<double>(*weight)});
    if (name == c.node) {
      self_found = true;
      c.listen_host = hp->host;
      c.listen_port = hp->port;
    } else {
      c.peers.push_back({name, hp->host, hp->port, static_cast<double>(*weight)});
    }
  }
  if (!self_found) return s.error("elastic.node", "'" + c.node + "' is not in " + kMembers);
  if (s.has("elastic.syncd.listen")) {
    auto hp = host_port(s, "elastic.syncd.listen", s.get("elastic.syncd.listen"));
    if (!hp) return hp.error();
    c.listen_host = hp->host;
    c.listen_port = hp->port;
  }
  const std::string r = s.get("elastic.cluster.replicas", "1");
  auto replicas = parse_replicas(r);
  if (!replicas) return s.error("elastic.cluster.replicas", "'" + r + "': " + replicas.error().message);
  c.replicas = *replicas;
  c.socket = s.get("elastic.syncd.socket", "/run/elastic/syncd.sock");
  if (c.socket.empty() || c.socket.size() > 107)
    return s.error("elastic.syncd.socket", "'" + c.socket + "': expected a path of 1 to 107 characters");
  c.ca = s.get("elastic.syncd.tls.ca");
  c.cert = s.get("elastic.syncd.tls.cert");
  c.key = s.get("elastic.syncd.tls.key");
  for (const char* k : {"ca", "cert", "key"})
    if (s.get(std::string("elastic.syncd.tls.") + k).empty())
      return s.error(std::string("elastic.syncd.tls.") + k,
                     "is not set (.ca, .cert and .key are required: peers are always authenticated)");
  c.metrics = s.get("elastic.syncd.metrics");
  if (s.has("elastic.syncd.metrics"))
    if (auto hp = host_port(s, "elastic.syncd.metrics", c.metrics); !hp) return hp.error();

  auto queue_limit = number(s, "elastic.syncd.queue_limit", c.queue_limit, 1, 100000000);
  if (!queue_limit) return queue_limit.error();
  c.queue_limit = *queue_limit;
  auto max_conn = number(s, "elastic.syncd.max_connections", c.max_connections, 1, 65535);
  if (!max_conn) return max_conn.error();
  c.max_connections = *max_conn;
  auto backlog = number(s, "elastic.syncd.local_backlog_bytes", c.local_backlog_bytes, 65536, 1ull << 32);
  if (!backlog) return backlog.error();
  c.local_backlog_bytes = *backlog;
  auto ttl = number(s, "elastic.syncd.tombstone_ttl_s", 600, 1, 30 * 86400);
  if (!ttl) return ttl.error();
  c.tombstone_ttl = std::chrono::seconds(*ttl);
  auto level = log::configured_level(s, "elastic.syncd.loglevel");
  if (!level) return level.error();
  c.loglevel = *level;
  const std::string t = "elastic.syncd.timeouts.";
  auto handshake = number(s, t + "handshake_ms", 5000, 100, 600000);
  if (!handshake) return handshake.error();
  auto hello = number(s, t + "hello_ms", 5000, 100, 600000);
  if (!hello) return hello.error();
  auto idle = number(s, t + "idle_ms", 30000, 300, 3600000);
  if (!idle) return idle.error();
  c.timeouts = {std::chrono::milliseconds(*handshake), std::chrono::milliseconds(*hello),
                std::chrono::milliseconds(*idle)};
  return c;
}

Result<void> check_syncd_files(const Settings& s, const SyncdConfig& c) {
  const std::string t = "elastic.syncd.tls.";
  if (auto ok = readable(s, t + "ca", c.ca); !ok) return ok;
  if (auto ok = readable(s, t + "cert", c.cert); !ok) return ok;
  if (auto ok = readable(s, t + "key", c.key); !ok) return ok;
  // The same loading as at start, so that --check fails where the start would (bad PEM, a key
  // that does not match the certificate).
  boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_server);
  if (auto ok = setup_tls(ctx, c.ca, c.cert, c.key); !ok) {
    const std::string& m = ok.error().message;  // "TLS CA ...", "TLS certificate ...", "TLS key ..."
    return s.error(t + (m.rfind("TLS CA", 0) == 0 ? "ca" : m.rfind("TLS key", 0) == 0 ? "key" : "cert"), m);
  }
  struct stat st {};
  if (::lstat(c.socket.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return s.error("elastic.syncd.socket", c.socket + " exists and is not a socket: refusing to replace it");
  } else if (errno != ENOENT) {
    return s.error("elastic.syncd.socket", "cannot check " + c.socket + ": " + std::strerror(errno));
  }
  return {};
}

}  // namespace elastic::sync
