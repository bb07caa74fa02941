// Watches the replay state of SAs through the kernel's XFRMNLGRP_AEVENTS multicast group (the
// kernel reports an SA every N sequence numbers and/or every T ticks), plus deletions and
// expiries. When the kernel drops notifications (ENOBUFS), every watched SA is read again and
// reported with cause Resync: state is never lost silently.
#pragma once

#include <functional>
#include <unordered_set>

#include "elastic/xfrm_replay.h"

namespace elastic::xfrm {

enum class AeCause {
  Replay,   // the sequence numbers moved by the replay threshold
  Timer,    // the timer threshold expired with changes pending
  Update,   // someone set the state (XFRM_MSG_NEWAE)
  Resync,   // re-read after the kernel dropped notifications
  Deleted,  // the SA was deleted (info.id only)
  Expired,  // the SA reached its hard lifetime (info.id only)
};
const char* to_string(AeCause c);

struct AeEvent {
  AeCause cause;
  AeInfo info;
};

class XfrmWatch {
 public:
  static Result<XfrmWatch> open(int rcvbuf = 1 << 20);

  // Starts reporting an SA and sets its thresholds (0 leaves one as it is).
  Result<void> watch(const SaId& id, uint32_t packets, uint32_t timer_ticks);
  void unwatch(const SaId& id) { watched_.erase(id); }
  // With watch_all, events of every SA in the namespace are reported, watched or not.
  void set_watch_all(bool all) { all_ = all; }
  size_t watched() const { return watched_.size(); }

  int fd() const { return events_.fd(); }

  // Handles what is pending without blocking; returns the number of events delivered.
  Result<size_t> dispatch(const std::function<void(const AeEvent&)>& cb);
  // Waits up to timeout_ms for events, then dispatches.
  Result<size_t> wait(int timeout_ms, const std::function<void(const AeEvent&)>& cb);

  uint64_t overruns() const { return overruns_; }

 private:
  XfrmWatch(XfrmSocket events, XfrmReplay requests) : events_(std::move(events)), requests_(std::move(requests)) {}
  void handle(const nlmsghdr* nlh, const std::function<void(const AeEvent&)>& cb, size_t& n);
  size_t resync(const std::function<void(const AeEvent&)>& cb);
  bool wanted(const SaId& id) const { return all_ || watched_.count(id); }

  XfrmSocket events_;
  XfrmReplay requests_;
  std::unordered_set<SaId, SaIdHash> watched_;
  bool all_ = false;
  uint64_t overruns_ = 0;
};

}  // namespace elastic::xfrm
