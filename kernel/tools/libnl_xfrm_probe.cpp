// libnl-xfrm-probe: what libnl-xfrm 3.x (xfrmnl_ae, xfrmnl_sa, the xfrm/sa cache) gets right and
// wrong about ESP replay state, checked against a real kernel and kernel/'s own XfrmReplay.
// One line per check: "ok: NAME: ..." or "DIFF: NAME: libnl ... kernel ..." or "FAIL: NAME: ...".
// Exit status 0 when every check ran (whatever its verdict), 1 if the set-up is missing.
//
// Expects the SAs that tests/vm/libnl_xfrm_probe.sh creates (dst 192.0.2.1, ESP, AES-GCM):
//   0x100 legacy (replay-window 32)        0x200 flag esn, replay-window 128
//   0x300 replay-window 128 without ESN    0x400 mark 0x7/0xff and its twin 0x400 mark 0x8/0xff
// See docs/kernel.md, "libnl-xfrm: what we use and why not more".
#include <arpa/inet.h>
#include <linux/xfrm.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/xfrm/ae.h>
#include <netlink/xfrm/sa.h>
#include <poll.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>

#include "elastic/xfrm_replay.h"

namespace {

using namespace elastic;
using namespace elastic::xfrm;

struct AePut {
  void operator()(xfrmnl_ae* p) const { xfrmnl_ae_put(p); }
};
struct SaPut {
  void operator()(xfrmnl_sa* p) const { xfrmnl_sa_put(p); }
};
struct AddrPut {
  void operator()(nl_addr* p) const { nl_addr_put(p); }
};
struct CacheFree {
  void operator()(nl_cache* p) const { nl_cache_free(p); }
};
struct OpsPut {
  void operator()(nl_cache_ops* p) const { nl_cache_ops_put(p); }
};
using Ae = std::unique_ptr<xfrmnl_ae, AePut>;
using Sa = std::unique_ptr<xfrmnl_sa, SaPut>;
using Addr = std::unique_ptr<nl_addr, AddrPut>;
using Cache = std::unique_ptr<nl_cache, CacheFree>;
using Ops = std::unique_ptr<nl_cache_ops, OpsPut>;
using Sock = std::unique_ptr<nl_sock, NlSockFree>;

constexpr const char* kDst = "192.0.2.1";
constexpr uint32_t kLegacy = 0x100, kEsn = 0x200, kWin128 = 0x300, kMarked = 0x400;
constexpr uint32_t kMarkA = 0x7, kMarkB = 0x8, kMarkMask = 0xff;

int n_ok = 0, n_diff = 0, n_fail = 0;

void ok(const std::string& name, const std::string& what) {
  ++n_ok;
  std::printf("ok: %s: %s\n", name.c_str(), what.c_str());
}
void diff(const std::string& name, const std::string& what) {
  ++n_diff;
  std::printf("DIFF: %s: %s\n", name.c_str(), what.c_str());
}
void fail(const std::string& name, const std::string& what) {
  ++n_fail;
  std::printf("FAIL: %s: %s\n", name.c_str(), what.c_str());
}

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

// What one side (libnl or kernel/) reports about an SA; has_* = the field was reported at all.
struct View {
  bool has_replay = false, has_lifetime = false, has_mark = false;
  ReplayState replay;
  Lifetime lifetime;
  uint32_t reqid = 0, mark_v = 0, mark_m = 0;
};

View truth_of(const AeInfo& i) {
  return {true, true, true, i.replay, i.lifetime, i.reqid, i.id.mark_value, i.id.mark_mask};
}

std::string describe(const View& v) {
  std::string s = v.has_replay ? format_replay(v.replay) : "replay=<none>";
  if (v.has_lifetime)
    s += " bytes=" + std::to_string(v.lifetime.bytes) + " packets=" + std::to_string(v.lifetime.packets);
  s += " reqid=" + std::to_string(v.reqid);
  if (v.mark_v || v.mark_m) s += " mark=" + hex(v.mark_v) + "/" + hex(v.mark_m);
  return s;
}

// Fields that differ, "" if none. Lifetime is compared where libnl reports it.
std::string compare(const View& nl, const View& k) {
  std::string d;
  if (!nl.has_replay)
    d += " replay:missing";
  else if (!(nl.replay == k.replay))
    d += " replay: libnl {" + format_replay(nl.replay) + "} kernel {" + format_replay(k.replay) + "}";
  if (nl.has_lifetime && (nl.lifetime.bytes != k.lifetime.bytes || nl.lifetime.packets != k.lifetime.packets ||
                          nl.lifetime.add_time != k.lifetime.add_time))
    d += " lifetime: libnl " + std::to_string(nl.lifetime.bytes) + "B/" + std::to_string(nl.lifetime.packets) +
         "p kernel " + std::to_string(k.lifetime.bytes) + "B/" + std::to_string(k.lifetime.packets) + "p";
  if (nl.reqid != k.reqid) d += " reqid: libnl " + std::to_string(nl.reqid) + " kernel " + std::to_string(k.reqid);
  if (nl.mark_v != k.mark_v || nl.mark_m != k.mark_m)
    d += " mark: libnl " + hex(nl.mark_v) + "/" + hex(nl.mark_m) + " kernel " + hex(k.mark_v) + "/" + hex(k.mark_m);
  return d;
}

View view_of(xfrmnl_ae* ae) {
  View v;
  unsigned oseq, seq, oseq_hi, seq_hi, win, bmp_len, bmp;
  // libnl copies bmp_len words into the caller's buffer without knowing its size: pass the
  // largest bitmap the kernel accepts.
  std::array<unsigned, kMaxBitmapWords> words{};
  if (xfrmnl_ae_get_replay_state_esn(ae, &oseq, &seq, &oseq_hi, &seq_hi, &win, &bmp_len, words.data()) == 0) {
    v.has_replay = true;
    v.replay = {true, oseq, seq, oseq_hi, seq_hi, win, {words.begin(), words.begin() + bmp_len}};
  } else if (xfrmnl_ae_get_replay_state(ae, &oseq, &seq, &bmp) == 0) {
    v.has_replay = true;
    v.replay = {false, oseq, seq, 0, 0, 0, {bmp}};
  }
  unsigned long long b, p, a, u;
  if (xfrmnl_ae_get_curlifetime(ae, &b, &p, &a, &u) == 0) {
    v.has_lifetime = true;
    v.lifetime = {b, p, a, u};
  }
  v.reqid = static_cast<uint32_t>(xfrmnl_ae_get_reqid(ae));
  unsigned m, val;
  if (xfrmnl_ae_get_mark(ae, &m, &val) == 0) v.has_mark = true, v.mark_v = val, v.mark_m = m;
  return v;
}

View view_of(xfrmnl_sa* sa) {
  View v;
  unsigned oseq, seq, oseq_hi, seq_hi, win, bmp_len, bmp;
  std::array<unsigned, kMaxBitmapWords> words{};
  if (xfrmnl_sa_get_replay_state_esn(sa, &oseq, &seq, &oseq_hi, &seq_hi, &win, &bmp_len, words.data()) == 0) {
    v.has_replay = true;
    v.replay = {true, oseq, seq, oseq_hi, seq_hi, win, {words.begin(), words.begin() + bmp_len}};
  } else if (xfrmnl_sa_get_replay_state(sa, &oseq, &seq, &bmp) == 0) {
    v.has_replay = true;
    v.replay = {false, oseq, seq, 0, 0, 0, {bmp}};
  }
  unsigned long long b, p, a, u;
  if (xfrmnl_sa_get_curlifetime(sa, &b, &p, &a, &u) == 0) {
    v.has_lifetime = true;
    v.lifetime = {b, p, a, u};
  }
  v.reqid = static_cast<uint32_t>(xfrmnl_sa_get_reqid(sa));
  unsigned m, val;
  if (xfrmnl_sa_get_mark(sa, &m, &val) == 0) v.has_mark = true, v.mark_v = val, v.mark_m = m;
  return v;
}

void verdict(const std::string& name, const View& nl, const View& k) {
  std::string d = compare(nl, k);
  if (d.empty())
    ok(name, describe(nl));
  else
    diff(name, d.substr(1));
}

struct Probe {
  Sock sk;  // libnl's requests
  XfrmReplay ours;
  XfrmSocket raw;  // kernel/'s socket, for seeding state and raw GETAE replies
  Addr dst;

  SaId id(uint32_t spi, uint32_t mark = 0) const {
    auto i = *make_sa_id(kDst, hex(spi));
    if (mark) i.mark_value = mark, i.mark_mask = kMarkMask;
    return i;
  }
  Result<AeInfo> truth(uint32_t spi, uint32_t mark = 0) { return ours.read(id(spi, mark)); }

  // Writes a replay state as is (no safety rules: this is a test fixture).
  Result<void> seed(const SaId& sa, const ReplayState& r) {
    Result<void> out = make_error("no reply");
    auto ok = raw.pipeline(
        1, [&](size_t) { return build_set_replay(sa, 0, r); },
        [&](size_t, const nlmsghdr* nlh) {
          int e = parse_ack(nlh);
          out = e == 0 ? Result<void>() : Result<void>(kernel_error(e, sa, "seed"));
        });
    if (!ok) return ok.error();
    return out;
  }

  Ae ae_for(uint32_t spi, uint32_t mark = 0) {
    Ae ae(xfrmnl_ae_alloc());
    xfrmnl_ae_set_daddr(ae.get(), dst.get());
    xfrmnl_ae_set_spi(ae.get(), spi);
    xfrmnl_ae_set_proto(ae.get(), IPPROTO_ESP);
    if (mark) xfrmnl_ae_set_mark(ae.get(), mark, kMarkMask);
    return ae;
  }

  // (a) reads: xfrmnl_ae_get_kernel and xfrmnl_sa_get_kernel against kernel/'s read.
  void reads(const char* label, uint32_t spi, uint32_t mark = 0) {
    auto t = truth(spi, mark);
    if (!t) return fail(std::string("read ") + label, t.error().message);
    xfrmnl_ae* ae = nullptr;
    if (int e = xfrmnl_ae_get_kernel(sk.get(), dst.get(), spi, IPPROTO_ESP, mark ? kMarkMask : 0, mark, &ae); e < 0)
      fail(std::string("ae-get ") + label, std::string("xfrmnl_ae_get_kernel: ") + nl_geterror(e));
    else
      verdict(std::string("ae-get ") + label, view_of(Ae(ae).get()), truth_of(*t));
    xfrmnl_sa* sa = nullptr;
    if (int e = xfrmnl_sa_get_kernel(sk.get(), dst.get(), spi, IPPROTO_ESP, mark, mark ? kMarkMask : 0, &sa); e < 0)
      fail(std::string("sa-get ") + label, std::string("xfrmnl_sa_get_kernel: ") + nl_geterror(e));
    else
      verdict(std::string("sa-get ") + label, view_of(Sa(sa).get()), truth_of(*t));
  }

  // (b) writes with xfrmnl_ae_set, read back with kernel/.
  void set_replay(const char* label, uint32_t spi, uint32_t mark = 0) {
    std::string name = std::string("ae-set ") + label;
    auto before = truth(spi, mark);
    if (!before) return fail(name, before.error().message);
    ReplayState want = before->replay;
    want.oseq += 1000;
    Ae ae = ae_for(spi, mark);
    if (want.esn_form)
      xfrmnl_ae_set_replay_state_esn(ae.get(), want.oseq, want.seq, want.oseq_hi, want.seq_hi, want.window,
                                     static_cast<unsigned>(want.bitmap.size()), want.bitmap.data());
    else
      xfrmnl_ae_set_replay_state(ae.get(), want.oseq, want.seq, want.bitmap[0]);
    if (int e = xfrmnl_ae_set(sk.get(), ae.get(), 0); e < 0)
      return fail(name, std::string("xfrmnl_ae_set: ") + nl_geterror(e));
    auto after = truth(spi, mark);
    if (!after) return fail(name, after.error().message);
    if (after->replay == want)
      ok(name, "oseq " + hex(before->replay.oseq) + " -> " + hex(after->replay.oseq) + ", rest unchanged");
    else
      diff(name, "wrote {" + format_replay(want) + "} kernel has {" + format_replay(after->replay) + "}");
  }

  void set_lifetime() {
    const Lifetime want{12345, 67, 1700000000, 1700000001};
    Ae ae = ae_for(kLegacy);
    xfrmnl_ae_set_curlifetime(ae.get(), want.bytes, want.packets, want.add_time, want.use_time);
    if (int e = xfrmnl_ae_set(sk.get(), ae.get(), 0); e < 0)
      return fail("ae-set lifetime", std::string("xfrmnl_ae_set: ") + nl_geterror(e));
    auto t = truth(kLegacy);
    if (!t) return fail("ae-set lifetime", t.error().message);
    if (t->lifetime.bytes == want.bytes && t->lifetime.packets == want.packets)
      ok("ae-set lifetime", "bytes=12345 packets=67 read back");
    else
      diff("ae-set lifetime",
           "kernel has bytes=" + std::to_string(t->lifetime.bytes) + " packets=" + std::to_string(t->lifetime.packets));
  }

  // (c) thresholds: set with libnl and with kernel/ (same input must give the same kernel state),
  // read with xfrmnl_ae_get_kernel, and parse a GETAE reply that carries both attributes.
  void thresholds() {
    const SaId a = id(kLegacy);
    const uint32_t packets = 7, ticks = 250;
    auto mine = ours.set_thresholds(a, packets, ticks);
    auto t_ours = ours.read_thresholds(a);
    auto reset = ours.set_thresholds(a, 3, 100);
    if (!mine || !t_ours || !reset) return fail("ae-set thresholds", "kernel/ could not set or read thresholds");
    Ae ae = ae_for(kLegacy);
    xfrmnl_ae_set_replay_maxdiff(ae.get(), packets);
    xfrmnl_ae_set_replay_maxage(ae.get(), ticks);
    if (int e = xfrmnl_ae_set(sk.get(), ae.get(), 0); e < 0)
      return fail("ae-set thresholds", std::string("xfrmnl_ae_set: ") + nl_geterror(e));
    auto t = ours.read_thresholds(a);
    if (!t) return fail("ae-set thresholds", t.error().message);
    std::string got = "replay_thresh=" + std::to_string(t->replay_thresh) + " timer=" + std::to_string(t->timer_thresh);
    if (t->replay_thresh == t_ours->replay_thresh && t->timer_thresh == t_ours->timer_thresh)
      ok("ae-set thresholds", "maxdiff=7 maxage=250 give the same kernel state as kernel/'s set: " + got);
    else
      diff("ae-set thresholds", "libnl's set left " + got +
                                    ", kernel/'s set gives replay_thresh=" + std::to_string(t_ours->replay_thresh) +
                                    " timer=" + std::to_string(t_ours->timer_thresh));

    xfrmnl_ae* got_ae = nullptr;
    if (int e = xfrmnl_ae_get_kernel(sk.get(), dst.get(), kLegacy, IPPROTO_ESP, 0, 0, &got_ae); e < 0)
      return fail("ae-get thresholds", std::string("xfrmnl_ae_get_kernel: ") + nl_geterror(e));
    Ae g(got_ae);
    report_thresholds("ae-get thresholds", g.get(), *t);

    // What libnl's GETAE asks for: the reply carries the thresholds only for XFRM_AE_RTHR/ETHR.
    nl_msg* req = nullptr;
    if (int e = xfrmnl_ae_build_get_request(dst.get(), kLegacy, IPPROTO_ESP, 0, 0, &req); e < 0)
      return fail("ae-get request", std::string("xfrmnl_ae_build_get_request: ") + nl_geterror(e));
    NlMsg request(req);
    nlmsg_hdr(req)->nlmsg_flags |= NLM_F_REQUEST;  // as nl_send_auto() would add
    const uint32_t asked = static_cast<const xfrm_aevent_id*>(nlmsg_data(nlmsg_hdr(req)))->flags;
    Result<AeInfo> answer = make_error("no reply");
    auto sent = raw.pipeline(
        1, [&](size_t) { return std::move(request); }, [&](size_t, const nlmsghdr* nlh) { answer = parse_ae(nlh); });
    if (!sent || !answer) return fail("ae-get request", "no reply to libnl's GETAE");
    if ((asked & (XFRM_AE_RTHR | XFRM_AE_ETHR)) == (XFRM_AE_RTHR | XFRM_AE_ETHR) && answer->replay_thresh)
      ok("ae-get request", "flags=" + hex(asked));
    else
      diff("ae-get request", "xfrmnl_ae_build_get_request sets flags=" + hex(asked) +
                                 " (no XFRM_AE_RTHR|XFRM_AE_ETHR): the kernel's reply then has no thresholds (parsed "
                                 "by kernel/: replay_thresh=" +
                                 std::to_string(answer->replay_thresh) + ")");

    // The same question asked by kernel/ (GETAE with XFRM_AE_RTHR|XFRM_AE_ETHR, so the reply
    // carries XFRMA_REPLAY_THRESH and XFRMA_ETIMER_THRESH), the reply parsed by libnl.
    Ae parsed;
    int perr = 0;
    auto r = raw.pipeline(
        1, [&](size_t) { return build_get_ae(a); },
        [&](size_t, const nlmsghdr* nlh) {
          xfrmnl_ae* p = nullptr;
          perr = xfrmnl_ae_parse(const_cast<nlmsghdr*>(nlh), &p);
          parsed.reset(p);
        });
    if (!r || perr < 0 || !parsed) return fail("ae-parse thresholds", "no parsed GETAE reply");
    report_thresholds("ae-parse thresholds", parsed.get(), *t);
  }

  void report_thresholds(const char* name, xfrmnl_ae* ae, const AeInfo& k) {
    int rd = xfrmnl_ae_get_replay_maxdiff(ae), ra = xfrmnl_ae_get_replay_maxage(ae);
    std::string nl = "maxdiff=" + std::to_string(rd) + " maxage=" + std::to_string(ra);
    std::string kern = "replay_thresh=" + std::to_string(k.replay_thresh) + " timer=" + std::to_string(k.timer_thresh);
    if (rd == static_cast<int>(k.replay_thresh) && ra == static_cast<int>(k.timer_thresh))
      ok(name, nl);
    else
      diff(name, "libnl " + nl + " (-1 = not reported) kernel " + kern);
  }

  // (c) AEVENT notifications: a NEWAE makes the kernel announce the SA on XFRMNLGRP_AEVENTS;
  // libnl's xfrmnl_ae_parse and kernel/'s parse_ae read the same message.
  void aevent(const char* label, uint32_t spi, uint32_t mark) {
    std::string name = std::string("ae-parse aevent ") + label;
    auto ev = XfrmSocket::open({XFRMNLGRP_AEVENTS});
    auto before = truth(spi, mark);
    if (!ev || !before) return fail(name, "cannot open the group or read the SA");
    ReplayState next = before->replay;
    next.oseq += 5;
    next.seq += 3;
    if (auto s = seed(id(spi, mark), next); !s) return fail(name, s.error().message);
    auto k = truth(spi, mark);
    if (!k) return fail(name, k.error().message);
    bool seen = false;
    for (int round = 0; round < 20 && !seen; ++round) {
      pollfd p{ev->fd(), POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      ev->receive(
          [&](const nlmsghdr* nlh) {
            if (seen || nlh->nlmsg_type != XFRM_MSG_NEWAE) return;
            auto mine = parse_ae(nlh);
            if (!mine || mine->id.spi != spi || mine->id.mark_value != mark) return;
            seen = true;
            xfrmnl_ae* p = nullptr;
            if (int e = xfrmnl_ae_parse(const_cast<nlmsghdr*>(nlh), &p); e < 0)
              return fail(name, std::string("xfrmnl_ae_parse: ") + nl_geterror(e));
            Ae nl(p);
            View kv = truth_of(*k);
            kv.lifetime = mine->lifetime;  // the notification's own snapshot
            std::string d = compare(view_of(nl.get()), kv);
            int flags = xfrmnl_ae_get_flags(nl.get());
            if (flags != static_cast<int>(mine->flags))
              d += " flags: libnl " + hex(static_cast<uint32_t>(flags)) + " kernel " + hex(mine->flags);
            if (d.empty())
              ok(name, "flags=" + hex(mine->flags) + " " + describe(view_of(nl.get())));
            else
              diff(name, d.substr(1));
          },
          true);
    }
    if (!seen) fail(name, "no AEVENT for spi " + hex(spi) + " within 4 s");
  }

  // The cache: filled by a GETSA dump; keyed by (daddr, spi, proto) only.
  void cache() {
    nl_cache* c = nullptr;
    if (int e = xfrmnl_sa_alloc_cache(sk.get(), &c); e < 0)
      return fail("sa-cache", std::string("xfrmnl_sa_alloc_cache: ") + nl_geterror(e));
    Cache cache(c);
    if (auto t = truth(kEsn); !t) {
      fail("sa-cache esn-128", t.error().message);
    } else if (Sa sa(xfrmnl_sa_get(cache.get(), dst.get(), kEsn, IPPROTO_ESP)); !sa) {
      fail("sa-cache esn-128", "xfrmnl_sa_get found no SA");
    } else {
      verdict("sa-cache esn-128", view_of(sa.get()), truth_of(*t));
    }

    int twins = 0;
    std::string marks;
    for (auto* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
      auto* sa = reinterpret_cast<xfrmnl_sa*>(o);
      if (static_cast<uint32_t>(xfrmnl_sa_get_spi(sa)) != kMarked) continue;
      ++twins;
      View v = view_of(sa);
      marks += " " + hex(v.mark_v) + "/" + hex(v.mark_m);
    }
    if (twins == 2)
      ok("sa-cache mark twins", "both SAs 0x400 cached, marks" + marks);
    else
      diff("sa-cache mark twins", "libnl cached " + std::to_string(twins) + " of the 2 SAs with spi 0x400 (marks" +
                                      marks + "): its object identity is (daddr, spi, proto), no mark");

    // xfrmnl_sa_get(cache, daddr, spi, proto) has no mark parameter: whichever twin one wants, the
    // call is the same and returns the same object; the other is reachable only by iterating.
    Sa pick(xfrmnl_sa_get(cache.get(), dst.get(), kMarked, IPPROTO_ESP));
    View v = pick ? view_of(pick.get()) : View{};
    diff("sa-cache get mark", "xfrmnl_sa_get(cache, daddr, spi, proto) takes no mark: for both twins it returns " +
                                  (pick ? "mark " + hex(v.mark_v) + "/" + hex(v.mark_m) : std::string("nothing")));

    // Whether any libnl cache follows AEVENTs.
    Ops ae_ops(nl_cache_ops_lookup_safe("xfrm/ae"));
    Ops sa_ops(nl_cache_ops_lookup_safe("xfrm/sa"));
    bool sa_newae = sa_ops && nl_msgtype_lookup(sa_ops.get(), XFRM_MSG_NEWAE);
    if (ae_ops || sa_newae)
      ok("cache aevents", "a libnl cache handles XFRM_MSG_NEWAE");
    else
      diff("cache aevents", std::string("no xfrm/ae cache ops; xfrm/sa cache ops ") +
                                (sa_ops ? "ignore XFRM_MSG_NEWAE" : "not registered") +
                                ": AEVENTs only through xfrmnl_ae_parse on one's own socket");
  }
};

Result<void> seed_all(Probe& p) {
  // Distinct, recognisable values in every field, so that a misplaced one shows.
  struct Seed {
    uint32_t spi, mark;
    ReplayState legacy, esn;
  };
  const ReplayState esn_b{true, 0x10, 0x300, 1, 1, 128, {0x80000001, 0x0000ff00, 0x12345678, 0xdeadbeef}};
  const ReplayState esn_c{true, 0x20, 0x40, 0, 0, 128, {0xf0f0f0f0, 0x1, 0x2, 0x3}};
  const Seed seeds[] = {
      {kLegacy, 0, {false, 0x1111, 0x2222, 0, 0, 0, {0xa5a5a5a5}}, {}},
      {kEsn, 0, {}, esn_b},
      {kWin128, 0, {}, esn_c},
      {kMarked, kMarkA, {false, 0x4444, 0x10, 0, 0, 0, {0x1}}, {}},
      {kMarked, kMarkB, {false, 0x8888, 0x20, 0, 0, 0, {0x3}}, {}},
  };
  for (const auto& s : seeds) {
    auto cur = p.truth(s.spi, s.mark);
    if (!cur) return cur.error();
    ReplayState r = cur->replay.esn_form ? s.esn : s.legacy;
    if (cur->replay.esn_form && cur->replay.bitmap.size() != r.bitmap.size())
      return make_error(cur->id.to_string() + ": expected a 128-packet window (4 bitmap words)");
    if (auto ok = p.seed(p.id(s.spi, s.mark), r); !ok) return ok.error();
  }
  return {};
}

}  // namespace

int main() {
  Sock sk(nl_socket_alloc());
  if (!sk || nl_connect(sk.get(), NETLINK_XFRM) < 0) {
    std::fprintf(stderr, "libnl-xfrm-probe: cannot open XFRM netlink\n");
    return 1;
  }
  auto ours = XfrmReplay::open();
  auto raw = XfrmSocket::open();
  if (!ours || !raw) {
    std::fprintf(stderr, "libnl-xfrm-probe: cannot open kernel/'s sockets\n");
    return 1;
  }
  in_addr a{};
  inet_pton(AF_INET, kDst, &a);
  Probe p{std::move(sk), std::move(ours.value()), std::move(raw.value()), Addr(nl_addr_build(AF_INET, &a, 4))};
  if (auto s = seed_all(p); !s) {
    std::fprintf(stderr, "libnl-xfrm-probe: set-up: %s (run tests/vm/libnl_xfrm_probe.sh)\n",
                 s.error().message.c_str());
    return 1;
  }

  // (b) first, so that the reads below also see a lifetime.
  p.set_lifetime();
  p.reads("legacy", kLegacy);
  p.reads("esn-128", kEsn);
  p.reads("window-128-no-esn", kWin128);
  p.reads("mark", kMarked, kMarkA);
  p.reads("mark-twin", kMarked, kMarkB);
  p.set_replay("legacy", kLegacy);
  p.set_replay("esn-128", kEsn);
  p.set_replay("mark", kMarked, kMarkA);
  if (auto twin = p.truth(kMarked, kMarkB); twin && twin->replay.oseq == 0x8888)
    ok("ae-set mark-twin untouched", "oseq 0x8888");
  else
    diff("ae-set mark-twin untouched", twin ? "oseq " + hex(twin->replay.oseq) : twin.error().message);
  p.thresholds();
  p.aevent("esn-128", kEsn, 0);
  p.aevent("mark", kMarked, kMarkA);
  p.cache();
  std::printf("probe: %d ok, %d DIFF, %d FAIL\n", n_ok, n_diff, n_fail);
  return 0;
}
