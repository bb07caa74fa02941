#include "elastic/sync_daemon.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/read_until.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>

#include "elastic/log.h"
#include "elastic/parse_number.h"
#include "elastic/peer_session.h"
#include "elastic/secure.h"
#include "elastic/version.h"

namespace elastic::sync {

namespace asio = boost::asio;
using asio::ip::tcp;

SyncDaemon::SyncDaemon(asio::io_context& io, SyncdConfig cfg)
    : io_(io),
      cfg_(std::move(cfg)),
      view_(cfg_.members),
      server_tls_(asio::ssl::context::tls_server),
      client_tls_(asio::ssl::context::tls_client),
      gc_timer_(io) {}

SyncDaemon::~SyncDaemon() {
  stop();
}

Result<void> SyncDaemon::start() {
  for (auto* ctx : {&server_tls_, &client_tls_})
    if (auto ok = setup_tls(*ctx, cfg_.ca, cfg_.cert, cfg_.key); !ok) return ok;
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(cfg_.listen_host, ec);
  if (ec) return make_error("listen address '" + cfg_.listen_host + "': " + ec.message());
  peer_acceptor_ = std::make_unique<tcp::acceptor>(io_);
  tcp::endpoint ep(addr, cfg_.listen_port);
  peer_acceptor_->open(ep.protocol(), ec);
  if (!ec) peer_acceptor_->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) peer_acceptor_->bind(ep, ec);
  if (!ec) peer_acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error("cannot listen on " + cfg_.listen_host + ":" + std::to_string(cfg_.listen_port) + ": " +
                      ec.message());

  if (auto ok = open_local_socket(); !ok) return ok;

  if (!cfg_.metrics.empty()) {
    // The configuration checked "IP:PORT" already; parsed again here without throwing.
    const auto colon = cfg_.metrics.rfind(':');
    std::string host = cfg_.metrics.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    auto port = parse_u64(cfg_.metrics.substr(colon + 1), "metrics port", 1, 65535);
    if (!port) return port.error();
    auto maddr = asio::ip::make_address(host, ec);
    if (ec) return make_error("metrics address '" + cfg_.metrics + "': " + ec.message());
    tcp::endpoint mep(maddr, static_cast<uint16_t>(*port));
    metrics_acceptor_ = std::make_unique<tcp::acceptor>(io_);
    metrics_acceptor_->open(mep.protocol(), ec);
    if (!ec) metrics_acceptor_->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) metrics_acceptor_->bind(mep, ec);
    if (!ec) metrics_acceptor_->listen(16, ec);
    if (ec) return make_error("cannot listen for metrics on " + cfg_.metrics + ": " + ec.message());
    accept_metrics();
  }
  accept_peers();
  accept_local();
  for (const auto& p : cfg_.peers) {
    auto link = std::make_shared<PeerLink>(*this, io_, client_tls_, p);
    links_[p.name] = link;
    link->start();
  }
  schedule_gc();
  log::notice("node " + cfg_.node + " listening on " + cfg_.listen_host + ":" + std::to_string(cfg_.listen_port) +
              ", local socket " + cfg_.socket + ", " + std::to_string(cfg_.peers.size()) + " peers");
  return {};
}

// The local socket path: absent, or a socket nobody listens on any more (left by a crash) which
// is replaced. Anything else (a regular file, a directory, a socket in use) is left alone and is
// an error: syncd never deletes what it did not create.
Result<void> SyncDaemon::open_local_socket() {
  struct stat st {};
  if (::lstat(cfg_.socket.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return make_error("local socket " + cfg_.socket +
                        " (elastic.syncd.socket) exists and is not a socket: " + "refusing to replace it");
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, cfg_.socket.c_str(), cfg_.socket.size());  // length checked by the config
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool in_use = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
    if (fd >= 0) ::close(fd);
    if (in_use)
      return make_error("local socket " + cfg_.socket + " is in use by another process (another elastic-syncd?)");
    if (::unlink(cfg_.socket.c_str()) != 0 && errno != ENOENT)
      return make_error("cannot remove the stale socket " + cfg_.socket + ": " + std::strerror(errno));
  } else if (errno != ENOENT) {
    return make_error("cannot check the local socket path " + cfg_.socket + ": " + std::strerror(errno));
  }
  boost::system::error_code ec;
  local_acceptor_ = std::make_unique<asio::local::stream_protocol::acceptor>(io_);
  const mode_t old = ::umask(077);  // the socket is created 0600: it carries key material
  local_acceptor_->open(asio::local::stream_protocol(), ec);
  if (!ec) local_acceptor_->bind(asio::local::stream_protocol::endpoint(cfg_.socket), ec);
  ::umask(old);
  if (!ec) local_acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error("cannot create the local socket " + cfg_.socket + ": " + ec.message());
  return {};
}

void SyncDaemon::stop() {
  gc_timer_.cancel();
  boost::system::error_code ec;
  for (auto& [n, l] : links_) l->stop();
  if (peer_acceptor_) peer_acceptor_->close(ec);
  if (local_acceptor_) local_acceptor_->close(ec);
  if (metrics_acceptor_) metrics_acceptor_->close(ec);
}

void SyncDaemon::accept_peers() {
  peer_acceptor_->async_accept(asio::make_strand(io_), [this](auto ec, tcp::socket sock) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      boost::system::error_code e2;
      auto remote = sock.remote_endpoint(e2);
      std::string who = e2 ? "?" : remote.address().to_string() + ":" + std::to_string(remote.port());
      if (*tcp_slots_ >= cfg_.max_connections) {
        // Closed at once: idle connections must not exhaust descriptors (each has a timeout too).
        if (stats_.refused_connections++ % 100 == 0)
          log::warning("connection from " + who + " refused: " + std::to_string(cfg_.max_connections) +
                       " connections open (elastic.syncd.max_connections); " +
                       std::to_string(stats_.refused_connections) + " refused so far");
        sock.close(e2);
      } else {
        auto stream = std::make_unique<TlsStream>(std::move(sock), server_tls_);
        std::make_shared<PeerSession>(*this, std::move(stream), who, tcp_slots_)->start();
      }
    }
    accept_peers();
  });
}

void SyncDaemon::accept_local() {
  local_acceptor_->async_accept([this](auto ec, asio::local::stream_protocol::socket sock) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec && *local_slots_ >= cfg_.max_connections) {
      if (stats_.refused_connections++ % 100 == 0)
        log::warning("local client refused: " + std::to_string(cfg_.max_connections) +
                     " local connections open (elastic.syncd.max_connections)");
      boost::system::error_code ignored;
      sock.close(ignored);
    } else if (!ec) {
      auto s = std::make_shared<LocalSession>(*this, std::move(sock), local_slots_);
      std::erase_if(locals_, [](auto& w) { return w.expired(); });
      locals_.push_back(s);
      s->start();
    }
    accept_local();
  });
}

void SyncDaemon::accept_metrics() {
  metrics_acceptor_->async_accept([this](auto ec, tcp::socket sock) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec && *tcp_slots_ >= cfg_.max_connections) {
      ++stats_.refused_connections;
      boost::system::error_code ignored;
      sock.close(ignored);
    } else if (!ec) {
      // Read the request head (any path answers) within the handshake timeout, then send the
      // metrics and close.
      auto s = std::make_shared<tcp::socket>(std::move(sock));
      auto req = std::make_shared<asio::streambuf>(8192);
      auto slot = std::make_shared<ConnectionSlot>(tcp_slots_);
      auto timer = std::make_shared<asio::steady_timer>(io_, cfg_.timeouts.handshake);
      timer->async_wait([this, s, slot](const boost::system::error_code& ec) {
        if (ec) return;
        ++stats_.timeouts;
        boost::system::error_code ignored;
        s->close(ignored);
      });
      asio::async_read_until(*s, *req, "\r\n\r\n", [this, s, req, slot, timer](auto ec, size_t) {
        timer->cancel();
        if (ec) return;
        auto body = std::make_shared<std::string>(
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nConnection: close\r\n\r\n" + metrics());
        asio::async_write(*s, asio::buffer(*body), [s, body, slot](auto, size_t) {
          boost::system::error_code e;
          s->shutdown(tcp::socket::shutdown_both, e);
        });
      });
    }
    accept_metrics();
  });
}

bool SyncDaemon::is_peer(const std::string& name) const {
  return links_.count(name) > 0;
}

void SyncDaemon::replay_to(LocalSession& s) {
  // A (re)connecting plugin gets every replica held here, so that it can take over any of them;
  // its own VPNs it publishes itself.
  table_.for_each([&](const std::string&, const VpnEntry& e) {
    if (e.origin == cfg_.node || e.deleted) return;
    if (!e.full.empty()) s.deliver(e.full);
    if (!e.tail.empty()) s.deliver(e.tail);
  });
}

std::vector<std::string> SyncDaemon::alternates_of(const std::string& vpn_id, const std::vector<Member>& view) const {
  return alternates(vpn_id, cfg_.node, view, cfg_.replicas);
}

bool SyncDaemon::is_alternate(const std::string& vpn_id, const std::string& peer) const {
  for (const auto& a : alternates_of(vpn_id, view_.live()))
    if (a == peer) return true;
  return false;
}

Result<void> SyncDaemon::membership(std::string_view body) {
  const std::vector<Member> old_view = view_.live();
  const uint64_t old_epoch = view_.epoch();
  auto r = view_.apply(body);
  if (!r) {
    ++stats_.views_refused;
    ++stats_.errors;
    log::warning("membership refused: " + r.error().message + "; keeping epoch " + std::to_string(old_epoch) +
                 " live " + view_.names());
    return r.error();
  }
  if (!*r) {
    log::info("membership: ignored a view not newer than epoch " + std::to_string(old_epoch));
    return {};
  }
  ++stats_.views;
  log::notice("membership epoch " + std::to_string(view_.epoch()) + " live " + view_.names());
  mark_gained(old_view);
  return {};
}

// Each VPN owned here goes to the connected peers that are alternates for it in the new view
// but were not in the old one: a survivor's VPNs that had the failed member as alternate get a
// new one, and a member that rejoins gets its replicas back (what it still holds is not resent:
// the receiver keeps the newer (epoch, version)).
void SyncDaemon::mark_gained(const std::vector<Member>& old_view) {
  table_.for_each([&](const std::string& id, const VpnEntry& e) {
    if (e.origin != cfg_.node) return;
    const auto before = alternates_of(id, old_view), after = alternates_of(id, view_.live());
    for (const auto& a : after) {
      if (std::find(before.begin(), before.end(), a) != before.end()) continue;
      if (auto it = links_.find(a); it != links_.end() && it->second->connected()) {
        it->second->mark(id);
        ++stats_.remarked;
      }
    }
    // Former alternates that are still members drop their copies (a dead one restarts empty).
    for (const auto& a : before)
      if (std::find(after.begin(), after.end(), a) == after.end())
        if (auto it = links_.find(a); it != links_.end()) it->second->send_forget(id);
  });
}

Result<void> SyncDaemon::publish(std::string_view bytes) {
  std::string id, origin;
  Stamp previous;
  auto r = table_.apply(bytes, &id, cfg_.node, &origin, &previous);
  if (!r) {
    ++stats_.errors;
    return r.error();
  }
  if (*r == Applied::Refused) {
    refuse_origin("the local producer", id, origin);
    return make_error("VPN '" + id + "' has origin '" + origin + "', not this node '" + cfg_.node + "'");
  }
  ++stats_.published;
  if (*r == Applied::Stale) {
    ++stats_.stale;
    return {};
  }
  const auto alternates = alternates_of(id, view_.live());
  for (const auto& a : alternates)
    if (auto it = links_.find(a); it != links_.end()) it->second->mark(id);
  // The VPN just became ours in a new epoch (transfer or takeover): the old owner's alternates
  // hold copies they will never hear of again, and a cut-off old owner must step down. Whoever
  // is not an alternate now is told to forget it (peers that hold nothing ignore it).
  const VpnEntry* e = table_.find(id);
  if (e && !e->deleted && e->stamp.epoch > 1 && previous.epoch < e->stamp.epoch)
    for (auto& [name, link] : links_)
      if (std::find(alternates.begin(), alternates.end(), name) == alternates.end()) link->send_forget(id);
  return {};
}

void SyncDaemon::refuse_origin(const std::string& from, const std::string& vpn_id, const std::string& origin) {
  ++stats_.refused_origin;
  // Once per (sender, VPN), and at most 1000 such lines: a misbehaving peer cannot flood the log.
  constexpr size_t kMaxLogged = 1000;
  if (refusals_logged_.size() > kMaxLogged) return;
  if (refusals_logged_.size() == kMaxLogged) {
    refusals_logged_.emplace("", "");
    log::warning("refused envelopes: more than " + std::to_string(kMaxLogged) +
                 " logged, further ones are only counted (refused_origin)");
    return;
  }
  if (refusals_logged_.emplace(from, vpn_id).second)
    log::warning("refused envelope from " + from + " for VPN '" + vpn_id + "': its origin is '" + origin +
                 "' (a member may only publish its own VPNs)");
}

Result<Applied> SyncDaemon::receive(const std::string& peer, std::string_view bytes) {
  std::string id, origin;
  auto r = table_.apply(bytes, &id, peer, &origin);
  if (!r) {
    ++stats_.errors;
    return r;
  }
  if (*r == Applied::Refused) {
    refuse_origin("peer " + peer, id, origin);
    return r;
  }
  ++stats_.received;
  if (*r == Applied::Stale) {
    ++stats_.stale;
    return r;
  }
  std::string copy(bytes);
  for (auto& w : locals_)
    if (auto s = w.lock(); s && s->open() && s->subscribed()) {
      s->deliver(copy);
      ++stats_.delivered;
    }
  secure_wipe(copy);
  return r;
}

size_t SyncDaemon::collect_tombstones() {
  const auto cutoff = std::chrono::steady_clock::now() - cfg_.tombstone_ttl;
  const size_t n = table_.collect_tombstones(cutoff, [&](const std::string& id) {
    for (auto& [name, l] : links_) l->forget(id);
  });
  stats_.tombstones_collected += n;
  return n;
}

// Tombstones are checked every half TTL (0.5 s .. 60 s): one is forgotten between ttl and 1.5 ttl
// after its delete.
void SyncDaemon::schedule_gc() {
  using std::chrono::milliseconds;
  const auto half = std::chrono::duration_cast<milliseconds>(cfg_.tombstone_ttl) / 2;
  gc_timer_.expires_after(std::clamp(half, milliseconds(500), milliseconds(60000)));
  gc_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    collect_tombstones();
    schedule_gc();
  });
}

// "placement replicas K live A=W,B=W": what elasticctl drain/rebalance compute placement from,
// the same inputs as this daemon's own alternates.
std::string SyncDaemon::placement_line() const {
  std::string out = "placement replicas " +
                    (cfg_.replicas == SIZE_MAX ? std::string("all") : std::to_string(cfg_.replicas)) + " live ";
  for (size_t i = 0; i < view_.live().size(); ++i)
    out += (i ? "," : "") + view_.live()[i].name + "=" + std::to_string(static_cast<long long>(view_.live()[i].weight));
  return out + "\n";
}

std::string SyncDaemon::status() const {
  std::string out = "node " + cfg_.node + "\ncontexts " + std::to_string(table_.contexts()) + "\nentries " +
                    std::to_string(table_.size()) + "\ndigest " + table_.digest() + "\nmembership epoch " +
                    std::to_string(view_.epoch()) + " live " + view_.names() + "\ntombstones " +
                    std::to_string(table_.tombstones()) + " collected " + std::to_string(stats_.tombstones_collected) +
                    "\nrefused_origin " + std::to_string(stats_.refused_origin) + "\nrefused_connections " +
                    std::to_string(stats_.refused_connections) + "\ntimeouts " + std::to_string(stats_.timeouts) +
                    "\nrouted " + std::to_string(stats_.routed) + " failed " + std::to_string(stats_.routed_failed) +
                    " refused " + std::to_string(stats_.routed_refused) + "\n" + placement_line();
  for (const auto& [name, l] : links_)
    out += "peer " + name + (l->connected() ? " connected" : " disconnected") + " pending " +
           std::to_string(l->pending()) + " unacked " + std::to_string(l->unacked()) + " resyncs " +
           std::to_string(l->stats().resyncs) + "\n";
  return out;
}

// Prometheus names: counters end in _total, per-peer families carry a peer label (the writer
// keeps each family in one block), durations are in seconds.
std::string SyncDaemon::metrics() const {
  metrics::Exposition e;
  e.gauge("elastic_syncd_build_info", "the running version (always 1)", 1, {{"version", project_version()}});
  node_metrics(e);
  for (const auto& [name, l] : links_) peer_metrics(e, name, *l);
  return e.text();
}

void SyncDaemon::node_metrics(metrics::Exposition& e) const {
  e.gauge("elastic_syncd_contexts", "VPN contexts held (own and replicas)", table_.contexts());
  const char* received = "envelopes accepted (stale ones included) from the local producer or from peers";
  e.counter("elastic_syncd_updates_received_total", received, stats_.published, {{"source", "local"}});
  e.counter("elastic_syncd_updates_received_total", received, stats_.received, {{"source", "peer"}});
  e.counter("elastic_syncd_updates_stale_total", "envelopes ignored as not newer", stats_.stale);
  e.counter("elastic_syncd_errors_total", "refused frames, envelopes and connections", stats_.errors);
  e.gauge("elastic_syncd_membership_epoch", "epoch of the live membership view (0: configured members)", view_.epoch());
  e.gauge("elastic_syncd_members_live", "members placement is computed over", view_.live().size());
  e.counter("elastic_syncd_membership_refused_total", "membership views refused (malformed, unknown member)",
            stats_.views_refused);
  e.counter("elastic_syncd_membership_remarked_total", "VPNs sent to a new alternate after a view change",
            stats_.remarked);
  e.counter("elastic_syncd_refused_origin_total", "envelopes refused: origin_node is not the member that sent them",
            stats_.refused_origin);
  e.counter("elastic_syncd_refused_connections_total", "connections closed at accept (max_connections)",
            stats_.refused_connections);
  e.counter("elastic_syncd_timeouts_total", "connections closed by a handshake, Hello or idle timeout",
            stats_.timeouts);
  e.gauge("elastic_syncd_tombstones", "deleted VPNs remembered (against late upserts)", table_.tombstones());
  e.counter("elastic_syncd_tombstones_collected_total", "tombstones forgotten after tombstone_ttl_s",
            stats_.tombstones_collected);
  e.counter("elastic_syncd_routed_total", "control requests/answers passed between the plugin and a peer",
            stats_.routed);
  e.counter("elastic_syncd_routed_failed_total",
            "control requests not deliverable (unknown member, link down, no plugin)", stats_.routed_failed);
  e.counter("elastic_syncd_routed_refused_total", "routed frames refused from a peer (another sender or destination)",
            stats_.routed_refused);
}

void SyncDaemon::peer_metrics(metrics::Exposition& e, const std::string& name, const PeerLink& l) const {
  const metrics::Labels peer = {{"peer", name}};
  e.gauge("elastic_syncd_peer_connected", "1 if the link to the peer is up", l.connected(), peer);
  e.gauge("elastic_syncd_peer_live", "1 if the peer is in the live membership view", view_.is_live(name), peer);
  e.gauge("elastic_syncd_peer_pending_vpns", "VPNs with an update not yet sent to the peer", l.pending(), peer);
  e.gauge("elastic_syncd_peer_unacked_frames", "frames sent to the peer and not yet acknowledged", l.unacked(), peer);
  e.counter("elastic_syncd_peer_updates_sent_total", "VPN updates (context, counters, forget) sent to the peer",
            l.stats().frames_sent, peer);
  e.counter("elastic_syncd_peer_resyncs_total", "bulk resyncs sent to the peer", l.stats().resyncs, peer);
  e.counter("elastic_syncd_peer_timeouts_total", "links to the peer closed by a timeout", l.stats().timeouts, peer);
  e.histogram("elastic_syncd_replication_round_trip_seconds",
              "from writing a batch of updates to the peer until it acknowledged them", l.round_trip(), peer);
}

}  // namespace elastic::sync
