// An incoming peer connection: TLS server side. The peer must present a certificate of the
// cluster CA whose common name is a configured member, and its first frame must be a Hello with
// that same name. It then sends Data frames; each batch applied is acknowledged. A malformed,
// truncated or oversized frame closes this connection only, with a log line naming the problem.
#pragma once

#include <memory>
#include <string>

#include "elastic/sync_frame.h"
#include "elastic/tls.h"

namespace elastic::sync {

class SyncDaemon;

class PeerSession : public std::enable_shared_from_this<PeerSession> {
 public:
  PeerSession(SyncDaemon& daemon, std::unique_ptr<TlsStream> stream, std::string remote);
  void start();

 private:
  void read();
  bool handle(const Frame& f);
  void ack();
  void close(const std::string& why);

  SyncDaemon& daemon_;
  std::unique_ptr<TlsStream> stream_;
  std::string remote_, peer_;
  bool hello_ = false, writing_ = false, closed_ = false;
  uint64_t last_seq_ = 0, acked_ = 0;
  std::string ack_buf_;
  char in_[64 * 1024];
  FrameDecoder decoder_;
};

}  // namespace elastic::sync
