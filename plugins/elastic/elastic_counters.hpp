// ESP counters of a context's CHILD_SAs, read from and written to the kernel (kernel/ helper).
#pragma once

#include <string>

#include "elastic.pb.h"
#include "elastic/xfrm_types.h"

namespace elastic::plugin {

inline uint64_t oseq64(const v1::ReplayState& r) {
  return (uint64_t{r.oseq_hi()} << 32) | r.oseq();
}
inline uint64_t seq64(const v1::ReplayState& r) {
  return (uint64_t{r.seq_hi()} << 32) | r.seq();
}

// The kernel's replay state as the context keeps it.
void to_proto(const xfrm::ReplayState& r, v1::ReplayState& p);

// Fills replay_in/replay_out and usage of every CHILD_SA from the kernel. "" or an error.
std::string read_counters(v1::VpnContext& ctx);

// Sets the kernel SAs of `child` to the context's counters: outbound oseq + margin, inbound
// seq/bitmap as given (the kernel helper refuses any backwards move). "" or an error.
std::string write_counters(const v1::IkeSa& ike, const v1::ChildSa& child, uint64_t margin);

}  // namespace elastic::plugin
