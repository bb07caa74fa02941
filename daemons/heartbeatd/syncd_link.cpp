#include "elastic/syncd_link.h"

#include <boost/asio/write.hpp>

#include "elastic/log.h"
#include "elastic/sync_frame.h"

namespace elastic::hb {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

SyncdLink::SyncdLink(asio::io_context& io, std::string path) : io_(io), path_(std::move(path)), timer_(io) {}

SyncdLink::~SyncdLink() {
  stop();
}

void SyncdLink::start() {
  connect();
}

void SyncdLink::stop() {
  *alive_ = false;
  timer_.cancel();
  if (sock_) {
    boost::system::error_code ec;
    sock_->close(ec);
  }
}

void SyncdLink::update(const std::string& body) {
  body_ = body;
  dirty_ = true;
  flush();
}

void SyncdLink::connect() {
  sock_ = std::make_unique<stream::socket>(io_);
  const unsigned g = ++gen_;
  sock_->async_connect(stream::endpoint(path_), [this, g, alive = alive_](boost::system::error_code ec) {
    if (!*alive || g != gen_) return;
    if (ec) return retry_later("connect: " + ec.message());
    connected_ = true;
    logged_ = false;
    backoff_ = std::chrono::milliseconds(100);
    log::notice("connected to syncd at " + path_);
    dirty_ = true;
    read();
    flush();
  });
}

void SyncdLink::retry_later(const std::string& why) {
  // Once until it connects again (each retry with debug): syncd may simply not be up yet.
  log::write(logged_ ? log::Priority::debug : log::Priority::warning,
             "syncd socket " + path_ + ": " + why + " (retrying)");
  logged_ = true;
  connected_ = false;
  writing_ = false;
  ++gen_;  // callbacks of the old socket are ignored from now on
  boost::system::error_code ignored;
  sock_->close(ignored);
  timer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(5000));
  timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
    if (!ec && *alive) connect();
  });
}

void SyncdLink::flush() {
  if (!connected_ || writing_ || !dirty_ || body_.empty()) return;
  dirty_ = false;
  writing_ = true;
  out_ = sync::encode_frame(sync::FrameType::Membership, body_);
  asio::async_write(*sock_, asio::buffer(out_), [this, g = gen_, alive = alive_](boost::system::error_code ec, size_t) {
    if (!*alive || g != gen_) return;
    writing_ = false;
    if (ec) return retry_later("write: " + ec.message());
    flush();
  });
}

void SyncdLink::read() {
  // syncd sends nothing we need on this connection; reading notices when it goes away.
  sock_->async_read_some(asio::buffer(in_), [this, g = gen_, alive = alive_](boost::system::error_code ec, size_t) {
    if (!*alive || g != gen_) return;
    if (ec) return retry_later(ec == asio::error::eof ? "closed by syncd" : ec.message());
    read();
  });
}

}  // namespace elastic::hb
