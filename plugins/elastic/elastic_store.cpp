// The context store behind elastic_store.h.
#include "elastic_store.h"

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "elastic/context_codec.h"
#include "elastic/context_validate.h"
#include "elastic/placement.h"
#include "elastic/secure.h"
#include "elastic_counters.hpp"
#include "elastic_ctx.hpp"
#include "elastic_envelope.h"
#include "elastic_store.hpp"
#include "elastic_store_ha.h"
#include "elastic_takeover.hpp"

namespace {

namespace v1 = elastic::v1;

std::string str(elastic_buf_t b) {
  return b.len ? std::string(static_cast<const char*>(b.ptr), b.len) : std::string();
}

char* dup_error(const std::string& s) {
  return strdup(s.c_str());
}

struct Entry {
  std::string vpn_id;
  std::string origin;  // the node that owns it (this node for active VPNs)
  uint64_t epoch = 1;
  uint64_t version = 0;
  elastic_role_t role = ELASTIC_ROLE_ACTIVE;
  v1::VpnContext ctx;
};

// The SAs a context describes as installed: SPIs (a rekey changes them), endpoints and
// encapsulation (MOBIKE or a NAT mapping change them).
std::string sa_signature(const v1::VpnContext& ctx) {
  const auto& ike = ctx.ike_sa();
  std::string sig = std::to_string(ike.spi_i()) + "/" + std::to_string(ike.spi_r()) + " " + ike.local().address() +
                    ":" + std::to_string(ike.local().port()) + " " + ike.remote().address() + ":" +
                    std::to_string(ike.remote().port());
  for (const auto& c : ike.child_sas())
    sig += " " + std::to_string(c.spi_in()) + "/" + std::to_string(c.spi_out()) + (c.udp_encap() ? "e" : "");
  return sig;
}

// How a kernel SA is found from a counter event: destination address bytes + SPI.
std::string sa_key(const std::string& daddr, uint32_t spi) {
  return daddr + std::string(reinterpret_cast<const char*>(&spi), sizeof spi);
}

// Takes `got` if it is further along than `have` (counters never move backwards).
void merge_out(v1::ReplayState& have, const v1::ReplayState& got) {
  if (elastic::plugin::oseq64(got) > elastic::plugin::oseq64(have)) have = got;
}
void merge_in(v1::ReplayState& have, const v1::ReplayState& got) {
  if (elastic::plugin::seq64(got) > elastic::plugin::seq64(have)) have = got;
}

// Keeps, per CHILD_SA (by inbound SPI), the further-along replay states of `from` in `into`.
void merge_counters(v1::VpnContext& into, const v1::VpnContext& from) {
  for (auto& c : *into.mutable_ike_sa()->mutable_child_sas())
    for (const auto& o : from.ike_sa().child_sas())
      if (o.spi_in() == c.spi_in()) {
        merge_out(*c.mutable_replay_out(), o.replay_out());
        merge_in(*c.mutable_replay_in(), o.replay_in());
      }
}

// A malloc'ed copy of bytes for the C side.
void bytes_out(const std::string& bytes, unsigned char** out, size_t* len) {
  *out = static_cast<unsigned char*>(malloc(bytes.size()));
  std::memcpy(*out, bytes.data(), bytes.size());
  *len = bytes.size();
}

// A malloc'ed array of IKE_SA uids for the C side (one spare slot: never malloc(0)); the count.
size_t ids_out(const std::vector<uint32_t>& ids, uint32_t** out) {
  *out = static_cast<uint32_t*>(malloc(sizeof(uint32_t) * (ids.size() + 1)));
  std::copy(ids.begin(), ids.end(), *out);
  return ids.size();
}

uint64_t now_us() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

}  // namespace

struct elastic_store_t {
  std::mutex mu;
  std::mutex ops;  // elastic_store_op_lock(): import/activate/release/replicas, one at a time
  std::string node;
  std::string boot;  // random per charon start: VPN ids are never reused after a restart
  uint64_t next_vpn = 1;
  std::vector<v1::Envelope> deletes;  // VPNs owned here that ended, for the sync link
  std::map<uint32_t, Entry> vpns;     // by IKE_SA unique id
  std::map<uint32_t, v1::IkeKeyMaterial> ike_keys;
  std::map<uint32_t, v1::ChildKeys> child_keys;  // by CHILD_SA unique id
  std::map<uint32_t, bool> child_initiator;      // by CHILD_SA unique id
  // Message IDs seen by the message hook, also before the IKE_SA is complete (by IKE_SA uid).
  std::map<uint32_t, std::pair<uint32_t, uint32_t>> mids;
  void (*observer)(void*, uint32_t) = nullptr;
  void* observer_data = nullptr;
  // Kernel SA (sa_key) -> IKE_SA uid and direction, for counter events; rebuilt when `gen`
  // moved, i.e. when a VPN's SAs may have changed (snapshot, rekey, import, removal).
  std::unordered_map<std::string, std::pair<uint32_t, bool>> sa_index;
  uint64_t gen = 0, index_gen = ~uint64_t{0};
  uint64_t counter_reports = 0;  // merged into owned VPNs, and when the last one was (metrics)
  std::chrono::system_clock::time_point last_report{};
  void reindex() {
    if (index_gen == gen) return;
    sa_index.clear();
    for (const auto& [uid, e] : vpns) {
      const auto& ike = e.ctx.ike_sa();
      for (const auto& c : ike.child_sas()) {
        sa_index[sa_key(ike.remote().address(), c.spi_out())] = {uid, true};
        sa_index[sa_key(ike.local().address(), c.spi_in())] = {uid, false};
      }
    }
    index_gen = gen;
  }
  // Tells the sync link that a VPN owned here changed (called with mu held; it only queues).
  void changed(uint32_t uid, const Entry& e) {
    if (observer && e.role == ELASTIC_ROLE_ACTIVE) observer(observer_data, uid);
  }

  ~elastic_store_t() {
    for (auto& [id, e] : vpns) elastic::wipe_keys(e.ctx);
    for (auto& [id, k] : ike_keys) wipe(k);
    for (auto& [id, k] : child_keys) wipe(k);
  }
  static void wipe(v1::IkeKeyMaterial& k) {
    elastic::secure_wipe(*k.mutable_shared_secret());
    elastic::secure_wipe(*k.mutable_nonce_i());
    elastic::secure_wipe(*k.mutable_nonce_r());
    elastic::secure_wipe(*k.mutable_old_sk_d());
  }
  static void wipe(v1::ChildKeys& k) {
    elastic::secure_wipe(*k.mutable_encryption_i());
    elastic::secure_wipe(*k.mutable_integrity_i());
    elastic::secure_wipe(*k.mutable_encryption_r());
    elastic::secure_wipe(*k.mutable_integrity_r());
  }
  void drop_child_keys(uint32_t child_uid) {
    if (auto it = child_keys.find(child_uid); it != child_keys.end()) {
      wipe(it->second);
      child_keys.erase(it);
      child_initiator.erase(child_uid);
    }
  }
  // Drops the captured keys of an IKE_SA and of its CHILD_SAs, except CHILD_SAs that another
  // entry holds now (an IKE rekey moves them to the new IKE_SA).
  void drop_keys(const v1::VpnContext& ctx, uint32_t ike_uid) {
    mids.erase(ike_uid);
    if (auto it = ike_keys.find(ike_uid); it != ike_keys.end()) {
      wipe(it->second);
      ike_keys.erase(it);
    }
    for (const auto& c : ctx.ike_sa().child_sas()) {
      bool moved = false;
      for (const auto& [uid, e] : vpns)
        for (const auto& other : e.ctx.ike_sa().child_sas())
          moved |= uid != ike_uid && other.unique_id() == c.unique_id();
      if (c.unique_id() && !moved) drop_child_keys(c.unique_id());
    }
  }
  void queue_delete(const Entry& e) {
    v1::Envelope env;
    env.set_schema(v1::SCHEMA_VERSION_1);
    env.set_origin_node(node);
    env.set_epoch(e.epoch);
    env.set_version(e.version + 1);
    env.set_kind(v1::ENVELOPE_KIND_DELETE);
    env.set_vpn_id(e.vpn_id);
    deletes.push_back(std::move(env));
  }
};

extern "C" {

elastic_store_t* elastic_store_create(const char* node) {
  auto* s = new elastic_store_t;
  s->node = node;
  char boot[16];
  std::snprintf(boot, sizeof boot, "%08x", std::random_device{}());
  s->boot = boot;
  return s;
}

void elastic_store_destroy(elastic_store_t* store) {
  delete store;
}

void elastic_store_ike_keys(elastic_store_t* s, uint32_t ike_uid, elastic_buf_t secret, elastic_buf_t ni,
                            elastic_buf_t nr, elastic_buf_t old_skd, uint32_t old_prf) {
  std::lock_guard lock(s->mu);
  auto& k = s->ike_keys[ike_uid];
  k.set_shared_secret(str(secret));
  k.set_nonce_i(str(ni));
  k.set_nonce_r(str(nr));
  k.set_old_sk_d(str(old_skd));
  k.set_old_prf(old_prf);
}

void elastic_store_child_keys(elastic_store_t* s, uint32_t child_uid, bool initiator, elastic_buf_t ei,
                              elastic_buf_t ii, elastic_buf_t er, elastic_buf_t ir) {
  std::lock_guard lock(s->mu);
  s->child_initiator[child_uid] = initiator;
  auto& k = s->child_keys[child_uid];
  k.set_encryption_i(str(ei));
  k.set_integrity_i(str(ii));
  k.set_encryption_r(str(er));
  k.set_integrity_r(str(ir));
}

void elastic_store_update(elastic_store_t* s, uint32_t ike_uid, elastic_ctx_t* snap, elastic_role_t role) {
  std::lock_guard lock(s->mu);
  auto [it, fresh] = s->vpns.try_emplace(ike_uid);
  Entry& e = it->second;
  if (fresh) {
    e.vpn_id = s->node + "/" + s->boot + "/" + std::to_string(s->next_vpn++);
    e.origin = s->node;
    e.role = role;
  }
  auto* ike = snap->msg.mutable_ike_sa();
  // Keys: captured for this IKE_SA, or carried over from what the store already had (imports).
  if (auto k = s->ike_keys.find(ike_uid); k != s->ike_keys.end())
    *ike->mutable_keys() = k->second;
  else if (e.ctx.ike_sa().has_keys())
    *ike->mutable_keys() = e.ctx.ike_sa().keys();
  // charon's counters lag while an exchange is being processed; IDs only grow: keep the highest.
  if (auto m = s->mids.find(ike_uid); m != s->mids.end()) {
    auto* ids = ike->mutable_message_ids();
    ids->set_initiate(std::max(ids->initiate(), m->second.first));
    ids->set_respond(std::max(ids->respond(), m->second.second));
  }
  for (auto& c : *ike->mutable_child_sas()) {
    if (auto k = s->child_keys.find(c.unique_id()); k != s->child_keys.end()) {
      *c.mutable_keys() = k->second;
      c.set_initiator(s->child_initiator[c.unique_id()]);
      continue;
    }
    for (const auto& old : e.ctx.ike_sa().child_sas())
      if (old.spi_in() == c.spi_in() && old.has_keys()) {
        *c.mutable_keys() = old.keys();
        c.set_initiator(old.initiator());
      }
  }
  merge_counters(snap->msg, e.ctx);  // counters reported meanwhile are newer
  elastic::wipe_keys(e.ctx);
  e.ctx = std::move(snap->msg);
  ++e.version;
  ++s->gen;
  elastic_ctx_destroy(snap);
  s->changed(ike_uid, e);
}

void elastic_store_message_ids(elastic_store_t* s, uint32_t ike_uid, uint32_t initiate, uint32_t respond) {
  std::lock_guard lock(s->mu);
  auto& seen = s->mids[ike_uid];
  seen = {std::max(seen.first, initiate), std::max(seen.second, respond)};
  auto it = s->vpns.find(ike_uid);
  if (it == s->vpns.end()) return;
  auto* m = it->second.ctx.mutable_ike_sa()->mutable_message_ids();
  initiate = seen.first, respond = seen.second;
  if (m->initiate() == initiate && m->respond() == respond) return;
  m->set_initiate(initiate);
  m->set_respond(respond);
  ++it->second.version;
  s->changed(ike_uid, it->second);
}

void elastic_store_rekeyed(elastic_store_t* s, uint32_t old_uid, uint32_t new_uid) {
  std::lock_guard lock(s->mu);
  auto it = s->vpns.find(old_uid);
  if (it == s->vpns.end()) return;
  Entry& e = s->vpns[new_uid];
  e = it->second;  // the context (with the CHILD_SA keys) until the snapshot of the new IKE_SA
  ++e.version;
  ++s->gen;
}

void elastic_store_adopt(elastic_store_t* s, uint32_t ike_uid, const char* vpn_id, const char* origin, uint64_t epoch,
                         uint64_t version) {
  std::lock_guard lock(s->mu);
  Entry& e = s->vpns[ike_uid];
  e.vpn_id = vpn_id;
  e.origin = origin;
  ++s->gen;
  e.epoch = epoch;
  e.version = version;
}

char* elastic_store_context(elastic_store_t* s, uint32_t ike_uid, elastic_ctx_t** ctx, uint64_t* epoch) {
  std::lock_guard lock(s->mu);
  auto it = s->vpns.find(ike_uid);
  if (it == s->vpns.end()) return dup_error("no VPN with IKE_SA unique id " + std::to_string(ike_uid) + " here");
  *ctx = elastic_ctx_create();
  (*ctx)->msg = it->second.ctx;
  *epoch = it->second.epoch;
  return nullptr;
}

void elastic_store_activated(elastic_store_t* s, uint32_t ike_uid, uint64_t epoch) {
  std::lock_guard lock(s->mu);
  auto it = s->vpns.find(ike_uid);
  if (it == s->vpns.end()) return;
  it->second.role = ELASTIC_ROLE_ACTIVE;
  it->second.origin = s->node;
  it->second.epoch = epoch;
  it->second.version = 1;
  s->changed(ike_uid, it->second);
}

void elastic_store_set_observer(elastic_store_t* s, void (*cb)(void*, uint32_t), void* data) {
  std::lock_guard lock(s->mu);
  s->observer = cb;
  s->observer_data = data;
}

size_t elastic_store_owned(elastic_store_t* s, uint32_t** ids) {
  return elastic_store_with_role(s, ELASTIC_ROLE_ACTIVE, ids);
}

uint32_t elastic_store_find_vpn(elastic_store_t* s, const char* vpn_id) {
  std::lock_guard lock(s->mu);
  for (const auto& [uid, e] : s->vpns)
    if (e.vpn_id == vpn_id) return uid;
  return 0;
}

int elastic_store_refresh_passive(elastic_store_t* s, uint32_t ike_uid, const void* data, size_t len) {
  auto env = elastic::decode_envelope(std::string_view(static_cast<const char*>(data), len));
  if (!env) return 0;
  std::lock_guard lock(s->mu);
  auto it = s->vpns.find(ike_uid);
  if (it == s->vpns.end() || it->second.role != ELASTIC_ROLE_PASSIVE) return 0;
  Entry& e = it->second;
  int result = 0;
  if (std::pair(env->epoch(), env->version()) > std::pair(e.epoch, e.version)) {
    auto* ike = e.ctx.mutable_ike_sa();
    if (env->kind() == v1::ENVELOPE_KIND_COUNTERS) {
      // newer message IDs and replay states, if they are for the SAs we hold
      bool match = env->counters().child_sas_size() == ike->child_sas_size();
      for (const auto& cc : env->counters().child_sas()) {
        bool found = false;
        for (const auto& c : ike->child_sas()) found |= c.spi_in() == cc.spi_in() && c.spi_out() == cc.spi_out();
        match &= found;
      }
      if (match) {
        *ike->mutable_message_ids() = env->counters().message_ids();
        for (const auto& cc : env->counters().child_sas())
          for (auto& c : *ike->mutable_child_sas())
            if (c.spi_in() == cc.spi_in()) {
              merge_in(*c.mutable_replay_in(), cc.replay_in());
              merge_out(*c.mutable_replay_out(), cc.replay_out());
            }
        result = 1;
      }
    } else if (env->kind() == v1::ENVELOPE_KIND_UPSERT && sa_signature(env->context()) == sa_signature(e.ctx)) {
      v1::VpnContext old = std::move(e.ctx);
      e.ctx = std::move(*env->mutable_context());
      for (auto& c : *e.ctx.mutable_ike_sa()->mutable_child_sas()) c.clear_unique_id();  // the origin's
      merge_counters(e.ctx, old);  // a counters envelope may have been newer
      elastic::wipe_keys(old);
      result = 1;
    } else {
      result = -1;
    }
    if (result == 1) {
      e.epoch = env->epoch(), e.version = env->version();
      e.origin = env->origin_node();
    }
  }
  elastic::wipe_keys(*env);
  return result;
}

char* elastic_envelope_peek(const void* data, size_t len, int* kind, char** vpn_id, char** origin, uint64_t* epoch) {
  auto env = elastic::decode_envelope(std::string_view(static_cast<const char*>(data), len));
  if (!env) return dup_error(env.error().message);
  *kind = env->kind();
  *vpn_id = strdup(env->vpn_id().c_str());
  *origin = strdup(env->origin_node().c_str());
  *epoch = env->epoch();
  elastic::wipe_keys(*env);
  return nullptr;
}

char* elastic_store_check_final(elastic_store_t* s, uint32_t ike_uid, const elastic_ctx_t* ctx, const char* vpn_id) {
  std::lock_guard lock(s->mu);
  auto it = s->vpns.find(ike_uid);
  if (it == s->vpns.end()) return dup_error("no VPN with IKE_SA unique id " + std::to_string(ike_uid) + " here");
  if (it->second.vpn_id != vpn_id)
    return dup_error("the final context is for VPN " + std::string(vpn_id) + ", IKE_SA " + std::to_string(ike_uid) +
                     " holds " + it->second.vpn_id);
  if (sa_signature(ctx->msg) != sa_signature(it->second.ctx))
    return dup_error("the final context describes other SAs than the passive copy here (rekeyed meanwhile?)");
  return nullptr;
}

static void remove_entry(elastic_store_t* s, uint32_t ike_uid, bool ended) {
  std::lock_guard lock(s->mu);
  auto it = s->vpns.find(ike_uid);
  if (it == s->vpns.end()) {
    s->drop_keys(v1::VpnContext(), ike_uid);
    return;
  }
  // After an IKE rekey the VPN continues under the new IKE_SA: only the old IKE_SA goes.
  bool continues = false;
  for (const auto& [uid, e] : s->vpns) continues |= uid != ike_uid && e.vpn_id == it->second.vpn_id;
  if (ended && !continues && it->second.role == ELASTIC_ROLE_ACTIVE && s->observer) {
    s->queue_delete(it->second);
    s->observer(s->observer_data, 0);
  }
  s->drop_keys(it->second.ctx, ike_uid);
  elastic::wipe_keys(it->second.ctx);
  s->vpns.erase(it);
  ++s->gen;
}

void elastic_store_remove(elastic_store_t* s, uint32_t ike_uid) {
  remove_entry(s, ike_uid, true);
}

void elastic_store_release(elastic_store_t* s, uint32_t ike_uid) {
  remove_entry(s, ike_uid, false);
}

bool elastic_store_take_delete(elastic_store_t* s, unsigned char** out, size_t* len) {
  std::lock_guard lock(s->mu);
  if (s->deletes.empty()) return false;
  std::string bytes = elastic::encode_envelope(s->deletes.front());
  s->deletes.erase(s->deletes.begin());
  bytes_out(bytes, out, len);
  return true;
}

void elastic_store_child_gone(elastic_store_t* s, uint32_t child_uid) {
  std::lock_guard lock(s->mu);
  s->drop_child_keys(child_uid);
}

void elastic_store_op_lock(elastic_store_t* s) {
  s->ops.lock();
}

void elastic_store_op_unlock(elastic_store_t* s) {
  s->ops.unlock();
}

uint64_t elastic_store_epoch(elastic_store_t* s, uint32_t ike_uid) {
  std::lock_guard lock(s->mu);
  auto it = s->vpns.find(ike_uid);
  return it == s->vpns.end() ? 0 : it->second.epoch;
}

void elastic_store_stats(elastic_store_t* s, elastic_store_stats_t* out) {
  std::lock_guard lock(s->mu);
  *out = {};
  for (const auto& [uid, e] : s->vpns)
    if (e.role >= 0 && e.role < 3) ++out->roles[e.role];
  out->counter_reports = s->counter_reports;
  if (s->counter_reports) out->last_report = std::chrono::duration<double>(s->last_report.time_since_epoch()).count();
}

int elastic_store_role(elastic_store_t* s, uint32_t ike_uid) {
  std::lock_guard lock(s->mu);
  auto it = s->vpns.find(ike_uid);
  return it == s->vpns.end() ? -1 : it->second.role;
}

uint32_t elastic_store_find(elastic_store_t* s, const char* name) {
  std::lock_guard lock(s->mu);
  for (const auto& [uid, e] : s->vpns)
    if (e.ctx.ike_sa().peer_cfg() == name) return uid;
  return 0;
}

namespace {

char* export_envelope(elastic_store_t* s, uint32_t ike_uid, unsigned char** out, size_t* len, bool stopped) {
  v1::Envelope env;
  env.set_outbound_stopped(stopped);
  {
    std::lock_guard lock(s->mu);
    auto it = s->vpns.find(ike_uid);
    if (it == s->vpns.end()) return dup_error("no VPN with IKE_SA unique id " + std::to_string(ike_uid) + " here");
    const Entry& e = it->second;
    env.set_schema(v1::SCHEMA_VERSION_1);
    env.set_origin_node(s->node);
    env.set_epoch(e.epoch);
    env.set_version(e.version);
    env.set_kind(v1::ENVELOPE_KIND_UPSERT);
    env.set_vpn_id(e.vpn_id);
    *env.mutable_context() = e.ctx;
  }
  if (auto err = elastic::plugin::read_counters(*env.mutable_context()); !err.empty()) {
    elastic::wipe_keys(env);
    return dup_error(err);
  }
  if (auto ok = elastic::validate(env); !ok) {
    elastic::wipe_keys(env);
    return dup_error("the captured context is incomplete: " + ok.error().message);
  }
  std::string bytes = elastic::encode_envelope(env);
  elastic::wipe_keys(env);
  bytes_out(bytes, out, len);
  elastic::secure_wipe(bytes);
  return nullptr;
}

}  // namespace

char* elastic_store_export(elastic_store_t* s, uint32_t ike_uid, unsigned char** out, size_t* len) {
  return export_envelope(s, ike_uid, out, len, false);
}

char* elastic_store_export_final(elastic_store_t* s, uint32_t ike_uid, unsigned char** out, size_t* len) {
  return export_envelope(s, ike_uid, out, len, true);
}

bool elastic_envelope_outbound_stopped(const void* data, size_t len) {
  auto env = elastic::decode_envelope(std::string_view(static_cast<const char*>(data), len));
  const bool stopped = env && env->outbound_stopped();
  if (env) elastic::wipe_keys(*env);
  return stopped;
}

char* elastic_store_list(elastic_store_t* s) {
  // Copy under the lock (without keys), read the live counters from the kernel outside it.
  std::vector<std::pair<uint32_t, Entry>> copy;
  {
    std::lock_guard lock(s->mu);
    for (const auto& [uid, e] : s->vpns) {
      copy.emplace_back(uid, e);
      elastic::wipe_keys(copy.back().second.ctx);
    }
  }
  std::string out;
  char line[512];
  for (auto& [uid, e] : copy) {
    // Owned: the kernel's live counters (best effort: a missing SA shows the last value);
    // passive: what the owner last replicated (the local SAs keep their import-time state).
    if (e.role != ELASTIC_ROLE_PASSIVE) elastic::plugin::read_counters(e.ctx);
    const auto& ike = e.ctx.ike_sa();
    std::snprintf(line, sizeof line,
                  "%s: ike-id %u, vpn %s, epoch %llu, version %llu, %s, spi_i %016llx spi_r %016llx, "
                  "message ids initiate %u respond %u\n",
                  ike.peer_cfg().c_str(), uid, e.vpn_id.c_str(), static_cast<unsigned long long>(e.epoch),
                  static_cast<unsigned long long>(e.version),
                  e.role == ELASTIC_ROLE_ACTIVE   ? "active"
                  : e.role == ELASTIC_ROLE_FENCED ? "fenced"
                                                  : "passive",
                  static_cast<unsigned long long>(ike.spi_i()), static_cast<unsigned long long>(ike.spi_r()),
                  ike.message_ids().initiate(), ike.message_ids().respond());
    out += line;
    for (const auto& c : ike.child_sas()) {
      std::snprintf(line, sizeof line,
                    "  %s: spi_in %08x spi_out %08x, oseq %llu, seq %llu, packets in %llu out %llu\n",
                    c.child_cfg().c_str(), c.spi_in(), c.spi_out(),
                    static_cast<unsigned long long>(elastic::plugin::oseq64(c.replay_out())),
                    static_cast<unsigned long long>(elastic::plugin::seq64(c.replay_in())),
                    static_cast<unsigned long long>(c.usage().packets_in()),
                    static_cast<unsigned long long>(c.usage().packets_out()));
      out += line;
    }
  }
  return strdup(out.c_str());
}

char* elastic_envelope_decode(const void* data, size_t len, elastic_ctx_t** ctx, char** vpn_id, uint64_t* epoch,
                              uint64_t* version) {
  auto env = elastic::decode_envelope(std::string_view(static_cast<const char*>(data), len));
  if (!env) return dup_error(env.error().message);
  if (env->kind() != v1::ENVELOPE_KIND_UPSERT) {
    elastic::wipe_keys(*env);
    return dup_error("only full contexts (kind upsert) can be imported");
  }
  *ctx = elastic_ctx_create();
  (*ctx)->msg = std::move(*env->mutable_context());
  // CHILD_SA unique ids are the origin's: they must not name local CHILD_SAs here
  for (auto& c : *(*ctx)->msg.mutable_ike_sa()->mutable_child_sas()) c.clear_unique_id();
  *vpn_id = strdup(env->vpn_id().c_str());
  *epoch = env->epoch();
  *version = env->version();
  return nullptr;
}

char* elastic_set_counters(const elastic_ctx_t* ctx, int index, uint64_t margin) {
  const auto& ike = ctx->msg.ike_sa();
  if (index < 0 || index >= ike.child_sas_size()) return dup_error("no CHILD_SA " + std::to_string(index));
  auto err = elastic::plugin::write_counters(ike, ike.child_sas(index), margin);
  return err.empty() ? nullptr : dup_error(err);
}

char* elastic_store_counters(elastic_store_t* s, uint32_t ike_uid, unsigned char** out, size_t* len) {
  v1::Envelope env;
  {
    std::lock_guard lock(s->mu);
    auto it = s->vpns.find(ike_uid);
    if (it == s->vpns.end() || it->second.role != ELASTIC_ROLE_ACTIVE)
      return dup_error("no VPN owned here with IKE_SA unique id " + std::to_string(ike_uid));
    Entry& e = it->second;
    env.set_schema(v1::SCHEMA_VERSION_1);
    env.set_origin_node(s->node);
    env.set_epoch(e.epoch);
    env.set_version(++e.version);
    env.set_kind(v1::ENVELOPE_KIND_COUNTERS);
    env.set_vpn_id(e.vpn_id);
    env.set_sent_at_us(now_us());
    auto* cs = env.mutable_counters();
    *cs->mutable_message_ids() = e.ctx.ike_sa().message_ids();
    for (const auto& c : e.ctx.ike_sa().child_sas()) {
      auto* cc = cs->add_child_sas();
      cc->set_spi_in(c.spi_in());
      cc->set_spi_out(c.spi_out());
      *cc->mutable_replay_in() = c.replay_in();
      *cc->mutable_replay_out() = c.replay_out();
    }
  }
  std::string bytes = elastic::encode_envelope(env);
  bytes_out(bytes, out, len);
  return nullptr;
}

void elastic_store_set_role(elastic_store_t* s, uint32_t ike_uid, elastic_role_t role) {
  std::lock_guard lock(s->mu);
  if (auto it = s->vpns.find(ike_uid); it != s->vpns.end()) {
    it->second.role = role;
  }
}

size_t elastic_store_with_role(elastic_store_t* s, elastic_role_t role, uint32_t** ids) {
  std::lock_guard lock(s->mu);
  std::vector<uint32_t> out;
  for (const auto& [uid, e] : s->vpns)
    if (e.role == role) out.push_back(uid);
  return ids_out(out, ids);
}

int elastic_store_takeover_set(elastic_store_t* s, const char* dead, const char* live, uint32_t** ids, char** err) {
  auto members = elastic::plugin::parse_members(live);
  if (!members) {
    *err = dup_error(members.error().message);
    return -1;
  }
  std::lock_guard lock(s->mu);
  std::vector<uint32_t> out;
  for (const auto& [uid, e] : s->vpns) {
    if (e.role != ELASTIC_ROLE_PASSIVE || e.origin != dead) continue;
    auto first = elastic::sync::alternates(e.vpn_id, dead, *members, 1);
    if (!first.empty() && first.front() == s->node) out.push_back(uid);
  }
  return static_cast<int>(ids_out(out, ids));
}

char* elastic_store_steer_line(elastic_store_t* s, uint32_t ike_uid) {
  std::lock_guard lock(s->mu);
  auto it = s->vpns.find(ike_uid);
  if (it == s->vpns.end()) return nullptr;
  const auto& ike = it->second.ctx.ike_sa();
  std::string nets;
  auto add = [&nets](const std::string& from, const std::string& to) {
    const std::string net = elastic::plugin::format_range(from, to);
    if (nets.find(net) == std::string::npos) nets += (nets.empty() ? "" : ",") + net;
  };
  for (const auto& c : ike.child_sas())
    for (const auto& ts : c.remote_ts()) add(ts.from_address(), ts.to_address());
  for (const auto& vip : ike.remote_virtual_ips()) add(vip, vip);
  const std::string line = it->second.vpn_id + " " + s->node + " " +
                           elastic::plugin::format_range(ike.remote().address(), ike.remote().address()) + " " +
                           (nets.empty() ? "-" : nets);
  return strdup(line.c_str());
}

}  // extern "C"

namespace elastic::plugin {

uint32_t store_counter_event(elastic_store_t* s, const xfrm::AeInfo& ev) {
  const std::string daddr(reinterpret_cast<const char*>(ev.id.daddr.data()), ev.id.family == AF_INET6 ? 16 : 4);
  std::lock_guard lock(s->mu);
  s->reindex();
  auto hit = s->sa_index.find(sa_key(daddr, ev.id.spi));
  if (hit == s->sa_index.end()) return 0;
  auto [uid, outbound] = hit->second;
  auto it = s->vpns.find(uid);
  if (it == s->vpns.end() || it->second.role != ELASTIC_ROLE_ACTIVE) return 0;
  v1::ReplayState got;
  to_proto(ev.replay, got);
  ++s->counter_reports;
  s->last_report = std::chrono::system_clock::now();
  for (auto& c : *it->second.ctx.mutable_ike_sa()->mutable_child_sas()) {
    if (outbound && c.spi_out() == ev.id.spi) merge_out(*c.mutable_replay_out(), got);
    if (!outbound && c.spi_in() == ev.id.spi) merge_in(*c.mutable_replay_in(), got);
  }
  return uid;
}

}  // namespace elastic::plugin
