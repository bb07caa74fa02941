#include "elastic/service.h"

#include <systemd/sd-daemon.h>

#include <chrono>

namespace elastic {

void WatchdogKeepalive::start() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  half_usec_ = usec / 2;
  tick();
}

void WatchdogKeepalive::tick() {
  sd_notify(0, "WATCHDOG=1");
  timer_.expires_after(std::chrono::microseconds(half_usec_));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick();
  });
}

HangupHandler::HangupHandler(boost::asio::io_context& io, std::function<void()> reload)
    : hup_(io, SIGHUP), reload_(std::move(reload)) {
  wait();
}

void HangupHandler::wait() {
  hup_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    reload_();
    wait();
  });
}

}  // namespace elastic
