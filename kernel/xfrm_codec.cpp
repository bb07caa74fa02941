#include "elastic/xfrm_codec.h"

#include <linux/xfrm.h>
#include <netlink/attr.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace elastic::xfrm {
namespace {

xfrm_usersa_id to_usersa_id(const SaId& id) {
  xfrm_usersa_id u{};
  std::memcpy(&u.daddr, id.daddr.data(), sizeof u.daddr);
  u.spi = htonl(id.spi);
  u.family = static_cast<uint16_t>(id.family);
  u.proto = id.proto;
  return u;
}

SaId from_kernel(const xfrm_address_t& daddr, uint32_t spi_be, int family, uint8_t proto) {
  SaId id;
  id.family = family;
  std::memcpy(id.daddr.data(), &daddr, family == AF_INET ? 4 : 16);
  id.spi = ntohl(spi_be);
  id.proto = proto;
  return id;
}

void put_mark(nl_msg* msg, const SaId& id) {
  if (!id.mark_value && !id.mark_mask) return;
  xfrm_mark m{id.mark_value, id.mark_mask};
  nla_put(msg, XFRMA_MARK, sizeof m, &m);
}

void read_mark(nlattr* attr, SaId& id) {
  if (!attr || nla_len(attr) < static_cast<int>(sizeof(xfrm_mark))) return;
  xfrm_mark m;
  std::memcpy(&m, nla_data(attr), sizeof m);
  id.mark_value = m.v;
  id.mark_mask = m.m;
}

NlMsg new_ae_msg(const SaId& id, uint32_t reqid, uint32_t ae_flags) {
  NlMsg msg(nlmsg_alloc_simple(XFRM_MSG_NEWAE, NLM_F_REQUEST | NLM_F_REPLACE | NLM_F_ACK));
  xfrm_aevent_id ae{};
  ae.sa_id = to_usersa_id(id);
  ae.flags = ae_flags;
  ae.reqid = reqid;
  nlmsg_append(msg.get(), &ae, sizeof ae, NLMSG_ALIGNTO);
  put_mark(msg.get(), id);
  return msg;
}

Result<void> read_replay(nlattr** tb, ReplayState& r) {
  if (auto* a = tb[XFRMA_REPLAY_ESN_VAL]) {
    if (nla_len(a) < static_cast<int>(sizeof(xfrm_replay_state_esn)))
      return make_error("kernel sent a short XFRMA_REPLAY_ESN_VAL");
    xfrm_replay_state_esn e;
    std::memcpy(&e, nla_data(a), sizeof e);
    if (e.bmp_len > kMaxBitmapWords || nla_len(a) < static_cast<int>(sizeof e + e.bmp_len * sizeof(uint32_t)))
      return make_error("kernel sent an ESN replay state with a bad bitmap length");
    r.esn_form = true;
    r.oseq = e.oseq, r.seq = e.seq, r.oseq_hi = e.oseq_hi, r.seq_hi = e.seq_hi;
    r.window = e.replay_window;
    r.bitmap.resize(e.bmp_len);
    std::memcpy(r.bitmap.data(), static_cast<const char*>(nla_data(a)) + sizeof e, e.bmp_len * sizeof(uint32_t));
    return {};
  }
  if (auto* a = tb[XFRMA_REPLAY_VAL]) {
    if (nla_len(a) < static_cast<int>(sizeof(xfrm_replay_state)))
      return make_error("kernel sent a short XFRMA_REPLAY_VAL");
    xfrm_replay_state l;
    std::memcpy(&l, nla_data(a), sizeof l);
    r.esn_form = false;
    r.oseq = l.oseq, r.seq = l.seq;
    r.bitmap = {l.bitmap};
    return {};
  }
  return make_error("kernel sent no replay state");
}

uint32_t get_u32(nlattr* a) {
  return a && nla_len(a) >= 4 ? nla_get_u32(a) : 0;
}

}  // namespace

NlMsg build_get_ae(const SaId& id) {
  NlMsg msg(nlmsg_alloc_simple(XFRM_MSG_GETAE, NLM_F_REQUEST));
  xfrm_aevent_id ae{};
  ae.sa_id = to_usersa_id(id);
  ae.flags = XFRM_AE_RVAL | XFRM_AE_LVAL | XFRM_AE_RTHR | XFRM_AE_ETHR;
  nlmsg_append(msg.get(), &ae, sizeof ae, NLMSG_ALIGNTO);
  put_mark(msg.get(), id);
  return msg;
}

NlMsg build_get_sa(const SaId& id) {
  NlMsg msg(nlmsg_alloc_simple(XFRM_MSG_GETSA, NLM_F_REQUEST));
  xfrm_usersa_id u = to_usersa_id(id);
  nlmsg_append(msg.get(), &u, sizeof u, NLMSG_ALIGNTO);
  put_mark(msg.get(), id);
  return msg;
}

NlMsg build_set_replay(const SaId& id, uint32_t reqid, const ReplayState& r) {
  NlMsg msg = new_ae_msg(id, reqid, XFRM_AE_RVAL);
  if (r.esn_form) {
    std::vector<uint8_t> buf(sizeof(xfrm_replay_state_esn) + r.bitmap.size() * sizeof(uint32_t));
    xfrm_replay_state_esn e{};
    e.bmp_len = static_cast<unsigned>(r.bitmap.size());
    e.oseq = r.oseq, e.seq = r.seq, e.oseq_hi = r.oseq_hi, e.seq_hi = r.seq_hi;
    e.replay_window = r.window;
    std::memcpy(buf.data(), &e, sizeof e);
    std::memcpy(buf.data() + sizeof e, r.bitmap.data(), r.bitmap.size() * sizeof(uint32_t));
    nla_put(msg.get(), XFRMA_REPLAY_ESN_VAL, static_cast<int>(buf.size()), buf.data());
  } else {
    xfrm_replay_state l{r.oseq, r.seq, r.bitmap.empty() ? 0u : r.bitmap[0]};
    nla_put(msg.get(), XFRMA_REPLAY_VAL, sizeof l, &l);
  }
  return msg;
}

NlMsg build_set_thresholds(const SaId& id, uint32_t packets, uint32_t timer_ticks) {
  NlMsg msg = new_ae_msg(id, 0, (packets ? XFRM_AE_RTHR : 0) | (timer_ticks ? XFRM_AE_ETHR : 0));
  if (packets) nla_put_u32(msg.get(), XFRMA_REPLAY_THRESH, packets);
  if (timer_ticks) nla_put_u32(msg.get(), XFRMA_ETIMER_THRESH, timer_ticks);
  return msg;
}

Result<AeInfo> parse_ae(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type != XFRM_MSG_NEWAE) return make_error("not an XFRM_MSG_NEWAE message");
  nlattr* tb[XFRMA_MAX + 1];
  if (nlmsg_parse(const_cast<nlmsghdr*>(nlh), sizeof(xfrm_aevent_id), tb, XFRMA_MAX, nullptr) < 0)
    return make_error("malformed XFRM_MSG_NEWAE message");
  const auto* ae = static_cast<const xfrm_aevent_id*>(nlmsg_data(nlh));
  AeInfo info;
  info.id = from_kernel(ae->sa_id.daddr, ae->sa_id.spi, ae->sa_id.family, ae->sa_id.proto);
  read_mark(tb[XFRMA_MARK], info.id);
  info.reqid = ae->reqid;
  info.flags = ae->flags;
  if (auto ok = read_replay(tb, info.replay); !ok) return ok.error();
  if (auto* a = tb[XFRMA_LTIME_VAL]; a && nla_len(a) >= static_cast<int>(sizeof(xfrm_lifetime_cur))) {
    xfrm_lifetime_cur lt;
    std::memcpy(&lt, nla_data(a), sizeof lt);
    info.lifetime = {lt.bytes, lt.packets, lt.add_time, lt.use_time};
  }
  info.replay_thresh = get_u32(tb[XFRMA_REPLAY_THRESH]);
  info.timer_thresh = get_u32(tb[XFRMA_ETIMER_THRESH]);
  return info;
}

Result<AeInfo> parse_sa(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type != XFRM_MSG_NEWSA) return make_error("not an XFRM_MSG_NEWSA message");
  nlattr* tb[XFRMA_MAX + 1];
  if (nlmsg_parse(const_cast<nlmsghdr*>(nlh), sizeof(xfrm_usersa_info), tb, XFRMA_MAX, nullptr) < 0)
    return make_error("malformed XFRM_MSG_NEWSA message");
  const auto* sa = static_cast<const xfrm_usersa_info*>(nlmsg_data(nlh));
  AeInfo info;
  info.id = from_kernel(sa->id.daddr, sa->id.spi, sa->family, sa->id.proto);
  read_mark(tb[XFRMA_MARK], info.id);
  info.reqid = sa->reqid;
  info.esn = (sa->flags & XFRM_STATE_ESN) != 0;
  if (auto ok = read_replay(tb, info.replay); !ok) return ok.error();
  info.lifetime = {sa->curlft.bytes, sa->curlft.packets, sa->curlft.add_time, sa->curlft.use_time};
  info.replay_thresh = get_u32(tb[XFRMA_REPLAY_THRESH]);
  info.timer_thresh = get_u32(tb[XFRMA_ETIMER_THRESH]);
  return info;
}

Result<SaId> parse_deleted(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type != XFRM_MSG_DELSA) return make_error("not an XFRM_MSG_DELSA message");
  nlattr* tb[XFRMA_MAX + 1];
  if (nlmsg_parse(const_cast<nlmsghdr*>(nlh), sizeof(xfrm_usersa_id), tb, XFRMA_MAX, nullptr) < 0)
    return make_error("malformed XFRM_MSG_DELSA message");
  const auto* u = static_cast<const xfrm_usersa_id*>(nlmsg_data(nlh));
  SaId id = from_kernel(u->daddr, u->spi, u->family, u->proto);
  read_mark(tb[XFRMA_MARK], id);
  return id;
}

Result<SaId> parse_expired(const nlmsghdr* nlh, bool& hard) {
  if (nlh->nlmsg_type != XFRM_MSG_EXPIRE) return make_error("not an XFRM_MSG_EXPIRE message");
  nlattr* tb[XFRMA_MAX + 1];
  if (nlmsg_parse(const_cast<nlmsghdr*>(nlh), sizeof(xfrm_user_expire), tb, XFRMA_MAX, nullptr) < 0)
    return make_error("malformed XFRM_MSG_EXPIRE message");
  const auto* e = static_cast<const xfrm_user_expire*>(nlmsg_data(nlh));
  hard = e->hard != 0;
  SaId id = from_kernel(e->state.id.daddr, e->state.id.spi, e->state.family, e->state.id.proto);
  read_mark(tb[XFRMA_MARK], id);
  return id;
}

int parse_ack(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type != NLMSG_ERROR || nlmsg_datalen(nlh) < static_cast<int>(sizeof(nlmsgerr))) return -1;
  return -static_cast<const nlmsgerr*>(nlmsg_data(nlh))->error;
}

Error kernel_error(int err, const SaId& id, const char* what) {
  std::string reason;
  switch (err) {
    case ESRCH:
      reason = "no such SA";
      break;
    case EINVAL:
      reason = "the kernel rejected the replay state (bitmap size or window mismatch?)";
      break;
    case EPERM:
    case EACCES:
      reason = "permission denied (needs CAP_NET_ADMIN)";
      break;
    case EPROTONOSUPPORT:
      reason = "XFRM netlink not available (xfrm_user module?)";
      break;
    default:
      reason = std::strerror(err);
  }
  return make_error(std::string(what) + " " + id.to_string() + ": " + reason, err);
}

}  // namespace elastic::xfrm
