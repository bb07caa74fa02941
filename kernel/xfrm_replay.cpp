#include "elastic/xfrm_replay.h"

#include <linux/xfrm.h>

#include <cerrno>
#include <cstdlib>
#include <optional>

#include "elastic/xfrm_rules.h"

namespace elastic::xfrm {
namespace {

Error reply_error(const nlmsghdr* nlh, const SaId& id, const char* what) {
  int err = parse_ack(nlh);
  if (err > 0) return kernel_error(err, id, what);
  return make_error(std::string(what) + " " + id.to_string() + ": unexpected netlink reply type " +
                    std::to_string(nlh->nlmsg_type));
}

template <typename T>
std::vector<Result<T>> fill_error(size_t n, const Error& e) {
  return std::vector<Result<T>>(n, Result<T>(e));
}

}  // namespace

Result<XfrmReplay> XfrmReplay::open() {
  auto s = XfrmSocket::open();
  if (!s) return s.error();
  return XfrmReplay(std::move(s.value()));
}

std::vector<Result<AeInfo>> XfrmReplay::read_many(std::span<const SaId> ids) {
  // Two requests per SA: GETSA for the ESN flag, GETAE for the replay state.
  std::vector<std::optional<AeInfo>> ae(ids.size());
  std::vector<std::optional<bool>> esn(ids.size());
  std::vector<std::optional<Error>> err(ids.size());
  auto ok = sock_.pipeline(
      ids.size() * 2,
      [&](size_t r) { return r % 2 ? build_get_ae(ids[r / 2]) : build_get_sa(ids[r / 2]); },
      [&](size_t r, const nlmsghdr* nlh) {
        const size_t i = r / 2;
        if (err[i]) return;
        if (r % 2 == 0) {
          auto f = parse_sa_esn(nlh);
          if (f) esn[i] = *f;
          else err[i] = reply_error(nlh, ids[i], "read");
        } else {
          auto a = parse_ae(nlh);
          if (a) ae[i] = std::move(a.value());
          else err[i] = reply_error(nlh, ids[i], "read");
        }
      });
  if (!ok) return fill_error<AeInfo>(ids.size(), ok.error());
  std::vector<Result<AeInfo>> out;
  out.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (err[i]) {
      out.emplace_back(*err[i]);
      continue;
    }
    AeInfo info = std::move(*ae[i]);
    info.id = ids[i];
    info.esn = esn[i].value_or(false);
    out.emplace_back(std::move(info));
  }
  return out;
}

Result<AeInfo> XfrmReplay::read(const SaId& id) { return std::move(read_many({&id, 1})[0]); }

std::vector<Result<void>> XfrmReplay::write_many(std::span<const SaId> ids, std::span<const AeInfo> planned) {
  std::vector<Result<void>> out(ids.size(), Result<void>(make_error("no reply from the kernel")));
  auto ok = sock_.pipeline(
      ids.size(), [&](size_t i) { return build_set_replay(ids[i], planned[i].reqid, planned[i].replay); },
      [&](size_t i, const nlmsghdr* nlh) {
        out[i] = parse_ack(nlh) == 0 ? Result<void>() : Result<void>(reply_error(nlh, ids[i], "set"));
      });
  if (!ok) return fill_error<void>(ids.size(), ok.error());
  return out;
}

Result<AeInfo> XfrmReplay::set(const SaId& id, const ReplayState& want) {
  auto cur = read(id);
  if (!cur) return cur.error();
  auto plan = plan_set(*cur, want);
  if (!plan) return plan.error();
  AeInfo next = *cur;
  next.replay = *plan;
  if (auto w = write_many({&id, 1}, {&next, 1})[0]; !w) return w.error();
  return read(id);
}

std::vector<Result<AeInfo>> XfrmReplay::advance_many(std::span<const SaId> ids, uint64_t delta) {
  auto cur = read_many(ids);
  std::vector<SaId> todo_ids;
  std::vector<AeInfo> todo;
  std::vector<size_t> where;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!cur[i]) continue;
    auto plan = plan_advance(*cur[i], delta);
    if (!plan) {
      cur[i] = plan.error();
      continue;
    }
    cur[i]->replay = *plan;
    todo_ids.push_back(ids[i]);
    todo.push_back(*cur[i]);
    where.push_back(i);
  }
  auto written = write_many(todo_ids, todo);
  for (size_t k = 0; k < where.size(); ++k)
    if (!written[k]) cur[where[k]] = written[k].error();
  return cur;
}

Result<AeInfo> XfrmReplay::advance(const SaId& id, uint64_t delta) {
  return std::move(advance_many({&id, 1}, delta)[0]);
}

Result<void> XfrmReplay::set_thresholds(const SaId& id, uint32_t packets, uint32_t timer_ticks) {
  if (!packets && !timer_ticks) return make_error("set thresholds " + id.to_string() + ": both thresholds are 0");
  Result<void> out = make_error("no reply from the kernel");
  auto ok = sock_.pipeline(
      1, [&](size_t) { return build_set_thresholds(id, packets, timer_ticks); },
      [&](size_t, const nlmsghdr* nlh) {
        out = parse_ack(nlh) == 0 ? Result<void>() : Result<void>(reply_error(nlh, id, "set thresholds"));
      });
  if (!ok) return ok.error();
  return out;
}

uint32_t kernel_hz() {
  if (const char* hz = std::getenv("ELASTIC_KERNEL_HZ")) {
    long v = std::strtol(hz, nullptr, 10);
    if (v > 0 && v <= 10000) return static_cast<uint32_t>(v);
  }
  return 250;
}

uint32_t ms_to_ticks(uint32_t ms) {
  uint64_t t = (uint64_t{ms} * kernel_hz() + 999) / 1000;
  return t ? static_cast<uint32_t>(t) : 1;
}

}  // namespace elastic::xfrm
