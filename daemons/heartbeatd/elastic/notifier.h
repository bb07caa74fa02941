// Runs `elastic.heartbeat.notify` (for keepalived, monitoring) with "EVENT NODE EPOCH" on every
// change: posix_spawn, never waited for on the io_context; the exit is reaped through a pidfd.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

namespace elastic::hb {

class Notifier {
 public:
  Notifier(boost::asio::io_context& io, std::string exe) : io_(io), exe_(std::move(exe)) {}
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void run(const std::string& event, const std::string& node, uint64_t epoch);
  size_t running() const { return *running_; }

 private:
  boost::asio::io_context& io_;
  std::string exe_;
  std::shared_ptr<size_t> running_ = std::make_shared<size_t>(0);
};

}  // namespace elastic::hb
