#include "elastic/replica_table.h"

#include <openssl/evp.h>

#include "elastic/secure.h"

namespace elastic::sync {

VpnEntry::~VpnEntry() {
  secure_wipe(full);
  secure_wipe(tail);
}

Result<Applied> ReplicaTable::apply(std::string_view bytes, std::string* vpn_id, std::string_view required_origin,
                                    std::string* origin, Stamp* previous) {
  auto env = decode_envelope(bytes);
  if (!env) return env.error();
  wipe_keys(*env);  // only the bytes are kept; the decoded copy goes now
  if (vpn_id) *vpn_id = env->vpn_id();
  if (origin) *origin = env->origin_node();
  if (!required_origin.empty() && env->origin_node() != required_origin) return Applied::Refused;
  const Stamp stamp{env->epoch(), env->version()};
  const auto kind = env->kind();
  if (previous) *previous = {};
  if (kind == v1::ENVELOPE_KIND_FORGET && !vpns_.count(env->vpn_id())) return Applied::Stale;
  auto [it, fresh] = vpns_.try_emplace(env->vpn_id());
  VpnEntry& e = it->second;
  if (previous) *previous = e.stamp;
  // After a forget, this member became an alternate again: the owner resends what it holds,
  // which may be older than the forget's version but not than its epoch.
  const bool retaken = !fresh && e.forgotten && kind == v1::ENVELOPE_KIND_UPSERT && stamp.epoch >= e.stamp.epoch;
  // A membership change makes the owner send a forget for what it sent last: the same stamp.
  const bool forget_now = !fresh && kind == v1::ENVELOPE_KIND_FORGET && !e.deleted && stamp >= e.stamp;
  if (!fresh && stamp <= e.stamp && !retaken && !forget_now) return Applied::Stale;
  if (!fresh && e.deleted && kind == v1::ENVELOPE_KIND_COUNTERS) return Applied::Stale;  // nothing to count on
  const bool was_live = !fresh && !e.deleted && !e.full.empty();
  const bool was_deleted = !fresh && e.deleted;
  e.stamp = stamp;
  e.origin = env->origin_node();
  e.forgotten = kind == v1::ENVELOPE_KIND_FORGET;
  switch (kind) {
    case v1::ENVELOPE_KIND_UPSERT:
      secure_wipe(e.full);
      secure_wipe(e.tail);
      e.full.assign(bytes);
      e.full_stamp = stamp;
      e.deleted = false;
      break;
    case v1::ENVELOPE_KIND_COUNTERS:
      secure_wipe(e.tail);
      e.tail.assign(bytes);
      break;
    default:  // delete or forget
      secure_wipe(e.full);
      secure_wipe(e.tail);
      e.tail.assign(bytes);
      e.deleted = true;
      e.deleted_at = std::chrono::steady_clock::now();
      break;
  }
  const bool live = !e.deleted && !e.full.empty();
  live_ += live - was_live;
  tombstones_ += e.deleted - was_deleted;
  return Applied::New;
}

size_t ReplicaTable::collect_tombstones(std::chrono::steady_clock::time_point cutoff,
                                        const std::function<void(const std::string&)>& dropped) {
  size_t n = 0;
  for (auto it = vpns_.begin(); it != vpns_.end();) {
    if (it->second.deleted && it->second.deleted_at < cutoff) {
      if (dropped) dropped(it->first);
      it = vpns_.erase(it);  // ~VpnEntry wipes the delete envelope
      ++n;
    } else {
      ++it;
    }
  }
  tombstones_ -= n;
  return n;
}

const VpnEntry* ReplicaTable::find(const std::string& vpn_id) const {
  auto it = vpns_.find(vpn_id);
  return it == vpns_.end() ? nullptr : &it->second;
}

void ReplicaTable::for_each(const std::function<void(const std::string&, const VpnEntry&)>& fn) const {
  for (const auto& [id, e] : vpns_) fn(id, e);
}

std::string ReplicaTable::digest() const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  for (const auto& [id, e] : vpns_) {
    std::string line = id + " " + std::to_string(e.stamp.epoch) + " " + std::to_string(e.stamp.version) +
                       (e.deleted ? " deleted\n" : "\n");
    EVP_DigestUpdate(ctx, line.data(), line.size());
  }
  unsigned char md[32];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx, md, &n);
  EVP_MD_CTX_free(ctx);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) out += {hex[md[i] >> 4], hex[md[i] & 15]};
  return out;
}

}  // namespace elastic::sync
