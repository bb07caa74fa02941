// elasticctl: swanctl-style CLI for the elastic plugin's control socket.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "elastic/context_codec.h"
#include "elastic/secure.h"
#include "elastic/settings.h"
#include "elastic/unix_io.h"
#include "elasticctl_call.h"
#include "elasticctl_format.h"
#include "elasticctl_move.h"

namespace {

using elastic::write_all;
using namespace elastic::ctl;

constexpr const char* kUsage = R"(usage: elasticctl [--socket PATH] [--node NODE] COMMAND [OPTIONS]

Moves live IKEv2/IPsec VPNs between gateways through the elastic charon plugin's control socket
(default: $ELASTIC_SOCKET, else charon.plugins.elastic.socket in strongswan.conf ($STRONGSWAN_CONF,
else /etc/strongswan.conf), else /var/run/charon.elastic). A VPN is selected by connection name
(--ike NAME, the first VPN of that connection) or by IKE_SA unique id (--ike-id N) as swanctl
shows them. Exported contexts contain key material: they are written to files with mode 0600
and never to a terminal. With --node NODE, list, export, release, import, activate and steer run
on cluster member NODE instead, through this charon and elastic-syncd's authenticated links.

commands:
  list [--json]                          VPNs held here: versions, message IDs, role, counters
  export  --ike NAME|--ike-id N [--out FILE]
                                         write the VPN's context (with its current counters)
  import  --mode passive|active [--margin N] FILE|-
                                         rebuild a VPN from a context: passive (hot standby: SAs
                                         installed without policies, IKE_SA silent) or active
  activate --ike NAME|--ike-id N [--final FILE] [--margin N]
                                         make a passive VPN responsible here; --final is the
                                         previous owner's released context (exact counters), the
                                         outbound sequence numbers jump N past it (default: the
                                         plugin's margin setting)
  release --ike NAME|--ike-id N [--out FILE]
                                         export the VPN with its final counters, then drop it
                                         here without a DELETE to the peer
  transfer --ike NAME|--ike-id N --to NODE|PATH [--from NODE] [--steer CMD] [--margin N]
           [--json]                      live transfer to cluster member NODE (through
                                         elastic-syncd; or to the charon at control socket PATH):
                                         export, import passive there (or refresh the replica it
                                         holds), steer the VPN's traffic there (CMD, else the
                                         target's steering hook), release here (outbound stopped,
                                         final counters), activate there continuing at exactly the
                                         next sequence number (or N past it); prints the timings.
                                         --from NODE: the VPN's owner is member NODE, not this one
  drain NODE [--rate N] [--dry-run] [--json] [--syncd-socket PATH]
                                         move every VPN member NODE owns to its placement
                                         alternate (the member holding its replica), one live
                                         transfer at a time, at most N per second (default 10),
                                         with a progress line per VPN and a summary; interrupted
                                         (exit 4) or partly failed, run it again to continue
  rebalance [--rate N] [--dry-run] [--json] [--syncd-socket PATH]
                                         move VPNs so that each is owned by the live member that
                                         placement (weighted rendezvous hashing) ranks first
  steer --ike NAME|--ike-id N            run this gateway's steering hook for the VPN (move its
                                         traffic here)
  metrics                                the plugin's metrics in Prometheus text format (VPNs by
                                         role, requests with their durations, counter reports)
  inspect [--json] FILE|-                decode a context and print it without key material:
                                         addresses, algorithm names (as swanctl shows them), SPIs
                                         in hex, traffic selectors, message IDs, sequence numbers
  sync-status [--syncd-socket PATH] [--json]
                                         the local elastic-syncd: contexts held, digest, and per
                                         peer: connected, pending VPNs, unacknowledged frames
                                         (default socket /run/elastic/syncd.sock)
  takeover --node NAME --live NAME=W,... take over the passive VPNs of failed gateway NAME for
                                         which this node is the first live alternate (what
                                         elastic-heartbeatd does on its own); prints the count
  fence | unfence | drop-fenced          block outbound traffic of every VPN owned here (lease
                                         lost) / resume it / forget fenced VPNs (taken over)

--json prints one line of JSON for scripts (list, sync-status, inspect, transfer, drain, rebalance;
the fields are described in the plugin documentation, docs/plugin.md).

Every call gives up after 5 s without progress (a hung charon or syncd is an error, not a wait),
15 s for a call to another member.

exit status: 0 success, 1 error reported by the plugin or the system (a failed transfer leaves
the VPN active on its source), 2 usage error, 3 a VPN is active nowhere and its final context was
saved to the file named (import it with --mode active), 4 drain/rebalance interrupted
)";

// The control socket as swanctl finds vici's: --socket, $ELASTIC_SOCKET, else the plugin's setting
// charon.plugins.elastic.socket in strongswan.conf ($STRONGSWAN_CONF, else /etc/strongswan.conf,
// with its includes), else the plugin's default. An unreadable strongswan.conf is not an error
// here (the default still works), a malformed one is reported by charon itself.
std::string socket_path(const Args& a) {
  std::string s = "/var/run/charon.elastic";
  if (a.opt.count("--socket")) {
    s = a.opt.at("--socket");
  } else if (const char* env = std::getenv("ELASTIC_SOCKET")) {
    s = env;
  } else {
    const char* conf = std::getenv("STRONGSWAN_CONF");
    if (auto settings = elastic::sync::Settings::load(conf ? conf : "/etc/strongswan.conf"))
      s = settings->get("charon.plugins.elastic.socket", s);
  }
  if (s.rfind("unix://", 0) == 0) s = s.substr(7);
  return s;
}

// The value as JSON (--json) or as text.
int print(const Args& a, const Value& v) {
  std::fputs((a.flag("--json") ? to_json(v) : to_text(v)).c_str(), stdout);
  return 0;
}

// Writes key material: to a new file with mode 0600, or to stdout unless that is a terminal.
int write_secret(const Args& a, const std::string& data) {
  if (!a.opt.count("--out") || a.opt.at("--out") == "-") {
    if (isatty(STDOUT_FILENO))
      return fail("refusing to write a context with key material to a terminal: use --out FILE");
    return write_all(STDOUT_FILENO, data.data(), data.size()) ? 0 : fail("write failed");
  }
  const auto& path = a.opt.at("--out");
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || fchmod(fd, 0600) != 0) return fail("cannot write " + path + ": " + std::strerror(errno));
  bool ok = write_all(fd, data.data(), data.size());
  close(fd);
  return ok ? 0 : fail("writing " + path + " failed");
}

bool read_input(const std::string& path, std::string& out, std::string& err) {
  if (path == "-") {
    out.assign(std::istreambuf_iterator<char>(std::cin), {});
    return true;
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    err = "cannot read " + path;
    return false;
  }
  out.assign(std::istreambuf_iterator<char>(f), {});
  return true;
}

int cmd_inspect(const Args& a) {
  if (a.pos.empty()) return usage_error("inspect needs FILE or -");
  std::string data, err;
  if (!read_input(a.pos[0], data, err)) return fail(err);
  auto env = elastic::decode_envelope(data);
  elastic::secure_wipe(data);
  if (!env) return fail(env.error().message);
  elastic::wipe_keys(*env);  // inspect_value never reads the keys: wiped all the same
  return print(a, inspect_value(*env));
}

int cmd_sync_status(const Args& a) {
  std::string text, err;
  if (!syncd_status(a.get("--syncd-socket", "/run/elastic/syncd.sock"), text, err)) return fail(err);
  if (a.flag("--json")) return print(a, sync_status_value(text));
  std::fputs(text.c_str(), stdout);
  return 0;
}

int run(const Args& a) {
  const std::string sock = socket_path(a);
  const Control here{sock, a.opt.count("--node") ? a.opt.at("--node") : ""};
  std::string err;
  if (a.cmd == "list") {
    auto r = here.call("list");
    if (!r.ok) return fail(r.payload);
    if (a.flag("--json")) return print(a, list_value(r.payload));
    std::fputs(r.payload.c_str(), stdout);
    return 0;
  }
  if (a.cmd == "export" || a.cmd == "release") {
    auto sel = selector(a, err);
    if (!sel) return usage_error(err);
    if ((!a.opt.count("--out") || a.opt.at("--out") == "-") && isatty(STDOUT_FILENO))
      return fail("refusing to write a context with key material to a terminal: use --out FILE");
    auto r = here.call(a.cmd + " " + *sel);
    if (!r.ok) return fail(r.payload);
    int rc = write_secret(a, r.payload);
    elastic::secure_wipe(r.payload);
    return rc;
  }
  if (a.cmd == "import") {
    if (!a.opt.count("--mode")) return usage_error("import needs --mode passive|active");
    const auto& mode = a.opt.at("--mode");
    if (mode != "passive" && mode != "active")
      return usage_error("--mode '" + mode + "' is neither passive nor active");
    auto m = margin(a, err);
    if (!m) return usage_error(err);
    if (a.pos.empty()) return usage_error("import needs FILE or -");
    std::string data;
    if (!read_input(a.pos[0], data, err)) return fail(err);
    auto r = here.call("import " + mode + *m, data);
    elastic::secure_wipe(data);
    if (!r.ok) return fail(r.payload);
    std::fputs(r.payload.c_str(), stdout);
    return 0;
  }
  if (a.cmd == "activate") {
    auto sel = selector(a, err);
    auto m = margin(a, err);
    if (!sel || !m) return usage_error(err);
    std::string fin;
    if (a.opt.count("--final") && !read_input(a.opt.at("--final"), fin, err)) return fail(err);
    auto r = here.call("activate " + *sel + *m, fin);
    elastic::secure_wipe(fin);
    if (!r.ok) return fail(r.payload);
    return 0;
  }
  if (a.cmd == "takeover") {
    if (!a.opt.count("--node") || !a.opt.count("--live")) return usage_error("takeover needs --node and --live");
    auto r = call(sock, "takeover " + a.opt.at("--node") + " 0 1 " + a.opt.at("--live"));
    if (!r.ok) return fail(r.payload);
    std::fputs(r.payload.c_str(), stdout);
    return 0;
  }
  if (a.cmd == "steer") {
    auto sel = selector(a, err);
    if (!sel) return usage_error(err);
    auto r = here.call("steer " + *sel);
    if (!r.ok) return fail(r.payload);
    std::fputs(r.payload.c_str(), stdout);
    return 0;
  }
  if (a.cmd == "fence" || a.cmd == "unfence" || a.cmd == "drop-fenced" || a.cmd == "metrics") {
    auto r = call(sock, a.cmd);
    if (!r.ok) return fail(r.payload);
    std::fputs(r.payload.c_str(), stdout);
    return 0;
  }
  if (a.cmd == "transfer") return cmd_transfer(a, sock);
  if (a.cmd == "drain") return cmd_drain(a, sock);
  if (a.cmd == "rebalance") return cmd_rebalance(a, sock);
  if (a.cmd == "inspect") return cmd_inspect(a);
  if (a.cmd == "sync-status") return cmd_sync_status(a);
  return usage_error(a.cmd.empty() ? "no command given" : "unknown command '" + a.cmd + "'");
}

// The options each command takes (--socket: all of them).
const std::map<std::string, std::vector<std::string>> kOptions = {
    {"list", {"--json"}},
    {"export", {"--ike", "--ike-id", "--out"}},
    {"release", {"--ike", "--ike-id", "--out"}},
    {"import", {"--mode", "--margin"}},
    {"activate", {"--ike", "--ike-id", "--final", "--margin"}},
    {"transfer", {"--ike", "--ike-id", "--to", "--from", "--steer", "--margin", "--json"}},
    {"drain", {"--syncd-socket", "--rate", "--margin", "--json", "--dry-run"}},
    {"rebalance", {"--syncd-socket", "--rate", "--margin", "--json", "--dry-run"}},
    {"inspect", {"--json"}},
    {"sync-status", {"--syncd-socket", "--json"}},
    {"takeover", {"--node", "--live"}},
    {"steer", {"--ike", "--ike-id"}},
    {"fence", {}},
    {"unfence", {}},
    {"drop-fenced", {}},
    {"metrics", {}},
};

// Options without a value.
const std::set<std::string> kFlags = {"--json", "--dry-run"};
// The commands another member can run (the plugin's remote list).
const std::set<std::string> kRemote = {"list", "export", "release", "import", "activate", "steer"};

// An option the command does not take is an error, not silently ignored.
int check_options(const Args& a) {
  auto it = kOptions.find(a.cmd);
  if (it == kOptions.end()) return -1;  // run() reports the command
  std::vector<std::string> given;
  for (const auto& [opt, _] : a.opt) given.push_back(opt);
  given.insert(given.end(), a.flags.begin(), a.flags.end());
  for (const auto& opt : given) {
    if (opt == "--socket") continue;
    // takeover's --node names the failed gateway, not a member to run on
    if (opt == "--node" && a.cmd != "takeover") {
      if (!kRemote.count(a.cmd)) return usage_error(a.cmd + " cannot run on another member (--node)");
      continue;
    }
    bool ok = false;
    for (const auto& o : it->second) ok |= o == opt;
    if (!ok) return usage_error(a.cmd + " does not take " + opt);
  }
  if (a.opt.count("--ike") && a.opt.count("--ike-id")) return usage_error("give --ike or --ike-id, not both");
  const size_t files = a.cmd == "import" || a.cmd == "inspect" || a.cmd == "drain" ? 1 : 0;
  if (a.pos.size() > files) return usage_error(a.cmd + ": unexpected argument '" + a.pos[files] + "'");
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "-h" || s == "--help") return std::fputs(kUsage, stdout), 0;
    if (s == "--version") return std::printf("elasticctl (elastic-ipsec) %s\n", ELASTIC_VERSION), 0;
    if (s.rfind("--", 0) == 0) {
      bool known = s == "--socket" || s == "--node";
      for (const auto& [cmd, opts] : kOptions)
        for (const auto& o : opts) known |= s == o;
      if (!known) return usage_error("unknown option " + s);
      if (kFlags.count(s)) {
        a.flags.insert(s);
        continue;
      }
      if (i + 1 >= argc) return usage_error("option " + s + " needs a value");
      if (a.opt.count(s)) return usage_error("option " + s + " given twice");
      a.opt[s] = argv[++i];
    } else if (a.cmd.empty()) {
      a.cmd = s;
    } else {
      a.pos.push_back(s);
    }
  }
  if (int rc = check_options(a); rc >= 0) return rc;
  return run(a);
}
