#include "elastic/replica_table.h"

#include <openssl/evp.h>

#include "elastic/secure.h"

namespace elastic::sync {

VpnEntry::~VpnEntry() {
  secure_wipe(full);
  secure_wipe(tail);
}

Result<Applied> ReplicaTable::apply(std::string_view bytes, std::string* vpn_id) {
  auto env = decode_envelope(bytes);
  if (!env) return env.error();
  wipe_keys(*env);  // only the bytes are kept; the decoded copy goes now
  if (vpn_id) *vpn_id = env->vpn_id();
  const Stamp stamp{env->epoch(), env->version()};
  auto [it, fresh] = vpns_.try_emplace(env->vpn_id());
  VpnEntry& e = it->second;
  if (!fresh && stamp <= e.stamp) return Applied::Stale;
  const bool was_live = !fresh && !e.deleted && !e.full.empty();
  e.stamp = stamp;
  e.origin = env->origin_node();
  switch (env->kind()) {
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
    default:  // delete
      secure_wipe(e.full);
      secure_wipe(e.tail);
      e.tail.assign(bytes);
      e.deleted = true;
      break;
  }
  const bool live = !e.deleted && !e.full.empty();
  live_ += live - was_live;
  return Applied::New;
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
