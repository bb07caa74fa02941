// elastic-xfrm: operator CLI for the replay/sequence state of kernel ESP/AH SAs.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "elastic/xfrm_replay.h"
#include "elastic/xfrm_watch.h"

using namespace elastic;
using namespace elastic::xfrm;

namespace {

constexpr const char* kUsage = R"(usage: elastic-xfrm COMMAND [ARGS] [OPTIONS]

Reads, moves and watches the replay/sequence state of live kernel IPsec SAs (XFRM netlink).
An SA is named by its destination address and SPI (hex 0x... or decimal), plus --proto and
--mark where needed. Needs CAP_NET_ADMIN. Never prints key material.

commands:
  read DST SPI                 print the SA's replay state, lifetime counters and thresholds
  set DST SPI [FIELDS]         set fields of the replay state of a live SA; the others stay:
                                 --oseq N --oseq-hi N --seq N --seq-hi N --bitmap W[,W...]
                               refuses to move oseq or seq backwards, to change the bitmap size,
                               and to wrap the 32-bit counter of an SA without ESN
  advance DST SPI --delta N    move the outbound sequence number forward by N (same rules)
  watch [DST SPI]...           report AEVENTs (replay/timer/update), deletions and expiries of the
                               given SAs (or of all SAs with --all), one line each:
                                 --replay-thresh N     report every N sequence numbers
                                 --time-thresh-ms MS   report every MS milliseconds with changes
                                 --count N             stop after N events
                                 --timeout-ms MS       stop after MS milliseconds without events
  bulk-read [FILE]             read many SAs (lines "DST SPI [esp|ah] [MARK[/MASK]]", FILE or -)
  bulk-advance --delta N [FILE]  advance many SAs; prints one line per SA, errors per SA

options:
  --proto esp|ah               protocol (default esp)
  --mark VALUE[/MASK]          XFRM mark of the SA
  -h, --help                   this text

exit status: 0 success, 1 error, 2 usage error, 3 some SAs of a bulk command failed
)";

struct Args {
  std::string cmd;
  std::vector<std::string> pos;
  std::map<std::string, std::string> opt;
  bool all = false;
};

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "elastic-xfrm: %s (see --help)\n", msg.c_str());
  return 2;
}

std::optional<Args> parse_args(int argc, char** argv, std::string& err) {
  static const char* with_value[] = {"--proto",         "--mark",           "--oseq",   "--oseq-hi",
                                     "--seq",           "--seq-hi",         "--bitmap", "--delta",
                                     "--replay-thresh", "--time-thresh-ms", "--count",  "--timeout-ms"};
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--all") {
      a.all = true;
    } else if (s.starts_with("--")) {
      bool known = false;
      for (auto* w : with_value) known |= s == w;
      if (!known) return err = "unknown option " + s, std::nullopt;
      if (i + 1 >= argc) return err = "option " + s + " needs a value", std::nullopt;
      a.opt[s] = argv[++i];
    } else if (a.cmd.empty()) {
      a.cmd = s;
    } else {
      a.pos.push_back(s);
    }
  }
  return a;
}

std::optional<uint64_t> number(const Args& a, const std::string& key, std::string& err) {
  auto it = a.opt.find(key);
  if (it == a.opt.end()) return std::nullopt;
  const std::string& v = it->second;
  char* end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(v.c_str(), &end, 0);
  if (v.empty() || *end || errno || v[0] == '-') {
    err = key + " '" + v + "' is not a non-negative number";
    return std::nullopt;
  }
  return n;
}

void print_info(const AeInfo& info) {
  std::printf("sa=\"%s\" esn=%s %s bytes=%llu packets=%llu replay_thresh=%u timer_thresh=%u\n",
              info.id.to_string().c_str(), info.esn ? "yes" : "no", format_replay(info.replay).c_str(),
              static_cast<unsigned long long>(info.lifetime.bytes),
              static_cast<unsigned long long>(info.lifetime.packets), info.replay_thresh, info.timer_thresh);
}

int fail(const Error& e) {
  std::fprintf(stderr, "elastic-xfrm: %s\n", e.message.c_str());
  return 1;
}

Result<SaId> sa_from(const Args& a, size_t at) {
  if (a.pos.size() < at + 2) return make_error("missing DST SPI");
  auto proto = a.opt.count("--proto") ? a.opt.at("--proto") : "esp";
  auto mark = a.opt.count("--mark") ? a.opt.at("--mark") : "";
  return make_sa_id(a.pos[at], a.pos[at + 1], proto, mark);
}

Result<std::vector<SaId>> read_sa_list(const Args& a) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (!a.pos.empty() && a.pos[0] != "-") {
    file.open(a.pos[0]);
    if (!file) return make_error("cannot open " + a.pos[0]);
    in = &file;
  }
  std::vector<SaId> ids;
  std::string line;
  for (int n = 1; std::getline(*in, line); ++n) {
    std::istringstream ls(line);
    std::string dst, spi, proto = "esp", mark;
    if (!(ls >> dst) || dst[0] == '#') continue;
    ls >> spi >> proto >> mark;
    auto id = make_sa_id(dst, spi, proto, mark);
    if (!id) return make_error("line " + std::to_string(n) + ": " + id.error().message);
    ids.push_back(*id);
  }
  return ids;
}

int print_bulk(const std::vector<SaId>& ids, const std::vector<Result<AeInfo>>& results) {
  int failed = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (results[i]) {
      print_info(*results[i]);
    } else {
      std::printf("sa=\"%s\" error=\"%s\"\n", ids[i].to_string().c_str(), results[i].error().message.c_str());
      ++failed;
    }
  }
  if (failed) std::fprintf(stderr, "elastic-xfrm: %d of %zu SAs failed\n", failed, ids.size());
  return failed ? 3 : 0;
}

Result<ReplayState> apply_fields(const Args& a, ReplayState r, std::string& err) {
  if (auto v = number(a, "--oseq", err)) r.oseq = static_cast<uint32_t>(*v);
  if (auto v = number(a, "--oseq-hi", err)) r.oseq_hi = static_cast<uint32_t>(*v);
  if (auto v = number(a, "--seq", err)) r.seq = static_cast<uint32_t>(*v);
  if (auto v = number(a, "--seq-hi", err)) r.seq_hi = static_cast<uint32_t>(*v);
  if (!err.empty()) return make_error(err);
  for (const char* k : {"--oseq", "--oseq-hi", "--seq", "--seq-hi"})
    if (a.opt.count(k) && std::strtoull(a.opt.at(k).c_str(), nullptr, 0) > 0xffffffffULL)
      return make_error(std::string(k) + " does not fit in 32 bits");
  if (a.opt.count("--bitmap")) {
    r.bitmap.clear();
    std::stringstream ss(a.opt.at("--bitmap"));
    for (std::string w; std::getline(ss, w, ',');)
      r.bitmap.push_back(static_cast<uint32_t>(std::strtoul(w.c_str(), nullptr, 16)));
  }
  return r;
}

int cmd_watch(const Args& a) {
  std::string err;
  auto packets = number(a, "--replay-thresh", err).value_or(0);
  auto ms = number(a, "--time-thresh-ms", err);
  auto count = number(a, "--count", err).value_or(0);
  auto timeout = number(a, "--timeout-ms", err).value_or(0);
  if (!err.empty()) return usage_error(err);
  if (a.pos.empty() && !a.all) return usage_error("watch needs SAs (DST SPI ...) or --all");
  if (a.pos.size() % 2) return usage_error("watch takes pairs of DST SPI");
  auto w = XfrmWatch::open();
  if (!w) return fail(w.error());
  w->set_watch_all(a.all);
  for (size_t i = 0; i < a.pos.size(); i += 2) {
    auto id = sa_from(a, i);
    if (!id) return fail(id.error());
    if (auto ok = w->watch(*id, static_cast<uint32_t>(packets), ms ? ms_to_ticks(static_cast<uint32_t>(*ms)) : 0); !ok)
      return fail(ok.error());
  }
  std::printf("watching %zu SAs\n", w->watched());
  std::fflush(stdout);
  uint64_t seen = 0;
  for (;;) {
    auto n = w->wait(timeout ? static_cast<int>(timeout) : -1, [&](const AeEvent& ev) {
      std::printf("event=%s ", to_string(ev.cause));
      if (ev.cause == AeCause::Deleted || ev.cause == AeCause::Expired)
        std::printf("sa=\"%s\"\n", ev.info.id.to_string().c_str());
      else
        print_info(ev.info);
      ++seen;
    });
    std::fflush(stdout);
    if (!n) return fail(n.error());
    if (*n == 0 && timeout) return 0;
    if (count && seen >= count) return 0;
  }
}

int run(const Args& a) {
  if (a.cmd == "watch") return cmd_watch(a);
  auto rep = XfrmReplay::open();
  if (!rep) return fail(rep.error());
  std::string err;
  if (a.cmd == "read" || a.cmd == "set" || a.cmd == "advance") {
    auto id = sa_from(a, 0);
    if (!id) return a.pos.size() < 2 ? usage_error(id.error().message) : fail(id.error());
    if (a.cmd == "read") {
      auto r = rep->read_thresholds(*id);
      if (!r) return fail(r.error());
      print_info(*r);
      return 0;
    }
    if (a.cmd == "advance") {
      auto delta = number(a, "--delta", err);
      if (!delta) return usage_error(err.empty() ? "advance needs --delta N" : err);
      auto r = rep->advance(*id, *delta);
      if (!r) return fail(r.error());
      print_info(*r);
      return 0;
    }
    auto cur = rep->read(*id);
    if (!cur) return fail(cur.error());
    auto want = apply_fields(a, cur->replay, err);
    if (!want) return usage_error(want.error().message);
    auto r = rep->set(*id, *want);
    if (!r) return fail(r.error());
    print_info(*r);
    return 0;
  }
  if (a.cmd == "bulk-read" || a.cmd == "bulk-advance") {
    auto ids = read_sa_list(a);
    if (!ids) return fail(ids.error());
    if (a.cmd == "bulk-read") return print_bulk(*ids, rep->read_many(*ids));
    auto delta = number(a, "--delta", err);
    if (!delta) return usage_error(err.empty() ? "bulk-advance needs --delta N" : err);
    return print_bulk(*ids, rep->advance_many(*ids, *delta));
  }
  return usage_error(a.cmd.empty() ? "no command given" : "unknown command '" + a.cmd + "'");
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (!std::strcmp(argv[i], "-h") || !std::strcmp(argv[i], "--help")) return std::fputs(kUsage, stdout), 0;
  if (argc == 2 && !std::strcmp(argv[1], "--version")) return std::printf("elastic-xfrm %s\n", ELASTIC_VERSION), 0;
  std::string err;
  auto a = parse_args(argc, argv, err);
  if (!a) return usage_error(err);
  return run(*a);
}
