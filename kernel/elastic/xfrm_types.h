// Value types of the XFRM helper: which SA, its replay/sequence state, its lifetime counters.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "elastic/result.h"

namespace elastic::xfrm {

// Identifies a kernel SA as the kernel looks it up: (mark, daddr, spi, proto, family).
struct SaId {
  int family = 0;                   // AF_INET or AF_INET6
  std::array<uint8_t, 16> daddr{};  // network order; IPv4 uses the first 4 bytes
  uint32_t spi = 0;                 // host order (0x00001001 is SPI 4097)
  uint8_t proto = 50;               // IPPROTO_ESP (50) or IPPROTO_AH (51)
  uint32_t mark_value = 0;          // XFRM mark, 0/0 = none
  uint32_t mark_mask = 0;

  bool operator==(const SaId&) const = default;
  std::string to_string() const;  // "192.0.2.1 spi 0x00001001 esp [mark 0x1/0xff]"
};

struct SaIdHash {
  size_t operator()(const SaId& id) const;
};

// Parses "ADDR SPI [esp|ah] [MARK[/MASK]]" pieces; errors name the bad piece.
Result<SaId> make_sa_id(std::string_view daddr, std::string_view spi, std::string_view proto = "esp",
                        std::string_view mark = "");

// Replay state of one SA as the kernel keeps it. `esn_form` says which kernel structure backs it:
// xfrm_replay_state_esn (ESN SAs, and windows > 32) or the legacy xfrm_replay_state.
struct ReplayState {
  bool esn_form = false;
  uint32_t oseq = 0, seq = 0;        // last sent / highest received (low 32 bits)
  uint32_t oseq_hi = 0, seq_hi = 0;  // high 32 bits (ESN form only)
  uint32_t window = 0;               // replay window in packets (ESN form only)
  std::vector<uint32_t> bitmap;      // 1 word (legacy) or bmp_len words (ESN form)

  uint64_t oseq64() const { return (uint64_t{oseq_hi} << 32) | oseq; }
  uint64_t seq64() const { return (uint64_t{seq_hi} << 32) | seq; }
  bool operator==(const ReplayState&) const = default;
};

struct Lifetime {
  uint64_t bytes = 0, packets = 0, add_time = 0, use_time = 0;
};

// What GETAE and AEVENTs report about an SA.
struct AeInfo {
  SaId id;
  uint32_t reqid = 0;
  uint32_t flags = 0;  // XFRM_AE_* (the cause bits in notifications)
  ReplayState replay;
  Lifetime lifetime;
  uint32_t replay_thresh = 0;  // packets between AEVENTs (replay_maxdiff)
  uint32_t timer_thresh = 0;   // jiffies between AEVENTs (replay_maxage)
  bool esn = false;            // the SA has XFRM_STATE_ESN (64-bit sequence numbers)
};

std::string format_replay(const ReplayState& r);  // "oseq=... seq=... ..." one line, no keys

}  // namespace elastic::xfrm
