// elastic-syncd's configuration, from the `elastic { }` section shared with the plugin and the
// heartbeat service (strongswan.conf syntax; see docs/syncd.md for every key).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "elastic/log.h"
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
  std::vector<PeerConfig> peers;            // the other members
  std::vector<Member> members;              // everyone, for placement
  size_t replicas = 1;                      // alternates per VPN (SIZE_MAX: all)
  std::string socket;                       // local Unix socket (mode 0600)
  std::string ca, cert, key;                // PEM files for TLS 1.3 mutual authentication
  std::string metrics;                      // host:port of the Prometheus text endpoint, empty = off
  size_t queue_limit = 200000;              // pending VPNs per peer before it counts as falling behind
  size_t max_connections = 64;              // concurrent inbound connections (peer TLS and local, each)
  size_t local_backlog_bytes = 64u << 20;   // bytes queued for a slow local subscriber before it is closed
  std::chrono::seconds tombstone_ttl{600};  // deleted VPNs are forgotten after this long
  // Messages less severe than this are dropped (elastic.syncd.loglevel).
  log::Priority loglevel = log::Priority::info;
  struct Timeouts {
    std::chrono::milliseconds handshake{5000};  // TCP accept/connect to the end of the TLS handshake
    std::chrono::milliseconds hello{5000};      // end of the handshake to the peer's Hello
    std::chrono::milliseconds idle{30000};      // a peer link without any frame for this long is closed
  } timeouts;
};

// Parses and checks every key of the `elastic { }` section that syncd reads (unknown keys in
// elastic, elastic.cluster, its members and elastic.syncd are errors). Every error reads
// "FILE:LINE: key: what is wrong". Files are not opened here: see check_syncd_files().
Result<SyncdConfig> load_syncd_config(const Settings& s);

// What the daemon will open, checked as it will be opened: the TLS CA, certificate and key
// (readable, parse, key matches the certificate) and the local socket path (absent or a socket,
// never another kind of file). Errors name the file, line and key. Run by --check and at start.
Result<void> check_syncd_files(const Settings& s, const SyncdConfig& c);

}  // namespace elastic::sync
