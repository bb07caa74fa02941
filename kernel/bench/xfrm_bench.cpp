// Benchmark of the XFRM helper inside the test VM: SAs read and advanced per second for 1,000 and
// 10,000 kernel SAs, and AEVENTs handled per second. Prints JSON (figures, not pass/fail).
//
//   xfrm-bench OUT.json      (needs CAP_NET_ADMIN and kernel ESP; run in a scratch namespace:
//                             it refuses to start where XFRM states already exist, since it
//                             flushes the states when done)
#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "elastic/xfrm_replay.h"
#include "elastic/xfrm_watch.h"

using namespace elastic::xfrm;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Installs n ESN SAs with `ip -batch` (not timed) and returns their ids.
std::vector<SaId> install(size_t n, uint32_t spi_base) {
  const char* path = "/tmp/xfrm-bench.batch";
  {
    std::ofstream f(path);
    for (size_t i = 0; i < n; ++i)
      f << "xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi " << spi_base + i
        << " mode tunnel flag esn replay-window 128 aead rfc4106(gcm(aes)) 0x"
        << std::string(40, "0123456789abcdef"[i % 16]) << " 128\n";
  }
  if (std::system("ip xfrm state flush") != 0 || std::system((std::string("ip -batch ") + path).c_str()) != 0) {
    std::fprintf(stderr, "xfrm-bench: installing SAs failed\n");
    std::exit(1);
  }
  std::vector<SaId> ids;
  for (size_t i = 0; i < n; ++i) ids.push_back(*make_sa_id("192.0.2.2", std::to_string(spi_base + i)));
  return ids;
}

template <typename F>
double best_of(int runs, F&& f) {
  double best = 1e9;
  for (int i = 0; i < runs; ++i) {
    auto t0 = Clock::now();
    f();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

void check_all_ok(const std::vector<elastic::Result<AeInfo>>& r, const char* what) {
  for (const auto& x : r)
    if (!x) {
      std::fprintf(stderr, "xfrm-bench: %s failed: %s\n", what, x.error().message.c_str());
      std::exit(1);
    }
}

}  // namespace

constexpr const char* kUsage =
    "usage: xfrm-bench OUT.json\n"
    "  installs 1,000 and 10,000 scratch SAs, times reads, advances and AEVENTs, writes JSON to\n"
    "  OUT.json; refuses to run in a network namespace that already has XFRM states (it flushes\n"
    "  them when done). Run it in a scratch namespace: ip netns exec scratch xfrm-bench out.json\n";

// XFRM states already in this namespace (someone's real SAs: never ours to flush).
int existing_states() {
  FILE* p = popen("ip xfrm state list 2>/dev/null | grep -c '^src'", "r");
  if (!p) return -1;
  int n = -1;
  if (std::fscanf(p, "%d", &n) != 1) n = -1;
  pclose(p);
  return n;
}

int main(int argc, char** argv) {
  if (argc == 2 && (!std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")))
    return std::fputs(kUsage, stdout), 0;
  if (argc == 2 && !std::strcmp(argv[1], "--version")) return std::printf("xfrm-bench %s\n", ELASTIC_VERSION), 0;
  if (argc != 2 || argv[1][0] == '-') return std::fputs(kUsage, stderr), 2;
  if (int n = existing_states(); n != 0)
    return std::fprintf(stderr, "xfrm-bench: %s; run it in a scratch network namespace\n",
                        n < 0 ? "cannot list the XFRM states here" : "XFRM states exist here and would be flushed"),
           1;
  auto rep = XfrmReplay::open();
  if (!rep) return std::fprintf(stderr, "xfrm-bench: %s\n", rep.error().message.c_str()), 1;

  std::string json = "{\n";
  double read_per_s = 0, advance_per_s = 0, advance_10k_s = 0;
  for (size_t n : {size_t{1000}, size_t{10000}}) {
    auto ids = install(n, 0x100000);
    double t_read = best_of(3, [&] { check_all_ok(rep->read_many(ids), "read"); });
    double t_adv = best_of(3, [&] { check_all_ok(rep->advance_many(ids, 1000), "advance"); });
    json += "  \"read_" + std::to_string(n) + "_s\": " + std::to_string(t_read) + ",\n";
    json += "  \"advance_" + std::to_string(n) + "_s\": " + std::to_string(t_adv) + ",\n";
    read_per_s = n / t_read;
    advance_per_s = n / t_adv;
    if (n == 10000) advance_10k_s = t_adv;
  }

  // AEVENTs: every NEWAE on an SA is announced to XFRMNLGRP_AEVENTS (cause "update"); advancing
  // 10,000 SAs therefore produces 10,000 events for the watcher to parse and deliver.
  auto ids = install(10000, 0x200000);
  auto watch = XfrmWatch::open(64 << 20);
  if (!watch) return std::fprintf(stderr, "xfrm-bench: %s\n", watch.error().message.c_str()), 1;
  watch->set_watch_all(true);
  check_all_ok(rep->advance_many(ids, 1), "advance");
  size_t events = 0;
  auto t0 = Clock::now();
  while (events < ids.size()) {
    auto n = watch->wait(2000, [&](const AeEvent&) { ++events; });
    if (!n || *n == 0) break;
  }
  double t_ev = seconds_since(t0);

  char tail[512];
  std::snprintf(tail, sizeof tail,
                "  \"read_per_s\": %.0f,\n  \"advance_per_s\": %.0f,\n  \"advance_10k_s\": %.4f,\n"
                "  \"aevents\": %zu,\n  \"aevent_overruns\": %llu,\n  \"aevents_per_s\": %.0f\n}\n",
                read_per_s, advance_per_s, advance_10k_s, events, static_cast<unsigned long long>(watch->overruns()),
                events / t_ev);
  json += tail;
  std::system("ip xfrm state flush");
  std::ofstream(argv[1]) << json;
  std::fputs(json.c_str(), stdout);
  return 0;
}
