#include "elastic/xfrm_types.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstdio>
#include <functional>

namespace elastic::xfrm {
namespace {

Result<uint32_t> parse_u32(std::string_view s, const char* what) {
  int base = 10;
  if (s.starts_with("0x") || s.starts_with("0X")) {
    s.remove_prefix(2);
    base = 16;
  }
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size())
    return make_error(std::string(what) + " '" + std::string(s) + "' is not a 32-bit number");
  return v;
}

}  // namespace

std::string SaId::to_string() const {
  char addr[INET6_ADDRSTRLEN] = "?";
  inet_ntop(family, daddr.data(), addr, sizeof addr);
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s spi 0x%08x %s", addr, spi, proto == 51 ? "ah" : "esp");
  std::string s = buf;
  if (mark_value || mark_mask) {
    std::snprintf(buf, sizeof buf, " mark 0x%x/0x%x", mark_value, mark_mask);
    s += buf;
  }
  return s;
}

size_t SaIdHash::operator()(const SaId& id) const {
  size_t h = std::hash<uint64_t>{}((uint64_t{id.spi} << 32) | (uint64_t{id.proto} << 24) | id.mark_value);
  for (auto b : id.daddr) h = h * 131 + b;
  return h;
}

Result<SaId> make_sa_id(std::string_view daddr, std::string_view spi, std::string_view proto, std::string_view mark) {
  SaId id;
  std::string a(daddr);
  if (inet_pton(AF_INET, a.c_str(), id.daddr.data()) == 1)
    id.family = AF_INET;
  else if (inet_pton(AF_INET6, a.c_str(), id.daddr.data()) == 1)
    id.family = AF_INET6;
  else
    return make_error("destination '" + a + "' is not an IPv4 or IPv6 address");
  auto s = parse_u32(spi, "SPI");
  if (!s) return s.error();
  if (*s == 0) return make_error("SPI 0 is not a valid SPI");
  id.spi = *s;
  if (proto == "esp" || proto.empty())
    id.proto = 50;
  else if (proto == "ah")
    id.proto = 51;
  else
    return make_error("protocol '" + std::string(proto) + "' is not esp or ah");
  if (!mark.empty()) {
    auto slash = mark.find('/');
    auto v = parse_u32(mark.substr(0, slash), "mark");
    if (!v) return v.error();
    id.mark_value = *v;
    id.mark_mask = 0xffffffff;
    if (slash != std::string_view::npos) {
      auto m = parse_u32(mark.substr(slash + 1), "mark mask");
      if (!m) return m.error();
      id.mark_mask = *m;
    }
  }
  return id;
}

std::string format_replay(const ReplayState& r) {
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "form=%s oseq=%u oseq_hi=%u seq=%u seq_hi=%u window=%u bitmap=", r.esn_form ? "esn" : "legacy", r.oseq,
                r.oseq_hi, r.seq, r.seq_hi, r.window);
  std::string s = buf;
  for (size_t i = 0; i < r.bitmap.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s%08x", i ? "," : "", r.bitmap[i]);
    s += buf;
  }
  return s;
}

}  // namespace elastic::xfrm
