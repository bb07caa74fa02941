// elasticctl: swanctl-style CLI for the elastic plugin's control socket.
#include <arpa/inet.h>
#include <fcntl.h>
#include <google/protobuf/text_format.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "elastic/context_codec.h"
#include "elastic/parse_number.h"
#include "elastic/secure.h"
#include "elastic/sync_frame.h"
#include "elastic/unix_io.h"

namespace {

using elastic::read_all;
using elastic::write_all;

constexpr const char* kUsage = R"(usage: elasticctl [--socket PATH] [--node NODE] COMMAND [OPTIONS]

Moves live IKEv2/IPsec VPNs between gateways through the elastic charon plugin's control socket
(default: $ELASTIC_SOCKET, else /var/run/charon.elastic). A VPN is selected by connection name
(--ike NAME, the first VPN of that connection) or by IKE_SA unique id (--ike-id N) as swanctl
shows them. Exported contexts contain key material: they are written to files with mode 0600
and never to a terminal. With --node NODE, list, export, release, import, activate and steer run
on cluster member NODE instead, through this charon and elastic-syncd's authenticated links.

commands:
  list                                   VPNs held here: versions, message IDs, role, counters
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
  steer --ike NAME|--ike-id N            run this gateway's steering hook for the VPN (move its
                                         traffic here)
  inspect FILE|-                         decode a context and print it without key material
  sync-status [--syncd-socket PATH]      the local elastic-syncd: contexts held, digest, and per
                                         peer: connected, pending VPNs, unacknowledged frames
                                         (default socket /run/elastic/syncd.sock)
  takeover --node NAME --live NAME=W,... take over the passive VPNs of failed gateway NAME for
                                         which this node is the first live alternate (what
                                         elastic-heartbeatd does on its own); prints the count
  fence | unfence | drop-fenced          block outbound traffic of every VPN owned here (lease
                                         lost) / resume it / forget fenced VPNs (taken over)

Every call gives up after 5 s without progress (a hung charon or syncd is an error, not a wait),
15 s for a call to another member.

exit status: 0 success, 1 error reported by the plugin or the system, 2 usage error
)";

// A reply larger than this is refused before allocating (a list of 100,000 VPNs fits).
constexpr uint32_t kMaxReply = 64u << 20;
constexpr int kTimeoutMs = 5000;
// A call to another member: its charon answers through both syncds (the plugin waits 12 s).
constexpr int kRemoteTimeoutMs = 15000;

struct Args {
  std::string cmd;
  std::vector<std::string> pos;
  std::map<std::string, std::string> opt;
  std::set<std::string> flags;  // options without a value (--json)
};

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "elasticctl: %s (see --help)\n", msg.c_str());
  return 2;
}

int fail(const std::string& msg) {
  std::fprintf(stderr, "elasticctl: %s\n", msg.c_str());
  return 1;
}

std::string socket_path(const Args& a) {
  std::string s = a.opt.count("--socket")         ? a.opt.at("--socket")
                  : std::getenv("ELASTIC_SOCKET") ? std::getenv("ELASTIC_SOCKET")
                                                  : "/var/run/charon.elastic";
  if (s.rfind("unix://", 0) == 0) s = s.substr(7);
  return s;
}

// One request/response on the control socket; the answer's payload, or an error.
struct Reply {
  bool ok = false;
  std::string payload;  // or the error text
};

std::string connect_error(const std::string& path) {
  if (errno == ENAMETOOLONG)
    return "socket path " + path + " is longer than " + std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
           " bytes (a Unix socket path cannot be)";
  return "cannot connect to " + path + ": " + std::strerror(errno);
}

std::string io_error(const std::string& path, const char* what, int timeout_ms) {
  if (errno == EAGAIN || errno == EWOULDBLOCK)
    return "no answer from " + path + " within " + std::to_string(timeout_ms / 1000) + " s";
  return std::string(what) + " " + path + ": " + (errno ? std::strerror(errno) : "connection closed");
}

Reply call(const std::string& path, const std::string& line, const std::string& body = "",
           int timeout_ms = kTimeoutMs) {
  Reply rep;
  int fd = elastic::unix_connect(path, timeout_ms);
  if (fd < 0) {
    rep.payload = connect_error(path) + (errno == ENAMETOOLONG ? "" : " (is charon running with the elastic plugin?)");
    return rep;
  }
  std::string req = line + "\n" + body;
  uint32_t len = htonl(static_cast<uint32_t>(req.size()));
  std::string answer;
  errno = 0;
  const bool sent = write_all(fd, &len, 4) && write_all(fd, req.data(), req.size());
  elastic::secure_wipe(req);
  // Read even if the write failed: a refusing server answers first and closes (EPIPE here).
  if (!read_all(fd, &len, 4)) {
    rep.payload = io_error(path, sent ? "reading from" : "writing to", timeout_ms);
    close(fd);
    return rep;
  }
  if (ntohl(len) > kMaxReply) {
    rep.payload = "refusing a reply of " + std::to_string(ntohl(len)) + " bytes from " + path + " (limit " +
                  std::to_string(kMaxReply) + ")";
    close(fd);
    return rep;
  }
  answer.resize(ntohl(len));
  if (!read_all(fd, answer.data(), answer.size())) {
    rep.payload = io_error(path, "reading from", timeout_ms);
    elastic::secure_wipe(answer);
    close(fd);
    return rep;
  }
  close(fd);
  if (answer.rfind("OK\n", 0) == 0) {
    rep.ok = true;
    rep.payload = answer.substr(3);
  } else if (answer.rfind("ERR ", 0) == 0) {
    rep.payload = answer.substr(4);
    if (!rep.payload.empty() && rep.payload.back() == '\n') rep.payload.pop_back();
  } else {
    rep.payload = "no valid answer from " + path;
  }
  elastic::secure_wipe(answer);
  return rep;
}

// Where a command runs: this charon's control socket, or member `node` through it and syncd.
struct Control {
  std::string sock;
  std::string node;  // empty: here

  Reply call(const std::string& line, const std::string& body = "") const {
    if (node.empty()) return ::call(sock, line, body);
    std::string req = line + "\n" + body;
    Reply r = ::call(sock, "remote " + node, req, kRemoteTimeoutMs);
    elastic::secure_wipe(req);
    return r;
  }
  std::string where() const { return node.empty() ? "here" : "on " + node; }
};

std::optional<std::string> selector(const Args& a, std::string& err) {
  if (a.opt.count("--ike-id")) {
    auto v = elastic::parse_u64(a.opt.at("--ike-id"), "--ike-id", 1, UINT32_MAX);
    if (!v) {
      err = v.error().message;
      return std::nullopt;
    }
    return "id:" + std::to_string(*v);
  }
  if (a.opt.count("--ike")) return "name:" + a.opt.at("--ike");
  err = a.cmd + " needs --ike NAME or --ike-id N";
  return std::nullopt;
}

std::optional<std::string> margin(const Args& a, std::string& err) {
  if (!a.opt.count("--margin")) return "";
  auto v = elastic::parse_u64(a.opt.at("--margin"), "--margin", 1, UINT32_MAX);
  if (!v) {
    err = v.error().message;
    return std::nullopt;
  }
  return " " + std::to_string(*v);
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
  elastic::wipe_keys(*env);  // printed without key material
  std::string text;
  google::protobuf::TextFormat::PrintToString(*env, &text);
  std::fputs(text.c_str(), stdout);
  return 0;
}

int cmd_sync_status(const Args& a) {
  std::string path = a.opt.count("--syncd-socket") ? a.opt.at("--syncd-socket") : "/run/elastic/syncd.sock";
  int fd = elastic::unix_connect(path, kTimeoutMs);
  if (fd < 0) return fail(connect_error(path) + (errno == ENAMETOOLONG ? "" : " (is elastic-syncd running?)"));
  std::string req = elastic::sync::encode_frame(elastic::sync::FrameType::Status, "");
  elastic::sync::FrameDecoder dec;
  char buf[65536];
  bool ok = write_all(fd, req.data(), req.size());
  for (bool none = true; ok;) {
    errno = 0;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      close(fd);
      return fail(io_error(path, "reading from", kTimeoutMs));
    }
    if (n <= 0) break;
    dec.feed(buf, static_cast<size_t>(n));
    auto f = dec.next(none);
    if (none) continue;
    if (f && f->type == elastic::sync::FrameType::Status) {
      std::fputs(f->body.c_str(), stdout);
      close(fd);
      return 0;
    }
    break;
  }
  close(fd);
  return fail("no status from " + path);
}

// Exit status of a transfer whose VPN is active nowhere: its final context was saved to a file.
constexpr int kExitSaved = 3;

// How a transfer ended, printed for people or (--json) for scripts.
struct TransferReport {
  bool json = false;
  std::string target, ike_id, error, saved;
  double passive_ms = 0, steer_ms = 0, release_ms = 0, activate_ms = 0;

  int done(int rc) const {
    if (json) {
      std::printf(
          "{\"ok\": %s, \"target\": \"%s\", \"ike_id\": %s, \"passive_ms\": %.1f, \"steer_ms\": %.1f, "
          "\"release_ms\": %.1f, \"activate_ms\": %.1f, \"error\": \"%s\", \"final_saved_to\": \"%s\"}\n",
          rc == 0 ? "true" : "false", escape(target).c_str(), ike_id.empty() ? "null" : ike_id.c_str(), passive_ms,
          steer_ms, release_ms, activate_ms, escape(error).c_str(), saved.c_str());
    } else if (rc == 0) {
      std::printf(
          "transferred to %s (ike-id %s there): passive copy %.1f ms, steer %.1f ms, release %.1f ms, "
          "activate %.1f ms\n",
          target.c_str(), ike_id.c_str(), passive_ms, steer_ms, release_ms, activate_ms);
    } else {
      std::fprintf(stderr, "elasticctl: %s\n", error.c_str());
    }
    return rc;
  }
  int failed(const std::string& why) {
    error = why;
    return done(1);
  }
  static std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      if (static_cast<unsigned char>(c) >= 0x20) out += c;
    }
    return out;
  }
};

// The target failed after the source let go: the source takes the VPN back from its final
// context (active, with the configured margin: the target may have sent before it failed), so
// that a failed transfer never loses a VPN. If even that fails, the final context is kept in a
// file (0600) for `elasticctl import --mode active`.
int take_back(const Control& src, const std::string& why, std::string& final_ctx, TransferReport& rep) {
  auto back = src.call("import active", final_ctx);
  if (back.ok) {
    elastic::secure_wipe(final_ctx);
    while (!back.payload.empty() && back.payload.back() == '\n') back.payload.pop_back();
    return rep.failed(why + "; the VPN was taken back " + src.where() + " (" + back.payload + ")");
  }
  char path[] = "/run/elasticctl-final.XXXXXX";
  const int fd = mkstemp(path);
  const bool kept = fd >= 0 && write_all(fd, final_ctx.data(), final_ctx.size());
  if (fd >= 0) close(fd);
  elastic::secure_wipe(final_ctx);
  if (kept) rep.saved = path;
  rep.error = why + "; taking it back failed too (" + back.payload + "): " +
              (kept ? "its final context is in " + std::string(path) + ", import it with --mode active"
                    : "its final context could not be saved");
  return rep.done(kept ? kExitSaved : 1);
}

// --to NODE goes through syncd; --to PATH (with a '/') is a control socket on this machine.
Control target_of(const std::string& sock, std::string to) {
  if (to.rfind("unix://", 0) == 0) to = to.substr(7);
  if (to.find('/') != std::string::npos) return {to, ""};
  return {sock, to};
}

int cmd_transfer(const Args& a, const std::string& sock) {
  std::string err;
  auto sel = selector(a, err);
  auto m = margin(a, err);
  if (!sel || !m) return usage_error(err);
  if (!a.opt.count("--to"))
    return usage_error("transfer needs --to NODE (a cluster member) or PATH (a control socket)");
  const Control src{sock, a.opt.count("--from") ? a.opt.at("--from") : ""};
  const Control dst = target_of(sock, a.opt.at("--to"));
  if (dst.node == src.node && dst.sock == src.sock) return usage_error("the target is the VPN's own gateway");
  TransferReport rep;
  rep.json = a.flags.count("--json") > 0;
  rep.target = dst.node.empty() ? dst.sock : dst.node;
  auto ms = [t0 = std::chrono::steady_clock::now()] {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };
  auto ctx = src.call("export " + *sel);
  if (!ctx.ok) return rep.failed("export: " + ctx.payload);
  auto imp = dst.call("import passive", ctx.payload);
  elastic::secure_wipe(ctx.payload);
  if (!imp.ok) return rep.failed("import on the target: " + imp.payload);
  rep.passive_ms = ms();
  rep.ike_id = imp.payload.substr(imp.payload.find(' ') + 1);
  while (!rep.ike_id.empty() && rep.ike_id.back() == '\n') rep.ike_id.pop_back();
  const std::string held = " (the target holds a passive copy, ike-id " + rep.ike_id + ")";
  // The EU's traffic must reach the target before the source lets go of the SAs: the --steer
  // command, else the target's steering hook. If that fails, the traffic is steered back.
  const bool steered =
      a.opt.count("--steer") ? std::system(a.opt.at("--steer").c_str()) == 0 : dst.call("steer id:" + rep.ike_id).ok;
  if (!steered) {
    if (!a.opt.count("--steer")) (void)src.call("steer " + *sel);
    return rep.failed("steering to the target failed; the VPN stays " + src.where() + held);
  }
  rep.steer_ms = ms() - rep.passive_ms;
  auto fin = src.call("release " + *sel);
  rep.release_ms = ms() - rep.passive_ms - rep.steer_ms;
  if (!fin.ok) return rep.failed("release: " + fin.payload + held);
  auto act = dst.call("activate id:" + rep.ike_id + *m, fin.payload);
  if (!act.ok) return take_back(src, "activate on the target: " + act.payload, fin.payload, rep);
  elastic::secure_wipe(fin.payload);
  rep.activate_ms = ms() - rep.passive_ms - rep.steer_ms - rep.release_ms;
  return rep.done(0);
}

int run(const Args& a) {
  const std::string sock = socket_path(a);
  const Control here{sock, a.opt.count("--node") ? a.opt.at("--node") : ""};
  std::string err;
  if (a.cmd == "list") {
    auto r = here.call("list");
    if (!r.ok) return fail(r.payload);
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
  if (a.cmd == "fence" || a.cmd == "unfence" || a.cmd == "drop-fenced") {
    auto r = call(sock, a.cmd);
    if (!r.ok) return fail(r.payload);
    std::fputs(r.payload.c_str(), stdout);
    return 0;
  }
  if (a.cmd == "transfer") return cmd_transfer(a, sock);
  if (a.cmd == "inspect") return cmd_inspect(a);
  if (a.cmd == "sync-status") return cmd_sync_status(a);
  return usage_error(a.cmd.empty() ? "no command given" : "unknown command '" + a.cmd + "'");
}

// The options each command takes (--socket: all of them).
const std::map<std::string, std::vector<std::string>> kOptions = {
    {"list", {}},
    {"export", {"--ike", "--ike-id", "--out"}},
    {"release", {"--ike", "--ike-id", "--out"}},
    {"import", {"--mode", "--margin"}},
    {"activate", {"--ike", "--ike-id", "--final", "--margin"}},
    {"transfer", {"--ike", "--ike-id", "--to", "--from", "--steer", "--margin", "--json"}},
    {"inspect", {}},
    {"sync-status", {"--syncd-socket"}},
    {"takeover", {"--node", "--live"}},
    {"steer", {"--ike", "--ike-id"}},
    {"fence", {}},
    {"unfence", {}},
    {"drop-fenced", {}},
};

// Options without a value.
const std::set<std::string> kFlags = {"--json"};
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
    if (opt == "--node") {
      if (!kRemote.count(a.cmd)) return usage_error(a.cmd + " cannot run on another member (--node)");
      continue;
    }
    bool ok = false;
    for (const auto& o : it->second) ok |= o == opt;
    if (!ok) return usage_error(a.cmd + " does not take " + opt);
  }
  if (a.opt.count("--ike") && a.opt.count("--ike-id")) return usage_error("give --ike or --ike-id, not both");
  const size_t files = a.cmd == "import" || a.cmd == "inspect" ? 1 : 0;
  if (a.pos.size() > files) return usage_error(a.cmd + ": unexpected argument '" + a.pos[files] + "'");
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "-h" || s == "--help") return std::fputs(kUsage, stdout), 0;
    if (s == "--version") return std::printf("elasticctl %s\n", ELASTIC_VERSION), 0;
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
