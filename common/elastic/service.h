// What both daemons do for systemd (Type=notify): watchdog keep-alives from the event loop, and
// SIGHUP logged instead of fatal (no reload; with Restart=on-abnormal a SIGHUP death would not
// even be restarted).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <string>

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

/// Catches SIGHUP on `io` for the daemon's lifetime and hands `log` a line each time.
class HangupIgnorer {
 public:
  HangupIgnorer(boost::asio::io_context& io, std::function<void(const std::string&)> log);

 private:
  void wait();
  boost::asio::signal_set hup_;
  std::function<void(const std::string&)> log_;
};

}  // namespace elastic
