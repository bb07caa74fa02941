// The local side: a Unix stream socket (mode 0600) for the charon plugin. Clients send Data
// frames (their VPNs' envelopes, to replicate; acknowledged by sequence) and Status requests.
// A client that sends Hello subscribes: it gets every replica held here at once, then every new
// one as it is applied from a peer, as Data frames (seq 0), to install passive. Membership frames
// (elastic-heartbeatd's live view) are accepted from any local client: the socket is 0600 root.
// A subscriber that does not read what it is sent is closed once more than
// elastic.syncd.local_backlog_bytes wait for it (it resyncs by reconnecting). Request and
// Response frames (control requests between the members' plugins) are routed by the daemon.
#pragma once

#include <boost/asio/local/stream_protocol.hpp>
#include <memory>
#include <string>

#include "elastic/connection_slot.h"
#include "elastic/log.h"
#include "elastic/read_buffer.h"
#include "elastic/sync_frame.h"

namespace elastic::sync {

class SyncDaemon;

class LocalSession : public std::enable_shared_from_this<LocalSession> {
 public:
  LocalSession(SyncDaemon& daemon, boost::asio::local::stream_protocol::socket sock, std::shared_ptr<size_t> slots);
  ~LocalSession();
  void start();
  void deliver(const std::string& envelope);  // a replica from a peer
  // A whole frame for the plugin (a routed Request or Response), bounded like replicas.
  void forward(const std::string& frame);
  bool open() const { return !closed_; }
  bool subscribed() const { return subscribed_; }

 private:
  void read();
  void send(const std::string& frame);
  // Queues a frame unless the client is too far behind (then it is closed).
  void send_bounded(const std::string& frame);
  void flush();
  // Logged as a warning (refused input, too slow, a socket error) unless the client hung up: info.
  void close(const std::string& why, log::Priority priority = log::Priority::warning);

  SyncDaemon& daemon_;
  ConnectionSlot slot_;
  boost::asio::local::stream_protocol::socket sock_;
  // Frames wait in queued_ while a write is in flight (wbuf_), then go out together in one write.
  std::string queued_, wbuf_;
  uint64_t ack_due_ = 0;  // acks are cumulative: only the newest one waiting is sent
  bool writing_ = false, closed_ = false, subscribed_ = false;
  ReadBuffer<64 * 1024> in_;
  FrameDecoder decoder_;
};

}  // namespace elastic::sync
