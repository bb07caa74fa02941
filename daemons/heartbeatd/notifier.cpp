#include "elastic/notifier.h"

#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstring>

#include "elastic/log.h"

extern char** environ;

namespace elastic::hb {

namespace asio = boost::asio;

namespace {

constexpr size_t kMaxRunning = 16;

void log_exit(const std::string& what, int status) {
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  log::warning("notify " + what + ": " +
               (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                  : "killed by signal " + std::to_string(WTERMSIG(status))));
}

// Fallback without pidfd: poll for the exit every 100 ms.
void poll_exit(asio::io_context& io, pid_t pid, std::string what, std::shared_ptr<size_t> running) {
  auto t = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(100));
  t->async_wait([&io, t, pid, what, running](boost::system::error_code) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == 0) return poll_exit(io, pid, what, running);
    --*running;
    if (r == pid) log_exit(what, status);
  });
}

}  // namespace

void Notifier::run(const std::string& event, const std::string& node, uint64_t epoch) {
  if (exe_.empty()) return;
  const std::string what = event + " " + node + " " + std::to_string(epoch);
  if (*running_ >= kMaxRunning)
    return log::warning("notify " + what + ": skipped, " + std::to_string(*running_) + " still running");
  std::string ep = std::to_string(epoch);
  char* argv[] = {const_cast<char*>(exe_.c_str()), const_cast<char*>(event.c_str()), const_cast<char*>(node.c_str()),
                  ep.data(), nullptr};
  pid_t pid = 0;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);  // not our sockets
  const int err = posix_spawn(&pid, exe_.c_str(), &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  // Most likely a bad elastic.heartbeat.notify (ENOENT, EACCES): every event will fail alike.
  if (err) return log::err("notify " + exe_ + ": " + std::strerror(err));
  ++*running_;
  const int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return poll_exit(io_, pid, what, running_);
  auto d = std::make_shared<asio::posix::stream_descriptor>(io_, fd);
  d->async_wait(asio::posix::stream_descriptor::wait_read,
                [d, pid, what, running = running_](boost::system::error_code) {
                  int status = 0;
                  if (waitpid(pid, &status, WNOHANG) == pid) log_exit(what, status);
                  --*running;
                });
}

}  // namespace elastic::hb
