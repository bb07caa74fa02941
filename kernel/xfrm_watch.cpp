#include "elastic/xfrm_watch.h"

#include <linux/xfrm.h>
#include <poll.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace elastic::xfrm {

const char* to_string(AeCause c) {
  switch (c) {
    case AeCause::Replay:
      return "replay";
    case AeCause::Timer:
      return "timer";
    case AeCause::Update:
      return "update";
    case AeCause::Resync:
      return "resync";
    case AeCause::Deleted:
      return "deleted";
    case AeCause::Expired:
      return "expired";
  }
  return "?";
}

Result<XfrmWatch> XfrmWatch::open(int rcvbuf) {
  auto ev = XfrmSocket::open({XFRMNLGRP_AEVENTS, XFRMNLGRP_SA, XFRMNLGRP_EXPIRE}, rcvbuf);
  if (!ev) return ev.error();
  auto req = XfrmReplay::open();
  if (!req) return req.error();
  return XfrmWatch(std::move(ev.value()), std::move(req.value()));
}

Result<void> XfrmWatch::watch(const SaId& id, uint32_t packets, uint32_t timer_ticks) {
  if (packets || timer_ticks) {
    if (auto ok = requests_.set_thresholds(id, packets, timer_ticks); !ok) return ok.error();
  } else if (auto r = requests_.read(id); !r) {
    return r.error();
  }
  watched_.insert(id);
  return {};
}

void XfrmWatch::handle(const nlmsghdr* nlh, const std::function<void(const AeEvent&)>& cb, size_t& n) {
  switch (nlh->nlmsg_type) {
    case XFRM_MSG_NEWAE: {
      auto info = parse_ae(nlh);
      if (!info) return;
      if (!wanted(info->id)) return;
      AeCause c = info->flags & XFRM_AE_CR   ? AeCause::Replay
                  : info->flags & XFRM_AE_CE ? AeCause::Timer
                                             : AeCause::Update;
      cb({c, std::move(info.value())});
      ++n;
      return;
    }
    case XFRM_MSG_DELSA:
    case XFRM_MSG_EXPIRE: {
      bool hard = true;
      auto id = nlh->nlmsg_type == XFRM_MSG_DELSA ? parse_deleted(nlh) : parse_expired(nlh, hard);
      if (!id || !hard || !wanted(*id)) return;
      AeEvent ev{nlh->nlmsg_type == XFRM_MSG_DELSA ? AeCause::Deleted : AeCause::Expired, {}};
      ev.info.id = *id;
      if (ev.cause == AeCause::Deleted) watched_.erase(*id);
      cb(ev);
      ++n;
      return;
    }
    default:
      return;
  }
}

size_t XfrmWatch::resync(const std::function<void(const AeEvent&)>& cb) {
  ++overruns_;
  std::vector<SaId> ids(watched_.begin(), watched_.end());
  auto states = requests_.read_many(ids);
  size_t n = 0;
  for (size_t i = 0; i < ids.size(); ++i, ++n) {
    if (states[i]) {
      cb({AeCause::Resync, std::move(states[i].value())});
    } else if (states[i].error().code == ESRCH) {
      AeEvent ev{AeCause::Deleted, {}};
      ev.info.id = ids[i];
      watched_.erase(ids[i]);
      cb(ev);
    }
  }
  return n;
}

Result<size_t> XfrmWatch::dispatch(const std::function<void(const AeEvent&)>& cb) {
  size_t n = 0;
  for (;;) {
    int err = events_.receive([&](const nlmsghdr* nlh) { handle(nlh, cb, n); }, true);
    if (err == 0) continue;
    if (err == -EAGAIN) return n;
    if (err == -ENOBUFS) {
      // What is still queued predates the loss: drop it, then read the current state of all.
      for (int r = 0; r == 0 || r == -ENOBUFS || r == -EINTR;) r = events_.receive([](const nlmsghdr*) {}, true);
      n += resync(cb);
      continue;
    }
    return make_error(std::string("XFRM event socket: ") + std::strerror(-err), -err);
  }
}

Result<size_t> XfrmWatch::wait(int timeout_ms, const std::function<void(const AeEvent&)>& cb) {
  pollfd p{fd(), POLLIN, 0};
  int r;
  do {
    r = poll(&p, 1, timeout_ms);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return make_error(std::string("poll: ") + std::strerror(errno), errno);
  return dispatch(cb);
}

}  // namespace elastic::xfrm
