// Reads, sets and advances the replay/sequence state of live kernel SAs, one at a time or in
// bulk (pipelined: 10,000 SAs cost a few hundred socket round trips, not 10,000).
#pragma once

#include <span>
#include <vector>

#include "elastic/xfrm_socket.h"

namespace elastic::xfrm {

class XfrmReplay {
 public:
  static Result<XfrmReplay> open();

  // Replay state, lifetime counters, reqid and the ESN flag of SAs (one GETSA each, pipelined).
  Result<AeInfo> read(const SaId& id);
  std::vector<Result<AeInfo>> read_many(std::span<const SaId> ids);
  // read() plus the AEVENT thresholds (one more request: GETAE).
  Result<AeInfo> read_thresholds(const SaId& id);

  // Writes `want` (see plan_set for what is refused) and returns the state read back.
  Result<AeInfo> set(const SaId& id, const ReplayState& want);

  // Moves the outbound sequence number forward by delta. The rest of the state is written back
  // as read: use it on outbound SAs (an inbound SA's window could move meanwhile).
  // The result carries the state written.
  Result<AeInfo> advance(const SaId& id, uint64_t delta);
  std::vector<Result<AeInfo>> advance_many(std::span<const SaId> ids, uint64_t delta);

  // AEVENT thresholds: notify every `packets` sequence numbers and/or every `timer_ticks` jiffies.
  Result<void> set_thresholds(const SaId& id, uint32_t packets, uint32_t timer_ticks);

 private:
  explicit XfrmReplay(XfrmSocket s) : sock_(std::move(s)) {}
  std::vector<Result<void>> write_many(std::span<const SaId> ids, std::span<const AeInfo> planned);
  XfrmSocket sock_;
};

// Kernel ticks (jiffies) per second, for the timer threshold: ELASTIC_KERNEL_HZ if set, else 250
// (Debian's CONFIG_HZ).
uint32_t kernel_hz();
uint32_t ms_to_ticks(uint32_t ms);

}  // namespace elastic::xfrm
