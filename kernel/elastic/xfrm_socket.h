// An XFRM netlink socket (libnl-3) with RAII, explicit sequence numbers and pipelining:
// many requests in flight, replies matched back to their requests by sequence number.
#pragma once

#include <netlink/socket.h>

#include <functional>
#include <memory>
#include <vector>

#include "elastic/xfrm_codec.h"

namespace elastic::xfrm {

struct NlSockFree {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};

class XfrmSocket {
 public:
  // groups: XFRMNLGRP_* to join (for notifications); rcvbuf in bytes.
  static Result<XfrmSocket> open(std::vector<int> groups = {}, int rcvbuf = 4 << 20);

  int fd() const;

  // Sends requests make(0..n-1) with at most `window` unanswered; each request has exactly one
  // reply (the answer or an NLMSG_ERROR), handed to on_reply(i, reply). Replies to requests of
  // other callers are ignored.
  Result<void> pipeline(size_t n, const std::function<NlMsg(size_t)>& make,
                        const std::function<void(size_t, const nlmsghdr*)>& on_reply, size_t window = 256);

  // Receives one datagram and hands each message in it to fn. Returns 0, or -errno
  // (-EAGAIN: nothing pending with nonblock; -ENOBUFS: the kernel dropped notifications).
  int receive(const std::function<void(const nlmsghdr*)>& fn, bool nonblock);

 private:
  explicit XfrmSocket(nl_sock* sk) : sk_(sk) {}
  std::unique_ptr<nl_sock, NlSockFree> sk_;
  uint32_t seq_ = 1;
  // Replies to GETSA carry keys: the buffer is wiped after every datagram.
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(256 * 1024);
};

}  // namespace elastic::xfrm
