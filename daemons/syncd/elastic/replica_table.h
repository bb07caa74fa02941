// The contexts a sync daemon holds (its own VPNs and the replicas it is alternate for), newest
// (epoch, version) per VPN: applying is idempotent and an older envelope never overwrites a newer
// one, whatever order the network delivers them in. Key material is wiped when it is dropped.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "elastic/context_codec.h"

namespace elastic::sync {

struct Stamp {
  uint64_t epoch = 0, version = 0;
  auto operator<=>(const Stamp&) const = default;
};

struct VpnEntry {
  std::string origin;  // node that produced the newest envelope
  Stamp stamp;         // newest applied (epoch, version) of any kind
  std::string full;    // newest upsert envelope (encoded), empty after a delete
  Stamp full_stamp;
  std::string tail;      // newest counters or delete envelope newer than `full`, or empty
  bool deleted = false;  // tombstone (tail holds the delete), so that a late upsert cannot
                         // resurrect the VPN
  ~VpnEntry();
};

enum class Applied { New, Stale };

class ReplicaTable {
 public:
  // Decodes, validates and applies an envelope; Stale if not newer than what is held.
  Result<Applied> apply(std::string_view bytes, std::string* vpn_id = nullptr);

  const VpnEntry* find(const std::string& vpn_id) const;
  size_t contexts() const { return live_; }
  size_t size() const { return vpns_.size(); }
  void for_each(const std::function<void(const std::string&, const VpnEntry&)>& fn) const;
  // A digest of (vpn_id, epoch, version, deleted) over all entries, hex: equal sets, equal digest.
  std::string digest() const;

 private:
  std::map<std::string, VpnEntry> vpns_;
  size_t live_ = 0;
};

}  // namespace elastic::sync
