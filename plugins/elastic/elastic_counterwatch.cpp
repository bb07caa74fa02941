#include "elastic_counterwatch.h"

#include <atomic>
#include <cstring>
#include <optional>
#include <unordered_set>

#include "elastic/xfrm_watch.h"
#include "elastic_store.hpp"

namespace xfrm = elastic::xfrm;

struct elastic_counterwatch_t {
  elastic_store_t* store;
  uint32_t packets, ticks;
  elastic_counter_cb_t cb;
  void* data;
  std::optional<xfrm::XfrmWatch> watch;
  std::unordered_set<xfrm::SaId, xfrm::SaIdHash> tuned;  // thresholds set
  std::atomic<bool> stop{false};

  void on_event(const xfrm::AeEvent& ev) {
    if (ev.cause == xfrm::AeCause::Deleted || ev.cause == xfrm::AeCause::Expired) {
      tuned.erase(ev.info.id);
      watch->unwatch(ev.info.id);
      return;
    }
    const uint32_t uid = elastic::plugin::store_counter_event(store, ev.info);
    if (!uid) return;  // not an SA of a VPN owned here (passive copies send nothing)
    // First report of an owned SA: from now on every `packets` sequence numbers (the kernel's
    // default of 2 would report nearly every packet), and every `ticks` while it moves.
    if (tuned.insert(ev.info.id).second) (void)watch->watch(ev.info.id, packets, ticks);
    cb(data, uid);
  }
};

extern "C" {

elastic_counterwatch_t* elastic_counterwatch_create(elastic_store_t* store, uint32_t packets, uint32_t interval_ms,
                                                    elastic_counter_cb_t cb, void* data, char** err) {
  auto w = xfrm::XfrmWatch::open();
  if (!w) {
    *err = strdup(w.error().message.c_str());
    return nullptr;
  }
  auto* cw = new elastic_counterwatch_t;
  cw->store = store, cw->packets = packets, cw->ticks = xfrm::ms_to_ticks(interval_ms);
  cw->cb = cb, cw->data = data;
  cw->watch.emplace(std::move(*w));
  cw->watch->set_watch_all(true);
  return cw;
}

void elastic_counterwatch_run(elastic_counterwatch_t* cw) {
  while (!cw->stop) (void)cw->watch->wait(200, [cw](const xfrm::AeEvent& ev) { cw->on_event(ev); });
}

void elastic_counterwatch_stop(elastic_counterwatch_t* cw) {
  cw->stop = true;
}

void elastic_counterwatch_destroy(elastic_counterwatch_t* cw) {
  delete cw;
}

}  // extern "C"
