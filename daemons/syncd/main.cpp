// elastic-syncd: replicates VPN contexts between the gateways of a cluster (see docs/syncd.md).
#include <systemd/sd-daemon.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "elastic/log.h"
#include "elastic/service.h"
#include "elastic/sync_daemon.h"
#include "elastic/version.h"

namespace {

constexpr const char* kUsage = R"(usage: elastic-syncd [--config FILE] [--check] | --version

Replicates the VPN contexts of this gateway's charon (elastic plugin) to their alternate gateways
over TLS 1.3 with mutual certificate authentication, and hands the replicas it receives to the
local plugin. Configuration: the `elastic { }` section in strongswan.conf syntax
(default file /etc/strongswan.d/elastic.conf; keys in docs/syncd.md).

  --config FILE   configuration file
  --check         validate the configuration (and the TLS files, the socket path) and exit
  --version       print the version and exit
  -h, --help      this text

Signals: SIGTERM/SIGINT stop it; SIGHUP (systemctl reload) reads the configuration again and
applies its log level (other settings need a restart); an invalid file changes nothing. With systemd (Type=notify) it reports READY, STATUS and, with WatchdogSec=,
WATCHDOG keep-alives from its event loop.
)";

}  // namespace

int main(int argc, char** argv) {
  namespace log = elastic::log;
  log::setup("elastic-syncd");  // priority info until the configuration is read
  std::string path = "/etc/strongswan.d/elastic.conf";
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "-h") || !std::strcmp(argv[i], "--help")) return std::fputs(kUsage, stdout), 0;
    if (!std::strcmp(argv[i], "--version"))
      return std::printf("elastic-syncd (elastic-ipsec) %s\n", elastic::project_version()), 0;
    if (!std::strcmp(argv[i], "--config") && i + 1 < argc) {
      path = argv[++i];
    } else if (!std::strcmp(argv[i], "--check")) {
      check = true;
    } else {
      return log::fatal(std::string("unknown argument '") + argv[i] + "' (see --help)"), 2;
    }
  }
  auto settings = elastic::sync::Settings::load(path);
  if (!settings) return log::fatal(settings.error().message), 1;
  for (const auto& w : settings->warnings()) log::warning(w);
  auto cfg = elastic::sync::load_syncd_config(*settings);
  if (!cfg) return log::fatal(cfg.error().message), 1;
  log::set_max(cfg->loglevel);
  if (auto files = elastic::sync::check_syncd_files(*settings, *cfg); !files)
    return log::fatal(files.error().message), 1;
  if (check) return std::printf("%s: ok (node %s, %zu peers)\n", path.c_str(), cfg->node.c_str(), cfg->peers.size()), 0;

  std::signal(SIGPIPE, SIG_IGN);  // a peer that hangs up is an error value, not a signal
  boost::asio::io_context io;
  elastic::sync::SyncDaemon daemon(io, std::move(cfg.value()));
  // Signals are caught before the sockets exist: a SIGHUP right after start must not kill it.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  elastic::HangupHandler hup(io, [&path] { elastic::reload_log_level(path, elastic::sync::load_syncd_config); });
  if (auto ok = daemon.start(); !ok) return log::fatal(ok.error().message), 1;
  signals.async_wait([&](auto, int) {
    sd_notify(0, "STOPPING=1");
    daemon.stop();
    io.stop();
  });
  elastic::WatchdogKeepalive watchdog(io);
  watchdog.start();
  sd_notifyf(0, "READY=1\nSTATUS=replicating for node %s", daemon.config().node.c_str());
  io.run();
  return 0;
}
