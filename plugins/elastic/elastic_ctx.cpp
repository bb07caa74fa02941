// The one place where the C structs of elastic_ctx.h meet the protobuf VpnContext: field by field,
// both ways, so that a new field is added here and in the header, and the compiler checks both.
#include "elastic_ctx.h"

#include <string>

#include "elastic/context_codec.h"
#include "elastic_ctx.hpp"

namespace {

namespace v1 = elastic::v1;

// Copies in place: no temporary string holds key material that nobody wipes.
void assign(std::string* into, elastic_buf_t b) {
  if (b.len)
    into->assign(static_cast<const char*>(b.ptr), b.len);
  else
    into->clear();
}

elastic_buf_t view(const std::string& s) {
  return s.empty() ? elastic_buf_t{nullptr, 0} : elastic_buf_t{s.data(), s.size()};
}

void put(v1::Endpoint& e, const elastic_endpoint_t& in) {
  assign(e.mutable_address(), in.address);
  e.set_port(in.port);
}

elastic_endpoint_t get(const v1::Endpoint& e) {
  return {view(e.address()), static_cast<uint16_t>(e.port())};
}

void put(v1::Identity& id, const elastic_identity_t& in) {
  id.set_type(in.type);
  assign(id.mutable_data(), in.data);
}

elastic_identity_t get(const v1::Identity& id) {
  return {id.type(), view(id.data())};
}

template <class Algs>
void put_common(Algs& a, const elastic_algs_t& in) {
  a.set_encryption(in.encryption);
  a.set_encryption_key_bits(in.encryption_key_bits);
  a.set_integrity(in.integrity);
  a.set_dh_group(in.dh_group);
}

template <class Algs>
elastic_algs_t get_common(const Algs& a) {
  elastic_algs_t out{};
  out.encryption = static_cast<uint16_t>(a.encryption());
  out.encryption_key_bits = static_cast<uint16_t>(a.encryption_key_bits());
  out.integrity = static_cast<uint16_t>(a.integrity());
  out.dh_group = static_cast<uint16_t>(a.dh_group());
  return out;
}

bool any(const elastic_ike_keys_t& k) {
  return k.shared_secret.len || k.nonce_i.len || k.nonce_r.len || k.old_sk_d.len || k.old_prf;
}

bool any(const elastic_child_keys_t& k) {
  return k.encryption_i.len || k.integrity_i.len || k.encryption_r.len || k.integrity_r.len;
}

void put(v1::IkeKeyMaterial& k, const elastic_ike_keys_t& in) {
  assign(k.mutable_shared_secret(), in.shared_secret);
  assign(k.mutable_nonce_i(), in.nonce_i);
  assign(k.mutable_nonce_r(), in.nonce_r);
  assign(k.mutable_old_sk_d(), in.old_sk_d);
  k.set_old_prf(in.old_prf);
}

elastic_ike_keys_t get(const v1::IkeKeyMaterial& k) {
  return {view(k.shared_secret()), view(k.nonce_i()), view(k.nonce_r()), view(k.old_sk_d()),
          static_cast<uint16_t>(k.old_prf())};
}

void put(v1::ChildKeys& k, const elastic_child_keys_t& in) {
  assign(k.mutable_encryption_i(), in.encryption_i);
  assign(k.mutable_integrity_i(), in.integrity_i);
  assign(k.mutable_encryption_r(), in.encryption_r);
  assign(k.mutable_integrity_r(), in.integrity_r);
}

elastic_child_keys_t get(const v1::ChildKeys& k) {
  return {view(k.encryption_i()), view(k.integrity_i()), view(k.encryption_r()), view(k.integrity_r())};
}

void put(v1::TrafficSelector& t, const elastic_ts_t& in) {
  t.set_protocol(in.protocol);
  assign(t.mutable_from_address(), in.from);
  assign(t.mutable_to_address(), in.to);
  t.set_from_port(in.from_port);
  t.set_to_port(in.to_port);
}

elastic_ts_t get(const v1::TrafficSelector& t) {
  return {static_cast<uint8_t>(t.protocol()), view(t.from_address()), view(t.to_address()),
          static_cast<uint16_t>(t.from_port()), static_cast<uint16_t>(t.to_port())};
}

void put(v1::IkeSa& s, const elastic_ike_t& in) {
  s.set_spi_i(in.spi_i);
  s.set_spi_r(in.spi_r);
  s.set_role(in.initiator ? v1::IKE_ROLE_INITIATOR : v1::IKE_ROLE_RESPONDER);
  s.set_ike_version(2);
  put_common(*s.mutable_algorithms(), in.algs);
  s.mutable_algorithms()->set_prf(in.algs.prf);
  if (any(in.keys)) put(*s.mutable_keys(), in.keys);
  put(*s.mutable_local_id(), in.local_id);
  put(*s.mutable_remote_id(), in.remote_id);
  if (in.remote_eap_id.type) put(*s.mutable_remote_eap_id(), in.remote_eap_id);
  put(*s.mutable_local(), in.local);
  put(*s.mutable_remote(), in.remote);
  s.mutable_nat()->set_local_behind_nat(in.local_behind_nat);
  s.mutable_nat()->set_remote_behind_nat(in.remote_behind_nat);
  s.mutable_nat()->set_faked(in.nat_faked);
  assign(s.mutable_peer_cfg(), in.peer_cfg);
  s.mutable_message_ids()->set_initiate(in.msgid_initiate);
  s.mutable_message_ids()->set_respond(in.msgid_respond);
  s.set_conditions(in.conditions);
  s.set_extensions(in.extensions);
  auto& t = *s.mutable_lifetimes();
  t.set_established(in.times.established);
  t.set_rekey_at(in.times.rekey_at);
  t.set_reauth_at(in.times.reauth_at);
  t.set_expire_at(in.times.expire_at);
  s.set_unique_id(in.unique_id);
  s.set_dpd_interval(in.dpd_interval);
}

elastic_ike_t get(const v1::IkeSa& s) {
  elastic_ike_t out{};
  out.spi_i = s.spi_i();
  out.spi_r = s.spi_r();
  out.initiator = s.role() == v1::IKE_ROLE_INITIATOR;
  out.algs = get_common(s.algorithms());
  out.algs.prf = static_cast<uint16_t>(s.algorithms().prf());
  out.keys = get(s.keys());
  out.local_id = get(s.local_id());
  out.remote_id = get(s.remote_id());
  out.remote_eap_id = get(s.remote_eap_id());
  out.local = get(s.local());
  out.remote = get(s.remote());
  out.local_behind_nat = s.nat().local_behind_nat();
  out.remote_behind_nat = s.nat().remote_behind_nat();
  out.nat_faked = s.nat().faked();
  out.peer_cfg = view(s.peer_cfg());
  out.msgid_initiate = s.message_ids().initiate();
  out.msgid_respond = s.message_ids().respond();
  out.conditions = s.conditions();
  out.extensions = s.extensions();
  out.times = {s.lifetimes().established(), s.lifetimes().rekey_at(), s.lifetimes().reauth_at(),
               s.lifetimes().expire_at()};
  out.unique_id = s.unique_id();
  out.dpd_interval = s.dpd_interval();
  return out;
}

void put(v1::ChildSa& c, const elastic_child_t& in) {
  assign(c.mutable_child_cfg(), in.child_cfg);
  c.set_spi_in(in.spi_in);
  c.set_spi_out(in.spi_out);
  c.set_protocol(static_cast<v1::ChildProtocol>(in.protocol));
  c.set_mode(static_cast<v1::ChildMode>(in.mode));
  c.set_udp_encap(in.udp_encap);
  c.set_cpi_in(in.cpi_in);
  c.set_cpi_out(in.cpi_out);
  put_common(*c.mutable_algorithms(), in.algs);
  c.mutable_algorithms()->set_esn(in.algs.esn);
  if (any(in.keys)) put(*c.mutable_keys(), in.keys);
  c.set_initiator(in.initiator);
  c.set_reqid(in.reqid);
  c.mutable_mark_in()->set_value(in.mark_in.value);
  c.mutable_mark_in()->set_mask(in.mark_in.mask);
  c.mutable_mark_out()->set_value(in.mark_out.value);
  c.mutable_mark_out()->set_mask(in.mark_out.mask);
  c.set_if_id_in(in.if_id_in);
  c.set_if_id_out(in.if_id_out);
  c.mutable_lifetimes()->set_installed(in.times.installed);
  c.mutable_lifetimes()->set_rekey_at(in.times.rekey_at);
  c.mutable_lifetimes()->set_expire_at(in.times.expire_at);
  c.set_unique_id(in.unique_id);
}

elastic_child_t get(const v1::ChildSa& c) {
  elastic_child_t out{};
  out.child_cfg = view(c.child_cfg());
  out.spi_in = c.spi_in();
  out.spi_out = c.spi_out();
  out.protocol = static_cast<uint8_t>(c.protocol());
  out.mode = static_cast<elastic_mode_t>(c.mode());
  out.udp_encap = c.udp_encap();
  out.cpi_in = static_cast<uint16_t>(c.cpi_in());
  out.cpi_out = static_cast<uint16_t>(c.cpi_out());
  out.algs = get_common(c.algorithms());
  out.algs.esn = c.algorithms().esn();
  out.keys = get(c.keys());
  out.initiator = c.initiator();
  out.reqid = c.reqid();
  out.mark_in = {c.mark_in().value(), c.mark_in().mask()};
  out.mark_out = {c.mark_out().value(), c.mark_out().mask()};
  out.if_id_in = c.if_id_in();
  out.if_id_out = c.if_id_out();
  out.times = {c.lifetimes().installed(), c.lifetimes().rekey_at(), c.lifetimes().expire_at()};
  out.unique_id = c.unique_id();
  return out;
}

const google::protobuf::RepeatedPtrField<std::string>& vips(const v1::IkeSa& s, bool local) {
  return local ? s.local_virtual_ips() : s.remote_virtual_ips();
}

const v1::ChildSa* child_at(const elastic_ctx_t* ctx, int i) {
  const auto& list = ctx->msg.ike_sa().child_sas();
  return i >= 0 && i < list.size() ? &list.Get(i) : nullptr;
}

const google::protobuf::RepeatedPtrField<v1::TrafficSelector>& ts_list(const v1::ChildSa& c, bool local) {
  return local ? c.local_ts() : c.remote_ts();
}

}  // namespace

extern "C" {

elastic_ctx_t* elastic_ctx_create(void) {
  return new elastic_ctx_t;
}

elastic_ctx_t* elastic_ctx_clone(const elastic_ctx_t* ctx) {
  return new elastic_ctx_t(*ctx);
}

void elastic_ctx_destroy(elastic_ctx_t* ctx) {
  if (!ctx) return;
  elastic::wipe_keys(ctx->msg);
  delete ctx;
}

void elastic_ctx_set_ike(elastic_ctx_t* ctx, const elastic_ike_t* ike) {
  put(*ctx->msg.mutable_ike_sa(), *ike);
}

void elastic_ctx_get_ike(const elastic_ctx_t* ctx, elastic_ike_t* ike) {
  *ike = get(ctx->msg.ike_sa());
}

void elastic_ctx_add_vip(elastic_ctx_t* ctx, bool local, elastic_buf_t address) {
  auto* s = ctx->msg.mutable_ike_sa();
  assign(local ? s->add_local_virtual_ips() : s->add_remote_virtual_ips(), address);
}

int elastic_ctx_vip_count(const elastic_ctx_t* ctx, bool local) {
  return vips(ctx->msg.ike_sa(), local).size();
}

bool elastic_ctx_get_vip(const elastic_ctx_t* ctx, bool local, int i, elastic_buf_t* address) {
  const auto& list = vips(ctx->msg.ike_sa(), local);
  if (i < 0 || i >= list.size()) return false;
  *address = view(list.Get(i));
  return true;
}

int elastic_ctx_add_child(elastic_ctx_t* ctx, const elastic_child_t* child) {
  auto* s = ctx->msg.mutable_ike_sa();
  put(*s->add_child_sas(), *child);
  return s->child_sas_size() - 1;
}

int elastic_ctx_child_count(const elastic_ctx_t* ctx) {
  return ctx->msg.ike_sa().child_sas_size();
}

bool elastic_ctx_get_child(const elastic_ctx_t* ctx, int i, elastic_child_t* child) {
  const v1::ChildSa* c = child_at(ctx, i);
  if (!c) return false;
  *child = get(*c);
  return true;
}

bool elastic_ctx_add_ts(elastic_ctx_t* ctx, int child, bool local, const elastic_ts_t* ts) {
  if (!child_at(ctx, child)) return false;
  auto* c = ctx->msg.mutable_ike_sa()->mutable_child_sas(child);
  put(local ? *c->add_local_ts() : *c->add_remote_ts(), *ts);
  return true;
}

int elastic_ctx_ts_count(const elastic_ctx_t* ctx, int child, bool local) {
  const v1::ChildSa* c = child_at(ctx, child);
  return c ? ts_list(*c, local).size() : 0;
}

bool elastic_ctx_get_ts(const elastic_ctx_t* ctx, int child, bool local, int j, elastic_ts_t* ts) {
  const v1::ChildSa* c = child_at(ctx, child);
  if (!c || j < 0 || j >= ts_list(*c, local).size()) return false;
  *ts = get(ts_list(*c, local).Get(j));
  return true;
}

}  // extern "C"
