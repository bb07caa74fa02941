// The outgoing link to one peer: TLS client, replicates this node's VPNs for which the peer is an
// alternate. What is pending is a set of VPN ids, not a queue of messages: several updates of one
// VPN before it is sent go out once, latest state only (counters coalesce under load), and the
// queue is bounded by the number of VPNs. On every (re)connect the peer gets a bulk resync of
// everything it is alternate for; the receiver drops what it already has (epoch, version).
// Bounded: connect + TLS handshake within timeouts.handshake; once up, a Ping every third of
// timeouts.idle keeps a quiet link alive, and a link that hears nothing (no Ack) for
// timeouts.idle is closed and dialled again.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "elastic/metrics_text.h"
#include "elastic/read_buffer.h"
#include "elastic/replica_table.h"
#include "elastic/sync_frame.h"
#include "elastic/syncd_config.h"
#include "elastic/tls.h"

namespace elastic::sync {

class SyncDaemon;

struct LinkStats {
  uint64_t frames_sent = 0, frames_acked = 0, resyncs = 0, connects = 0, errors = 0, pings = 0, timeouts = 0;
};

class PeerLink : public std::enable_shared_from_this<PeerLink> {
 public:
  PeerLink(SyncDaemon& daemon, boost::asio::io_context& io, boost::asio::ssl::context& tls, PeerConfig peer);
  ~PeerLink();
  void start();
  void stop();
  // There is something newer to send for this VPN (no-op while disconnected: resync covers it).
  void mark(const std::string& vpn_id);
  // A routed control frame (Request/Response) for this peer, sent ahead of replicas. Not kept
  // across a reconnect (the requester times out instead). False if the link is not up.
  bool send_routed(std::string frame);
  // The peer is no longer an alternate of this node's VPN (it moved here, or the membership
  // changed): it is sent a forget envelope, so that it drops its copy. Kept until sent, across
  // reconnects.
  void send_forget(const std::string& vpn_id);
  size_t forgets_pending() const { return forgets_.size(); }
  // Forgets what was sent of a VPN whose tombstone was collected.
  void forget(const std::string& vpn_id) { sent_.erase(vpn_id); }
  const std::string& name() const { return peer_.name; }
  bool connected() const { return ready_; }
  size_t pending() const { return pending_.size(); }
  uint64_t unacked() const { return next_seq_ - 1 - acked_; }
  const LinkStats& stats() const { return stats_; }
  // From writing a batch of data frames until the peer acknowledged its last one: the time a
  // replica takes to be applied on the peer, network and the peer's load included.
  const metrics::Histogram& round_trip() const { return round_trip_; }

 private:
  void connect();
  void fail(const std::string& what, const boost::system::error_code& ec);
  void resync();
  void pump();
  void read_acks();
  void acked(uint64_t seq);
  bool append_frames(const std::string& vpn_id, std::string& out);
  void append_forgets();
  void wipe_sent();
  void drop_routed();
  void write_out(std::function<void()> then);
  void keepalive();

  SyncDaemon& daemon_;
  boost::asio::io_context& io_;
  boost::asio::ssl::context& tls_;
  PeerConfig peer_;
  std::unique_ptr<TlsStream> stream_;
  boost::asio::steady_timer retry_, deadline_, keepalive_;
  std::chrono::steady_clock::time_point last_rx_;
  uint64_t generation_ = 0;  // bumped by every connect: timers of an old connection do nothing
  int backoff_ms_ = 100;
  bool ready_ = false, writing_ = false, stopped_ = false;
  std::deque<std::string> order_;
  std::deque<std::string> routed_;  // control frames waiting for the next write
  std::set<std::string> forgets_;   // VPNs the peer must drop (send_forget)
  std::unordered_set<std::string> pending_;
  std::unordered_map<std::string, std::pair<Stamp, Stamp>> sent_;  // full, tail stamps sent
  uint64_t next_seq_ = 1, acked_ = 0;
  // (last seq, write time) of each batch not yet acknowledged; at most kWindow of them.
  std::deque<std::pair<uint64_t, std::chrono::steady_clock::time_point>> in_flight_;
  metrics::Histogram round_trip_{metrics::duration_buckets()};
  std::string out_;
  ReadBuffer<4096> in_;
  FrameDecoder decoder_;
  LinkStats stats_;
  bool behind_logged_ = false;
};

}  // namespace elastic::sync
