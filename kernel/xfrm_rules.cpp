#include "elastic/xfrm_rules.h"

#include <limits>

namespace elastic::xfrm {
namespace {

// Without ESN the sender must stop before 2^32 - 1 (RFC 4303 3.3.3); keep one number usable.
constexpr uint64_t kMaxOseq32 = std::numeric_limits<uint32_t>::max() - 1;

// With ESN the receiver infers the high 32 bits from its window (RFC 4303 A2): a jump of 2^31 or
// more could be taken for an old packet, so the peer would drop everything after it.
constexpr uint64_t kMaxEsnJump = uint64_t{1} << 31;

Result<void> check_oseq_room(const AeInfo& cur, uint64_t next) {
  if (!cur.esn && next > kMaxOseq32)
    return make_error(cur.id.to_string() + ": outbound sequence number " + std::to_string(next) +
                      " would wrap the 32-bit counter (SA without ESN): rekey the CHILD_SA instead");
  return {};
}

// What matters is the jump relative to what the peer has seen; for a live SA that is its own
// oseq. (set() takes an explicit target: e.g. a freshly installed copy of an SA whose peer has
// seen far more than this kernel's 0; the caller bounds that jump.)
Result<void> check_esn_jump(const AeInfo& cur, uint64_t next) {
  if (cur.esn && next - cur.replay.oseq64() >= kMaxEsnJump)
    return make_error(cur.id.to_string() + ": a jump of " + std::to_string(next - cur.replay.oseq64()) +
                      " is too large for the peer to infer the ESN high bits (limit 2^31 - 1)");
  return {};
}

}  // namespace

Result<ReplayState> plan_set(const AeInfo& cur, const ReplayState& want) {
  const ReplayState& now = cur.replay;
  const std::string sa = cur.id.to_string() + ": ";
  if (want.esn_form != now.esn_form)
    return make_error(sa + "replay state form mismatch: the SA uses the " + (now.esn_form ? "ESN" : "legacy") +
                      " form");
  if (want.esn_form && want.bitmap.size() != now.bitmap.size())
    return make_error(sa + "ESN bitmap size mismatch: " + std::to_string(want.bitmap.size()) +
                      " words given, the SA has " + std::to_string(now.bitmap.size()));
  if (want.esn_form && want.window != now.window)
    return make_error(sa + "replay window mismatch: " + std::to_string(want.window) + " given, the SA has " +
                      std::to_string(now.window));
  if (!want.esn_form && (want.oseq_hi || want.seq_hi))
    return make_error(sa + "high sequence bits given for an SA without the ESN form");
  if (want.oseq64() < now.oseq64())
    return make_error(sa + "refusing to move oseq backwards from " + std::to_string(now.oseq64()) + " to " +
                      std::to_string(want.oseq64()) + " (a reused sequence number reuses the nonce)");
  if (want.seq64() < now.seq64())
    return make_error(sa + "refusing to move seq backwards from " + std::to_string(now.seq64()) + " to " +
                      std::to_string(want.seq64()) + " (would re-open the replay window)");
  if (auto ok = check_oseq_room(cur, want.oseq64()); !ok) return ok.error();
  ReplayState out = want;
  if (out.bitmap.empty()) out.bitmap = now.bitmap;
  return out;
}

Result<ReplayState> plan_advance(const AeInfo& cur, uint64_t delta) {
  const uint64_t now = cur.replay.oseq64();
  if (delta > std::numeric_limits<uint64_t>::max() - now)
    return make_error(cur.id.to_string() + ": advancing by " + std::to_string(delta) + " overflows 64 bits");
  const uint64_t next = now + delta;
  if (auto ok = check_oseq_room(cur, next); !ok) return ok.error();
  if (auto ok = check_esn_jump(cur, next); !ok) return ok.error();
  ReplayState out = cur.replay;
  out.oseq = static_cast<uint32_t>(next);
  out.oseq_hi = static_cast<uint32_t>(next >> 32);
  if (!out.esn_form && out.oseq_hi)
    return make_error(cur.id.to_string() + ": the SA's legacy replay state cannot hold oseq " + std::to_string(next));
  return out;
}

}  // namespace elastic::xfrm
