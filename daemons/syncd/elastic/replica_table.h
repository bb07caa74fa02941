// The contexts a sync daemon holds (its own VPNs and the replicas it is alternate for), newest
// (epoch, version) per VPN: applying is idempotent and an older envelope never overwrites a newer
// one, whatever order the network delivers them in. Key material is wiped when it is dropped.
#pragma once

#include <chrono>
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
  std::string tail;        // newest counters or delete envelope newer than `full`, or empty
  bool deleted = false;    // tombstone (tail holds the delete), so that a late upsert cannot
                           // resurrect the VPN; collected after a while (collect_tombstones)
  bool forgotten = false;  // the tombstone is a forget (no longer an alternate): an upsert of the
                           // same epoch or newer is taken again, whatever its version
  std::chrono::steady_clock::time_point deleted_at{};
  ~VpnEntry();
};

// New: applied. Stale: not newer than what is held (ignored). Refused: its origin_node is not the
// required one (not applied).
enum class Applied { New, Stale, Refused };

class ReplicaTable {
 public:
  // Decodes, validates and applies an envelope; Stale if not newer than what is held. With a
  // required_origin, an envelope whose origin_node differs is Refused and changes nothing.
  // vpn_id and origin, if given, receive the envelope's; previous, what was held before (a zero
  // stamp if nothing). A forget for a VPN not held is Stale (nothing to forget).
  Result<Applied> apply(std::string_view bytes, std::string* vpn_id = nullptr, std::string_view required_origin = {},
                        std::string* origin = nullptr, Stamp* previous = nullptr);
  // Forgets the tombstones of VPNs deleted before `cutoff` (their delete envelopes are wiped);
  // `dropped` is called with each VPN id. Returns how many went.
  size_t collect_tombstones(std::chrono::steady_clock::time_point cutoff,
                            const std::function<void(const std::string&)>& dropped = {});
  size_t tombstones() const { return tombstones_; }

  const VpnEntry* find(const std::string& vpn_id) const;
  size_t contexts() const { return live_; }
  size_t size() const { return vpns_.size(); }
  void for_each(const std::function<void(const std::string&, const VpnEntry&)>& fn) const;
  // A digest of (vpn_id, epoch, version, deleted) over all entries, hex: equal sets, equal digest.
  std::string digest() const;

 private:
  std::map<std::string, VpnEntry> vpns_;
  size_t live_ = 0, tombstones_ = 0;
};

}  // namespace elastic::sync
