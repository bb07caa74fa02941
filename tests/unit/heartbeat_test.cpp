// elastic-heartbeatd: packet codec, admission (forged/replayed/foreign/malformed), configuration
// errors, and the membership/lease state machine driven with injected clocks.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "elastic/hb_config.h"
#include "elastic/hb_packet.h"
#include "elastic/membership.h"
#include "elastic/receiver.h"

using namespace elastic::hb;

namespace {

const std::string kKey(32, 'K');

Packet sample(uint64_t seq = 7) {
  Packet p;
  p.sender = "sg2";
  p.boot = 0x1122334455667788ull;
  p.seq = seq;
  p.wall_us = 1700000000000000ull + seq;
  p.epoch = 9;
  p.peers.push_back({"sg1", 42, 5, 1, kFlagDown});
  p.peers.push_back({"w1", 43, 6, 0, 0});
  return p;
}

}  // namespace

TEST(HeartbeatPacket, RoundTrip) {
  const Packet p = sample();
  const std::string wire = encode_packet(p, kKey);
  auto d = decode_packet(wire, kKey);
  ASSERT_TRUE(d.ok) << d.why;
  EXPECT_EQ(d.packet, p);
  EXPECT_EQ(wire.substr(0, 4), "EHB1");
}

TEST(HeartbeatReceiver, ForgedBitFlipAndWrongKeyAreCounted) {
  Receiver rx("sg1", {"sg1", "sg2", "w1"}, kKey);
  const std::string wire = encode_packet(sample(), kKey);
  for (size_t i = 4; i < wire.size(); i += 7) {
    std::string bad = wire;
    bad[i] ^= 0x01;
    EXPECT_FALSE(rx.receive(bad)) << "bit flip at " << i;
  }
  EXPECT_FALSE(rx.receive(encode_packet(sample(), std::string(32, 'X'))));
  const auto& c = rx.counters();
  EXPECT_EQ(c.forged, (wire.size() - 4 + 6) / 7 + 1);
  EXPECT_EQ(c.ok + c.replayed + c.foreign + c.malformed, 0u);
  EXPECT_TRUE(rx.receive(wire));  // the genuine one still passes
  EXPECT_EQ(rx.counters().ok, 1u);
}

TEST(HeartbeatReceiver, ReplayedAndOlderBootAreRefused) {
  Receiver rx("sg1", {"sg1", "sg2", "w1"}, kKey);
  Packet p = sample(10);
  ASSERT_TRUE(rx.receive(encode_packet(p, kKey)));
  EXPECT_FALSE(rx.receive(encode_packet(p, kKey)));  // the same packet again
  p.seq = 9;
  EXPECT_FALSE(rx.receive(encode_packet(p, kKey)));  // an older one
  EXPECT_EQ(rx.counters().replayed, 2u);
  // A new boot id with an older wall time: a recording of an earlier start.
  Packet old = sample(100);
  old.boot = 5;
  old.wall_us -= 1000000;
  EXPECT_FALSE(rx.receive(encode_packet(old, kKey)));
  EXPECT_EQ(rx.counters().replayed, 3u);
  // A new boot id with a later wall time: a restart, accepted even with a small seq.
  Packet restart = sample(1);
  restart.boot = 6;
  restart.wall_us += 5000000;
  EXPECT_TRUE(rx.receive(encode_packet(restart, kKey)));
  p = sample(11);
  EXPECT_FALSE(rx.receive(encode_packet(p, kKey)));  // the previous boot is over
  EXPECT_EQ(rx.counters().replayed, 4u);
  EXPECT_EQ(rx.counters().ok, 2u);
}

TEST(HeartbeatReceiver, ForeignAndOwnNameAreRefused) {
  Receiver rx("sg1", {"sg1", "sg2", "w1"}, kKey);
  Packet p = sample();
  p.sender = "sg9";
  EXPECT_FALSE(rx.receive(encode_packet(p, kKey)));
  p.sender = "sg1";  // our own packet reflected back
  EXPECT_FALSE(rx.receive(encode_packet(p, kKey)));
  EXPECT_EQ(rx.counters().foreign, 2u);
  EXPECT_EQ(rx.counters().ok, 0u);
}

TEST(HeartbeatReceiver, TruncatedAndGarbageAreMalformed) {
  Receiver rx("sg1", {"sg1", "sg2", "w1"}, kKey);
  const std::string wire = encode_packet(sample(), kKey);
  size_t forged = 0, malformed = 0;
  for (size_t n = 0; n < wire.size(); ++n) {
    EXPECT_FALSE(rx.receive(wire.substr(0, n)));
    // Up to magic + tag it cannot even be checked; beyond, the tag no longer matches.
    (n < 4 + kTagSize ? malformed : forged)++;
  }
  EXPECT_FALSE(rx.receive("hello world, this is not a heartbeat at all, no no no"));
  ++malformed;
  // Authentic but structurally bad: trailing bytes, zero seq.
  std::string body = encode_packet(sample(), kKey);
  body = body.substr(0, body.size() - kTagSize) + "x";
  EXPECT_FALSE(parse_packet_body(body).ok);
  Packet zero = sample(0);
  EXPECT_FALSE(rx.receive(encode_packet(zero, kKey)));
  ++malformed;
  EXPECT_EQ(rx.counters().forged, forged);
  EXPECT_EQ(rx.counters().malformed, malformed);
  EXPECT_EQ(rx.counters().ok, 0u);
}

// ---- configuration ----

namespace {

struct ConfDir {
  std::string dir;
  ConfDir() {
    char t[] = "/tmp/hbconf.XXXXXX";
    dir = mkdtemp(t);
    key(std::string(40, 'k'), 0600);
  }
  ~ConfDir() { std::system(("rm -rf " + dir).c_str()); }
  void key(const std::string& bytes, mode_t mode) {
    std::ofstream(dir + "/hb.key") << bytes;
    chmod((dir + "/hb.key").c_str(), mode);
  }
  // The heartbeat section opens on line 11 (with the default members).
  std::string conf(const std::string& heartbeat, const std::string& members = "") {
    std::string m = members.empty() ? "      sg1 { address = 127.0.0.1:7400 }\n"
                                      "      sg2 { address = 127.0.0.2:7400 }\n"
                                      "      w1 { address = 127.0.0.3:7400\n witness = yes }\n"
                                    : members;
    return "elastic {\n  node = sg1\n  cluster {\n    members {\n" + m + "    }\n  }\n  heartbeat {\n    key = " + dir +
           "/hb.key\n" + heartbeat + "  }\n}\n";
  }
  elastic::Result<HeartbeatConfig> load(const std::string& text) {
    std::ofstream(dir + "/elastic.conf") << text;
    auto s = elastic::sync::Settings::load(dir + "/elastic.conf");
    if (!s) return s.error();
    return load_heartbeat_config(*s);
  }
  std::string error(const std::string& text) {
    auto r = load(text);
    return r ? "(accepted)" : r.error().message;
  }
};

}  // namespace

TEST(HeartbeatConfig, ValidConfig) {
  ConfDir d;
  EXPECT_EQ(d.load(d.conf(""))->loglevel, elastic::log::Priority::info);
  auto c = d.load(d.conf("    interval = 1s\n    misses = 4\n    port = 7555\n    loglevel = warning\n"));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->loglevel, elastic::log::Priority::warning);
  EXPECT_EQ(c->interval.count(), 1000);
  EXPECT_EQ(c->misses, 4);
  EXPECT_EQ(c->port, 7555);
  EXPECT_EQ(c->quorum, 2u);
  EXPECT_EQ(c->members.size(), 3u);
  EXPECT_TRUE(c->members[2].witness);
  EXPECT_EQ(c->key.size(), 40u);
  EXPECT_EQ(parse_interval("20ms")->count(), 20);
  EXPECT_EQ(parse_interval("250")->count(), 250);
  EXPECT_EQ(parse_interval("10s")->count(), 10000);
  EXPECT_FALSE(parse_interval("11s"));
}

TEST(HeartbeatConfig, ErrorsNameFileLineAndKey) {
  ConfDir d;
  const std::string f = d.dir + "/elastic.conf:";
  // Line 12 is "key = ...", line 13 the first line after it.
  EXPECT_EQ(d.error(d.conf("    colour = blue\n")), f + "13: elastic.heartbeat.colour: unknown key");
  EXPECT_EQ(d.error(d.conf("    interval = 5ms\n")),
            f + "13: elastic.heartbeat.interval: '5ms' is out of range (10ms .. 10s)");
  EXPECT_EQ(d.error(d.conf("    interval = abc\n")),
            f + "13: elastic.heartbeat.interval: 'abc' is not a duration (e.g. 20ms, 1s)");
  EXPECT_EQ(d.error(d.conf("\n    misses = 1\n")),
            f + "14: elastic.heartbeat.misses: '1': expected a number from 2 to 1000");
  EXPECT_EQ(d.error(d.conf("    loglevel = verbose\n")),
            f + "13: elastic.heartbeat.loglevel: 'verbose': expected err, warning, notice, info or debug");
  EXPECT_EQ(d.error(d.conf("\n    loglevel = Info\n")),
            f + "14: elastic.heartbeat.loglevel: 'Info': expected err, warning, notice, info or debug");
  d.key(std::string(40, 'k'), 0644);
  EXPECT_EQ(d.error(d.conf("")), f + "12: elastic.heartbeat.key: key file " + d.dir +
                                     "/hb.key has mode 0644: it must be readable by its owner only (chmod 600 or 400)");
  d.key("short", 0600);
  EXPECT_EQ(d.error(d.conf("")),
            f + "12: elastic.heartbeat.key: key file " + d.dir + "/hb.key holds 5 bytes, at least 32 are needed");
  d.key(std::string(40, 'k'), 0400);
  EXPECT_TRUE(d.load(d.conf("")));
  unlink((d.dir + "/hb.key").c_str());
  EXPECT_EQ(d.error(d.conf("")),
            f + "12: elastic.heartbeat.key: cannot read key file " + d.dir + "/hb.key: No such file or directory");
}

TEST(HeartbeatConfig, TwoMembersNeedAWitness) {
  ConfDir d;
  const std::string two = "      sg1 { address = 127.0.0.1:7400 }\n      sg2 { address = 127.0.0.2:7400 }\n";
  const std::string err = d.error(d.conf("", two));
  EXPECT_EQ(err.rfind(d.dir + "/elastic.conf:4: elastic.cluster.members: 2 members without a witness", 0), 0u) << err;
  auto c = d.load(d.conf("    allow_two_node_without_witness = yes\n", two));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->quorum, 1u);
}

// ---- membership and leases, with injected time (microseconds) ----

namespace {

constexpr Micros kIv = 20000;  // 20 ms, misses 3: D = 60 ms, L = 40 ms

MembershipConfig mcfg(const std::string& self, uint64_t boot) {
  MembershipConfig c;
  c.self = self;
  c.members = {{"sg1", 1, false}, {"sg2", 1, false}, {"sg3", 2, false}};
  c.interval = kIv;
  c.misses = 3;
  c.quorum = 2;
  c.boot = boot;
  c.startup_grace = 0;
  return c;
}

bool has(const std::vector<Event>& ev, Event::Kind k, const std::string& node = "") {
  return std::any_of(ev.begin(), ev.end(),
                     [&](const Event& e) { return e.kind == k && (node.empty() || e.node == node); });
}

const PeerEntry* entry(const Packet& p, const std::string& name) {
  for (const auto& e : p.peers)
    if (e.name == name) return &e;
  return nullptr;
}

// A simulated cluster: every node sends every interval; `up` decides who sends and who hears.
struct Sim {
  std::vector<std::string> names{"sg1", "sg2", "sg3"};
  std::vector<Membership> m;
  std::vector<bool> up{true, true, true};
  std::vector<std::vector<Event>> log{3};
  Micros t = 1000000;
  uint64_t wall = 1;
  Sim() {
    for (size_t i = 0; i < 3; ++i) m.emplace_back(mcfg(names[i], 100 + i), t);
  }
  void round() {
    std::vector<Packet> out(3);
    for (size_t i = 0; i < 3; ++i)
      if (up[i]) {
        auto ev = m[i].tick(t);
        log[i].insert(log[i].end(), ev.begin(), ev.end());
        out[i] = m[i].make_heartbeat(t, ++wall);
      }
    for (size_t i = 0; i < 3; ++i)
      for (size_t j = 0; j < 3; ++j)
        if (i != j && up[i] && up[j]) {
          auto ev = m[j].on_heartbeat(out[i], t + 100);
          log[j].insert(log[j].end(), ev.begin(), ev.end());
          // j answers the regular heartbeat at once (prompt), as the daemon does
          ev = m[i].on_heartbeat(m[j].make_heartbeat(t + 100, ++wall, true), t + 200);
          log[i].insert(log[i].end(), ev.begin(), ev.end());
        }
    t += kIv;
  }
  void run(Micros dur) {
    for (Micros end = t + dur; t < end;) round();
  }
  size_t count(size_t i, Event::Kind k) const {
    return std::count_if(log[i].begin(), log[i].end(), [&](const Event& e) { return e.kind == k; });
  }
};

}  // namespace

TEST(HeartbeatMembership, AllReadyWithLeases) {
  Sim s;
  s.run(10 * kIv);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(s.m[i].self_state(), State::Ready) << i;
    EXPECT_GT(s.m[i].lease_until(), s.t) << i;
    for (const auto& ms : s.m[i].members()) EXPECT_EQ(ms.state, State::Ready) << i << " " << ms.name;
  }
}

TEST(HeartbeatMembership, DownAfterDThenQuorumTakeoverOnce) {
  Sim s;
  s.run(10 * kIv);
  s.up[2] = false;  // sg3 crashes
  const Micros crash = s.t;
  Micros down_at = 0;
  while (s.m[0].members()[1].state != State::Down && s.t < crash + 10 * kIv) {
    s.round();
    // suspect once silent for more than 1.5 intervals (last heard at crash - kIv + 100)
    if (s.m[0].members()[1].state == State::Suspect) {
      EXPECT_GT((s.t - kIv) - (crash - kIv + 100), 3 * kIv / 2);
    }
  }
  down_at = s.t - kIv;
  // Last heard at crash - kIv + 100; declared on the first tick >= that + D.
  EXPECT_GE(down_at - (crash - kIv), s.m[0].d());
  EXPECT_LT(down_at - (crash - kIv), s.m[0].d() + kIv + 200);
  s.run(10 * kIv);
  EXPECT_EQ(s.count(0, Event::Takeover), 1u);
  EXPECT_EQ(s.count(1, Event::Takeover), 1u);
  EXPECT_TRUE(has(s.log[0], Event::Takeover, "sg3"));
  // The takeover tells when sg3 was last heard (the daemon's takeover_detection_seconds): its
  // prompt answer to sg1's last heartbeat before the crash, at least D before the declaration.
  const auto takeover =
      std::find_if(s.log[0].begin(), s.log[0].end(), [](const Event& e) { return e.kind == Event::Takeover; });
  ASSERT_NE(takeover, s.log[0].end());
  EXPECT_EQ(takeover->last_heard, crash - kIv + 200);
  EXPECT_GE(takeover->declared_at - takeover->last_heard, s.m[0].d());
  EXPECT_EQ(s.m[0].live().size(), 2u);
  // Never acks a member it declared down; flags it instead.
  Packet hb = s.m[0].make_heartbeat(s.t, 999);
  ASSERT_TRUE(entry(hb, "sg3"));
  EXPECT_EQ(entry(hb, "sg3")->ack, 0u);
  EXPECT_TRUE(entry(hb, "sg3")->down());
}

TEST(HeartbeatMembership, NoTakeoverWithoutQuorum) {
  // sg1 alone stops hearing sg3 (asymmetric): it declares sg3 down, but sg2 does not agree.
  Membership a(mcfg("sg1", 1), 0);
  Membership b(mcfg("sg2", 2), 0);
  Membership c(mcfg("sg3", 3), 0);
  std::vector<Event> ev;
  Micros t = 0;
  for (int r = 0; r < 30; ++r, t += kIv) {
    auto pa = a.make_heartbeat(t, t + 1), pb = b.make_heartbeat(t, t + 1), pc = c.make_heartbeat(t, t + 1);
    b.on_heartbeat(pa, t), c.on_heartbeat(pa, t);
    auto e1 = a.on_heartbeat(pb, t);
    ev.insert(ev.end(), e1.begin(), e1.end());
    c.on_heartbeat(pb, t);
    b.on_heartbeat(pc, t), a.on_heartbeat(pc, t);
    if (r == 10) {  // NOLINT
      // from now on sg1 does not hear sg3
      for (; r < 30; ++r, t += kIv) {
        pa = a.make_heartbeat(t, t + 1), pb = b.make_heartbeat(t, t + 1), pc = c.make_heartbeat(t, t + 1);
        b.on_heartbeat(pa, t), c.on_heartbeat(pa, t);
        auto e2 = a.on_heartbeat(pb, t);
        ev.insert(ev.end(), e2.begin(), e2.end());
        c.on_heartbeat(pb, t), b.on_heartbeat(pc, t);
        auto e3 = a.tick(t);
        ev.insert(ev.end(), e3.begin(), e3.end());
      }
    }
  }
  EXPECT_TRUE(has(ev, Event::MemberDown, "sg3"));
  EXPECT_FALSE(has(ev, Event::Takeover));
  EXPECT_EQ(c.self_state(), State::Ready);  // sg3 keeps its lease through sg2
}

TEST(HeartbeatMembership, LeaseExpiresAfterL) {
  Sim s;
  s.run(10 * kIv);
  // sg1 is cut off: it neither sends nor hears. Its lease rests on the acks it has.
  s.up[0] = false;
  Membership& a = s.m[0];
  const Micros until = a.lease_until();
  // The newest acked heartbeat was sent one round ago (acks arrive with the next round).
  EXPECT_LE(until - s.t, a.lease_length());
  EXPECT_GE(until - s.t, a.lease_length() - 2 * kIv);
  EXPECT_FALSE(has(a.tick(until - 1), Event::Fence));
  EXPECT_EQ(a.self_state(), State::Ready);
  auto ev = a.tick(until);
  EXPECT_TRUE(has(ev, Event::Fence));
  EXPECT_EQ(a.self_state(), State::Fenced);
  // It fenced before the others could declare it down (they need D of silence since its last
  // heartbeat, which is later than the heartbeat the lease rests on).
  const Micros last_sent_by_a = s.t - kIv;
  EXPECT_LT(until, last_sent_by_a + a.d());
}

TEST(HeartbeatMembership, FencedThenDropFencedWhenTakenOver) {
  Sim s;
  s.run(10 * kIv);
  s.up[0] = false;  // sg1 frozen long enough to be declared down and taken over
  s.run(15 * kIv);
  EXPECT_EQ(s.count(1, Event::Takeover), 1u);
  EXPECT_EQ(s.count(2, Event::Takeover), 1u);
  s.up[0] = true;  // it wakes up: first evaluation fences it, then it rejoins
  s.run(20 * kIv);
  EXPECT_EQ(s.count(0, Event::Fence), 1u);
  EXPECT_EQ(s.count(0, Event::DropFenced), 1u);
  EXPECT_EQ(s.count(0, Event::Unfence), 0u);
  EXPECT_EQ(s.m[0].self_state(), State::Ready);
  EXPECT_TRUE(has(s.log[1], Event::MemberRejoin, "sg1"));
  EXPECT_EQ(s.m[1].members()[0].state, State::Ready);
  // Epochs moved forward on both decisions (down, rejoin) and agree across the cluster.
  EXPECT_GE(s.m[1].epoch(), 2u);
  EXPECT_EQ(s.m[0].epoch(), s.m[1].epoch());
}

TEST(HeartbeatMembership, ShortStallUnfences) {
  Sim s;
  s.run(10 * kIv);
  // A stall: 2.5 intervals between two of its heartbeats. Its lease (L = 2 intervals from the
  // last acked one) runs out, but the others need D = 3 intervals of silence: fenced, nobody
  // declares it down, then unfenced.
  s.up[0] = false;
  s.t += kIv + kIv / 2;
  s.up[0] = true;
  s.run(10 * kIv);
  EXPECT_EQ(s.count(0, Event::Fence), 1u);
  EXPECT_EQ(s.count(0, Event::Unfence), 1u);
  EXPECT_EQ(s.count(0, Event::DropFenced), 0u);
  EXPECT_EQ(s.count(1, Event::MemberDown), 0u);
}

TEST(HeartbeatMembership, WholeClusterStallShorterThanDDeclaresNobodyDown) {
  // Every node stops at once (a VM or host stall) for 2.2 intervals, after an evaluation between
  // two heartbeats: when they resume, each peer has been silent for more than D, though every
  // node was itself not running for most of it. Fencing is right (the leases ran out), a
  // declaration is not: nobody was heard from because nobody ran.
  Sim s;
  s.run(10 * kIv);
  for (size_t i = 0; i < 3; ++i) s.m[i].tick(s.t - kIv / 10);
  const Micros last_round = s.t - kIv;
  s.t += 2 * kIv + kIv / 5;
  ASSERT_GE(s.t - last_round, s.m[0].d());  // the peers' silence at the resume
  s.run(10 * kIv);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(s.count(i, Event::MemberDown), 0u) << i;
    EXPECT_EQ(s.count(i, Event::Takeover), 0u) << i;
    EXPECT_EQ(s.count(i, Event::Fence), s.count(i, Event::Unfence)) << i;
    EXPECT_EQ(s.m[i].self_state(), State::Ready) << i;
  }
}

TEST(HeartbeatMembership, LateEvaluationStillDeclaresASilentPeer) {
  // The grace after our own stall is one interval, not a free pass: a member that stays silent
  // is declared down an interval after we resume.
  Sim s;
  s.run(10 * kIv);
  s.up[2] = false;
  s.t += 2 * kIv;  // sg1 and sg2 stall too, then run on without sg3
  const Micros resume = s.t;
  s.run(5 * kIv);
  EXPECT_TRUE(has(s.log[0], Event::MemberDown, "sg3"));
  const auto down =
      std::find_if(s.log[0].begin(), s.log[0].end(), [](const Event& e) { return e.kind == Event::MemberDown; });
  EXPECT_GE(down->declared_at, resume + kIv);
  EXPECT_LE(down->declared_at, resume + 2 * kIv);
}

TEST(HeartbeatMembership, EvaluationsLateAgainAndAgainStillDeclareASilentPeer) {
  // A starved process evaluates every 1.6 intervals, always late: the short grace is granted once
  // per D, so a dead member is still declared within D + 2 intervals of its last heartbeat.
  Sim s;
  s.run(10 * kIv);
  s.up[2] = false;
  const Micros last = s.t - kIv;
  std::vector<Event> ev;
  for (int i = 0; i < 20 && ev.empty(); ++i) {
    s.t += kIv * 8 / 5;
    (void)s.m[1].tick(s.t);  // sg2 lives (and is as late): sg1 hears it
    for (const auto& e : s.m[0].on_heartbeat(s.m[1].make_heartbeat(s.t, ++s.wall), s.t))
      if (e.kind == Event::MemberDown) ev.push_back(e);
    for (const auto& e : s.m[0].tick(s.t + 100))
      if (e.kind == Event::MemberDown) ev.push_back(e);
  }
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].node, "sg3");
  EXPECT_LE(ev[0].declared_at, last + s.m[0].d() + 2 * kIv + kIv * 8 / 5);
}

TEST(HeartbeatMembership, RestartWithNewBootRejoinsAtOnce) {
  Sim s;
  s.run(10 * kIv);
  s.up[2] = false;
  s.run(10 * kIv);
  ASSERT_EQ(s.m[0].members()[1].state, State::Down);
  const uint64_t e = s.m[0].epoch();
  s.m[2] = Membership(mcfg("sg3", 777), s.t);
  s.up[2] = true;
  s.round();
  EXPECT_TRUE(has(s.log[0], Event::MemberRejoin, "sg3"));
  EXPECT_GT(s.m[0].epoch(), e);
  s.run(6 * kIv);
  EXPECT_EQ(s.m[0].members()[1].state, State::Ready);
  EXPECT_EQ(s.m[2].self_state(), State::Ready);
  EXPECT_EQ(s.count(2, Event::DropFenced) + s.count(2, Event::Fence), 0u);
}
