// The daemons' log: one line per message on stderr, with a syslog priority. Under systemd,
// stderr is a stream to journald, which reads the priority from an sd-daemon(3) prefix ("<4>"):
// `journalctl -u elastic-syncd -p warning` then shows warnings and worse. Elsewhere (a terminal,
// a test's log file) the priority is written as a word: "elastic-syncd: warning: ...".
// Messages above the configured level (elastic.syncd.loglevel, elastic.heartbeat.loglevel) are
// dropped. Never pass key material.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace elastic::log {

// The syslog levels the daemons use (LOG_ERR .. LOG_DEBUG); a lower number is more severe.
enum class Priority { err = 3, warning = 4, notice = 5, info = 6, debug = 7 };

// "err", "warning", "notice", "info", "debug" (the configuration's spelling, exactly).
std::optional<Priority> parse_priority(std::string_view name);
// What a configuration error lists as the valid values.
inline constexpr const char* kPriorityNames = "err, warning, notice, info or debug";
const char* priority_name(Priority p);

// True if systemd connected `fd` to the journal: JOURNAL_STREAM ("DEVICE:INODE" of the stream
// it set up) names fd's file. A stream redirected since (or an inherited variable) does not match.
bool is_journal_stream(int fd);

// The line written for a message: "<N>NAME: MSG\n" for the journal, "NAME: LEVEL: MSG\n"
// otherwise. Control characters in MSG are escaped (\xNN): a newline in peer-supplied text
// would otherwise start a journal line with a priority of the peer's choosing.
std::string format_line(std::string_view name, Priority p, bool journal, std::string_view msg);

// Process-wide: the daemon's name, where lines go (stderr; journal or not is decided here, once)
// and the least severe priority written (info until the configuration says otherwise).
void setup(std::string_view name, Priority max = Priority::info, int fd = 2);
void set_max(Priority max);
bool enabled(Priority p);

void write(Priority p, std::string_view msg);
inline void err(std::string_view msg) {
  write(Priority::err, msg);
}
inline void warning(std::string_view msg) {
  write(Priority::warning, msg);
}
inline void notice(std::string_view msg) {
  write(Priority::notice, msg);
}
inline void info(std::string_view msg) {
  write(Priority::info, msg);
}
inline void debug(std::string_view msg) {
  write(Priority::debug, msg);
}

// Why the process exits (bad configuration, a socket it cannot bind): "NAME: MSG" as a
// command-line tool says it (what --check prints), priority err in the journal.
void fatal(std::string_view msg);

}  // namespace elastic::log
