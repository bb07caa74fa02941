#include "elastic/syncd_config.h"

#include <cstdlib>
#include <limits>

namespace elastic::sync {
namespace {

Result<std::pair<std::string, uint16_t>> host_port(const std::string& v, const std::string& key) {
  auto colon = v.rfind(':');
  if (colon == std::string::npos || colon == 0) return make_error(key + " = '" + v + "': expected HOST:PORT");
  char* end = nullptr;
  long port = std::strtol(v.c_str() + colon + 1, &end, 10);
  if (*end || port <= 0 || port > 65535) return make_error(key + " = '" + v + "': bad port");
  std::string host = v.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return std::pair<std::string, uint16_t>{host, static_cast<uint16_t>(port)};
}

}  // namespace

Result<SyncdConfig> load_syncd_config(const Settings& s) {
  SyncdConfig c;
  c.node = s.get("elastic.node");
  if (c.node.empty()) return make_error("elastic.node is not set (this gateway's member name)");
  const std::string members = "elastic.cluster.members";
  bool self_found = false;
  for (const auto& name : s.sections(members)) {
    const std::string k = members + "." + name;
    // A witness (elastic-heartbeatd's tie-breaker) votes on membership but holds no VPNs.
    if (s.get(k + ".witness", "no") == "yes") continue;
    auto hp = host_port(s.get(k + ".address"), k + ".address");
    if (!hp) return hp.error();
    char* end = nullptr;
    const std::string w = s.get(k + ".weight", "1");
    double weight = std::strtod(w.c_str(), &end);
    if (*end || weight <= 0) return make_error(k + ".weight = '" + w + "': expected a positive number");
    c.members.push_back({name, weight});
    if (name == c.node) {
      self_found = true;
      c.listen_host = hp->first;
      c.listen_port = hp->second;
    } else {
      c.peers.push_back({name, hp->first, hp->second, weight});
    }
  }
  if (!self_found) return make_error("elastic.node '" + c.node + "' is not in " + members);
  if (auto listen = s.get("elastic.syncd.listen"); !listen.empty()) {
    auto hp = host_port(listen, "elastic.syncd.listen");
    if (!hp) return hp.error();
    c.listen_host = hp->first;
    c.listen_port = hp->second;
  }
  const std::string r = s.get("elastic.cluster.replicas", "1");
  auto replicas = parse_replicas(r);
  if (!replicas) return make_error("elastic.cluster.replicas = '" + r + "': " + replicas.error().message);
  c.replicas = *replicas;
  c.socket = s.get("elastic.syncd.socket", "/run/elastic/syncd.sock");
  c.ca = s.get("elastic.syncd.tls.ca");
  c.cert = s.get("elastic.syncd.tls.cert");
  c.key = s.get("elastic.syncd.tls.key");
  if (c.ca.empty() || c.cert.empty() || c.key.empty())
    return make_error("elastic.syncd.tls.ca, .cert and .key are required (peers are always authenticated)");
  c.metrics = s.get("elastic.syncd.metrics");
  if (!c.metrics.empty())
    if (auto hp = host_port(c.metrics, "elastic.syncd.metrics"); !hp) return hp.error();
  const std::string q = s.get("elastic.syncd.queue_limit", "200000");
  c.queue_limit = std::strtoull(q.c_str(), nullptr, 10);
  if (!c.queue_limit) return make_error("elastic.syncd.queue_limit = '" + q + "': expected a number > 0");
  return c;
}

}  // namespace elastic::sync
