#include "elastic_counters.hpp"

#include <sys/socket.h>

#include <cstring>

#include "elastic/xfrm_replay.h"

namespace elastic::plugin {
namespace {

using xfrm::SaId;

SaId sa_id(const std::string& daddr, uint32_t spi, v1::ChildProtocol proto, const v1::Mark& mark) {
  SaId id;
  id.family = daddr.size() == 16 ? AF_INET6 : AF_INET;
  std::memcpy(id.daddr.data(), daddr.data(), std::min<size_t>(daddr.size(), 16));
  id.spi = spi;
  id.proto = static_cast<uint8_t>(proto);
  id.mark_value = mark.value();
  id.mark_mask = mark.mask();
  return id;
}

SaId out_id(const v1::IkeSa& ike, const v1::ChildSa& c) {
  return sa_id(ike.remote().address(), c.spi_out(), c.protocol(), c.mark_out());
}
SaId in_id(const v1::IkeSa& ike, const v1::ChildSa& c) {
  return sa_id(ike.local().address(), c.spi_in(), c.protocol(), c.mark_in());
}

}  // namespace

void to_proto(const xfrm::ReplayState& r, v1::ReplayState& p) {
  p.set_oseq(r.oseq), p.set_oseq_hi(r.oseq_hi), p.set_seq(r.seq), p.set_seq_hi(r.seq_hi);
  p.set_window(r.window);
  p.clear_bitmap();
  for (auto w : r.bitmap) p.add_bitmap(w);
}

std::string read_counters(v1::VpnContext& ctx) {
  auto rep = xfrm::XfrmReplay::open();
  if (!rep) return rep.error().message;
  auto* ike = ctx.mutable_ike_sa();
  for (auto& c : *ike->mutable_child_sas()) {
    auto out = rep->read(out_id(*ike, c));
    auto in = rep->read(in_id(*ike, c));
    if (!out) return out.error().message;
    if (!in) return in.error().message;
    to_proto(out->replay, *c.mutable_replay_out());
    to_proto(in->replay, *c.mutable_replay_in());
    c.mutable_usage()->set_bytes_out(out->lifetime.bytes);
    c.mutable_usage()->set_packets_out(out->lifetime.packets);
    c.mutable_usage()->set_bytes_in(in->lifetime.bytes);
    c.mutable_usage()->set_packets_in(in->lifetime.packets);
  }
  return "";
}

std::string write_counters(const v1::IkeSa& ike, const v1::ChildSa& c, uint64_t margin) {
  auto rep = xfrm::XfrmReplay::open();
  if (!rep) return rep.error().message;
  // Outbound: never reuse a number the previous owner may have sent. The peer has seen up to the
  // context's oseq: the jump it must follow is the margin (ESN: below 2^31, RFC 4303 A2).
  auto out = rep->read(out_id(ike, c));
  if (!out) return out.error().message;
  if (out->esn && margin >= (uint64_t{1} << 31)) return "margin " + std::to_string(margin) + " too large for ESN";
  uint64_t want;
  if (__builtin_add_overflow(oseq64(c.replay_out()), margin, &want))
    return "outbound sequence number " + std::to_string(oseq64(c.replay_out())) + " + margin " +
           std::to_string(margin) + " overflows";
  if (want > out->replay.oseq64()) {
    xfrm::ReplayState st = out->replay;
    st.oseq = static_cast<uint32_t>(want);
    st.oseq_hi = st.esn_form ? static_cast<uint32_t>(want >> 32) : 0;
    if (!st.esn_form && (want >> 32)) return "outbound sequence number " + std::to_string(want) + " needs ESN";
    if (auto r = rep->set(out->id, st); !r) return r.error().message;
  }
  // Inbound: everything the previous owner accepted counts as seen here too.
  auto in = rep->read(in_id(ike, c));
  if (!in) return in.error().message;
  xfrm::ReplayState st = in->replay;
  if (seq64(c.replay_in()) > st.seq64()) {
    st.seq = c.replay_in().seq();
    st.seq_hi = st.esn_form ? c.replay_in().seq_hi() : 0;
    const bool same = static_cast<size_t>(c.replay_in().bitmap_size()) == st.bitmap.size();
    for (size_t i = 0; i < st.bitmap.size(); ++i)
      st.bitmap[i] = same ? c.replay_in().bitmap(static_cast<int>(i)) : 0xffffffffu;  // unsure: treat as seen
    if (auto r = rep->set(in->id, st); !r) return r.error().message;
  }
  return "";
}

}  // namespace elastic::plugin
