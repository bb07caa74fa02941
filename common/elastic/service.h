// What both daemons do for systemd (Type=notify): watchdog keep-alives from the event loop, and
// SIGHUP (`systemctl reload`) reading the log level again instead of ending the process (with
// Restart=on-abnormal a SIGHUP death would not even be restarted).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <string>

#include "elastic/log.h"
#include "elastic/settings.h"

namespace elastic {

/// Sends WATCHDOG=1 every half of WatchdogSec= from the event loop itself, so that a stuck loop
/// stops the keep-alives and systemd kills and restarts the daemon. No-op without WatchdogSec=.
class WatchdogKeepalive {
 public:
  explicit WatchdogKeepalive(boost::asio::io_context& io) : timer_(io) {}
  void start();

 private:
  void tick();
  boost::asio::steady_timer timer_;
  unsigned long long half_usec_ = 0;
};

/// Catches SIGHUP on `io` for the daemon's lifetime and runs `reload` each time.
class HangupHandler {
 public:
  HangupHandler(boost::asio::io_context& io, std::function<void()> reload);

 private:
  void wait();
  boost::asio::signal_set hup_;
  std::function<void()> reload_;
};

/// The reload of both daemons: the configuration file is read and checked again as at start
/// (`load` turns Settings into the daemon's config); if it is valid, its log level applies at
/// once, and the rest waits for a restart (peers, sockets and keys are set up once). An invalid
/// file changes nothing and is logged.
template <class Load>
void reload_log_level(const std::string& path, Load load) {
  auto settings = sync::Settings::load(path);
  if (!settings) return log::warning("SIGHUP: configuration not reloaded: " + settings.error().message);
  auto cfg = load(*settings);
  if (!cfg) return log::warning("SIGHUP: configuration not reloaded: " + cfg.error().message);
  log::set_max(cfg->loglevel);
  log::notice(std::string("SIGHUP: log level ") + log::priority_name(cfg->loglevel) +
              "; other settings take effect at the next restart");
}

}  // namespace elastic
