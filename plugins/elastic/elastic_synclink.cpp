#include "elastic_synclink.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <set>
#include <string>

#include "elastic/secure.h"
#include "elastic/sync_frame.h"
#include "elastic/unix_io.h"
#include "elastic_envelope.h"

namespace {

using elastic::sync::FrameDecoder;
using elastic::sync::FrameType;

}  // namespace

struct elastic_synclink_t {
  std::string path;
  elastic_store_t* store;
  elastic_replica_cb_t cb;
  void* cb_data;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::set<uint32_t> dirty;     // owned VPNs changed since last published
  std::set<uint32_t> counters;  // owned VPNs whose kernel counters moved since last published
  bool all = true;              // publish everything (after a (re)connect)
  int wake[2] = {-1, -1};       // self-pipe: the store's observer wakes the loop
  uint64_t seq = 0;

  void mark(uint32_t uid, bool counters_only = false) {
    bool first;
    {
      std::lock_guard lock(mu);
      first = dirty.empty() && counters.empty();
      (counters_only ? counters : dirty).insert(uid);
    }
    char c = 1;
    if (first) (void)!write(wake[1], &c, 1);  // one wake-up per batch
  }

  // Sends one envelope made by `make` (the store's export or counters); false if the socket failed.
  template <typename Make>
  bool send_envelope(int fd, uint32_t uid, Make make) {
    unsigned char* out = nullptr;
    size_t len = 0;
    char* err = make(store, uid, &out, &len);
    if (err) {  // gone meanwhile, or not complete yet: nothing to publish
      free(err);
      return true;
    }
    std::string frame = elastic::sync::encode_data(++seq, std::string_view(reinterpret_cast<char*>(out), len));
    elastic::secure_wipe(out, len);
    free(out);
    bool ok = elastic::write_all(fd, frame);
    elastic::secure_wipe(frame);
    return ok;
  }

  // Publishes what changed (or everything after a connect); false if the socket failed.
  bool publish(int fd) {
    std::set<uint32_t> todo, moved;
    bool everything;
    {
      std::lock_guard lock(mu);
      todo.swap(dirty);
      moved.swap(counters);
      everything = all;
      all = false;
    }
    // VPNs that ended here: their deletes go first (queued by the store).
    for (;;) {
      unsigned char* out = nullptr;
      size_t len = 0;
      if (!elastic_store_take_delete(store, &out, &len)) break;
      std::string frame = elastic::sync::encode_data(++seq, std::string_view(reinterpret_cast<char*>(out), len));
      free(out);
      if (!elastic::write_all(fd, frame)) return false;
    }
    todo.erase(0);  // 0 only means "deletes pending"
    if (everything) {
      uint32_t* ids = nullptr;
      size_t n = elastic_store_owned(store, &ids);
      todo.insert(ids, ids + n);
      free(ids);
    }
    for (uint32_t uid : todo)
      if (!send_envelope(fd, uid, elastic_store_export)) return false;
    for (uint32_t uid : moved)  // a full context sent just now carries the counters already
      if (!todo.count(uid) && !send_envelope(fd, uid, elastic_store_counters)) return false;
    return true;
  }

  // Reads what syncd sent: replicas go to the callback, acks are dropped.
  bool receive(int fd, FrameDecoder& dec) {
    char buf[65536];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    dec.feed(buf, static_cast<size_t>(n));
    elastic::secure_wipe(buf, static_cast<size_t>(n));
    for (bool none = false;;) {
      auto f = dec.next(none);
      if (none) break;
      if (!f) return false;
      if (f->type != FrameType::Data) continue;
      if (auto d = elastic::sync::split_data(f->body)) cb(cb_data, d->second.data(), d->second.size());
      elastic::secure_wipe(f->body);
    }
    return true;
  }

  void serve(int fd) {
    FrameDecoder dec;
    // Subscribe: syncd sends every replica it holds, then each new one.
    if (!elastic::write_all(fd, elastic::sync::encode_frame(FrameType::Hello, "plugin"))) return;
    {
      std::lock_guard lock(mu);
      all = true;
    }
    while (!stop) {
      if (!publish(fd)) return;
      pollfd p[2] = {{fd, POLLIN, 0}, {wake[0], POLLIN, 0}};
      if (poll(p, 2, 200) < 0 && errno != EINTR) return;
      if (p[1].revents & POLLIN) {
        char drain[64];
        (void)!read(wake[0], drain, sizeof drain);
      }
      if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !receive(fd, dec)) return;
    }
  }
};

extern "C" {

static void observe(void* data, uint32_t uid) {
  static_cast<elastic_synclink_t*>(data)->mark(uid);
}

elastic_synclink_t* elastic_synclink_create(const char* path, elastic_store_t* store, elastic_replica_cb_t cb,
                                            void* cb_data) {
  auto* l = new elastic_synclink_t;
  l->path = path;
  l->store = store;
  l->cb = cb;
  l->cb_data = cb_data;
  if (pipe2(l->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    delete l;
    return nullptr;
  }
  elastic_store_set_observer(store, observe, l);
  return l;
}

void elastic_synclink_run(elastic_synclink_t* l) {
  while (!l->stop) {
    int fd = elastic::unix_connect(l->path);
    if (fd < 0) {
      for (int i = 0; i < 10 && !l->stop; ++i) usleep(100000);  // retry every second
      continue;
    }
    l->serve(fd);
    close(fd);
  }
}

void elastic_synclink_mark_counters(elastic_synclink_t* l, uint32_t ike_uid) {
  l->mark(ike_uid, true);
}

void elastic_synclink_stop(elastic_synclink_t* l) {
  l->stop = true;
  char c = 1;
  (void)!write(l->wake[1], &c, 1);
}

void elastic_synclink_destroy(elastic_synclink_t* l) {
  if (!l) return;
  elastic_store_set_observer(l->store, nullptr, nullptr);
  close(l->wake[0]);
  close(l->wake[1]);
  delete l;
}

}  // extern "C"
