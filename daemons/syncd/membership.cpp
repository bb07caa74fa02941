#include "elastic/membership.h"

#include <algorithm>
#include <charconv>

namespace elastic::sync {
namespace {

Result<uint64_t> parse_epoch(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v == 0)
    return make_error("epoch '" + std::string(s) + "' is not a number in 1..2^64-1");
  return v;
}

Result<std::vector<std::string>> parse_names(std::string_view s, const std::vector<Member>& configured) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  for (size_t start = 0;;) {
    const size_t comma = s.find(',', start);
    std::string name(s.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (name.empty()) return make_error("empty member name in live list '" + std::string(s) + "'");
    if (std::find(out.begin(), out.end(), name) != out.end()) return make_error("member '" + name + "' listed twice");
    if (std::none_of(configured.begin(), configured.end(), [&](const Member& m) { return m.name == name; }))
      return make_error("unknown member '" + name + "' (not in elastic.cluster.members)");
    out.push_back(std::move(name));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

}  // namespace

Result<MembershipFrame> parse_membership(std::string_view body, const std::vector<Member>& configured) {
  constexpr std::string_view kEpoch = "epoch=", kLive = " live=";
  const size_t live_at = body.find(kLive);
  if (body.substr(0, kEpoch.size()) != kEpoch || live_at == std::string_view::npos)
    return make_error("membership '" + std::string(body.substr(0, 80)) + "': expected 'epoch=N live=A,B,...'");
  auto epoch = parse_epoch(body.substr(kEpoch.size(), live_at - kEpoch.size()));
  if (!epoch) return epoch.error();
  auto names = parse_names(body.substr(live_at + kLive.size()), configured);
  if (!names) return names.error();
  return MembershipFrame{*epoch, std::move(*names)};
}

LiveView::LiveView(std::vector<Member> configured) : configured_(std::move(configured)), live_(configured_) {}

Result<bool> LiveView::apply(std::string_view body) {
  auto f = parse_membership(body, configured_);
  if (!f) return f.error();
  if (f->epoch <= epoch_) return false;
  epoch_ = f->epoch;
  live_.clear();
  for (const auto& m : configured_)
    if (std::find(f->live.begin(), f->live.end(), m.name) != f->live.end()) live_.push_back(m);
  return true;
}

bool LiveView::is_live(const std::string& name) const {
  return std::any_of(live_.begin(), live_.end(), [&](const Member& m) { return m.name == name; });
}

std::string LiveView::names() const {
  std::string out;
  for (const auto& m : live_) out += (out.empty() ? "" : ",") + m.name;
  return out;
}

}  // namespace elastic::sync
