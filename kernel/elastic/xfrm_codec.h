// Building and parsing the XFRM netlink messages for replay state (libnl-3 message API).
// Pure functions: no socket, so the host's unit tests cover them without a kernel.
#pragma once

#include <netlink/msg.h>

#include <memory>

#include "elastic/xfrm_types.h"

namespace elastic::xfrm {

struct NlMsgFree {
  void operator()(nl_msg* m) const { nlmsg_free(m); }
};
using NlMsg = std::unique_ptr<nl_msg, NlMsgFree>;

// Largest ESN bitmap the kernel accepts (XFRMA_REPLAY_ESN_VAL window up to 4096 packets).
inline constexpr uint32_t kMaxBitmapWords = 4096 / 32;

NlMsg build_get_ae(const SaId& id);  // XFRM_MSG_GETAE
NlMsg build_get_sa(const SaId& id);  // XFRM_MSG_GETSA (only its flags are read)
// XFRM_MSG_NEWAE with NLM_F_REPLACE|NLM_F_ACK carrying the replay state in the SA's own form.
NlMsg build_set_replay(const SaId& id, uint32_t reqid, const ReplayState& replay);
// XFRM_MSG_NEWAE setting the AEVENT thresholds: every `packets` sequence numbers and/or every
// `timer_ticks` jiffies (0 leaves that threshold as it is).
NlMsg build_set_thresholds(const SaId& id, uint32_t packets, uint32_t timer_ticks);

// A NEWAE message (GETAE reply or AEVENT notification).
Result<AeInfo> parse_ae(const nlmsghdr* nlh);
// A NEWSA message (GETSA reply): replay state, lifetime, reqid and the ESN flag in one message
// (thresholds only where the kernel includes them). The keys in it are not read.
Result<AeInfo> parse_sa(const nlmsghdr* nlh);
// A DELSA notification or an EXPIRE message: which SA (and for EXPIRE, whether hard).
Result<SaId> parse_deleted(const nlmsghdr* nlh);
Result<SaId> parse_expired(const nlmsghdr* nlh, bool& hard);

// The errno of an NLMSG_ERROR message (0 = ack), or -1 if nlh is not one.
int parse_ack(const nlmsghdr* nlh);

// The kernel's reason in words, naming the SA and what was attempted.
Error kernel_error(int err, const SaId& id, const char* what);

}  // namespace elastic::xfrm
