#include "elasticctl_call.h"

#include <arpa/inet.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "elastic/parse_number.h"
#include "elastic/secure.h"
#include "elastic/sync_frame.h"
#include "elastic/unix_io.h"

namespace elastic::ctl {
namespace {

// A reply larger than this is refused before allocating (a list of 100,000 VPNs fits).
constexpr uint32_t kMaxReply = 64u << 20;

// Closes its descriptor on every path out.
struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

std::string io_error(const std::string& path, const char* what, int timeout_ms) {
  if (errno == EAGAIN || errno == EWOULDBLOCK)
    return "no answer from " + path + " within " + std::to_string(timeout_ms / 1000) + " s";
  return std::string(what) + " " + path + ": " + (errno ? std::strerror(errno) : "connection closed");
}

Reply decode_answer(std::string& answer, const std::string& path) {
  Reply rep;
  if (answer.rfind("OK\n", 0) == 0) {
    rep.ok = true;
    rep.payload = answer.substr(3);
  } else if (answer.rfind("ERR ", 0) == 0) {
    rep.payload = answer.substr(4);
    if (!rep.payload.empty() && rep.payload.back() == '\n') rep.payload.pop_back();
  } else {
    rep.payload = "no valid answer from " + path;
  }
  secure_wipe(answer);
  return rep;
}

}  // namespace

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "elasticctl: %s (see --help)\n", msg.c_str());
  return 2;
}

int fail(const std::string& msg) {
  std::fprintf(stderr, "elasticctl: %s\n", msg.c_str());
  return 1;
}

std::string connect_error(const std::string& path) {
  if (errno == ENAMETOOLONG)
    return "socket path " + path + " is longer than " + std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
           " bytes (a Unix socket path cannot be)";
  return "cannot connect to " + path + ": " + std::strerror(errno);
}

Reply call(const std::string& path, const std::string& line, const std::string& body, int timeout_ms) {
  Fd fd(unix_connect(path, timeout_ms));
  if (fd.fd < 0)
    return {false,
            connect_error(path) + (errno == ENAMETOOLONG ? "" : " (is charon running with the elastic plugin?)")};
  std::string req = line + "\n" + body;
  uint32_t len = htonl(static_cast<uint32_t>(req.size()));
  errno = 0;
  const bool sent = write_all(fd.fd, &len, 4) && write_all(fd.fd, req.data(), req.size());
  secure_wipe(req);
  // Read even if the write failed: a refusing server answers first and closes (EPIPE here).
  if (!read_all(fd.fd, &len, 4)) return {false, io_error(path, sent ? "reading from" : "writing to", timeout_ms)};
  if (ntohl(len) > kMaxReply)
    return {false, "refusing a reply of " + std::to_string(ntohl(len)) + " bytes from " + path + " (limit " +
                       std::to_string(kMaxReply) + ")"};
  std::string answer(ntohl(len), '\0');
  if (!read_all(fd.fd, answer.data(), answer.size())) {
    secure_wipe(answer);
    return {false, io_error(path, "reading from", timeout_ms)};
  }
  return decode_answer(answer, path);
}

Reply Control::call(const std::string& line, const std::string& body) const {
  if (node.empty()) return ctl::call(sock, line, body);
  std::string req = line + "\n" + body;
  Reply r = ctl::call(sock, "remote " + node, req, kRemoteTimeoutMs);
  secure_wipe(req);
  return r;
}

bool syncd_status(const std::string& path, std::string& text, std::string& err) {
  Fd fd(unix_connect(path, kTimeoutMs));
  if (fd.fd < 0) {
    err = connect_error(path) + (errno == ENAMETOOLONG ? "" : " (is elastic-syncd running?)");
    return false;
  }
  std::string req = sync::encode_frame(sync::FrameType::Status, "");
  sync::FrameDecoder dec;
  char buf[65536];
  bool ok = write_all(fd.fd, req.data(), req.size());
  for (bool none = true; ok;) {
    errno = 0;
    ssize_t n = read(fd.fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      err = io_error(path, "reading from", kTimeoutMs);
      return false;
    }
    if (n <= 0) break;
    dec.feed(buf, static_cast<size_t>(n));
    auto f = dec.next(none);
    if (none) continue;
    if (f && f->type == sync::FrameType::Status) {
      text = f->body;
      return true;
    }
    break;
  }
  err = "no status from " + path;
  return false;
}

std::optional<std::string> selector(const Args& a, std::string& err) {
  if (a.opt.count("--ike-id")) {
    auto v = parse_u64(a.opt.at("--ike-id"), "--ike-id", 1, UINT32_MAX);
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
  auto v = parse_u64(a.opt.at("--margin"), "--margin", 1, UINT32_MAX);
  if (!v) {
    err = v.error().message;
    return std::nullopt;
  }
  return " " + std::to_string(*v);
}

}  // namespace elastic::ctl
