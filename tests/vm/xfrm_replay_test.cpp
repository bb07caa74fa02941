// kernel/ against the real kernel (inside the test VM): setting and advancing ESP sequence
// numbers of live SAs, proven by what the peer's kernel accepts; AEVENT watching; error paths.
#include "elastic/xfrm_replay.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "elastic/xfrm_watch.h"

namespace elastic::xfrm {
namespace {

std::string sh(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  pclose(p);
  return out;
}

void enter_netns(const std::string& ns) {
  int fd = open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << "no namespace " << ns;
  ASSERT_EQ(setns(fd, CLONE_NEWNET), 0);
  close(fd);
}

// Sends `count` pings from the EU through the tunnel; returns the number of replies.
int ping(int count, const char* interval = "0.02") {
  auto out = sh("ip netns exec eu ping -q -c " + std::to_string(count) + " -i " + interval +
                " -W 1 -I 10.1.0.1 10.2.0.1 2>&1");
  int rx = -1;
  auto pos = out.find(" received");
  if (pos != std::string::npos) {
    auto start = out.rfind(' ', pos - 1);
    rx = std::atoi(out.c_str() + start + 1);
  }
  return rx;
}

uint64_t eu_seq_errors() {
  return std::strtoull(sh("ip netns exec eu awk '$1==\"XfrmInStateSeqError\"{print $2}' /proc/net/xfrm_stat").c_str(),
                       nullptr, 10);
}

class XfrmVm : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    std::string mode = GetParam();
    ASSERT_EQ(std::system((std::string(ELASTIC_REPO "/tests/vm/xfrm_pair.sh ") + mode).c_str()), 0);
    // One socket in each namespace: sg is the gateway whose counters we move, eu is the peer.
    enter_netns("eu");
    auto e = XfrmReplay::open();
    ASSERT_TRUE(e.ok()) << e.error().message;
    eu_.emplace(std::move(e.value()));
    enter_netns("sg");
    auto s = XfrmReplay::open();
    ASSERT_TRUE(s.ok()) << s.error().message;
    sg_.emplace(std::move(s.value()));
    out_ = *make_sa_id("192.0.2.2", "0x2002");  // SG -> EU: outbound on sg, inbound on eu
    in_ = *make_sa_id("192.0.2.1", "0x1001");
  }
  bool esn() const { return std::string(GetParam()) == "esn"; }

  std::optional<XfrmReplay> sg_, eu_;
  SaId out_, in_;
};

TEST_P(XfrmVm, ReadReportsFormAndCounters) {
  ASSERT_EQ(ping(5), 5);
  auto r = sg_->read(out_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->esn, esn());
  EXPECT_EQ(r->replay.esn_form, esn());
  EXPECT_EQ(r->replay.oseq, 5u);
  EXPECT_EQ(r->lifetime.packets, 5u);
  auto in = sg_->read(in_);
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->replay.seq, 5u);
  if (esn()) {
    EXPECT_EQ(in->replay.bitmap.size(), 4u);  // 128-packet window
  }
}

TEST_P(XfrmVm, SetOseqIsSeenByThePeer) {
  ASSERT_EQ(ping(3), 3);
  auto cur = sg_->read(out_);
  ASSERT_TRUE(cur.ok());
  ReplayState want = cur->replay;
  want.oseq = 100000;
  auto after = sg_->set(out_, want);
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(after->replay.oseq, 100000u);
  const auto errors_before = eu_seq_errors();
  ASSERT_EQ(ping(5), 5);
  auto peer = eu_->read(out_);
  ASSERT_TRUE(peer.ok());
  EXPECT_EQ(peer->replay.seq, 100005u);  // the EU's kernel accepted 100001..100005
  EXPECT_EQ(eu_seq_errors(), errors_before);
}

TEST_P(XfrmVm, AdvanceWhileTrafficFlows) {
  const auto errors_before = eu_seq_errors();
  FILE* flow = popen("ip netns exec eu ping -q -c 100 -i 0.02 -W 1 -I 10.1.0.1 10.2.0.1 2>&1", "r");
  ASSERT_NE(flow, nullptr);
  usleep(300000);
  uint64_t total = 0;
  for (int i = 0; i < 5; ++i, usleep(200000)) {
    auto r = sg_->advance(out_, 1000);
    ASSERT_TRUE(r.ok()) << r.error().message;
    total += 1000;
  }
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, flow)) out.append(buf, n);
  pclose(flow);
  EXPECT_NE(out.find(" 0% packet loss"), std::string::npos) << out;
  EXPECT_EQ(eu_seq_errors(), errors_before);
  auto peer = eu_->read(out_);
  ASSERT_TRUE(peer.ok());
  // Every reply plus every jump; a reply sent between an advance's read and write makes that jump
  // one shorter (never a reuse: the write still lands ahead of it).
  EXPECT_LE(peer->replay.seq64(), 100 + total);
  EXPECT_GE(peer->replay.seq64(), 100 + total - 5);
}

TEST_P(XfrmVm, BackwardsIsRefusedAndNothingChanges) {
  ASSERT_EQ(ping(3), 3);
  ASSERT_TRUE(sg_->advance(out_, 500).ok());
  auto cur = sg_->read(out_);
  ASSERT_TRUE(cur.ok());
  ReplayState back = cur->replay;
  back.oseq = 10;
  auto r = sg_->set(out_, back);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("refusing to move oseq backwards from 503 to 10"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(sg_->read(out_)->replay.oseq, 503u);
}

TEST_P(XfrmVm, WrapOf32BitCounter) {
  auto cur = sg_->read(out_);
  ASSERT_TRUE(cur.ok());
  // Two steps of less than 2^31, so that an ESN peer can follow each (see plan_set).
  for (uint32_t step : {0x7ffffff0u, 0xfffffff0u}) {
    ReplayState high = sg_->read(out_)->replay;
    high.oseq = step;
    auto r = sg_->set(out_, high);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(ping(3), 3);  // the peer follows to step + 3
  }
  auto r = sg_->advance(out_, 0x20);
  if (!esn()) {
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("rekey the CHILD_SA"), std::string::npos) << r.error().message;
    EXPECT_EQ(sg_->read(out_)->replay.oseq, 0xfffffff3u);
    return;
  }
  // With ESN the counter carries into the high 32 bits, and the peer follows.
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->replay.oseq_hi, 1u);
  ASSERT_EQ(ping(3), 3);
  auto peer = eu_->read(out_);
  ASSERT_TRUE(peer.ok());
  EXPECT_EQ(peer->replay.seq_hi, 1u);
  EXPECT_EQ(peer->replay.seq64(), 0xfffffff3ull + 0x20 + 3);
}

TEST_P(XfrmVm, UnknownSaAndBitmapMismatch) {
  auto none = sg_->read(*make_sa_id("192.0.2.2", "0xdead"));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ESRCH);
  EXPECT_NE(none.error().message.find("no such SA"), std::string::npos);
  auto adv = sg_->advance(*make_sa_id("192.0.2.2", "0xdead"), 5);
  EXPECT_FALSE(adv.ok());
  auto cur = sg_->read(in_);
  ASSERT_TRUE(cur.ok());
  ReplayState bad = cur->replay;
  if (esn()) {
    bad.bitmap.resize(bad.bitmap.size() + 1);
    auto r = sg_->set(in_, bad);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("ESN bitmap size mismatch: 5 words given, the SA has 4"), std::string::npos)
        << r.error().message;
  } else {
    bad.esn_form = true;
    auto r = sg_->set(in_, bad);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("form mismatch"), std::string::npos) << r.error().message;
  }
}

TEST_P(XfrmVm, WatchReportsAtThresholdsAndDeletion) {
  auto w = XfrmWatch::open();
  ASSERT_TRUE(w.ok()) << w.error().message;
  ASSERT_TRUE(w->watch(out_, 10, 0).ok());
  ASSERT_EQ(ping(50, "0.01"), 50);
  std::vector<AeEvent> events;
  for (int i = 0; i < 20 && w->wait(200, [&](const AeEvent& e) { events.push_back(e); }).value() > 0;) ++i;
  std::vector<uint32_t> oseqs;
  for (const auto& e : events)
    if (e.cause == AeCause::Replay) oseqs.push_back(e.info.replay.oseq);
  ASSERT_GE(oseqs.size(), 4u) << "replay events: " << oseqs.size();
  for (size_t i = 1; i < oseqs.size(); ++i) EXPECT_GE(oseqs[i] - oseqs[i - 1], 10u);

  // Timer threshold: few packets, slowly: reported by the timer, not by count.
  ASSERT_TRUE(w->watch(out_, 1000, ms_to_ticks(100)).ok());
  events.clear();
  ASSERT_EQ(ping(6, "0.3"), 6);
  while (w->wait(500, [&](const AeEvent& e) { events.push_back(e); }).value() > 0) {
  }
  int timer = 0;
  for (const auto& e : events) timer += e.cause == AeCause::Timer;
  EXPECT_GE(timer, 2);

  ASSERT_EQ(std::system("ip -n sg xfrm state delete src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x2002"), 0);
  bool deleted = false;
  while (w->wait(500, [&](const AeEvent& e) { deleted |= e.cause == AeCause::Deleted && e.info.id == out_; }).value())
    if (deleted) break;
  EXPECT_TRUE(deleted);
  EXPECT_EQ(w->watched(), 0u);
}

TEST_P(XfrmVm, OverrunIsResyncedNotLost) {
  // A tiny receive buffer and one event per packet: the kernel must drop notifications.
  auto w = XfrmWatch::open(4096);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->watch(out_, 1, 0).ok());
  ASSERT_TRUE(w->watch(in_, 1, 0).ok());
  ASSERT_EQ(ping(200, "0.002"), 200);
  bool resynced = false;
  uint32_t last_oseq = 0;
  while (w->wait(300, [&](const AeEvent& e) {
            if (e.info.id == out_) last_oseq = e.info.replay.oseq;
            resynced |= e.cause == AeCause::Resync;
          }).value() > 0) {
  }
  EXPECT_GE(w->overruns(), 1u);
  EXPECT_TRUE(resynced);
  EXPECT_EQ(last_oseq, 200u);  // the final state is known although events were dropped
}

INSTANTIATE_TEST_SUITE_P(Forms, XfrmVm, ::testing::Values("legacy", "esn"));

}  // namespace
}  // namespace elastic::xfrm
