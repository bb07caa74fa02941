#include "elasticctl_move.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include "elastic/parse_number.h"
#include "elastic/placement.h"
#include "elastic/secure.h"
#include "elastic/unix_io.h"
#include "elasticctl_value.h"

namespace elastic::ctl {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// A VPN as the plugin's `list` shows it.
struct Held {
  std::string name, vpn, role;
  uint32_t ike_id = 0;
};

// "NAME: ike-id N, vpn ID, epoch E, version V, ROLE, ..." lines (CHILD_SA lines are indented).
std::vector<Held> parse_list(const std::string& text) {
  std::vector<Held> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto colon = line.find(": ike-id ");
    if (line.empty() || line[0] == ' ' || colon == std::string::npos) continue;
    Held h;
    h.name = line.substr(0, colon);
    std::istringstream f(line.substr(colon + 2));
    std::vector<std::string> fields;
    for (std::string x; std::getline(f, x, ',');) {
      const auto b = x.find_first_not_of(' ');
      fields.push_back(b == std::string::npos ? "" : x.substr(b));
    }
    if (fields.size() < 5 || fields[0].rfind("ike-id ", 0) != 0 || fields[1].rfind("vpn ", 0) != 0) continue;
    auto id = parse_u64(fields[0].substr(7), "ike-id", 1, UINT32_MAX);
    if (!id) continue;
    h.ike_id = static_cast<uint32_t>(*id);
    h.vpn = fields[1].substr(4);
    h.role = fields[4];
    out.push_back(h);
  }
  return out;
}

// How one transfer went.
struct Transfer {
  std::string target, ike_id, error, saved, note;
  double passive_ms = 0, steer_ms = 0, release_ms = 0, activate_ms = 0;
  int rc = 0;

  double total_ms() const { return passive_ms + steer_ms + release_ms + activate_ms; }
  Transfer& failed(const std::string& why, int code = 1) {
    error = why;
    rc = code;
    return *this;
  }
  std::string json() const {
    auto str = [](const std::string& v) { return "\"" + json_escape(v) + "\""; };
    auto num = [](double v) {
      char b[32];
      std::snprintf(b, sizeof b, "%.1f", v);
      return std::string(b);
    };
    return std::string("{\"ok\": ") + (rc == 0 ? "true" : "false") + ", \"target\": " + str(target) + ", \"ike_id\": " +
           (ike_id.empty()                                                ? "null"
            : ike_id.find_first_not_of("0123456789") == std::string::npos ? ike_id
                                                                          : str(ike_id)) +
           ", \"passive_ms\": " + num(passive_ms) + ", \"steer_ms\": " + num(steer_ms) +
           ", \"release_ms\": " + num(release_ms) + ", \"activate_ms\": " + num(activate_ms) +
           ", \"error\": " + str(error) + ", \"final_saved_to\": " + str(saved) + ", \"note\": " + str(note) + "}";
  }
};

// The VPN is active nowhere for sure: its final context goes to a file (0600) for `elasticctl
// import --mode active`.
Transfer& save_final(const std::string& why, std::string& final_ctx, Transfer& t) {
  char path[] = "/run/elasticctl-final.XXXXXX";
  const int fd = mkstemp(path);
  const bool kept = fd >= 0 && write_all(fd, final_ctx.data(), final_ctx.size());
  if (fd >= 0) close(fd);
  secure_wipe(final_ctx);
  if (kept) t.saved = path;
  return t.failed(why + ": " +
                      (kept ? "its final context is in " + std::string(path) + ", import it with --mode active"
                            : "its final context could not be saved"),
                  kept ? kExitSaved : 1);
}

// The target failed after the source let go: the source takes the VPN back from its final
// context (active, with the configured margin: the target may have sent before it failed), so
// that a failed transfer never loses a VPN. If even that fails, the final context is kept in a
// file (0600) for `elasticctl import --mode active`.
Transfer& take_back(const Control& src, const std::string& why, std::string& final_ctx, Transfer& t) {
  auto back = src.call("import active", final_ctx);
  if (back.ok) {
    secure_wipe(final_ctx);
    while (!back.payload.empty() && back.payload.back() == '\n') back.payload.pop_back();
    return t.failed(why + "; the VPN was taken back " + src.where() + " (" + back.payload + ")");
  }
  return save_final(why + "; taking it back failed too (" + back.payload + ")", final_ctx, t);
}

// The N of an import's answer "ike-id N\n".
std::string ike_id_of(const std::string& answer) {
  std::string id = answer.substr(answer.find(' ') + 1);
  while (!id.empty() && id.back() == '\n') id.pop_back();
  return id;
}

// Whether the target holds VPN ike_id active: 1 yes, 0 no, -1 unknown (no answer).
int active_on(const Control& dst, const std::string& ike_id) {
  auto l = dst.call("list");
  if (!l.ok) return -1;
  for (const auto& h : parse_list(l.payload))
    if (std::to_string(h.ike_id) == ike_id) return h.role == "active";
  return 0;
}

// A request that provably never ran on the target: syncd could not deliver it.
bool undelivered(const std::string& err) {
  for (const char* s : {"no charon with the elastic plugin is attached", "no link to member",
                        "is not a member of this cluster", "not connected to elastic-syncd"})
    if (err.find(s) != std::string::npos) return true;
  return false;
}

// The target's activation failed after the source let go. Never delivered (the target's charon
// is gone, no link): the source takes the VPN back. Otherwise the target is asked first, since an
// activation may have happened without its answer arriving and two gateways must never send on
// one SA: active there, done; not active, the VPN is rebuilt there from the final context (e.g.
// it was rekeyed after its passive copy was made), else taken back; no answer: the final context
// is saved and nobody sends.
Transfer& recover(const Control& src, const Control& dst, const std::string& why, std::string& final_ctx, Transfer& t) {
  if (undelivered(why)) return take_back(src, why, final_ctx, t);
  const int active = active_on(dst, t.ike_id);
  if (active == 1) {
    secure_wipe(final_ctx);
    t.note = "activated on the target though its answer was lost (" + why + ")";
    return t;
  }
  if (active == 0) {
    auto again = dst.call("import active", final_ctx);
    if (again.ok) {
      secure_wipe(final_ctx);
      t.ike_id = ike_id_of(again.payload);
      t.note = "rebuilt on the target from the final context (" + why + ")";
      return t;
    }
    return take_back(src, why + "; importing the final context there failed too: " + again.payload, final_ctx, t);
  }
  return save_final(why +
                        "; the target does not answer, its state is unknown: not taken back (two senders "
                        "on one SA must never be)",
                    final_ctx, t);
}

// One live transfer, make-before-break: passive copy on the target (or its replica brought
// current), traffic steered there (`steer_cmd`, else the target's hook), release here (outbound
// stopped, final counters), activation there. Each step that fails is undone; never a lost VPN.
Transfer transfer_one(const Control& src, const Control& dst, const std::string& sel, const std::string& margin,
                      const std::string& steer_cmd) {
  Transfer t;
  t.target = dst.node.empty() ? dst.sock : dst.node;
  const auto t0 = Clock::now();
  auto ctx = src.call("export " + sel);
  if (!ctx.ok) return t.failed("export: " + ctx.payload);
  auto imp = dst.call("import passive", ctx.payload);
  secure_wipe(ctx.payload);
  if (!imp.ok) return t.failed("import on the target: " + imp.payload);
  t.passive_ms = ms_since(t0);
  t.ike_id = ike_id_of(imp.payload);
  const std::string held = " (the target holds a passive copy, ike-id " + t.ike_id + ")";
  // The EU's traffic must reach the target before the source lets go of the SAs; if steering
  // fails, the traffic is steered back.
  const bool steered = !steer_cmd.empty() ? std::system(steer_cmd.c_str()) == 0 : dst.call("steer id:" + t.ike_id).ok;
  if (!steered) {
    if (steer_cmd.empty()) (void)src.call("steer " + sel);
    return t.failed("steering to the target failed; the VPN stays " + src.where() + held);
  }
  t.steer_ms = ms_since(t0) - t.passive_ms;
  auto fin = src.call("release " + sel);
  t.release_ms = ms_since(t0) - t.passive_ms - t.steer_ms;
  if (!fin.ok) return t.failed("release: " + fin.payload + held);
  // "steered": the traffic was moved above; the target's hook need not run again
  auto act = dst.call("activate id:" + t.ike_id + (margin.empty() ? " -" : margin) + " steered", fin.payload);
  if (!act.ok)
    recover(src, dst, "activate on the target: " + act.payload, fin.payload, t);
  else
    secure_wipe(fin.payload);
  t.activate_ms = ms_since(t0) - t.passive_ms - t.steer_ms - t.release_ms;
  return t;
}

// --to NODE goes through syncd; --to PATH (with a '/') is a control socket on this machine.
Control target_of(const std::string& sock, std::string to) {
  if (to.rfind("unix://", 0) == 0) to = to.substr(7);
  if (to.find('/') != std::string::npos) return {to, ""};
  return {sock, to};
}

// The cluster as the local elastic-syncd sees it: its own name and the live members with their
// weights (the inputs of placement).
struct ClusterView {
  std::string self;
  std::vector<sync::Member> live;
  bool is_live(const std::string& n) const {
    for (const auto& m : live)
      if (m.name == n) return true;
    return false;
  }
  Control at(const std::string& sock, const std::string& node) const { return {sock, node == self ? "" : node}; }
};

bool cluster_view(const Args& a, ClusterView& v, std::string& err) {
  std::string text;
  if (!syncd_status(a.get("--syncd-socket", "/run/elastic/syncd.sock"), text, err)) return false;
  std::istringstream in(text);
  bool placement = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("node ", 0) == 0) v.self = line.substr(5);
    if (line.rfind("placement ", 0) != 0) continue;
    const auto live = line.find(" live ");
    std::istringstream members(live == std::string::npos ? "" : line.substr(live + 6));
    for (std::string m; std::getline(members, m, ',');) {
      const auto eq = m.find('=');
      auto w = parse_u64(eq == std::string::npos ? "" : m.substr(eq + 1), "weight", 1, 1000);
      if (!w) continue;
      v.live.push_back({m.substr(0, eq), static_cast<double>(*w)});
    }
    placement = true;
  }
  if (!placement || v.self.empty()) err = "elastic-syncd's status has no placement (an older syncd?)";
  return placement && !v.self.empty();
}

struct Move {
  Held vpn;
  std::string from, to;
};

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) {
  g_stop = 1;
}

// Runs a plan of moves at most `rate` per second, one at a time, with a progress line per VPN on
// stderr and a summary (text or JSON) on stdout. SIGINT/SIGTERM stop it after the move in progress.
int run_moves(const Args& a, const std::string& sock, const ClusterView& v, const std::vector<Move>& plan,
              const std::string& what) {
  auto rate = parse_u64(a.get("--rate", "10"), "--rate", 1, 1000);
  if (!rate) return usage_error(rate.error().message);
  std::string err;
  auto m = margin(a, err);
  if (!m) return usage_error(err);
  const bool json = a.flag("--json");
  if (a.flag("--dry-run")) {
    for (const auto& mv : plan)
      std::printf("%s: %s (ike-id %u, vpn %s) %s -> %s\n", what.c_str(), mv.vpn.name.c_str(), mv.vpn.ike_id,
                  mv.vpn.vpn.c_str(), mv.from.c_str(), mv.to.c_str());
    std::printf("%s: %zu VPNs would move\n", what.c_str(), plan.size());
    return 0;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const auto t0 = Clock::now();
  std::map<std::string, int> moved_to;
  std::vector<std::pair<std::string, std::string>> failures;  // vpn id, error
  size_t done = 0;
  int rc = 0;
  for (size_t i = 0; i < plan.size() && !g_stop && rc != kExitSaved; ++i) {
    std::this_thread::sleep_until(t0 + std::chrono::microseconds(1000000 * i / *rate));
    const Move& mv = plan[i];
    Transfer t = transfer_one(v.at(sock, mv.from), v.at(sock, mv.to), "vpn:" + mv.vpn.vpn, *m, "");
    ++done;
    if (t.rc == 0) {
      ++moved_to[mv.to];
      std::fprintf(stderr, "[%zu/%zu] %s (vpn %s) %s -> %s: moved in %.0f ms\n", i + 1, plan.size(),
                   mv.vpn.name.c_str(), mv.vpn.vpn.c_str(), mv.from.c_str(), mv.to.c_str(), t.total_ms());
    } else {
      failures.emplace_back(mv.vpn.vpn, t.error);
      rc = t.rc;
      std::fprintf(stderr, "[%zu/%zu] %s (vpn %s) %s -> %s: FAILED: %s\n", i + 1, plan.size(), mv.vpn.name.c_str(),
                   mv.vpn.vpn.c_str(), mv.from.c_str(), mv.to.c_str(), t.error.c_str());
    }
  }
  const bool interrupted = done < plan.size();
  const double secs = ms_since(t0) / 1000;
  const size_t moved = done - failures.size();
  if (json) {
    std::string to, fl;
    for (const auto& [n, c] : moved_to) to += (to.empty() ? "" : ", ") + ("\"" + n + "\": " + std::to_string(c));
    for (const auto& [id, e] : failures)
      fl +=
          (fl.empty() ? "" : ", ") + ("{\"vpn\": \"" + json_escape(id) + "\", \"error\": \"" + json_escape(e) + "\"}");
    std::printf(
        "{\"what\": \"%s\", \"planned\": %zu, \"moved\": %zu, \"failed\": %zu, \"interrupted\": %s, "
        "\"seconds\": %.2f, \"moved_to\": {%s}, \"failures\": [%s]}\n",
        json_escape(what).c_str(), plan.size(), moved, failures.size(), interrupted ? "true" : "false", secs,
        to.c_str(), fl.c_str());
  } else {
    std::string to;
    for (const auto& [n, c] : moved_to) to += (to.empty() ? "" : ", ") + n + " " + std::to_string(c);
    std::printf("%s: %zu of %zu VPNs moved%s%s, %zu failed, %.1f s%s\n", what.c_str(), moved, plan.size(),
                to.empty() ? "" : " (", to.empty() ? "" : (to + ")").c_str(), failures.size(), secs,
                interrupted ? "; interrupted: run it again to continue" : "");
  }
  if (rc == kExitSaved) return rc;
  return interrupted ? kExitInterrupted : failures.empty() ? 0 : 1;
}

// The VPNs `node` owns.
bool owned_by(const ClusterView& v, const std::string& sock, const std::string& node, std::vector<Held>& out,
              std::string& err) {
  auto r = v.at(sock, node).call("list");
  if (!r.ok) {
    err = "list on " + node + ": " + r.payload;
    return false;
  }
  for (auto& h : parse_list(r.payload))
    if (h.role == "active") out.push_back(h);
  return true;
}

}  // namespace

int cmd_transfer(const Args& a, const std::string& sock) {
  std::string err;
  auto sel = selector(a, err);
  auto m = margin(a, err);
  if (!sel || !m) return usage_error(err);
  if (!a.opt.count("--to"))
    return usage_error("transfer needs --to NODE (a cluster member) or PATH (a control socket)");
  const Control src{sock, a.get("--from")};
  const Control dst = target_of(sock, a.get("--to"));
  if (dst.node == src.node && dst.sock == src.sock) return usage_error("the target is the VPN's own gateway");
  Transfer t = transfer_one(src, dst, *sel, *m, a.get("--steer"));
  if (a.flag("--json"))
    std::printf("%s\n", t.json().c_str());
  else if (t.rc == 0)
    std::printf(
        "transferred to %s (ike-id %s there): passive copy %.1f ms, steer %.1f ms, release %.1f ms, "
        "activate %.1f ms\n",
        t.target.c_str(), t.ike_id.c_str(), t.passive_ms, t.steer_ms, t.release_ms, t.activate_ms);
  if (t.rc) fail(t.error);
  return t.rc;
}

int cmd_drain(const Args& a, const std::string& sock) {
  if (a.pos.size() != 1) return usage_error("drain needs the member to empty (drain NODE)");
  const std::string node = a.pos[0];
  ClusterView v;
  std::string err;
  if (!cluster_view(a, v, err)) return fail(err);
  std::vector<sync::Member> targets;
  for (const auto& m : v.live)
    if (m.name != node) targets.push_back(m);
  if (targets.empty()) return fail("no other live member to move " + node + "'s VPNs to");
  std::vector<Held> vpns;
  if (!owned_by(v, sock, node, vpns, err)) return fail(err);
  std::vector<Move> plan;
  for (const auto& h : vpns) plan.push_back({h, node, sync::alternates(h.vpn, node, targets, 1).front()});
  return run_moves(a, sock, v, plan, "drain " + node);
}

int cmd_rebalance(const Args& a, const std::string& sock) {
  ClusterView v;
  std::string err;
  if (!cluster_view(a, v, err)) return fail(err);
  std::vector<Move> plan;
  for (const auto& m : v.live) {
    std::vector<Held> vpns;
    if (!owned_by(v, sock, m.name, vpns, err)) return fail(err);
    for (const auto& h : vpns) {
      // the owner placement wants: the live member with the highest score for this VPN
      const std::string best = sync::alternates(h.vpn, "", v.live, 1).front();
      if (best != m.name) plan.push_back({h, m.name, best});
    }
  }
  return run_moves(a, sock, v, plan, "rebalance");
}

}  // namespace elastic::ctl
