// elastic-heartbeatd: failure detection, leases and takeover for an elastic-ipsec cluster
// (see docs/heartbeatd.md).
#include <systemd/sd-daemon.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "elastic/hb_daemon.h"
#include "elastic/log.h"
#include "elastic/service.h"
#include "elastic/version.h"

namespace {

constexpr const char* kUsage = R"(usage: elastic-heartbeatd [--config FILE] [--check]
       elastic-heartbeatd --status SOCKET | --metrics SOCKET | --version

Sends authenticated UDP heartbeats to every member of the cluster, declares silent members down,
holds this node's lease while a quorum acknowledges it, and tells the local charon plugin to take
over a failed member's VPNs (once a quorum agrees) or to fence itself (lease lost).
Configuration: the `elastic { }` section in strongswan.conf syntax (default file
/etc/strongswan.d/elastic.conf; keys in docs/heartbeatd.md).

  --config FILE      configuration file
  --check            validate the configuration (and the key file) and exit
  --status SOCKET    print the status of a running daemon (its elastic.heartbeat.socket)
  --metrics SOCKET   print its Prometheus metrics
  --version          print the version and exit
  -h, --help         this text

Signals: SIGTERM/SIGINT stop it; SIGHUP (systemctl reload) reads the configuration again and
applies its log level (other settings need a restart); an invalid file changes nothing. With systemd (Type=notify) it reports READY, STATUS and, with
WatchdogSec=, WATCHDOG keep-alives from its event loop.
)";

}  // namespace

int main(int argc, char** argv) {
  namespace log = elastic::log;
  log::setup("elastic-heartbeatd");  // priority info until the configuration is read
  std::string path = "/etc/strongswan.d/elastic.conf";
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "-h") || !std::strcmp(argv[i], "--help")) return std::fputs(kUsage, stdout), 0;
    if (!std::strcmp(argv[i], "--version"))
      return std::printf("elastic-heartbeatd (elastic-ipsec) %s\n", elastic::project_version()), 0;
    if (!std::strcmp(argv[i], "--config") && i + 1 < argc) {
      path = argv[++i];
    } else if (!std::strcmp(argv[i], "--check")) {
      check = true;
    } else if ((!std::strcmp(argv[i], "--status") || !std::strcmp(argv[i], "--metrics")) && i + 1 < argc) {
      auto out = elastic::hb::query_status(argv[i + 1], argv[i] + 2);
      if (!out) return log::fatal(out.error().message), 1;
      std::fputs(out->c_str(), stdout);
      return out->rfind("ERR", 0) == 0 ? 1 : 0;
    } else {
      return log::fatal(std::string("unknown argument '") + argv[i] + "' (see --help)"), 2;
    }
  }
  auto settings = elastic::sync::Settings::load(path);
  if (!settings) return log::fatal(settings.error().message), 1;
  for (const auto& w : settings->warnings()) log::warning(w);
  auto cfg = elastic::hb::load_heartbeat_config(*settings);
  if (!cfg) return log::fatal(cfg.error().message), 1;
  log::set_max(cfg->loglevel);
  if (check)
    return std::printf("%s: ok (node %s%s, %zu members, quorum %zu, interval %lld ms, down after %lld ms)\n",
                       path.c_str(), cfg->node.c_str(), cfg->self_is_witness() ? " (witness)" : "", cfg->members.size(),
                       cfg->quorum, static_cast<long long>(cfg->interval.count()),
                       static_cast<long long>(cfg->interval.count() * cfg->misses)),
           0;

  std::signal(SIGPIPE, SIG_IGN);
  boost::asio::io_context io(1);
  elastic::hb::HeartbeatDaemon daemon(io, std::move(cfg.value()));
  // Signals are caught before the sockets exist: a SIGHUP right after start must not kill it.
  elastic::HangupHandler hup(io, [&path] { elastic::reload_log_level(path, elastic::hb::load_heartbeat_config); });
  if (auto ok = daemon.start(); !ok) return log::fatal(ok.error().message), 1;
  daemon.on_change([](const std::string& summary) { sd_notifyf(0, "STATUS=%s", summary.c_str()); });
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) {
    sd_notify(0, "STOPPING=1");
    daemon.stop();
    io.stop();
  });
  elastic::WatchdogKeepalive watchdog(io);
  watchdog.start();
  sd_notifyf(0, "READY=1\nSTATUS=heartbeats for node %s", daemon.config().node.c_str());
  io.run();
  return 0;
}
