// kernel/ without a kernel: XFRM message building/parsing and the counter safety rules.
#include "elastic/xfrm_codec.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/xfrm.h>
#include <netlink/attr.h>

#include <cstring>

#include "elastic/xfrm_rules.h"

namespace elastic::xfrm {
namespace {

SaId sa(const char* dst = "192.0.2.2", const char* spi = "0x2002", const char* mark = "") {
  auto id = make_sa_id(dst, spi, "esp", mark);
  EXPECT_TRUE(id.ok()) << id.error().message;
  return *id;
}

nlattr* attr(nl_msg* msg, size_t hdrlen, int type) {
  nlattr* tb[XFRMA_MAX + 1];
  EXPECT_EQ(nlmsg_parse(nlmsg_hdr(msg), static_cast<int>(hdrlen), tb, XFRMA_MAX, nullptr), 0);
  return tb[type];
}

// A NEWAE message as the kernel sends it (GETAE reply / AEVENT) with an ESN replay state.
NlMsg kernel_newae(uint32_t bmp_len, uint32_t flags, size_t cut = 0) {
  NlMsg msg(nlmsg_alloc_simple(XFRM_MSG_NEWAE, 0));
  xfrm_aevent_id ae{};
  inet_pton(AF_INET, "192.0.2.2", &ae.sa_id.daddr);
  ae.sa_id.spi = htonl(0x2002);
  ae.sa_id.family = AF_INET;
  ae.sa_id.proto = 50;
  ae.flags = flags;
  ae.reqid = 7;
  nlmsg_append(msg.get(), &ae, sizeof ae, NLMSG_ALIGNTO);
  std::vector<uint8_t> buf(sizeof(xfrm_replay_state_esn) + bmp_len * 4);
  xfrm_replay_state_esn e{};
  e.bmp_len = bmp_len, e.oseq = 0x10, e.oseq_hi = 2, e.seq = 0x20, e.seq_hi = 3, e.replay_window = bmp_len * 32;
  std::memcpy(buf.data(), &e, sizeof e);
  for (uint32_t i = 0; i < bmp_len; ++i) buf[sizeof e + i * 4] = static_cast<uint8_t>(i + 1);
  nla_put(msg.get(), XFRMA_REPLAY_ESN_VAL, static_cast<int>(buf.size() - cut), buf.data());
  xfrm_lifetime_cur lt{1000, 10, 5, 6};
  nla_put(msg.get(), XFRMA_LTIME_VAL, sizeof lt, &lt);
  nla_put_u32(msg.get(), XFRMA_REPLAY_THRESH, 2);
  nla_put_u32(msg.get(), XFRMA_ETIMER_THRESH, 250);
  return msg;
}

TEST(XfrmCodec, GetAeCarriesTheSaIdInNetworkOrder) {
  auto msg = build_get_ae(sa());
  auto* hdr = nlmsg_hdr(msg.get());
  EXPECT_EQ(hdr->nlmsg_type, XFRM_MSG_GETAE);
  auto* ae = static_cast<xfrm_aevent_id*>(nlmsg_data(hdr));
  EXPECT_EQ(ntohl(ae->sa_id.spi), 0x2002u);
  EXPECT_EQ(ae->sa_id.family, AF_INET);
  EXPECT_EQ(ae->sa_id.proto, 50);
  EXPECT_EQ(attr(msg.get(), sizeof *ae, XFRMA_MARK), nullptr);
}

TEST(XfrmCodec, MarkIsSentWhenGiven) {
  auto msg = build_get_sa(sa("2001:db8::1", "4097", "0x42/0xff"));
  auto* m = attr(msg.get(), sizeof(xfrm_usersa_id), XFRMA_MARK);
  ASSERT_NE(m, nullptr);
  xfrm_mark mark;
  std::memcpy(&mark, nla_data(m), sizeof mark);
  EXPECT_EQ(mark.v, 0x42u);
  EXPECT_EQ(mark.m, 0xffu);
  auto* u = static_cast<xfrm_usersa_id*>(nlmsg_data(nlmsg_hdr(msg.get())));
  EXPECT_EQ(u->family, AF_INET6);
}

TEST(XfrmCodec, SetReplayUsesReplaceAndTheSasForm) {
  ReplayState esn{true, 5, 6, 1, 0, 64, {0xffffffff, 0x1}};
  auto msg = build_set_replay(sa(), 3, esn);
  auto* hdr = nlmsg_hdr(msg.get());
  EXPECT_EQ(hdr->nlmsg_type, XFRM_MSG_NEWAE);
  EXPECT_TRUE(hdr->nlmsg_flags & NLM_F_REPLACE);  // the kernel rejects NEWAE without it
  EXPECT_TRUE(hdr->nlmsg_flags & NLM_F_ACK);
  auto* a = attr(msg.get(), sizeof(xfrm_aevent_id), XFRMA_REPLAY_ESN_VAL);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(nla_len(a), static_cast<int>(sizeof(xfrm_replay_state_esn) + 8));
  xfrm_replay_state_esn e;
  std::memcpy(&e, nla_data(a), sizeof e);
  EXPECT_EQ(e.bmp_len, 2u);
  EXPECT_EQ(e.oseq, 5u);
  EXPECT_EQ(e.oseq_hi, 1u);
  EXPECT_EQ(e.replay_window, 64u);
  EXPECT_EQ(attr(msg.get(), sizeof(xfrm_aevent_id), XFRMA_REPLAY_VAL), nullptr);

  ReplayState legacy{false, 9, 8, 0, 0, 0, {0x7}};
  auto lmsg = build_set_replay(sa(), 3, legacy);
  auto* l = attr(lmsg.get(), sizeof(xfrm_aevent_id), XFRMA_REPLAY_VAL);
  ASSERT_NE(l, nullptr);
  xfrm_replay_state rs;
  std::memcpy(&rs, nla_data(l), sizeof rs);
  EXPECT_EQ(rs.oseq, 9u);
  EXPECT_EQ(rs.bitmap, 7u);
}

TEST(XfrmCodec, ThresholdsMessage) {
  auto msg = build_set_thresholds(sa(), 10, 25);
  EXPECT_EQ(nla_get_u32(attr(msg.get(), sizeof(xfrm_aevent_id), XFRMA_REPLAY_THRESH)), 10u);
  EXPECT_EQ(nla_get_u32(attr(msg.get(), sizeof(xfrm_aevent_id), XFRMA_ETIMER_THRESH)), 25u);
  auto only = build_set_thresholds(sa(), 10, 0);
  EXPECT_EQ(attr(only.get(), sizeof(xfrm_aevent_id), XFRMA_ETIMER_THRESH), nullptr);
}

TEST(XfrmCodec, ParsesAKernelAevent) {
  auto msg = kernel_newae(4, XFRM_AE_CR);
  auto info = parse_ae(nlmsg_hdr(msg.get()));
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->id, sa());
  EXPECT_EQ(info->reqid, 7u);
  EXPECT_EQ(info->flags, static_cast<uint32_t>(XFRM_AE_CR));
  EXPECT_TRUE(info->replay.esn_form);
  EXPECT_EQ(info->replay.oseq64(), (2ull << 32) | 0x10);
  EXPECT_EQ(info->replay.seq64(), (3ull << 32) | 0x20);
  EXPECT_EQ(info->replay.window, 128u);
  ASSERT_EQ(info->replay.bitmap.size(), 4u);
  EXPECT_EQ(info->replay.bitmap[3], 4u);
  EXPECT_EQ(info->lifetime.packets, 10u);
  EXPECT_EQ(info->replay_thresh, 2u);
  EXPECT_EQ(info->timer_thresh, 250u);
}

TEST(XfrmCodec, ParsesAGetSaReplyWithoutTouchingKeys) {
  NlMsg msg(nlmsg_alloc_simple(XFRM_MSG_NEWSA, 0));
  xfrm_usersa_info info{};
  inet_pton(AF_INET, "192.0.2.2", &info.id.daddr);
  info.id.spi = htonl(0x2002);
  info.id.proto = 50;
  info.family = AF_INET;
  info.reqid = 9;
  info.flags = XFRM_STATE_ESN;
  info.curlft.packets = 77;
  nlmsg_append(msg.get(), &info, sizeof info, NLMSG_ALIGNTO);
  xfrm_replay_state_esn e{};
  e.bmp_len = 1, e.oseq = 41, e.replay_window = 32;
  uint8_t buf[sizeof e + 4] = {};
  std::memcpy(buf, &e, sizeof e);
  nla_put(msg.get(), XFRMA_REPLAY_ESN_VAL, sizeof buf, buf);
  auto r = parse_sa(nlmsg_hdr(msg.get()));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->esn);
  EXPECT_EQ(r->reqid, 9u);
  EXPECT_EQ(r->replay.oseq, 41u);
  EXPECT_EQ(r->lifetime.packets, 77u);
  EXPECT_EQ(r->id, sa());
}

TEST(XfrmCodec, RejectsATruncatedBitmapAndOtherTypes) {
  auto msg = kernel_newae(4, 0, 4);  // one bitmap word missing
  auto info = parse_ae(nlmsg_hdr(msg.get()));
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.error().message.find("bad bitmap length"), std::string::npos);
  auto huge = kernel_newae(kMaxBitmapWords + 1, 0);
  EXPECT_FALSE(parse_ae(nlmsg_hdr(huge.get())).ok());
  auto other = build_get_sa(sa());
  EXPECT_FALSE(parse_ae(nlmsg_hdr(other.get())).ok());
  EXPECT_EQ(parse_ack(nlmsg_hdr(other.get())), -1);
}

TEST(XfrmCodec, SaIdParsingErrorsNameTheInput) {
  EXPECT_EQ(make_sa_id("300.1.1.1", "1").error().message, "destination '300.1.1.1' is not an IPv4 or IPv6 address");
  EXPECT_EQ(make_sa_id("192.0.2.1", "0xzz").error().message, "SPI 'zz' is not a 32-bit number");
  EXPECT_EQ(make_sa_id("192.0.2.1", "0").error().message, "SPI 0 is not a valid SPI");
  EXPECT_EQ(make_sa_id("192.0.2.1", "1", "gre").error().message, "protocol 'gre' is not esp or ah");
  EXPECT_EQ(sa().to_string(), "192.0.2.2 spi 0x00002002 esp");
}

TEST(XfrmCodec, KernelErrorsAreWords) {
  auto e = kernel_error(ESRCH, sa(), "read");
  EXPECT_EQ(e.message, "read 192.0.2.2 spi 0x00002002 esp: no such SA");
  EXPECT_EQ(e.code, ESRCH);
  EXPECT_NE(kernel_error(EPERM, sa(), "set").message.find("CAP_NET_ADMIN"), std::string::npos);
}

AeInfo current(bool esn, uint32_t oseq, uint32_t oseq_hi = 0) {
  AeInfo a;
  a.id = sa();
  a.esn = esn;
  a.replay =
      esn ? ReplayState{true, oseq, 100, oseq_hi, 0, 128, {0, 0, 0, 0}} : ReplayState{false, oseq, 100, 0, 0, 0, {0}};
  return a;
}

TEST(XfrmRules, NeverBackwards) {
  auto cur = current(false, 500);
  ReplayState want = cur.replay;
  want.oseq = 499;
  auto r = plan_set(cur, want);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("refusing to move oseq backwards from 500 to 499"), std::string::npos);
  want = cur.replay;
  want.seq = 99;
  EXPECT_NE(plan_set(cur, want).error().message.find("refusing to move seq backwards"), std::string::npos);
  want = cur.replay;
  EXPECT_TRUE(plan_set(cur, want).ok());  // equal is fine
  auto esn = current(true, 5, 1);
  want = esn.replay;
  want.oseq = 0xffffffff, want.oseq_hi = 0;  // lower 64-bit value although the low word grew
  EXPECT_FALSE(plan_set(esn, want).ok());
}

TEST(XfrmRules, FormAndBitmapMustMatch) {
  auto cur = current(true, 1);
  ReplayState want = cur.replay;
  want.bitmap.push_back(0);
  EXPECT_EQ(plan_set(cur, want).error().message,
            "192.0.2.2 spi 0x00002002 esp: ESN bitmap size mismatch: 5 words given, the SA has 4");
  want = cur.replay;
  want.esn_form = false;
  EXPECT_NE(plan_set(cur, want).error().message.find("form mismatch"), std::string::npos);
}

TEST(XfrmRules, ThirtyTwoBitCounterNeverWraps) {
  auto cur = current(false, 0xfffffff0u);
  EXPECT_TRUE(plan_advance(cur, 0xe).ok());  // 2^32 - 2: one number (2^32 - 1) still usable
  auto r = plan_advance(cur, 0xf);           // 2^32 - 1: no packet could be sent after it
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("rekey the CHILD_SA"), std::string::npos);
}

TEST(XfrmRules, EsnCarriesIntoTheHighWord) {
  auto r = plan_advance(current(true, 0xfffffff0u), 0x20);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->oseq_hi, 1u);
  EXPECT_EQ(r->oseq, 0x10u);
  EXPECT_EQ(r->seq, 100u);  // the rest is written back as read
  EXPECT_FALSE(plan_advance(current(true, 0xffffffff, 0xffffffff), 1).ok());
}

TEST(XfrmRules, EsnJumpMustStayInferable) {
  EXPECT_TRUE(plan_advance(current(true, 5), (1ull << 31) - 1).ok());
  auto r = plan_advance(current(true, 5), 1ull << 31);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("too large for the peer to infer the ESN high bits"), std::string::npos);
}

}  // namespace
}  // namespace elastic::xfrm
