// elastic-syncd's core: owns the replica table, the links to the peers, the TLS and local
// listeners and the metrics endpoint, all on one io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "elastic/local_server.h"
#include "elastic/membership.h"
#include "elastic/metrics_text.h"
#include "elastic/peer_link.h"
#include "elastic/replica_table.h"
#include "elastic/syncd_config.h"

namespace elastic::sync {

struct DaemonStats {
  uint64_t published = 0, received = 0, stale = 0, errors = 0, delivered = 0;
  uint64_t views = 0, views_refused = 0, remarked = 0;  // membership views applied / refused
  uint64_t refused_origin = 0;                          // envelopes whose origin_node is not the member that sent them
  uint64_t refused_connections = 0;                     // closed at accept: max_connections reached
  uint64_t timeouts = 0;                                // connections closed by a handshake, Hello or idle timeout
  uint64_t tombstones_collected = 0;
  uint64_t routed = 0;          // control requests/answers passed between a plugin and a peer
  uint64_t routed_failed = 0;   // not deliverable: unknown member, link down, no plugin attached
  uint64_t routed_refused = 0;  // from a peer, claiming another sender or for another member
};

class SyncDaemon {
 public:
  SyncDaemon(boost::asio::io_context& io, SyncdConfig cfg);
  ~SyncDaemon();
  Result<void> start();
  void stop();

  // An envelope from the local producer (this node's VPNs): apply, then replicate.
  Result<void> publish(std::string_view bytes);
  // An envelope from the local producer must name this node as its origin (else an error).
  // An envelope from a peer: applied only if its origin_node is that (authenticated) peer, else
  // Refused (counted, logged once per peer and VPN); new ones go to the local clients.
  Result<Applied> receive(const std::string& peer, std::string_view bytes);

  // A Membership body from elastic-heartbeatd: placement follows the live members from now on;
  // on a change, each connected peer gets the VPNs owned here for which it became an alternate.
  // An error (malformed, unknown member) or an old epoch leaves the view as it was.
  Result<void> membership(std::string_view body);

  // Control requests between the members' plugins (routing.cpp): a Request or Response frame
  // from the local plugin goes to the peer it names; one from a peer (which must be its src and
  // must name this node as dst, no relaying) goes to the local plugin. An undeliverable Request
  // is answered with an error at once. An error return closes the connection (malformed frame).
  Result<void> route_from_local(LocalSession& from, FrameType type, std::string_view body);
  Result<void> route_from_peer(const std::string& peer, FrameType type, std::string_view body);

  bool is_alternate(const std::string& vpn_id, const std::string& peer) const;
  bool is_peer(const std::string& name) const;
  // Sends every replica held here (not this node's own VPNs) to a local client that subscribed.
  void replay_to(LocalSession& s);
  void count_error() { ++stats_.errors; }
  void count_timeout() { ++stats_.timeouts; }
  // Forgets the tombstones older than elastic.syncd.tombstone_ttl_s (run periodically).
  size_t collect_tombstones();
  std::string status() const;
  std::string placement_line() const;
  std::string metrics() const;
  ReplicaTable& table() { return table_; }
  const SyncdConfig& config() const { return cfg_; }

 private:
  void accept_peers();
  void accept_local();
  void accept_metrics();
  void node_metrics(metrics::Exposition& e) const;
  void peer_metrics(metrics::Exposition& e, const std::string& name, const PeerLink& l) const;
  Result<void> open_local_socket();
  void schedule_gc();
  void refuse_origin(const std::string& from, const std::string& vpn_id, const std::string& origin);
  std::vector<std::string> alternates_of(const std::string& vpn_id, const std::vector<Member>& view) const;
  void mark_gained(const std::vector<Member>& old_view);
  // Hands a routed frame to the local plugin(s); false if none is attached.
  bool to_plugin(const std::string& frame);

  boost::asio::io_context& io_;
  SyncdConfig cfg_;
  ReplicaTable table_;
  LiveView view_;
  boost::asio::ssl::context server_tls_, client_tls_;
  std::map<std::string, std::shared_ptr<PeerLink>> links_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> peer_acceptor_, metrics_acceptor_;
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> local_acceptor_;
  std::vector<std::weak_ptr<LocalSession>> locals_;
  // Open inbound connections (peer TLS and metrics; local), each bounded by max_connections.
  std::shared_ptr<size_t> tcp_slots_ = std::make_shared<size_t>(0), local_slots_ = std::make_shared<size_t>(0);
  boost::asio::steady_timer gc_timer_;
  std::set<std::pair<std::string, std::string>> refusals_logged_;  // (peer, vpn id), bounded
  DaemonStats stats_;
};

}  // namespace elastic::sync
