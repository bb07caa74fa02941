#include "elastic/placement.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>

#include "elastic/parse_number.h"

namespace elastic::sync {
namespace {

// 64-bit FNV-1a then a splitmix64 finalizer: stable across builds and machines (std::hash is not).
uint64_t mix(const std::string& a, const std::string& b) {
  uint64_t h = 1469598103934665603ULL;
  auto eat = [&](const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;  // separator: ("ab","c") != ("a","bc")
  };
  eat(a);
  eat(b);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

}  // namespace

double hrw_score(const std::string& vpn_id, const Member& m) {
  // u in (0,1): 53 random bits, never 0 or 1
  const double u = (static_cast<double>(mix(vpn_id, m.name) >> 11) + 0.5) / 9007199254740992.0;
  return -m.weight / std::log(u);
}

std::vector<std::string> alternates(const std::string& vpn_id, const std::string& owner,
                                    const std::vector<Member>& live, size_t k) {
  std::vector<std::pair<double, std::string>> scored;
  for (const auto& m : live)
    if (m.name != owner && m.weight > 0) scored.emplace_back(hrw_score(vpn_id, m), m.name);
  std::sort(scored.begin(), scored.end(),
            [](const auto& x, const auto& y) { return x.first != y.first ? x.first > y.first : x.second < y.second; });
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && i < k; ++i) out.push_back(scored[i].second);
  return out;
}

Result<size_t> parse_replicas(const std::string& text) {
  if (text == "all") return std::numeric_limits<size_t>::max();
  auto n = parse_u64(text, "replicas", 1, 1000);
  if (!n) return make_error("expected a number from 1 to 1000 or 'all'");
  return static_cast<size_t>(*n);
}

}  // namespace elastic::sync
