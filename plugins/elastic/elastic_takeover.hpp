// The rules of a takeover that do not need charon: how far outbound sequence numbers jump, and
// the live membership heartbeatd hands over. See docs/ha.md for the derivation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "elastic/placement.h"
#include "elastic/result.h"

namespace elastic::plugin {

// Parameters of the sequence-number jump (charon.plugins.elastic.takeover.*).
struct MarginRule {
  uint64_t threshold = 1024;       // packets between kernel counter reports (XFRMA_REPLAY_THRESH)
  uint64_t max_pps = 1000000;      // the most packets/s one SA can carry (line rate)
  uint64_t sync_latency_ms = 100;  // bound on kernel report -> replica (plugin, syncd, TLS)
  uint64_t detection_ms = 100;     // bound on the time a cut-off owner keeps sending (lease)
  uint64_t safety = 2;             // multiplier over the sum
  uint64_t floor = 0;              // at least this (charon.plugins.elastic.margin)
};

// safety * (threshold + ceil(max_pps * (sync_latency_ms + detection_ms) / 1000)), at least
// floor; an error (never a wrapped value) if that does not fit 64 bits.
Result<uint64_t> takeover_margin(const MarginRule& rule);

// "sg2=1,sg3=2.5" (name=weight, comma-separated; a bare name weighs 1) -> members.
Result<std::vector<sync::Member>> parse_members(const std::string& text);

// An address range as text: "10.1.0.0/16" when it is a prefix, "a-b" otherwise, "a" for one.
std::string format_range(const std::string& from, const std::string& to);

}  // namespace elastic::plugin
