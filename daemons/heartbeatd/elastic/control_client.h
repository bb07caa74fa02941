// Commands to the charon plugin's control socket, one at a time and in order, asynchronously:
// request = u32be length + "COMMAND ARGS"; answer = u32be length + "OK\n..." or "ERR msg\n".
// A socket that is absent or refuses is retried with backoff (50 ms doubling to 2 s) until it
// answers; an exchange that takes longer than the timeout is abandoned and retried.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>

namespace elastic::hb {

class ControlClient {
 public:
  // Called once per command with its answer ("OK\n..." or "ERR ...").
  using Done = std::function<void(const std::string& answer)>;

  ControlClient(boost::asio::io_context& io, std::string path,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;
  ~ControlClient();

  void send(std::string command, Done done = {});
  size_t pending() const { return queue_.size(); }
  void stop();

 private:
  struct Item {
    std::string command;
    Done done;
    int attempts = 0;
  };
  void next();
  void attempt();
  void fail(const std::string& why);
  void finish(std::string answer);

  boost::asio::io_context& io_;
  std::string path_;
  std::chrono::milliseconds timeout_;
  std::deque<Item> queue_;
  bool busy_ = false;
  unsigned gen_ = 0;  // attempt number
  bool stopped_ = false;
  std::chrono::milliseconds backoff_{50};
  boost::asio::steady_timer retry_;
  boost::asio::steady_timer deadline_;
  std::unique_ptr<boost::asio::local::stream_protocol::socket> sock_;
  std::string out_;
  unsigned char len_[4] = {};
  std::string in_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace elastic::hb
