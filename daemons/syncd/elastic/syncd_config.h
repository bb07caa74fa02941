// elastic-syncd's configuration, from the `elastic { }` section shared with the plugin and the
// heartbeat service (strongswan.conf syntax; see docs/syncd.md for every key).
#pragma once

#include <string>
#include <vector>

#include "elastic/placement.h"
#include "elastic/settings.h"

namespace elastic::sync {

struct PeerConfig {
  std::string name;  // member name = the CN its certificate must carry (pinned)
  std::string host;
  uint16_t port = 0;
  double weight = 1.0;
};

struct SyncdConfig {
  std::string node;  // this gateway's member name
  std::string listen_host = "0.0.0.0";
  uint16_t listen_port = 0;
  std::vector<PeerConfig> peers;  // the other members
  std::vector<Member> members;    // everyone, for placement
  size_t replicas = 1;            // alternates per VPN (SIZE_MAX: all)
  std::string socket;             // local Unix socket (mode 0600)
  std::string ca, cert, key;      // PEM files for TLS 1.3 mutual authentication
  std::string metrics;            // host:port of the Prometheus text endpoint, empty = off
  size_t queue_limit = 200000;    // pending VPNs per peer before it counts as falling behind
};

Result<SyncdConfig> load_syncd_config(const Settings& s);

}  // namespace elastic::sync
