#include "elastic_synclink.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
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
  std::string node;
  elastic_store_t* store;
  elastic_replica_cb_t cb;
  elastic_request_cb_t request_cb;
  void* cb_data;
  // Routed control frames (requests out, answers out) waiting for the loop to write them, and the
  // answers awaited by callers of elastic_synclink_call (by request id).
  std::deque<std::string> outbox;
  std::map<uint64_t, std::optional<std::string>> pending;
  std::condition_variable answered;
  uint64_t next_request = 0;
  bool connected = false;
  std::atomic<int> callers{0};  // threads inside elastic_synclink_call: destroy waits for them
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

  void wake_loop() {
    char c = 1;
    (void)!write(wake[1], &c, 1);
  }

  void enqueue(std::string frame) {
    {
      std::lock_guard lock(mu);
      outbox.push_back(std::move(frame));
    }
    wake_loop();
  }

  // Writes the queued routed frames; false if the socket failed.
  bool flush(int fd) {
    std::deque<std::string> out;
    {
      std::lock_guard lock(mu);
      out.swap(outbox);
    }
    bool ok = true;
    for (auto& f : out) {
      ok = ok && elastic::write_all(fd, f);
      elastic::secure_wipe(f);
    }
    return ok;
  }

  // An answer for one of our requests: hand it to the waiting caller (unknown ids: timed out).
  void answer(uint64_t id, std::string_view payload) {
    std::lock_guard lock(mu);
    if (auto it = pending.find(id); it != pending.end()) {
      it->second.emplace(payload);
      answered.notify_all();
    }
  }

  // The link to syncd went down: requests in flight get no answer through it.
  void disconnected() {
    std::lock_guard lock(mu);
    connected = false;
    for (auto& [id, a] : pending)
      if (!a) a.emplace("ERR the link to elastic-syncd was lost before the answer came\n");
    answered.notify_all();
    for (auto& f : outbox) elastic::secure_wipe(f);
    outbox.clear();
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
      if (f->type == FrameType::Data) {
        if (auto d = elastic::sync::split_data(f->body)) cb(cb_data, d->second.data(), d->second.size());
      } else if (f->type == FrameType::Request || f->type == FrameType::Response) {
        route(f->type, f->body);
      }
      elastic::secure_wipe(f->body);
    }
    return true;
  }

  void route(FrameType type, std::string_view body) {
    auto r = elastic::sync::parse_routed(body);
    if (!r || r->dst != node) return;  // syncd delivers only ours: anything else is ignored
    if (type == FrameType::Response)
      answer(r->id, r->payload);
    else
      request_cb(cb_data, r->id, r->src.c_str(), r->payload.data(), r->payload.size());
  }

  void serve(int fd) {
    FrameDecoder dec;
    // Subscribe: syncd sends every replica it holds, then each new one.
    if (!elastic::write_all(fd, elastic::sync::encode_frame(FrameType::Hello, "plugin"))) return;
    {
      std::lock_guard lock(mu);
      all = true;
      connected = true;
    }
    while (!stop) {
      if (!publish(fd) || !flush(fd)) return;
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

elastic_synclink_t* elastic_synclink_create(const char* path, const char* node, elastic_store_t* store,
                                            elastic_replica_cb_t cb, elastic_request_cb_t request_cb, void* cb_data) {
  auto* l = new elastic_synclink_t;
  l->path = path;
  l->node = node;
  l->store = store;
  l->cb = cb;
  l->request_cb = request_cb;
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
    l->disconnected();
  }
}

void elastic_synclink_mark_counters(elastic_synclink_t* l, uint32_t ike_uid) {
  l->mark(ike_uid, true);
}

char* elastic_synclink_call(elastic_synclink_t* l, const char* node, const void* request, size_t len, int timeout_ms,
                            void** answer, size_t* answer_len) {
  if (!node[0] || std::strlen(node) > 255) return strdup("a member name has 1 to 255 characters");
  if (len + 10 + 2 * 255 > elastic::sync::kMaxFrameBody) return strdup("the request is larger than a sync frame");
  struct Inside {  // counted while inside, so that destroy never frees what a caller still uses
    std::atomic<int>& n;
    explicit Inside(std::atomic<int>& c) : n(c) { ++n; }
    ~Inside() { --n; }
  } inside(l->callers);
  std::unique_lock lock(l->mu);
  if (!l->connected) return strdup("not connected to elastic-syncd (is it running?)");
  const uint64_t id = ++l->next_request;
  auto& slot = l->pending[id];
  l->outbox.push_back(elastic::sync::encode_routed(FrameType::Request, id, l->node, node,
                                                   std::string_view(static_cast<const char*>(request), len)));
  lock.unlock();
  l->wake_loop();
  lock.lock();
  const bool got = l->answered.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return slot.has_value(); });
  std::string text = got ? std::move(*slot) : std::string();
  l->pending.erase(id);
  lock.unlock();
  if (!got) {
    char* err = nullptr;
    if (asprintf(&err,
                 "no answer from member '%s' within %d ms (unknown member, link down, or its charon "
                 "has no elastic plugin attached to syncd)",
                 node, timeout_ms) < 0)
      err = nullptr;
    return err;
  }
  *answer_len = text.size();
  *answer = malloc(text.size() + 1);
  std::memcpy(*answer, text.data(), text.size());
  static_cast<char*>(*answer)[text.size()] = '\0';
  elastic::secure_wipe(text);
  return nullptr;
}

void elastic_synclink_respond(elastic_synclink_t* l, uint64_t id, const char* to, const void* answer, size_t len) {
  std::string_view a(static_cast<const char*>(answer), len);
  // A frame syncd would refuse (and close the link for): say so instead (e.g. a huge list).
  const std::string too_large = "ERR the answer (" + std::to_string(len) +
                                " bytes) is larger than a sync frame; run the command on that member\n";
  if (len + 10 + 2 * 255 > elastic::sync::kMaxFrameBody) a = too_large;
  l->enqueue(elastic::sync::encode_routed(FrameType::Response, id, l->node, to, a));
}

void elastic_synclink_stop(elastic_synclink_t* l) {
  l->stop = true;
  char c = 1;
  (void)!write(l->wake[1], &c, 1);
}

void elastic_synclink_destroy(elastic_synclink_t* l) {
  if (!l) return;
  l->disconnected();  // callers still waiting get their answer (an error) now
  while (l->callers.load()) usleep(1000);
  elastic_store_set_observer(l->store, nullptr, nullptr);
  close(l->wake[0]);
  close(l->wake[1]);
  delete l;
}

}  // extern "C"
