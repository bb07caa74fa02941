// Which gateways hold a VPN's replicas: weighted rendezvous (highest random weight) hashing over
// the live members. Every node computes the same answer from the same membership; when a member
// fails, only the VPNs it held move, and they spread over all the others (about 1/(n-1) each).
#pragma once

#include <string>
#include <vector>

#include "elastic/result.h"

namespace elastic::sync {

struct Member {
  std::string name;
  double weight = 1.0;
};

// The k members (other than `owner`) with the highest score for vpn_id, best first. k larger than
// the others means all of them.
std::vector<std::string> alternates(const std::string& vpn_id, const std::string& owner,
                                    const std::vector<Member>& live, size_t k);

// The score of one member for one VPN (weighted: -weight / ln(u), u uniform in (0,1)).
double hrw_score(const std::string& vpn_id, const Member& m);

// elastic.cluster.replicas: a number >= 1, or "all" (SIZE_MAX). The error says what is expected.
Result<size_t> parse_replicas(const std::string& text);

}  // namespace elastic::sync
