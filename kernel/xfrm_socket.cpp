#include "elastic/xfrm_socket.h"

#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "elastic/secure.h"

namespace elastic::xfrm {

Result<XfrmSocket> XfrmSocket::open(std::vector<int> groups, int rcvbuf) {
  nl_sock* raw = nl_socket_alloc();
  if (!raw) return make_error("cannot allocate a netlink socket", ENOMEM);
  XfrmSocket s(raw);
  nl_socket_disable_seq_check(raw);
  if (int err = nl_connect(raw, NETLINK_XFRM); err < 0)
    return make_error(std::string("cannot open XFRM netlink: ") + nl_geterror(err), EPROTONOSUPPORT);
  nl_socket_set_buffer_size(raw, rcvbuf, 1 << 20);
  // Beyond net.core.rmem_max only with CAP_NET_ADMIN (which XFRM needs anyway).
  setsockopt(nl_socket_get_fd(raw), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  for (int g : groups) {
    if (int err = nl_socket_add_membership(raw, g); err < 0)
      return make_error(std::string("cannot join XFRM group ") + std::to_string(g) + ": " + nl_geterror(err));
  }
  return s;
}

int XfrmSocket::fd() const {
  return nl_socket_get_fd(sk_.get());
}

int XfrmSocket::receive(const std::function<void(const nlmsghdr*)>& fn, bool nonblock) {
  ssize_t n;
  do {
    n = recv(fd(), buf_.data(), buf_.size(), nonblock ? MSG_DONTWAIT : 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  int len = static_cast<int>(n);
  for (auto* nlh = reinterpret_cast<nlmsghdr*>(buf_.data()); nlmsg_ok(nlh, len); nlh = nlmsg_next(nlh, &len)) fn(nlh);
  secure_wipe(buf_.data(), static_cast<size_t>(n));
  return 0;
}

Result<void> XfrmSocket::pipeline(size_t n, const std::function<NlMsg(size_t)>& make,
                                  const std::function<void(size_t, const nlmsghdr*)>& on_reply, size_t window) {
  const uint32_t base = seq_;
  seq_ += static_cast<uint32_t>(n) + 1;
  size_t sent = 0, done = 0;
  while (done < n) {
    while (sent < n && sent - done < window) {
      NlMsg msg = make(sent);
      nlmsghdr* hdr = nlmsg_hdr(msg.get());
      hdr->nlmsg_seq = base + static_cast<uint32_t>(sent);
      hdr->nlmsg_pid = 0;
      if (send(fd(), hdr, hdr->nlmsg_len, 0) < 0)
        return make_error(std::string("netlink send failed: ") + std::strerror(errno), errno);
      ++sent;
    }
    int err = receive(
        [&](const nlmsghdr* nlh) {
          uint32_t idx = nlh->nlmsg_seq - base;
          if (nlh->nlmsg_seq < base || idx >= sent) return;  // not ours (stale or another caller's)
          on_reply(idx, nlh);
          ++done;
        },
        false);
    if (err < 0) return make_error(std::string("netlink receive failed: ") + std::strerror(-err), -err);
  }
  return {};
}

}  // namespace elastic::xfrm
