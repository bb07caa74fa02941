#include "elastic/xfrm_replay.h"

#include <linux/xfrm.h>

#include <cerrno>
#include <cstdlib>

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
  // GETSA answers with the replay state, lifetime, reqid and ESN flag in one message.
  std::vector<Result<AeInfo>> out(ids.size(), Result<AeInfo>(make_error("no reply from the kernel")));
  auto ok = sock_.pipeline(
      ids.size(), [&](size_t i) { return build_get_sa(ids[i]); },
      [&](size_t i, const nlmsghdr* nlh) {
        auto info = parse_sa(nlh);
        if (!info) {
          out[i] = nlh->nlmsg_type == NLMSG_ERROR ? reply_error(nlh, ids[i], "read") : info.error();
          return;
        }
        info->id = ids[i];
        out[i] = std::move(info);
      });
  if (!ok) return fill_error<AeInfo>(ids.size(), ok.error());
  return out;
}

Result<AeInfo> XfrmReplay::read_thresholds(const SaId& id) {
  auto info = read(id);
  if (!info) return info;
  Result<AeInfo> ae = make_error("no reply from the kernel");
  auto ok = sock_.pipeline(
      1, [&](size_t) { return build_get_ae(id); },
      [&](size_t, const nlmsghdr* nlh) {
        ae = nlh->nlmsg_type == NLMSG_ERROR ? reply_error(nlh, id, "read") : parse_ae(nlh);
      });
  if (!ok) return ok.error();
  if (!ae) return ae.error();
  info->replay_thresh = ae->replay_thresh;
  info->timer_thresh = ae->timer_thresh;
  return info;
}

Result<AeInfo> XfrmReplay::read(const SaId& id) {
  return std::move(read_many({&id, 1})[0]);
}

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
