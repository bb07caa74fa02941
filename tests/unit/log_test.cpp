// The daemons' logger (common/log.cpp): priority names, the line for the journal and for anything
// else, JOURNAL_STREAM matching the stream, the priority filter, escaping. A pipe stands for stderr.
#include "elastic/log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace elastic::log {
namespace {

// What the logger writes, read back (non-blocking: an empty pipe reads as "").
struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() { EXPECT_EQ(::pipe2(fd, O_NONBLOCK | O_CLOEXEC), 0); }
  ~Pipe() {
    ::close(fd[0]);
    ::close(fd[1]);
  }
  std::string read_all() const {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    return out;
  }
  // As systemd sets JOURNAL_STREAM for the stream it connects a service's stderr to.
  std::string dev_ino() const {
    struct stat st {};
    EXPECT_EQ(::fstat(fd[1], &st), 0);
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  }
};

// JOURNAL_STREAM set for one test (unset otherwise).
struct JournalStream {
  explicit JournalStream(const std::string& value) { ::setenv("JOURNAL_STREAM", value.c_str(), 1); }
  ~JournalStream() { ::unsetenv("JOURNAL_STREAM"); }
};

void write_each_priority() {
  err("e");
  warning("w");
  notice("n");
  info("i");
  debug("d");
}

TEST(Log, PriorityNamesAreSyslogs) {
  EXPECT_EQ(parse_priority("err"), Priority::err);
  EXPECT_EQ(parse_priority("warning"), Priority::warning);
  EXPECT_EQ(parse_priority("notice"), Priority::notice);
  EXPECT_EQ(parse_priority("info"), Priority::info);
  EXPECT_EQ(parse_priority("debug"), Priority::debug);
  for (const char* bad : {"", "error", "warn", "INFO", "Info", "6", "info ", "crit", "emerg"})
    EXPECT_FALSE(parse_priority(bad)) << bad;
  for (auto p : {Priority::err, Priority::warning, Priority::notice, Priority::info, Priority::debug})
    EXPECT_EQ(parse_priority(priority_name(p)), p);
}

TEST(Log, PlainLinesNameTheDaemonAndTheLevel) {
  ::unsetenv("JOURNAL_STREAM");
  Pipe p;
  setup("elastic-test", Priority::debug, p.fd[1]);
  write_each_priority();
  EXPECT_EQ(p.read_all(),
            "elastic-test: err: e\nelastic-test: warning: w\nelastic-test: notice: n\n"
            "elastic-test: info: i\nelastic-test: debug: d\n");
}

TEST(Log, JournalLinesCarryTheSdDaemonPrefix) {
  Pipe p;
  JournalStream js(p.dev_ino());
  EXPECT_TRUE(is_journal_stream(p.fd[1]));
  setup("elastic-test", Priority::debug, p.fd[1]);
  write_each_priority();
  // SD_ERR .. SD_DEBUG of <systemd/sd-daemon.h>
  EXPECT_EQ(p.read_all(),
            "<3>elastic-test: e\n<4>elastic-test: w\n<5>elastic-test: n\n<6>elastic-test: i\n<7>elastic-test: d\n");
}

TEST(Log, AnotherStreamIsNotTheJournal) {
  Pipe p, other;
  // Inherited from a unit whose stderr this is not (redirected, or a child's own file).
  for (const std::string& v : {other.dev_ino(), std::string(""), std::string("1"), std::string("a:b"),
                               p.dev_ino() + "0", p.dev_ino() + ":1", ":" + p.dev_ino()}) {
    JournalStream js(v);
    EXPECT_FALSE(is_journal_stream(p.fd[1])) << v;
    setup("elastic-test", Priority::info, p.fd[1]);
    warning("w");
    EXPECT_EQ(p.read_all(), "elastic-test: warning: w\n") << v;
  }
  ::unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(is_journal_stream(p.fd[1]));
}

TEST(Log, LessSevereThanTheLevelIsDropped) {
  ::unsetenv("JOURNAL_STREAM");
  Pipe p;
  setup("x", Priority::info, p.fd[1]);  // the default
  write_each_priority();
  EXPECT_EQ(p.read_all(), "x: err: e\nx: warning: w\nx: notice: n\nx: info: i\n");
  set_max(Priority::warning);
  EXPECT_TRUE(enabled(Priority::warning));
  EXPECT_FALSE(enabled(Priority::notice));
  write_each_priority();
  EXPECT_EQ(p.read_all(), "x: err: e\nx: warning: w\n");
  set_max(Priority::err);
  write_each_priority();
  EXPECT_EQ(p.read_all(), "x: err: e\n");
  set_max(Priority::debug);
  write_each_priority();
  EXPECT_EQ(p.read_all(), "x: err: e\nx: warning: w\nx: notice: n\nx: info: i\nx: debug: d\n");
}

TEST(Log, FatalReadsLikeACommandLineError) {
  ::unsetenv("JOURNAL_STREAM");
  Pipe p;
  setup("elastic-test", Priority::err, p.fd[1]);
  fatal("t.conf:3: elastic.node: is not set");
  EXPECT_EQ(p.read_all(), "elastic-test: t.conf:3: elastic.node: is not set\n");
  JournalStream js(p.dev_ino());
  setup("elastic-test", Priority::err, p.fd[1]);
  fatal("t.conf:3: elastic.node: is not set");
  EXPECT_EQ(p.read_all(), "<3>elastic-test: t.conf:3: elastic.node: is not set\n");
}

// A peer's text (a certificate CN, a VPN id) must not start a journal line of its own, which
// journald would read with the priority the peer wrote.
TEST(Log, ControlCharactersAreEscaped) {
  EXPECT_EQ(format_line("n", Priority::info, true, "cn 'a\n<3>forged'\r\t\x7f\x01"),
            "<6>n: cn 'a\\x0a<3>forged'\\x0d\\x09\\x7f\\x01\n");
  EXPECT_EQ(format_line("n", Priority::info, false, "VPN 'sg1/\xc3\xa9'"),
            "n: info: VPN 'sg1/\xc3\xa9'\n");  // UTF-8 kept
  EXPECT_EQ(format_line("n", Priority::notice, false, ""), "n: notice: \n");
}

}  // namespace
}  // namespace elastic::log
