#include "elastic/control_client.h"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "elastic/log.h"

namespace elastic::hb {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

constexpr uint32_t kMaxAnswer = 1u << 20;

ControlClient::ControlClient(asio::io_context& io, std::string path, std::chrono::milliseconds timeout)
    : io_(io), path_(std::move(path)), timeout_(timeout), retry_(io), deadline_(io) {}

ControlClient::~ControlClient() {
  stop();
}

void ControlClient::stop() {
  stopped_ = true;
  *alive_ = false;
  retry_.cancel();
  deadline_.cancel();
  if (sock_) {
    boost::system::error_code ec;
    sock_->close(ec);
  }
}

void ControlClient::send(std::string command, Done done) {
  queue_.push_back({std::move(command), std::move(done)});
  next();
}

void ControlClient::next() {
  if (busy_ || stopped_ || queue_.empty()) return;
  busy_ = true;
  attempt();
}

void ControlClient::attempt() {
  Item& item = queue_.front();
  ++item.attempts;
  sock_ = std::make_unique<stream::socket>(io_);
  const std::string& cmd = item.command;
  out_.clear();
  const auto n = static_cast<uint32_t>(cmd.size());
  for (int i = 3; i >= 0; --i) out_.push_back(static_cast<char>(n >> (8 * i)));
  out_ += cmd;
  deadline_.expires_after(timeout_);
  const unsigned g = ++gen_;
  deadline_.async_wait([this, g, alive = alive_](boost::system::error_code ec) {
    // g: a deadline that fired just as its exchange finished must not close the next one's socket
    if (ec || !*alive || g != gen_) return;
    boost::system::error_code ignored;
    if (sock_) sock_->close(ignored);  // the pending operation completes with operation_aborted
  });
  auto alive = alive_;
  sock_->async_connect(stream::endpoint(path_), [this, alive](boost::system::error_code ec) {
    if (!*alive) return;
    if (ec) return fail("connect: " + ec.message());
    asio::async_write(*sock_, asio::buffer(out_), [this, alive](boost::system::error_code ec, size_t) {
      if (!*alive) return;
      if (ec) return fail("write: " + ec.message());
      asio::async_read(*sock_, asio::buffer(len_), [this, alive](boost::system::error_code ec, size_t) {
        if (!*alive) return;
        if (ec) return fail("read: " + ec.message());
        const uint32_t len = (uint32_t{len_[0]} << 24) | (uint32_t{len_[1]} << 16) | (uint32_t{len_[2]} << 8) | len_[3];
        if (len > kMaxAnswer) return fail("answer of " + std::to_string(len) + " bytes");
        in_.assign(len, '\0');
        asio::async_read(*sock_, asio::buffer(in_), [this, alive](boost::system::error_code ec, size_t) {
          if (!*alive) return;
          if (ec) return fail("read: " + ec.message());
          finish(std::move(in_));
        });
      });
    });
  });
}

void ControlClient::fail(const std::string& why) {
  deadline_.cancel();
  boost::system::error_code ignored;
  sock_->close(ignored);
  Item& item = queue_.front();
  // The first and every 20th attempt; each one with debug.
  const auto priority = item.attempts == 1 || item.attempts % 20 == 0 ? log::Priority::warning : log::Priority::debug;
  log::write(priority, "plugin socket " + path_ + ": '" + item.command + "' not delivered (" + why +
                           "), retrying (attempt " + std::to_string(item.attempts) + ")");
  retry_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(2000));
  retry_.async_wait([this, alive = alive_](boost::system::error_code ec) {
    if (ec || !*alive) return;
    attempt();
  });
}

void ControlClient::finish(std::string answer) {
  deadline_.cancel();
  boost::system::error_code ignored;
  sock_->close(ignored);
  backoff_ = std::chrono::milliseconds(50);
  Item item = std::move(queue_.front());
  queue_.pop_front();
  busy_ = false;
  if (item.done) item.done(answer);
  next();
}

}  // namespace elastic::hb
