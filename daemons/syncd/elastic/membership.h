// The live membership view from elastic-heartbeatd (Membership frames on the local socket, body
// "epoch=N live=sg1,sg2,..."): placement is computed over the configured members that are live.
// A view is applied only if its epoch is newer than the current one; a malformed view or one
// naming an unknown member is refused and the current view stays.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "elastic/placement.h"
#include "elastic/result.h"

namespace elastic::sync {

struct MembershipFrame {
  uint64_t epoch = 0;
  std::vector<std::string> live;  // member names, as sent
};

// Parses a Membership body strictly: exactly "epoch=N live=A,B,..." (N decimal, 1..2^64-1; names
// non-empty, no duplicates, each one of `configured`; the list may be empty).
Result<MembershipFrame> parse_membership(std::string_view body, const std::vector<Member>& configured);

class LiveView {
 public:
  explicit LiveView(std::vector<Member> configured);
  // Applies a Membership body: true if the view changed to it, false if its epoch is not newer
  // (ignored), an Error if it is malformed (the view is unchanged).
  Result<bool> apply(std::string_view body);
  uint64_t epoch() const { return epoch_; }
  // The configured members that are live (configuration order and weights), for alternates().
  const std::vector<Member>& live() const { return live_; }
  bool is_live(const std::string& name) const;
  std::string names() const;  // "a,b,c"

 private:
  std::vector<Member> configured_, live_;
  uint64_t epoch_ = 0;
};

}  // namespace elastic::sync
