// Bounded sets of connections (elastic.syncd.max_connections): a session holds a slot for its
// lifetime.
#pragma once

#include <cstddef>
#include <memory>

namespace elastic::sync {

// One place in a bounded set of connections: the count goes down when the holder goes. The
// counter is shared so that a session destroyed after the daemon (by the io_context) is safe.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(std::shared_ptr<size_t> count) : count_(std::move(count)) { ++*count_; }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  ~ConnectionSlot() { --*count_; }

 private:
  std::shared_ptr<size_t> count_;
};

}  // namespace elastic::sync
