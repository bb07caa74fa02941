// The heartbeat datagram (docs/heartbeatd.md): what a node tells every other member each interval,
// authenticated with HMAC-SHA256 under the cluster key. Everything big-endian:
//
//   "EHB1" name_len:u8 name boot:u64 seq:u64 wall_us:u64 epoch:u64 flags:u8 count:u8
//   count x { name_len:u8 name boot:u64 ack:u64 downs:u32 flags:u8 }   tag:32 (HMAC over all before)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "elastic/result.h"

namespace elastic::hb {

inline constexpr size_t kTagSize = 32;
inline constexpr size_t kMaxName = 64;
inline constexpr size_t kMaxEntries = 32;
inline constexpr uint8_t kFlagDown = 1;  // entry: "I declared this member down and do not ack it"
// packet: an immediate answer to a regular heartbeat (so that acks are at most half an interval
// late); it is never answered itself
inline constexpr uint8_t kPacketPrompt = 1;

// What the sender knows about one other member.
struct PeerEntry {
  std::string name;
  uint64_t boot = 0;   // the member's boot id as the sender knows it (0: never heard)
  uint64_t ack = 0;    // the last seq the sender accepted from that boot (0: none, or flagged down)
  uint32_t downs = 0;  // how often the sender declared that boot down (never decreases for a boot)
  uint8_t flags = 0;   // kFlagDown

  bool down() const { return flags & kFlagDown; }
  bool operator==(const PeerEntry&) const = default;
};

struct Packet {
  std::string sender;
  uint64_t boot = 0;  // random per start of the sender
  uint64_t seq = 0;   // +1 per packet, from 1
  uint64_t wall_us = 0;
  uint64_t epoch = 0;
  uint8_t flags = 0;  // kPacketPrompt
  std::vector<PeerEntry> peers;

  bool prompt() const { return flags & kPacketPrompt; }

  bool operator==(const Packet&) const = default;
};

enum class DecodeError { Malformed, Forged };

struct DecodeResult {
  bool ok = false;
  DecodeError error = DecodeError::Malformed;
  std::string why;  // for logs
  Packet packet;
};

// The packet followed by its tag. Names must be 1..64 characters, at most 32 entries.
std::string encode_packet(const Packet& p, std::string_view key);
// Checks the magic, the length and the tag (constant time) before parsing anything else.
DecodeResult decode_packet(std::string_view data, std::string_view key);
// Parses without the tag check (the fuzzer's second entry; never for the network).
DecodeResult parse_packet_body(std::string_view body);

}  // namespace elastic::hb
