// The safety rules for changing a live SA's counters, as pure functions of the current state:
// counters never move backwards (a reused sequence number reuses the AES-GCM/CTR nonce), a 32-bit
// counter never wraps, and the replay state keeps the SA's own form and bitmap size.
#pragma once

#include "elastic/xfrm_types.h"

namespace elastic::xfrm {

// The state to write so that `cur` becomes `want`; refuses any backwards move or form change.
Result<ReplayState> plan_set(const AeInfo& cur, const ReplayState& want);

// `cur` with the outbound sequence number moved forward by delta.
Result<ReplayState> plan_advance(const AeInfo& cur, uint64_t delta);

}  // namespace elastic::xfrm
