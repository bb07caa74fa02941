#include "elastic_takeover.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "elastic/parse_number.h"
#include "elastic_core.h"

namespace elastic::plugin {
namespace {

bool mul(uint64_t a, uint64_t b, uint64_t& out) {
  return !__builtin_mul_overflow(a, b, &out);
}
bool add(uint64_t a, uint64_t b, uint64_t& out) {
  return !__builtin_add_overflow(a, b, &out);
}

std::string ntop(const std::string& a) {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (a.size() == 4 || a.size() == 16) inet_ntop(a.size() == 4 ? AF_INET : AF_INET6, a.data(), buf, sizeof buf);
  return buf;
}

// The prefix length if [from, to] is exactly one prefix, else -1.
int prefix_len(const std::string& from, const std::string& to) {
  if (from.size() != to.size()) return -1;
  const int bits = static_cast<int>(from.size()) * 8;
  int len = bits;
  // trailing part: from has zeros where to has ones
  while (len > 0) {
    const int bit = len - 1, byte = bit / 8, mask = 0x80 >> (bit % 8);
    const bool f = from[byte] & mask, t = to[byte] & mask;
    if (!(!f && t)) break;
    --len;
  }
  for (int bit = 0; bit < len; ++bit) {
    const int byte = bit / 8, mask = 0x80 >> (bit % 8);
    if ((from[byte] & mask) != (to[byte] & mask)) return -1;
  }
  return len;
}

}  // namespace

Result<uint64_t> takeover_margin(const MarginRule& r) {
  uint64_t window_ms, packets_ms, packets, sum, out;
  if (!add(r.sync_latency_ms, r.detection_ms, window_ms) || !mul(r.max_pps, window_ms, packets_ms) ||
      !add(packets_ms / 1000, packets_ms % 1000 != 0, packets) || !add(r.threshold, packets, sum) ||
      !mul(sum, r.safety, out))
    return make_error(
        "the takeover margin overflows 64 bits (check takeover.max_pps, .sync_latency, "
        ".detection, .safety)");
  return std::max(out, r.floor);
}

Result<std::vector<sync::Member>> parse_members(const std::string& text) {
  std::vector<sync::Member> out;
  size_t pos = 0;
  while (pos <= text.size() && !text.empty()) {
    const size_t comma = text.find(',', pos);
    const std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? text.size() + 1 : comma + 1;
    const size_t eq = item.find('=');
    sync::Member m{item.substr(0, eq), 1.0};
    if (eq != std::string::npos) {
      // the same rule as elastic-syncd's and elastic-heartbeatd's configs: a whole number 1..1000
      auto w = parse_u64(item.substr(eq + 1), "live member '" + item + "': weight", 1, 1000);
      if (!w) return w.error();
      m.weight = static_cast<double>(*w);
    }
    if (m.name.empty() || m.name.find_first_of(" \t\n/") != std::string::npos)
      return make_error("live member '" + item + "': bad member name");
    out.push_back(std::move(m));
  }
  return out;
}

std::string format_range(const std::string& from, const std::string& to) {
  const int len = prefix_len(from, to);
  if (from == to) return ntop(from);
  if (len >= 0) return ntop(from) + "/" + std::to_string(len);
  return ntop(from) + "-" + ntop(to);
}

}  // namespace elastic::plugin

extern "C" char* elastic_margin_rule(uint64_t threshold, uint64_t max_pps, uint64_t latency_ms, uint64_t detection_ms,
                                     uint64_t safety, uint64_t floor, uint64_t* margin) {
  auto m = elastic::plugin::takeover_margin({threshold, max_pps, latency_ms, detection_ms, safety, floor});
  if (!m) return strdup(m.error().message.c_str());
  *margin = *m;
  return nullptr;
}
