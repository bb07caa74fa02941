// The status socket (mode 0600): a client writes one line ("status" or "metrics") and gets the
// text answer, then the connection is closed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <functional>
#include <memory>
#include <string>

#include "elastic/result.h"

namespace elastic::hb {

class StatusServer {
 public:
  using Handler = std::function<std::string(const std::string& request)>;
  StatusServer(boost::asio::io_context& io, std::string path, Handler handler);
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;
  ~StatusServer();

  Result<void> start();
  void stop();

 private:
  void accept();

  boost::asio::io_context& io_;
  std::string path_;
  Handler handler_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Client side for `elastic-heartbeatd --status/--metrics` (blocking; not used by the daemon).
Result<std::string> query_status(const std::string& path, const std::string& request);

}  // namespace elastic::hb
