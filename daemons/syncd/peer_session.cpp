#include "elastic/peer_session.h"

#include <boost/asio/write.hpp>

#include "elastic/secure.h"
#include "elastic/sync_daemon.h"
#include "elastic/sync_log.h"

namespace elastic::sync {

namespace asio = boost::asio;

PeerSession::PeerSession(SyncDaemon& daemon, std::unique_ptr<TlsStream> stream, std::string remote)
    : daemon_(daemon), stream_(std::move(stream)), remote_(std::move(remote)) {}

void PeerSession::start() {
  // Acks are small and must not wait for Nagle (the dialling side sets the same option).
  boost::system::error_code ec;
  stream_->lowest_layer().set_option(asio::ip::tcp::no_delay(true), ec);
  stream_->async_handshake(asio::ssl::stream_base::server, [this, self = shared_from_this()](auto ec) {
    if (ec) return close("TLS handshake failed: " + ec.message());
    peer_ = peer_common_name(*stream_);
    if (!daemon_.is_peer(peer_)) return close("certificate for '" + peer_ + "' is not a cluster member");
    read();
  });
}

void PeerSession::close(const std::string& why) {
  if (closed_) return;
  closed_ = true;
  log_line("peer connection from " + remote_ + (peer_.empty() ? "" : " (" + peer_ + ")") + " closed: " + why);
  daemon_.count_error();
  boost::system::error_code ec;
  stream_->lowest_layer().close(ec);
}

bool PeerSession::handle(const Frame& f) {
  if (!hello_) {
    if (f.type != FrameType::Hello || f.body != peer_) {
      close("first frame must be Hello '" + peer_ + "'");
      return false;
    }
    hello_ = true;
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
  last_seq_ = data->first;
  return true;
}

void PeerSession::read() {
  stream_->async_read_some(asio::buffer(in_), [this, self = shared_from_this()](auto ec, size_t n) {
    if (ec) return close(ec == asio::error::eof ? "peer closed" : ec.message());
    decoder_.feed(in_, n);
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
  if (writing_ || last_seq_ == acked_ || closed_) return;
  acked_ = last_seq_;
  ack_buf_ = encode_ack(acked_);
  writing_ = true;
  asio::async_write(*stream_, asio::buffer(ack_buf_), [this, self = shared_from_this()](auto ec, size_t) {
    writing_ = false;
    if (ec) return close("write: " + ec.message());
    ack();
  });
}

}  // namespace elastic::sync
