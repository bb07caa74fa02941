// elastic-heartbeatd's configuration: the `elastic { }` section shared with the plugin and syncd
// (strongswan.conf syntax), cluster members plus `elastic.heartbeat { }`; see docs/heartbeatd.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "elastic/log.h"
#include "elastic/result.h"
#include "elastic/settings.h"

namespace elastic::hb {

struct HbMember {
  std::string name;
  std::string host;  // the host of its syncd address; heartbeats go to host:heartbeat.port
  double weight = 1.0;
  bool witness = false;  // votes, holds no VPNs
};

struct HeartbeatConfig {
  std::string node;
  std::vector<HbMember> members;  // everyone, self included, in configuration order
  size_t replicas = 1;
  uint16_t port = 7401;
  std::chrono::milliseconds interval{20};
  int misses = 3;   // down after interval * misses without a heartbeat (D)
  std::string key;  // the cluster's HMAC key (bytes of the key file; wiped on destruction)
  std::string socket = "/run/elastic/heartbeatd.sock";
  std::string plugin_socket = "/var/run/charon.elastic";
  std::string syncd_socket;  // empty: no syncd link
  std::string notify;        // executable run on every change, empty: none
  bool allow_two_node = false;
  log::Priority loglevel = log::Priority::info;  // messages less severe than this are dropped
  size_t quorum = 0;  // majority of all voting members (1 with allow_two_node_without_witness)

  HeartbeatConfig() = default;
  HeartbeatConfig(const HeartbeatConfig&) = default;
  HeartbeatConfig(HeartbeatConfig&&) = default;
  HeartbeatConfig& operator=(const HeartbeatConfig&) = default;
  HeartbeatConfig& operator=(HeartbeatConfig&&) = default;
  ~HeartbeatConfig();

  const HbMember& self() const;
  bool self_is_witness() const { return self().witness; }
};

// Every error reads "FILE:LINE: key: what is wrong".
Result<HeartbeatConfig> load_heartbeat_config(const sync::Settings& s);

// "20ms", "1s", "250" (ms): a duration in milliseconds, or an error text.
Result<std::chrono::milliseconds> parse_interval(const std::string& v);

}  // namespace elastic::hb
