// The optional link to the local elastic-syncd: a Membership frame (type 5, body
// "epoch=N live=sg1,sg2") on connect and on every view change. Reconnects with backoff.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>

namespace elastic::hb {

class SyncdLink {
 public:
  SyncdLink(boost::asio::io_context& io, std::string path);
  SyncdLink(const SyncdLink&) = delete;
  SyncdLink& operator=(const SyncdLink&) = delete;
  ~SyncdLink();

  void start();
  void stop();
  // The current view; sent now if connected, else on the next connect.
  void update(const std::string& body);
  bool connected() const { return connected_; }

 private:
  void connect();
  void retry_later(const std::string& why);
  void flush();
  void read();

  boost::asio::io_context& io_;
  std::string path_;
  std::string body_;
  std::string out_;
  bool connected_ = false;
  bool writing_ = false;
  bool dirty_ = false;
  bool logged_ = false;
  unsigned gen_ = 0;
  std::chrono::milliseconds backoff_{100};
  boost::asio::steady_timer timer_;
  std::unique_ptr<boost::asio::local::stream_protocol::socket> sock_;
  std::array<char, 4096> in_{};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace elastic::hb
