#include "elastic/local_server.h"

#include <boost/asio/write.hpp>

#include "elastic/log.h"
#include "elastic/secure.h"
#include "elastic/sync_daemon.h"

namespace elastic::sync {

namespace asio = boost::asio;

LocalSession::LocalSession(SyncDaemon& daemon, asio::local::stream_protocol::socket sock, std::shared_ptr<size_t> slots)
    : daemon_(daemon), slot_(std::move(slots)), sock_(std::move(sock)) {}

LocalSession::~LocalSession() {
  secure_wipe(queued_);
  secure_wipe(wbuf_);
}

void LocalSession::start() {
  read();
}

void LocalSession::close(const std::string& why, log::Priority priority) {
  if (closed_) return;
  closed_ = true;
  log::write(priority, "local client closed: " + why);
  boost::system::error_code ec;
  sock_.close(ec);
  secure_wipe(queued_);
  decoder_ = FrameDecoder();  // wipes what was buffered
  in_.wipe(in_.size());
}

void LocalSession::send_bounded(const std::string& frame) {
  if (closed_) return;
  // Bytes, not frames: what a slow reader costs is memory (full contexts are ~100 times the
  // size of counter updates). The write in flight counts too.
  if (queued_.size() + wbuf_.size() > daemon_.config().local_backlog_bytes)
    return close("too slow to take replicas (" + std::to_string(queued_.size() + wbuf_.size()) +
                 " bytes waiting, elastic.syncd.local_backlog_bytes = " +
                 std::to_string(daemon_.config().local_backlog_bytes) + ")");
  send(frame);
}

void LocalSession::deliver(const std::string& envelope) {
  std::string frame = encode_data(0, envelope);
  send_bounded(frame);
  secure_wipe(frame);
}

void LocalSession::forward(const std::string& frame) {
  send_bounded(frame);
}

void LocalSession::send(const std::string& frame) {
  if (closed_) return;
  queued_ += frame;
  flush();
}

// One write for everything queued (plus the newest ack due): a busy subscriber costs one
// syscall per batch, not one per replica, and acks a producer has not read yet do not pile up.
void LocalSession::flush() {
  if (writing_ || closed_) return;
  if (ack_due_) {
    queued_ += encode_ack(ack_due_);
    ack_due_ = 0;
  }
  if (queued_.empty()) return;
  std::swap(wbuf_, queued_);  // wbuf_ was wiped and cleared after its last write
  writing_ = true;
  asio::async_write(sock_, asio::buffer(wbuf_), [this, self = shared_from_this()](auto ec, size_t) {
    writing_ = false;
    secure_wipe(wbuf_.data(), wbuf_.size());
    wbuf_.clear();
    if (ec) return close(ec.message());
    flush();
  });
}

void LocalSession::read() {
  sock_.async_read_some(asio::buffer(in_.data(), in_.size()), [this, self = shared_from_this()](auto ec, size_t n) {
    if (closed_) return;
    if (ec == asio::error::eof) return close("disconnected", log::Priority::info);
    if (ec) return close(ec.message());
    decoder_.feed(in_.data(), n);
    in_.wipe(n);
    uint64_t ack = 0;
    for (bool none = false;;) {
      if (closed_) return;  // e.g. too slow to take the replay
      auto f = decoder_.next(none);
      if (none) break;
      if (!f) return close("malformed frame: " + f.error().message);
      if (f->type == FrameType::Hello) {
        subscribed_ = true;
        daemon_.replay_to(*this);
      } else if (f->type == FrameType::Membership) {
        (void)daemon_.membership(f->body);  // a refused view is logged and counted there
      } else if (f->type == FrameType::Request || f->type == FrameType::Response) {
        auto routed = daemon_.route_from_local(*this, f->type, f->body);
        secure_wipe(f->body);
        if (!routed) return close(routed.error().message);
      } else if (f->type == FrameType::Status) {
        send(encode_frame(FrameType::Status, daemon_.status()));
      } else if (f->type == FrameType::Data) {
        auto data = split_data(f->body);
        if (!data) return close(data.error().message);
        auto ok = daemon_.publish(data->second);
        ack = data->first;
        secure_wipe(f->body);
        if (!ok) return close("refused envelope: " + ok.error().message);
      } else {
        return close("unexpected frame type " + std::to_string(static_cast<int>(f->type)));
      }
    }
    if (ack) {
      ack_due_ = ack;
      flush();
    }
    read();
  });
}

}  // namespace elastic::sync
