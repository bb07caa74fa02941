#include "elastic/status_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>

#include "elastic/unix_io.h"

namespace elastic::hb {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

namespace {

// One request per connection, bounded in size and time.
struct Session : std::enable_shared_from_this<Session> {
  Session(asio::io_context& io, stream::socket s) : sock(std::move(s)), timer(io), buf(256) {}
  void start(const StatusServer::Handler& handler, std::shared_ptr<bool> alive) {
    timer.expires_after(std::chrono::seconds(2));
    timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return;
      boost::system::error_code ignored;
      self->sock.close(ignored);
    });
    asio::async_read_until(
        sock, buf, '\n', [self = shared_from_this(), handler, alive](boost::system::error_code ec, size_t n) {
          if (ec || !*alive) {
            self->timer.cancel();
            return;
          }
          std::string line(asio::buffers_begin(self->buf.data()), asio::buffers_begin(self->buf.data()) + n - 1);
          if (!line.empty() && line.back() == '\r') line.pop_back();
          self->out = handler(line);
          asio::async_write(self->sock, asio::buffer(self->out), [self](boost::system::error_code, size_t) {
            self->timer.cancel();
            boost::system::error_code ignored;
            self->sock.close(ignored);
          });
        });
  }
  stream::socket sock;
  asio::steady_timer timer;
  asio::streambuf buf;
  std::string out;
};

}  // namespace

StatusServer::StatusServer(asio::io_context& io, std::string path, Handler handler)
    : io_(io), path_(std::move(path)), handler_(std::move(handler)), acceptor_(io) {}

StatusServer::~StatusServer() {
  stop();
}

Result<void> StatusServer::start() {
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path_.c_str());  // a stale socket
  boost::system::error_code ec;
  const mode_t old = ::umask(0177);  // created 0600
  acceptor_.open(stream(), ec);
  if (!ec) acceptor_.bind(stream::endpoint(path_), ec);
  ::umask(old);
  if (!ec) acceptor_.listen(16, ec);
  if (ec) return make_error("status socket " + path_ + ": " + ec.message());
  ::chmod(path_.c_str(), 0600);
  accept();
  return {};
}

void StatusServer::stop() {
  if (!*alive_) return;
  *alive_ = false;
  boost::system::error_code ec;
  if (acceptor_.is_open()) {
    acceptor_.close(ec);
    ::unlink(path_.c_str());
  }
}

void StatusServer::accept() {
  acceptor_.async_accept([this, alive = alive_](boost::system::error_code ec, stream::socket s) {
    if (!*alive) return;
    if (!ec) std::make_shared<Session>(io_, std::move(s))->start(handler_, alive);
    accept();
  });
}

Result<std::string> query_status(const std::string& path, const std::string& request) {
  const int fd = unix_connect(path);
  if (fd < 0) return make_error(path + ": " + std::strerror(errno));
  const std::string line = request + "\n";
  if (!write_all(fd, line.data(), line.size())) {
    ::close(fd);
    return make_error(path + ": write failed");
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace elastic::hb
