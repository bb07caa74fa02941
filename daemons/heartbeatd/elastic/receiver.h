// Admission of received datagrams: authentication (HMAC), membership of the sender and replay
// protection, each refusal counted separately. Only what passes reaches the membership logic.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "elastic/hb_packet.h"

namespace elastic::hb {

struct RxCounters {
  uint64_t ok = 0;
  uint64_t forged = 0;     // bad MAC (wrong key, altered bytes)
  uint64_t replayed = 0;   // seq not newer for the sender's boot, or an older boot
  uint64_t foreign = 0;    // authenticated, but the sender is not another configured member
  uint64_t malformed = 0;  // not a heartbeat, truncated, bad field
};

class Receiver {
 public:
  Receiver(std::string self, std::set<std::string> members, std::string_view key);
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;
  ~Receiver();

  // The packet if it is authentic, from another member and new; otherwise nullopt (counted, and
  // `why` says what was wrong).
  std::optional<Packet> receive(std::string_view datagram, std::string* why = nullptr);
  const RxCounters& counters() const { return c_; }

 private:
  struct SenderState {
    uint64_t boot = 0;
    uint64_t seq = 0;
    uint64_t wall_us = 0;
  };
  std::string self_;
  std::set<std::string> members_;
  std::string key_;
  std::map<std::string, SenderState> senders_;
  RxCounters c_;
};

}  // namespace elastic::hb
