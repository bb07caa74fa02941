#include "elastic/peer_session.h"

#include <boost/asio/write.hpp>

#include "elastic/log.h"
#include "elastic/secure.h"
#include "elastic/sync_daemon.h"

namespace elastic::sync {

namespace asio = boost::asio;

PeerSession::PeerSession(SyncDaemon& daemon, std::unique_ptr<TlsStream> stream, std::string remote,
                         std::shared_ptr<size_t> slots)
    : daemon_(daemon),
      slot_(std::move(slots)),
      stream_(std::move(stream)),
      timer_(stream_->get_executor()),
      remote_(std::move(remote)) {}

void PeerSession::start() {
  // Acks are small and must not wait for Nagle (the dialling side sets the same option).
  boost::system::error_code ec;
  stream_->lowest_layer().set_option(asio::ip::tcp::no_delay(true), ec);
  const auto& t = daemon_.config().timeouts;
  arm(t.handshake, "TLS handshake timed out after " + std::to_string(t.handshake.count()) + " ms");
  stream_->async_handshake(asio::ssl::stream_base::server, [this, self = shared_from_this()](auto ec) {
    if (closed_) return;
    if (ec) return close("TLS handshake failed: " + ec.message());
    peer_ = peer_common_name(*stream_);
    if (!daemon_.is_peer(peer_)) return close("certificate for '" + peer_ + "' is not a cluster member");
    const auto hello = daemon_.config().timeouts.hello;
    arm(hello, "no Hello within " + std::to_string(hello.count()) + " ms");
    read();
  });
}

void PeerSession::arm(std::chrono::milliseconds within, std::string why) {
  deadline_ = Clock::now() + within;
  deadline_why_ = std::move(why);
  timer_.expires_at(deadline_);  // cancels the wait in flight, if any
  watch();
}

// One wait at a time; a deadline pushed on meanwhile (idle phase: every read) is waited for anew.
void PeerSession::watch() {
  timer_.async_wait([this, self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || closed_) return;
    if (Clock::now() >= deadline_) {
      daemon_.count_timeout();
      return close(deadline_why_);
    }
    timer_.expires_at(deadline_);
    watch();
  });
}

void PeerSession::close(const std::string& why, log::Priority priority) {
  if (closed_) return;
  closed_ = true;
  log::write(priority,
             "peer connection from " + remote_ + (peer_.empty() ? "" : " (" + peer_ + ")") + " closed: " + why);
  daemon_.count_error();
  timer_.cancel();
  boost::system::error_code ec;
  stream_->lowest_layer().close(ec);
  decoder_ = FrameDecoder();  // wipes what was buffered
  in_.wipe(in_.size());
}

bool PeerSession::handle(const Frame& f) {
  if (!hello_) {
    if (f.type != FrameType::Hello || f.body != peer_) {
      close("first frame must be Hello '" + peer_ + "'");
      return false;
    }
    hello_ = true;
    const auto idle = daemon_.config().timeouts.idle;
    arm(idle, "idle for " + std::to_string(idle.count()) + " ms (no frame, no keepalive)");
    return true;
  }
  if (f.type == FrameType::Ping) {
    pong_due_ = true;
    return true;
  }
  if (f.type == FrameType::Request || f.type == FrameType::Response) {
    if (auto r = daemon_.route_from_peer(peer_, f.type, f.body); !r) {
      close(r.error().message);
      return false;
    }
    return true;
  }
  if (f.type != FrameType::Data) {
    close("unexpected frame type " + std::to_string(static_cast<int>(f.type)));
    return false;
  }
  auto data = split_data(f.body);
  if (!data || data->first != last_seq_ + 1) {
    close(data ? "sequence gap" : data.error().message);
    return false;
  }
  if (auto r = daemon_.receive(peer_, data->second); !r) {
    close("bad envelope: " + r.error().message);
    return false;
  }
  last_seq_ = data->first;  // refused envelopes are acknowledged too: the sender must not retry them
  return true;
}

void PeerSession::read() {
  stream_->async_read_some(asio::buffer(in_.data(), in_.size()), [this, self = shared_from_this()](auto ec, size_t n) {
    if (closed_) return;
    if (ec == asio::error::eof) return close("peer closed", log::Priority::notice);
    if (ec) return close(ec.message());
    decoder_.feed(in_.data(), n);
    in_.wipe(n);
    if (hello_) deadline_ = Clock::now() + daemon_.config().timeouts.idle;  // the watch waits anew
    for (bool none = false;;) {
      auto f = decoder_.next(none);
      if (none) break;
      if (!f) return close("malformed frame: " + f.error().message);
      const bool ok = handle(*f);
      secure_wipe(f->body);
      if (!ok) return;
    }
    ack();
    read();
  });
}

void PeerSession::ack() {
  if (writing_ || closed_ || (last_seq_ == acked_ && !pong_due_)) return;
  acked_ = last_seq_;
  pong_due_ = false;
  ack_buf_ = encode_ack(acked_);
  writing_ = true;
  asio::async_write(*stream_, asio::buffer(ack_buf_), [this, self = shared_from_this()](auto ec, size_t) {
    writing_ = false;
    if (closed_) return;
    if (ec) return close("write: " + ec.message());
    ack();
  });
}

}  // namespace elastic::sync
