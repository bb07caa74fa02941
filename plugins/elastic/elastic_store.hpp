// The store's C++-only entry points (for the plugin's C++ parts, e.g. the counter watcher).
#pragma once

#include "elastic/xfrm_types.h"
#include "elastic_store.h"

namespace elastic::plugin {

// A kernel counter report: merged (never backwards) into the context of the VPN owned here that
// the SA belongs to. Returns that VPN's IKE_SA uid, 0 if the SA is not an owned VPN's.
uint32_t store_counter_event(elastic_store_t* store, const xfrm::AeInfo& event);

}  // namespace elastic::plugin
