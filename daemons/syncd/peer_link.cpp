#include "elastic/peer_link.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <functional>

#include "elastic/context_codec.h"
#include "elastic/log.h"
#include "elastic/secure.h"
#include "elastic/sync_daemon.h"

namespace elastic::sync {

namespace asio = boost::asio;

// Unacknowledged frames in flight before the link waits for acks (backpressure).
constexpr uint64_t kWindow = 8192;
// Bytes gathered into one TLS write.
constexpr size_t kBatch = 256 * 1024;

PeerLink::PeerLink(SyncDaemon& daemon, asio::io_context& io, asio::ssl::context& tls, PeerConfig peer)
    : daemon_(daemon), io_(io), tls_(tls), peer_(std::move(peer)), retry_(io), deadline_(io), keepalive_(io) {
  out_.reserve(2 * kBatch);  // a batch plus its last VPN's frames: no reallocation of key material
}

PeerLink::~PeerLink() {
  secure_wipe(out_);
  drop_routed();
}

void PeerLink::drop_routed() {
  for (auto& f : routed_) secure_wipe(f);
  routed_.clear();
}

bool PeerLink::send_routed(std::string frame) {
  if (!ready_) {
    secure_wipe(frame);
    return false;
  }
  routed_.push_back(std::move(frame));
  pump();
  return true;
}

void PeerLink::start() {
  connect();
}

void PeerLink::stop() {
  stopped_ = true;
  ++generation_;
  retry_.cancel();
  deadline_.cancel();
  keepalive_.cancel();
  if (stream_) {
    boost::system::error_code ec;
    stream_->lowest_layer().close(ec);
  }
}

void PeerLink::connect() {
  if (stopped_) return;
  ready_ = writing_ = false;
  stream_ = std::make_unique<TlsStream>(asio::make_strand(io_), tls_);
  decoder_ = FrameDecoder();
  auto self = shared_from_this();
  const uint64_t gen = ++generation_;
  // Connect and handshake within the handshake timeout: a peer that accepts and stays silent
  // must not hold the link forever.
  deadline_.expires_after(daemon_.config().timeouts.handshake);
  deadline_.async_wait([this, self, gen](const boost::system::error_code& ec) {
    if (ec || gen != generation_ || ready_) return;
    ++stats_.timeouts;
    daemon_.count_timeout();
    fail("connect/TLS handshake", asio::error::timed_out);
  });
  // peer_.host is an IP literal (checked by the configuration): this resolves without DNS.
  auto resolver = std::make_shared<asio::ip::tcp::resolver>(io_);
  resolver->async_resolve(peer_.host, std::to_string(peer_.port), [this, self, gen, resolver](auto ec, auto results) {
    if (gen != generation_) return;
    if (ec) return fail("resolve", ec);
    asio::async_connect(stream_->lowest_layer(), results, [this, self, gen](auto ec, auto) {
      if (gen != generation_) return;
      if (ec) return fail("connect", ec);
      boost::system::error_code ignored;
      stream_->lowest_layer().set_option(asio::ip::tcp::no_delay(true), ignored);
      stream_->async_handshake(asio::ssl::stream_base::client, [this, self, gen](auto ec) {
        if (gen != generation_) return;
        if (ec) return fail("TLS handshake", ec);
        if (auto cn = peer_common_name(*stream_); cn != peer_.name) {
          log::warning("peer " + peer_.name + ": certificate is for '" + cn + "', refusing the link");
          return fail("identity", asio::error::access_denied);
        }
        ready_ = true;
        deadline_.cancel();
        backoff_ms_ = 100;
        ++stats_.connects;
        last_rx_ = std::chrono::steady_clock::now();
        keepalive();
        wipe_sent();
        out_ += encode_frame(FrameType::Hello, daemon_.config().node);  // keeps the reserved capacity
        write_out([this] {
          log::notice("peer " + peer_.name + ": connected, resync of what it is alternate for");
          resync();
          read_acks();
        });
      });
    });
  });
}

void PeerLink::fail(const std::string& what, const boost::system::error_code& ec) {
  if (stopped_) return;
  // A lost link, and every 50th failed attempt while the peer stays away; each one with debug.
  const auto priority = ready_ || stats_.errors % 50 == 0 ? log::Priority::warning : log::Priority::debug;
  log::write(priority, "peer " + peer_.name + ": " + what + ": " + ec.message());
  ++stats_.errors;
  ++generation_;  // handlers and timers of this connection do nothing from now on
  deadline_.cancel();
  keepalive_.cancel();
  ready_ = writing_ = false;
  drop_routed();
  boost::system::error_code ignored;
  stream_->lowest_layer().close(ignored);
  retry_.expires_after(std::chrono::milliseconds(backoff_ms_));
  backoff_ms_ = std::min(backoff_ms_ * 2, 5000);
  retry_.async_wait([this, self = shared_from_this()](auto ec) {
    if (!ec) connect();
  });
}

void PeerLink::resync() {
  ++stats_.resyncs;
  sent_.clear();
  order_.clear();
  pending_.clear();
  next_seq_ = 1;
  acked_ = 0;
  in_flight_.clear();  // the sequence starts over: those acks will never come
  daemon_.table().for_each([&](const std::string& id, const VpnEntry& e) {
    if (e.origin == daemon_.config().node && daemon_.is_alternate(id, peer_.name)) mark(id);
  });
  pump();
}

void PeerLink::mark(const std::string& vpn_id) {
  forgets_.erase(vpn_id);  // an alternate again
  if (!ready_) return;
  if (pending_.insert(vpn_id).second) order_.push_back(vpn_id);
  if (pending_.size() > daemon_.config().queue_limit && !behind_logged_) {
    log::warning("peer " + peer_.name + " is falling behind: " + std::to_string(pending_.size()) + " VPNs pending");
    behind_logged_ = true;
  } else if (pending_.size() < daemon_.config().queue_limit / 2) {
    behind_logged_ = false;
  }
  pump();
}

// Appends what the peer lacks of one VPN: its full context if newer than sent, then the newest
// counters/delete envelope. Returns false if nothing was due.
bool PeerLink::append_frames(const std::string& vpn_id, std::string& out) {
  const VpnEntry* e = daemon_.table().find(vpn_id);
  if (!e) return false;
  auto& [full_sent, tail_sent] = sent_[vpn_id];
  bool any = false;
  if (!e->deleted && !e->full.empty() && full_sent < e->full_stamp) {
    out += encode_data(next_seq_++, e->full);
    full_sent = e->full_stamp;
    any = true;
  }
  if (!e->tail.empty() && tail_sent < e->stamp && e->full_stamp < e->stamp) {
    out += encode_data(next_seq_++, e->tail);
    tail_sent = e->stamp;
    any = true;
  }
  return any;
}

void PeerLink::send_forget(const std::string& vpn_id) {
  forgets_.insert(vpn_id);
  pump();
}

// A forget envelope per VPN the peer must drop, stamped with the VPN's current (epoch, version)
// here; VPNs gone or no longer ours meanwhile need none.
void PeerLink::append_forgets() {
  for (const auto& id : forgets_) {
    const VpnEntry* e = daemon_.table().find(id);
    if (!e || e->deleted || e->origin != daemon_.config().node) continue;
    v1::Envelope env;
    env.set_schema(v1::SCHEMA_VERSION_1);
    env.set_origin_node(daemon_.config().node);
    env.set_epoch(e->stamp.epoch);
    env.set_version(e->stamp.version);
    env.set_kind(v1::ENVELOPE_KIND_FORGET);
    env.set_vpn_id(id);
    out_ += encode_data(next_seq_++, encode_envelope(env));
    sent_.erase(id);  // should it become an alternate again, it gets everything anew
    ++stats_.frames_sent;
  }
  forgets_.clear();
}

// Wipes the bytes of the batch just written (not the buffer's whole capacity: that cost a
// 512 KiB memset per pump once a bulk phase had grown it, and saturated a core at 10,000
// counter updates/s). The capacity beyond size() only ever held bytes wiped here.
void PeerLink::wipe_sent() {
  secure_wipe(out_.data(), out_.size());
  out_.clear();
}

void PeerLink::pump() {
  if (!ready_ || writing_) return;
  wipe_sent();
  for (; !routed_.empty(); routed_.pop_front()) {  // a transfer waits on these: they go first
    out_ += routed_.front();
    secure_wipe(routed_.front());
  }
  const uint64_t first = next_seq_;
  if (unacked() < kWindow) append_forgets();
  while (!order_.empty() && out_.size() < kBatch && unacked() < kWindow) {
    std::string id = std::move(order_.front());
    order_.pop_front();
    pending_.erase(id);
    if (append_frames(id, out_)) ++stats_.frames_sent;
  }
  if (out_.empty()) return;
  if (next_seq_ > first) in_flight_.emplace_back(next_seq_ - 1, std::chrono::steady_clock::now());
  write_out([this] { pump(); });
}

// Acks are cumulative: every batch up to seq has arrived and been applied.
void PeerLink::acked(uint64_t seq) {
  const auto now = std::chrono::steady_clock::now();
  for (; !in_flight_.empty() && in_flight_.front().first <= seq; in_flight_.pop_front())
    round_trip_.observe(std::chrono::duration<double>(now - in_flight_.front().second).count());
  stats_.frames_acked += seq > acked_ ? seq - acked_ : 0;
  acked_ = std::max(acked_, seq);
}

// Writes out_ (one write at a time); when it is done, wipes it and runs `then` on this link, unless
// the link failed or was replaced meanwhile.
void PeerLink::write_out(std::function<void()> then) {
  writing_ = true;
  asio::async_write(*stream_, asio::buffer(out_),
                    [this, self = shared_from_this(), gen = generation_, then = std::move(then)](auto ec, size_t) {
                      if (gen != generation_) return;
                      writing_ = false;
                      wipe_sent();
                      if (ec) return fail("write", ec);
                      then();
                    });
}

// Every third of the idle timeout: a link that heard nothing for the whole timeout is closed (and
// dialled again); otherwise, if nothing is being written, a Ping keeps the peer's side alive and
// asks it for an Ack.
void PeerLink::keepalive() {
  const auto idle = daemon_.config().timeouts.idle;
  keepalive_.expires_after(idle / 3);
  keepalive_.async_wait(
      [this, self = shared_from_this(), gen = generation_, idle](const boost::system::error_code& ec) {
        if (ec || gen != generation_ || !ready_) return;
        if (std::chrono::steady_clock::now() - last_rx_ >= idle) {
          ++stats_.timeouts;
          daemon_.count_timeout();
          return fail("nothing heard for " + std::to_string(idle.count()) + " ms", asio::error::timed_out);
        }
        if (!writing_) {
          wipe_sent();
          out_ += encode_frame(FrameType::Ping, "");
          ++stats_.pings;
          write_out([this] { pump(); });
        }
        keepalive();
      });
}

void PeerLink::read_acks() {
  stream_->async_read_some(asio::buffer(in_.data(), in_.size()),
                           [this, self = shared_from_this(), gen = generation_](auto ec, size_t n) {
                             if (gen != generation_) return;
                             if (ec) return fail("read", ec);
                             last_rx_ = std::chrono::steady_clock::now();
                             decoder_.feed(in_.data(), n);
                             in_.wipe(n);
                             for (bool none = false;;) {
                               auto f = decoder_.next(none);
                               if (none) break;
                               if (!f || f->type != FrameType::Ack)
                                 return fail("bad frame from peer", asio::error::invalid_argument);
                               auto seq = parse_ack(f->body);
                               if (!seq || *seq >= next_seq_)
                                 return fail("bad ack from peer", asio::error::invalid_argument);
                               acked(*seq);
                             }
                             pump();
                             read_acks();
                           });
}

}  // namespace elastic::sync
