// The outgoing link to one peer: TLS client, replicates this node's VPNs for which the peer is an
// alternate. What is pending is a set of VPN ids, not a queue of messages: several updates of one
// VPN before it is sent go out once, latest state only (counters coalesce under load), and the
// queue is bounded by the number of VPNs. On every (re)connect the peer gets a bulk resync of
// everything it is alternate for; the receiver drops what it already has (epoch, version).
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "elastic/replica_table.h"
#include "elastic/sync_frame.h"
#include "elastic/syncd_config.h"
#include "elastic/tls.h"

namespace elastic::sync {

class SyncDaemon;

struct LinkStats {
  uint64_t frames_sent = 0, frames_acked = 0, resyncs = 0, connects = 0, errors = 0;
};

class PeerLink : public std::enable_shared_from_this<PeerLink> {
 public:
  PeerLink(SyncDaemon& daemon, boost::asio::io_context& io, boost::asio::ssl::context& tls, PeerConfig peer);
  ~PeerLink();
  void start();
  void stop();
  // There is something newer to send for this VPN (no-op while disconnected: resync covers it).
  void mark(const std::string& vpn_id);
  const std::string& name() const { return peer_.name; }
  bool connected() const { return ready_; }
  size_t pending() const { return pending_.size(); }
  uint64_t unacked() const { return next_seq_ - 1 - acked_; }
  const LinkStats& stats() const { return stats_; }

 private:
  void connect();
  void fail(const std::string& what, const boost::system::error_code& ec);
  void resync();
  void pump();
  void read_acks();
  bool append_frames(const std::string& vpn_id, std::string& out);
  void wipe_sent();

  SyncDaemon& daemon_;
  boost::asio::io_context& io_;
  boost::asio::ssl::context& tls_;
  PeerConfig peer_;
  std::unique_ptr<TlsStream> stream_;
  boost::asio::steady_timer retry_;
  int backoff_ms_ = 100;
  bool ready_ = false, writing_ = false, stopped_ = false;
  std::deque<std::string> order_;
  std::unordered_set<std::string> pending_;
  std::unordered_map<std::string, std::pair<Stamp, Stamp>> sent_;  // full, tail stamps sent
  uint64_t next_seq_ = 1, acked_ = 0;
  std::string out_;
  char in_[4096];
  FrameDecoder decoder_;
  LinkStats stats_;
  bool behind_logged_ = false;
};

}  // namespace elastic::sync
