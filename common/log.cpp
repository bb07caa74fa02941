#include "elastic/log.h"

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <utility>

#include "elastic/parse_number.h"

namespace elastic::log {
namespace {

// <systemd/sd-daemon.h>'s SD_ERR .. SD_DEBUG are "<3>" .. "<7>": "<" the syslog level ">".
static_assert(static_cast<int>(Priority::err) == LOG_ERR && static_cast<int>(Priority::warning) == LOG_WARNING &&
              static_cast<int>(Priority::notice) == LOG_NOTICE && static_cast<int>(Priority::info) == LOG_INFO &&
              static_cast<int>(Priority::debug) == LOG_DEBUG);

constexpr std::pair<Priority, const char*> kNames[] = {{Priority::err, "err"},
                                                       {Priority::warning, "warning"},
                                                       {Priority::notice, "notice"},
                                                       {Priority::info, "info"},
                                                       {Priority::debug, "debug"}};

struct State {
  std::string name;
  int fd = 2;
  bool journal = false;
  Priority max = Priority::info;
};

State& state() {
  static State s;
  return s;
}

void append_escaped(std::string& out, std::string_view msg) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char c : msg) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
}

// "<N>" for the journal; the level as a word only where nothing else carries it.
std::string compose(std::string_view name, Priority p, bool journal, bool level_word, std::string_view msg) {
  std::string line;
  line.reserve(name.size() + msg.size() + 16);
  if (journal) line += "<" + std::to_string(static_cast<int>(p)) + ">";
  if (!name.empty()) line.append(name).append(": ");
  if (level_word && !journal) line.append(priority_name(p)).append(": ");
  append_escaped(line, msg);
  line += '\n';
  return line;
}

// One write(2) per line (the journal takes a line at a time); a full or closed stderr loses it.
void write_all(int fd, std::string_view line) {
  while (!line.empty()) {
    const ssize_t n = ::write(fd, line.data(), line.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    line.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

std::optional<Priority> parse_priority(std::string_view name) {
  for (const auto& [p, n] : kNames)
    if (name == n) return p;
  return std::nullopt;
}

const char* priority_name(Priority p) {
  for (const auto& [q, n] : kNames)
    if (p == q) return n;
  return "?";
}

bool is_journal_stream(int fd) {
  const char* env = std::getenv("JOURNAL_STREAM");
  if (!env) return false;
  const std::string_view v(env);
  const size_t colon = v.find(':');
  if (colon == std::string_view::npos) return false;
  auto dev = parse_u64(v.substr(0, colon), "device");
  auto ino = parse_u64(v.substr(colon + 1), "inode");
  struct stat st {};
  if (!dev || !ino || ::fstat(fd, &st) != 0) return false;
  return static_cast<uint64_t>(st.st_dev) == *dev && static_cast<uint64_t>(st.st_ino) == *ino;
}

std::string format_line(std::string_view name, Priority p, bool journal, std::string_view msg) {
  return compose(name, p, journal, true, msg);
}

void setup(std::string_view name, Priority max, int fd) {
  state() = State{std::string(name), fd, is_journal_stream(fd), max};
}

void set_max(Priority max) {
  state().max = max;
}

bool enabled(Priority p) {
  return p <= state().max;
}

void write(Priority p, std::string_view msg) {
  if (!enabled(p)) return;
  const State& s = state();
  write_all(s.fd, format_line(s.name, p, s.journal, msg));
}

void fatal(std::string_view msg) {
  const State& s = state();
  write_all(s.fd, compose(s.name, Priority::err, s.journal, false, msg));
}

}  // namespace elastic::log
