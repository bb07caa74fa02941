// elastic-heartbeatd: heartbeats over UDP, the membership/lease state machine, and the actions
// its decisions trigger (plugin commands, syncd membership, notify), all on one io_context.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "elastic/control_client.h"
#include "elastic/hb_config.h"
#include "elastic/membership.h"
#include "elastic/metrics_text.h"
#include "elastic/notifier.h"
#include "elastic/receiver.h"
#include "elastic/status_server.h"
#include "elastic/syncd_link.h"

namespace elastic::hb {

class HeartbeatDaemon {
 public:
  HeartbeatDaemon(boost::asio::io_context& io, HeartbeatConfig cfg);
  HeartbeatDaemon(const HeartbeatDaemon&) = delete;
  HeartbeatDaemon& operator=(const HeartbeatDaemon&) = delete;
  ~HeartbeatDaemon();

  Result<void> start();
  void stop();
  const HeartbeatConfig& config() const { return cfg_; }
  std::string status_text() const;
  // Called with a one-line summary after every change (main: systemd's STATUS=).
  void on_change(std::function<void(const std::string&)> fn) { on_change_ = std::move(fn); }
  std::string metrics_text() const;

 private:
  Micros now() const;
  void send_heartbeats();
  void send_to(const Packet& p, const boost::asio::ip::udp::endpoint& ep);
  void receive();
  void arm_tick();
  void handle(const std::vector<Event>& events);
  void send_takeover(const Event& e);
  void traffic_metrics(metrics::Exposition& e) const;
  void decision_metrics(metrics::Exposition& e) const;
  void member_metrics(metrics::Exposition& e) const;
  void view_changed();
  std::string membership_body() const;

  boost::asio::io_context& io_;
  HeartbeatConfig cfg_;
  uint64_t boot_;
  Membership membership_;
  Receiver receiver_;
  boost::asio::ip::udp::socket udp_;
  std::map<std::string, boost::asio::ip::udp::endpoint> peers_;
  boost::asio::steady_timer send_timer_;
  boost::asio::steady_timer tick_timer_;
  std::array<char, 65536> rx_{};
  boost::asio::ip::udp::endpoint from_;
  std::unique_ptr<ControlClient> plugin_;  // none on a witness
  std::unique_ptr<SyncdLink> syncd_;
  Notifier notifier_;
  StatusServer status_;
  uint64_t tx_ = 0, tx_errors_ = 0, takeovers_ = 0, takeovers_failed_ = 0, fences_ = 0;
  metrics::Histogram takeover_detection_{metrics::duration_buckets()};
  metrics::Histogram takeover_duration_{metrics::duration_buckets()};
  std::map<std::string, uint64_t> events_;
  std::function<void(const std::string&)> on_change_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace elastic::hb
