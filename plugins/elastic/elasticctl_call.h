// elasticctl's calls: one request/answer on the plugin's control socket (here, or on another
// member through this charon and elastic-syncd), and the local elastic-syncd's status.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace elastic::ctl {

// Every call gives up after this long without progress.
inline constexpr int kTimeoutMs = 5000;
// A call to another member: its charon answers through both syncds (the plugin waits 12 s).
inline constexpr int kRemoteTimeoutMs = 15000;

struct Args {
  std::string cmd;
  std::vector<std::string> pos;
  std::map<std::string, std::string> opt;
  std::set<std::string> flags;  // options without a value (--json, --dry-run)

  bool flag(const std::string& f) const { return flags.count(f) > 0; }
  std::string get(const std::string& o, const std::string& def = "") const {
    auto it = opt.find(o);
    return it == opt.end() ? def : it->second;
  }
};

// Print "elasticctl: MSG" on stderr; exit status 2 (usage) and 1 (failure).
int usage_error(const std::string& msg);
int fail(const std::string& msg);

// The answer's payload, or the error text.
struct Reply {
  bool ok = false;
  std::string payload;
};

// One request ("line\nbody") on a control socket.
Reply call(const std::string& path, const std::string& line, const std::string& body = "", int timeout_ms = kTimeoutMs);

// Where a command runs: this charon's control socket, or member `node` through it and syncd.
struct Control {
  std::string sock;
  std::string node;  // empty: here

  Reply call(const std::string& line, const std::string& body = "") const;
  std::string where() const { return node.empty() ? "here" : "on " + node; }
};

// The local elastic-syncd's status text (its Status frame), or an error in `err`.
bool syncd_status(const std::string& path, std::string& text, std::string& err);

// A connect error, naming a path too long for a Unix socket.
std::string connect_error(const std::string& path);

// The VPN a command names: "id:N" (--ike-id) or "name:NAME" (--ike); nullopt with `err` set.
std::optional<std::string> selector(const Args& a, std::string& err);
// " N" for --margin N (1..2^32-1), "" without it; nullopt with `err` set.
std::optional<std::string> margin(const Args& a, std::string& err);

}  // namespace elastic::ctl
