// An incoming peer connection: TLS server side. The peer must present a certificate of the
// cluster CA whose common name is a configured member, and its first frame must be a Hello with
// that same name. It then sends Data frames; each batch applied is acknowledged, and each Ping
// answered with an Ack. Every phase is bounded: the TLS handshake and the Hello each within their
// timeout, then at most the idle timeout between two frames. A malformed, truncated or oversized
// frame closes this connection only, with a log line naming the problem. Envelopes whose origin
// is not the authenticated peer are refused (not applied, counted), the connection stays.
// Request/Response frames (control requests between plugins) go to the daemon's router.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "elastic/connection_slot.h"
#include "elastic/log.h"
#include "elastic/read_buffer.h"
#include "elastic/sync_frame.h"
#include "elastic/tls.h"

namespace elastic::sync {

class SyncDaemon;

class PeerSession : public std::enable_shared_from_this<PeerSession> {
 public:
  PeerSession(SyncDaemon& daemon, std::unique_ptr<TlsStream> stream, std::string remote, std::shared_ptr<size_t> slots);
  void start();

 private:
  using Clock = std::chrono::steady_clock;
  void read();
  bool handle(const Frame& f);
  void ack();
  // Logged as a warning (refused, broken, timed out) unless the peer hung up: notice.
  void close(const std::string& why, log::Priority priority = log::Priority::warning);
  // Closes the connection with `why` unless something pushes the deadline on first.
  void arm(std::chrono::milliseconds within, std::string why);
  void watch();

  SyncDaemon& daemon_;
  ConnectionSlot slot_;
  std::unique_ptr<TlsStream> stream_;
  boost::asio::steady_timer timer_;
  Clock::time_point deadline_;
  std::string remote_, peer_, deadline_why_;
  bool hello_ = false, writing_ = false, closed_ = false, pong_due_ = false;
  uint64_t last_seq_ = 0, acked_ = 0;
  std::string ack_buf_;
  ReadBuffer<64 * 1024> in_;
  FrameDecoder decoder_;
};

}  // namespace elastic::sync
