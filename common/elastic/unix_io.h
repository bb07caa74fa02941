// Blocking I/O helpers for the local Unix sockets (plugin control socket, syncd's local socket)
// and for files: connect, write everything, read exactly n bytes.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

namespace elastic {

// A connected Unix stream socket (close-on-exec), or -1 with errno set (ENAMETOOLONG for a path
// that does not fit sun_path: never truncated, a truncated path names another socket). With a
// TIMEOUT_MS, every later read and write on it fails with EAGAIN after that long without progress.
inline int unix_connect(const std::string& path, int timeout_ms = 0) {
  sockaddr_un sa{};
  if (path.empty() || path.size() >= sizeof sa.sun_path) {
    errno = path.empty() ? ENOENT : ENAMETOOLONG;
    return -1;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  if (timeout_ms > 0) {
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) return fd;
  const int err = errno;
  close(fd);
  errno = err;
  return -1;
}

// Writes all n bytes. On sockets without SIGPIPE (a peer that hung up is an error value, which
// matters inside charon); on files and pipes with write().
inline bool write_all(int fd, const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  bool socket_fd = true;
  while (n) {
    ssize_t w = socket_fd ? send(fd, c, n, MSG_NOSIGNAL) : write(fd, c, n);
    if (w < 0 && errno == ENOTSOCK && socket_fd) {
      socket_fd = false;
      continue;
    }
    if (w <= 0 && errno != EINTR) return false;
    if (w > 0) c += w, n -= static_cast<size_t>(w);
  }
  return true;
}

inline bool write_all(int fd, const std::string& s) {
  return write_all(fd, s.data(), s.size());
}

// Reads exactly n bytes; false on EOF or error.
inline bool read_all(int fd, void* p, size_t n) {
  char* c = static_cast<char*>(p);
  while (n) {
    ssize_t r = read(fd, c, n);
    if (r == 0 || (r < 0 && errno != EINTR)) return false;
    if (r > 0) c += r, n -= static_cast<size_t>(r);
  }
  return true;
}

}  // namespace elastic
