#include "elastic/hb_daemon.h"

#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <set>

#include "elastic/log.h"
#include "elastic/version.h"

namespace elastic::hb {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {

uint64_t random_boot() {
  uint64_t b = 0;
  while (b == 0)
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&b), sizeof b) != 1) b = static_cast<uint64_t>(::time(nullptr));
  return b;
}

MembershipConfig membership_config(const HeartbeatConfig& c, uint64_t boot) {
  MembershipConfig m;
  m.self = c.node;
  for (const auto& x : c.members) m.members.push_back({x.name, x.weight, x.witness});
  m.interval = std::chrono::duration_cast<std::chrono::microseconds>(c.interval).count();
  m.misses = c.misses;
  m.quorum = c.quorum;
  m.boot = boot;
  return m;
}

std::set<std::string> member_names(const HeartbeatConfig& c) {
  std::set<std::string> s;
  for (const auto& m : c.members) s.insert(m.name);
  return s;
}

Micros mono_now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string fmt_weight(double w) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", w);
  return b;
}

// A member lost, or this node fenced or stripped of its VPNs, needs an operator's eye; the rest
// is the cluster doing its job (suspect comes and goes with a late heartbeat).
log::Priority event_priority(Event::Kind k) {
  switch (k) {
    case Event::MemberDown:
    case Event::Fence:
    case Event::DropFenced:
      return log::Priority::warning;
    case Event::MemberSuspect:
      return log::Priority::info;
    default:
      return log::Priority::notice;
  }
}

// The plugin's answer on one line ("OK\nactivated 3\n" -> "OK activated 3").
std::string one_line(const std::string& answer) {
  std::string a = answer.substr(0, answer.find_last_not_of('\n') + 1);
  std::replace(a.begin(), a.end(), '\n', ' ');
  return a;
}

// A command the plugin refused leaves VPNs in the wrong state (not taken over, not fenced).
log::Priority answer_priority(const std::string& answer) {
  return answer.starts_with("OK") ? log::Priority::notice : log::Priority::err;
}

}  // namespace

HeartbeatDaemon::HeartbeatDaemon(asio::io_context& io, HeartbeatConfig cfg)
    : io_(io),
      cfg_(std::move(cfg)),
      boot_(random_boot()),
      membership_(membership_config(cfg_, boot_), mono_now()),
      receiver_(cfg_.node, member_names(cfg_), cfg_.key),
      udp_(io),
      send_timer_(io),
      tick_timer_(io),
      notifier_(io, cfg_.notify),
      status_(io, cfg_.socket, [this](const std::string& req) {
        if (req == "status") return status_text();
        if (req == "metrics") return metrics_text();
        return std::string("ERR unknown request (status, metrics)\n");
      }) {}

HeartbeatDaemon::~HeartbeatDaemon() {
  stop();
}

Micros HeartbeatDaemon::now() const {
  return mono_now();
}

Result<void> HeartbeatDaemon::start() {
  boost::system::error_code ec;
  auto self_addr = asio::ip::make_address(cfg_.self().host, ec);
  if (ec) return make_error("member " + cfg_.node + ": '" + cfg_.self().host + "' is not an IP address");
  for (const auto& m : cfg_.members) {
    if (m.name == cfg_.node) continue;
    auto a = asio::ip::make_address(m.host, ec);
    if (ec) return make_error("member " + m.name + ": '" + m.host + "' is not an IP address");
    peers_.emplace(m.name, udp::endpoint(a, cfg_.port));
  }
  const udp::endpoint local(self_addr, cfg_.port);
  udp_.open(local.protocol(), ec);
  if (!ec) udp_.bind(local, ec);
  if (ec)
    return make_error("heartbeat socket " + self_addr.to_string() + ":" + std::to_string(cfg_.port) + ": " +
                      ec.message());
  if (auto ok = status_.start(); !ok) return ok;
  if (!cfg_.self_is_witness()) {
    plugin_ = std::make_unique<ControlClient>(io_, cfg_.plugin_socket);
    if (!cfg_.syncd_socket.empty()) {
      syncd_ = std::make_unique<SyncdLink>(io_, cfg_.syncd_socket);
      view_changed();
      syncd_->start();
    }
  }
  log::notice("node " + cfg_.node + (cfg_.self_is_witness() ? " (witness)" : "") + ": heartbeats on " +
              local.address().to_string() + ":" + std::to_string(cfg_.port) + " every " +
              std::to_string(cfg_.interval.count()) + " ms, down after " +
              std::to_string(cfg_.interval.count() * cfg_.misses) + " ms, quorum " + std::to_string(cfg_.quorum) +
              " of " + std::to_string(cfg_.members.size()) + ", boot " + std::to_string(boot_));
  receive();
  send_timer_.expires_after(std::chrono::milliseconds(0));
  send_heartbeats();
  return {};
}

void HeartbeatDaemon::stop() {
  if (!*alive_) return;
  *alive_ = false;
  boost::system::error_code ec;
  udp_.close(ec);
  send_timer_.cancel();
  tick_timer_.cancel();
  status_.stop();
  if (plugin_) plugin_->stop();
  if (syncd_) syncd_->stop();
}

void HeartbeatDaemon::send_heartbeats() {
  const Micros t = now();
  const uint64_t wall =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  // Evaluate first: after a stall (SIGSTOP, overload) an expired lease is noticed before anything else.
  handle(membership_.tick(t));
  const Packet p = membership_.make_heartbeat(t, wall);
  for (const auto& [name, ep] : peers_) send_to(p, ep);
  // Fixed rate; after a stall, start again from now instead of sending a burst.
  auto next = send_timer_.expiry() + cfg_.interval;
  if (next < std::chrono::steady_clock::now()) next = std::chrono::steady_clock::now() + cfg_.interval;
  send_timer_.expires_at(next);
  send_timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
    if (!ec && *alive) send_heartbeats();
  });
  arm_tick();
}

void HeartbeatDaemon::send_to(const Packet& p, const udp::endpoint& ep) {
  auto out = std::make_shared<std::string>(encode_packet(p, cfg_.key));
  udp_.async_send_to(asio::buffer(*out), ep, [this, out, alive = alive_](boost::system::error_code ec, size_t) {
    if (!*alive) return;
    ec ? ++tx_errors_ : ++tx_;
  });
}

void HeartbeatDaemon::receive() {
  udp_.async_receive_from(asio::buffer(rx_), from_, [this, alive = alive_](boost::system::error_code ec, size_t n) {
    if (!*alive) return;
    if (!ec) {
      std::string why;
      if (auto p = receiver_.receive(std::string_view(rx_.data(), n), &why)) {
        handle(membership_.on_heartbeat(*p, now()));
        // Answer a regular heartbeat at once unless ours is due soon anyway: the sender's lease
        // then rests on an ack at most half an interval old (docs/heartbeatd.md, timing).
        if (!p->prompt() && send_timer_.expiry() - std::chrono::steady_clock::now() > cfg_.interval / 2) {
          const uint64_t wall =
              std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
                  .count();
          send_to(membership_.make_heartbeat(now(), wall, true), peers_.at(p->sender));
        }
        arm_tick();
      } else {
        // Counted; logging every refusal would let a flood fill the journal (only with debug).
        const auto& c = receiver_.counters();
        const uint64_t refused = c.forged + c.replayed + c.foreign + c.malformed;
        const auto priority = (refused & (refused - 1)) == 0 ? log::Priority::warning : log::Priority::debug;
        if (log::enabled(priority))
          log::write(priority, "refused datagram from " + from_.address().to_string() + ": " + why + " (" +
                                   std::to_string(refused) + " refused so far)");
      }
    }
    receive();
  });
}

void HeartbeatDaemon::arm_tick() {
  const Micros t = now();
  const Micros due = membership_.next_deadline(t);
  tick_timer_.expires_after(std::chrono::microseconds(std::max<Micros>(due - t, 0)));
  tick_timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
    if (ec || !*alive) return;
    handle(membership_.tick(now()));
    arm_tick();
  });
}

std::string HeartbeatDaemon::membership_body() const {
  std::string live;
  for (const auto& m : membership_.live()) live += (live.empty() ? "" : ",") + m.name;
  return "epoch=" + std::to_string(membership_.epoch()) + " live=" + live;
}

void HeartbeatDaemon::view_changed() {
  // Epoch 0 is "no view formed yet": syncd keeps its own placement until there is one.
  if (syncd_ && membership_.epoch() > 0) syncd_->update(membership_body());
}

void HeartbeatDaemon::handle(const std::vector<Event>& events) {
  if (!events.empty() && on_change_)
    on_change_("node " + cfg_.node + " " + state_name(membership_.self_state()) + ", " + membership_body());
  for (const auto& e : events) {
    ++events_[event_name(e.kind)];
    log::write(event_priority(e.kind),
               std::string(event_name(e.kind)) + " " + e.node + " (epoch " + std::to_string(e.epoch) + ")");
    notifier_.run(event_name(e.kind), e.node, e.epoch);
    switch (e.kind) {
      case Event::MemberDown:
      case Event::MemberRejoin:
        view_changed();
        break;
      case Event::Takeover:
        ++takeovers_;
        if (plugin_) send_takeover(e);
        break;
      case Event::Fence:
        ++fences_;
        [[fallthrough]];
      case Event::Unfence:
      case Event::DropFenced: {
        if (!plugin_) break;
        const std::string cmd = event_name(e.kind);
        const Micros at = now();
        plugin_->send(cmd, [this, cmd, at](const std::string& answer) {
          log::write(answer_priority(answer), "'" + cmd + "' answered '" + one_line(answer) + "' after " +
                                                  std::to_string((now() - at) / 1000) + " ms");
        });
        break;
      }
      default:
        break;
    }
  }
}

void HeartbeatDaemon::send_takeover(const Event& e) {
  std::string live;
  for (const auto& m : membership_.live()) live += (live.empty() ? "" : ",") + m.name + "=" + fmt_weight(m.weight);
  const std::string replicas =
      cfg_.replicas == std::numeric_limits<size_t>::max() ? "all" : std::to_string(cfg_.replicas);
  const std::string cmd = "takeover " + e.node + " " + std::to_string(e.epoch) + " " + replicas + " " + live;
  const Micros declared = e.declared_at, sent = now();
  // A member never heard since our start has no last heartbeat to measure from.
  if (e.last_heard != kNever) takeover_detection_.observe(static_cast<double>(sent - e.last_heard) / 1e6);
  plugin_->send(cmd, [this, cmd, declared, sent](const std::string& answer) {
    const Micros t = now();
    if (answer.starts_with("OK\n"))
      takeover_duration_.observe(static_cast<double>(t - sent) / 1e6);
    else
      ++takeovers_failed_;
    log::write(answer_priority(answer), "'" + cmd + "' answered '" + one_line(answer) + "' " +
                                            std::to_string((t - declared) / 1000) + " ms after the declaration");
  });
}

std::string HeartbeatDaemon::status_text() const {
  const Micros t = now();
  std::string out;
  const Micros lease = membership_.lease_until();
  const std::string lease_ms = lease == kForever               ? "inf"
                               : lease == kNever || lease <= t ? "0"
                                                               : std::to_string((lease - t) / 1000);
  out += "node " + cfg_.node + " state " + state_name(membership_.self_state()) + " epoch " +
         std::to_string(membership_.epoch()) + " lease_ms " + lease_ms + " quorum " + std::to_string(cfg_.quorum) +
         " witness " + (cfg_.self_is_witness() ? "yes" : "no") + " boot " + std::to_string(boot_) + " seq " +
         std::to_string(membership_.seq()) + "\n";
  for (const auto& m : membership_.members()) {
    out += "member " + m.name + " state " + state_name(m.state) + " last_heard_ms " +
           (m.last_heard == kNever ? std::string("never") : std::to_string((t - m.last_heard) / 1000)) + " witness " +
           (m.witness ? "yes" : "no") + " weight " + fmt_weight(m.weight) + " boot " + std::to_string(m.boot) +
           " seq " + std::to_string(m.last_seq) + " declared_down " + (m.declared_down ? "yes" : "no") +
           " flags_us_down " + (m.flags_us_down ? "yes" : "no") + " downs " + std::to_string(m.downs) + "\n";
  }
  std::string live;
  for (const auto& m : membership_.live()) live += (live.empty() ? "" : ",") + m.name;
  out += "live " + live + "\n";
  const auto& c = receiver_.counters();
  out += "rx_ok " + std::to_string(c.ok) + "\nrx_forged " + std::to_string(c.forged) + "\nrx_replayed " +
         std::to_string(c.replayed) + "\nrx_foreign " + std::to_string(c.foreign) + "\nrx_malformed " +
         std::to_string(c.malformed) + "\ntx " + std::to_string(tx_) + "\ntx_errors " + std::to_string(tx_errors_) +
         "\ntakeovers " + std::to_string(takeovers_) + "\nfences " + std::to_string(fences_) + "\nplugin_pending " +
         std::to_string(plugin_ ? plugin_->pending() : 0) + "\nsyncd " +
         (syncd_ ? (syncd_->connected() ? "connected" : "disconnected") : "off") + "\n";
  return out;
}

// Prometheus names (docs/heartbeatd.md): counters end in _total, durations are histograms in
// seconds; the writer keeps each family in one block.
std::string HeartbeatDaemon::metrics_text() const {
  metrics::Exposition e;
  e.gauge("elastic_heartbeatd_build_info", "the running version (always 1)", 1, {{"version", project_version()}});
  traffic_metrics(e);
  decision_metrics(e);
  member_metrics(e);
  return e.text();
}

void HeartbeatDaemon::traffic_metrics(metrics::Exposition& e) const {
  const auto& c = receiver_.counters();
  e.counter("elastic_heartbeatd_heartbeats_received_total", "heartbeats accepted", c.ok);
  const char* refused =
      "datagrams refused: bad MAC (forged), replayed or stale, sender not another member "
      "(foreign), malformed";
  for (const auto& [reason, n] : {std::pair{"forged", c.forged}, std::pair{"replayed", c.replayed},
                                  std::pair{"foreign", c.foreign}, std::pair{"malformed", c.malformed}})
    e.counter("elastic_heartbeatd_datagrams_refused_total", refused, n, {{"reason", reason}});
  e.counter("elastic_heartbeatd_heartbeats_sent_total", "heartbeats sent (one per destination)", tx_);
  e.counter("elastic_heartbeatd_heartbeat_send_errors_total", "heartbeats that could not be sent", tx_errors_);
  e.gauge("elastic_heartbeatd_plugin_pending_commands", "commands to the plugin not answered yet",
          plugin_ ? plugin_->pending() : 0);
  if (syncd_)
    e.gauge("elastic_heartbeatd_syncd_connected", "1 if the link to elastic-syncd is up", syncd_->connected());
}

void HeartbeatDaemon::decision_metrics(metrics::Exposition& e) const {
  for (int k = Event::MemberDown; k <= Event::DropFenced; ++k) {
    const char* name = event_name(static_cast<Event::Kind>(k));
    const auto it = events_.find(name);
    e.counter("elastic_heartbeatd_events_total", "membership events (as passed to notify)",
              it == events_.end() ? 0 : it->second, {{"event", name}});
  }
  e.counter("elastic_heartbeatd_takeovers_total", "takeovers triggered", takeovers_);
  e.counter("elastic_heartbeatd_takeovers_failed_total", "takeover commands the plugin answered with an error",
            takeovers_failed_);
  e.histogram("elastic_heartbeatd_takeover_detection_seconds",
              "from the last heartbeat of a member declared down to the takeover command", takeover_detection_);
  e.histogram("elastic_heartbeatd_takeover_duration_seconds",
              "from the takeover command to the plugin's OK (its replicas activated)", takeover_duration_);
  e.counter("elastic_heartbeatd_fences_total", "times this node lost its lease", fences_);
  e.gauge("elastic_heartbeatd_membership_epoch", "epoch of the membership view", membership_.epoch());
  e.gauge("elastic_heartbeatd_fenced", "1 while this node is fenced (no lease)",
          membership_.self_state() == State::Fenced);
  const Micros t = now(), lease = membership_.lease_until();
  const double left = lease == kForever               ? std::numeric_limits<double>::infinity()
                      : lease == kNever || lease <= t ? 0
                                                      : static_cast<double>(lease - t) / 1e6;
  e.gauge("elastic_heartbeatd_lease_remaining_seconds", "time left on this node's lease (+Inf: no other member)", left);
}

void HeartbeatDaemon::member_metrics(metrics::Exposition& e) const {
  constexpr State kStates[] = {State::Joining, State::Ready, State::Suspect, State::Down, State::Fenced};
  for (const auto& m : membership_.members()) {
    e.gauge("elastic_heartbeatd_member_up", "0 if this node declared the member down", !m.declared_down,
            {{"member", m.name}});
    for (State s : kStates)
      e.gauge("elastic_heartbeatd_member_state", "1 for the member's state as seen here, 0 for the others",
              m.state == s, {{"member", m.name}, {"state", state_name(s)}});
  }
}

}  // namespace elastic::hb
