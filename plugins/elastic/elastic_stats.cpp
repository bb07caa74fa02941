#include "elastic_stats.h"

#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "elastic/metrics_text.h"

namespace {

namespace metrics = elastic::metrics;

// The requests with a label of their own (anything else counts as "other": a label per
// arbitrary client input would grow without bound).
constexpr const char* kCommands[] = {"list",     "export", "release", "import",      "activate", "steer",
                                     "takeover", "fence",  "unfence", "drop-fenced", "remote",   "metrics"};

std::string known_command(const char* cmd) {
  for (const char* k : kCommands)
    if (cmd && std::strcmp(cmd, k) == 0) return k;
  return "other";
}

struct RequestStats {
  uint64_t ok = 0, failed = 0;
  metrics::Histogram duration{metrics::duration_buckets()};
};

}  // namespace

struct elastic_stats_t {
  std::mutex mu;
  std::map<std::string, RequestStats> requests;
};

// The C side holds the handle: ownership crosses the boundary as a released unique_ptr.
extern "C" elastic_stats_t* elastic_stats_create(void) {
  return std::make_unique<elastic_stats_t>().release();
}

extern "C" void elastic_stats_destroy(elastic_stats_t* stats) {
  std::unique_ptr<elastic_stats_t> owned(stats);
}

extern "C" void elastic_stats_request(elastic_stats_t* stats, const char* cmd, bool failed, double seconds) {
  std::lock_guard lock(stats->mu);
  auto& r = stats->requests[known_command(cmd)];
  ++(failed ? r.failed : r.ok);
  r.duration.observe(seconds);
}

extern "C" char* elastic_stats_text(elastic_stats_t* stats, elastic_store_t* store, const char* strongswan) {
  metrics::Exposition e;
  e.gauge("elastic_plugin_build_info", "always 1: the plugin's version and the strongSwan it runs in", 1,
          {{"version", ELASTIC_VERSION}, {"strongswan", strongswan ? strongswan : ""}});
  elastic_store_stats_t s;
  elastic_store_stats(store, &s);
  const char* roles[] = {"active", "passive", "fenced"};
  for (int i = 0; i < 3; ++i)
    e.gauge("elastic_plugin_vpns", "VPNs held here by role", static_cast<double>(s.roles[i]), {{"role", roles[i]}});
  e.counter("elastic_plugin_counter_reports_total", "kernel counter reports merged into VPNs owned here",
            s.counter_reports);
  e.gauge("elastic_plugin_last_counter_report_timestamp_seconds",
          "Unix time of the last kernel counter report (0: none yet); staleness is time() minus this", s.last_report);
  std::lock_guard lock(stats->mu);
  for (const auto& [cmd, r] : stats->requests) {
    e.counter("elastic_plugin_requests_total", "control requests answered, by command and result", r.ok,
              {{"command", cmd}, {"result", "ok"}});
    e.counter("elastic_plugin_requests_total", "control requests answered, by command and result", r.failed,
              {{"command", cmd}, {"result", "error"}});
    e.histogram("elastic_plugin_request_duration_seconds",
                "time to answer a control request: activate (a transfer's target), release (its source), "
                "takeover (a failed member's VPNs)",
                r.duration, {{"command", cmd}});
  }
  return strdup(e.text().c_str());
}
