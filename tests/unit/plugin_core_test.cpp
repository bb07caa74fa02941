// The plugin's C++ core (no strongSwan needed): the C view of a context, the store's roles, counter merges
// from kernel reports (never backwards, only for owned VPNs), refresh of passive copies, and the
// C wrappers of the strict parser and the margin rule. Runs under ASan/UBSan in ./tests/run.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "elastic.pb.h"
#include "elastic/context_codec.h"
#include "elastic_core.h"
#include "elastic_ctx.h"
#include "elastic_ctx.hpp"
#include "elastic_envelope.h"
#include "elastic_stats.h"
#include "elastic_store.h"
#include "elastic_store.hpp"
#include "elastic_store_ha.h"
#include "sample_context.h"

namespace elastic {
namespace {

struct CFree {
  void operator()(void* p) const { std::free(p); }
};
using CText = std::unique_ptr<char, CFree>;

// The sample VPN held in a fresh store as ike-id 1 in `role`.
struct StoreFixture : ::testing::Test {
  elastic_store_t* store = elastic_store_create("sg2");
  ~StoreFixture() override { elastic_store_destroy(store); }

  void hold(elastic_role_t role) {
    const std::string bytes = encode_envelope(sample_envelope());
    elastic_ctx_t* ctx = nullptr;
    char *vpn_id = nullptr, *err = nullptr;
    uint64_t epoch = 0, version = 0;
    err = elastic_envelope_decode(bytes.data(), bytes.size(), &ctx, &vpn_id, &epoch, &version);
    ASSERT_EQ(err, nullptr) << err;
    elastic_store_update(store, 1, ctx, role);
    elastic_store_adopt(store, 1, vpn_id, "sg1", epoch, version);
    std::free(vpn_id);
  }
  // The stored outbound replay state of the sample's CHILD_SA.
  v1::ReplayState stored() {
    elastic_ctx_t* ctx = nullptr;
    uint64_t epoch = 0;
    CText err(elastic_store_context(store, 1, &ctx, &epoch));
    EXPECT_EQ(err, nullptr) << err.get();
    if (!ctx) return {};
    v1::ReplayState out = ctx->msg.ike_sa().child_sas(0).replay_out();
    elastic_ctx_destroy(ctx);
    return out;
  }
  // A kernel report for the sample's outbound SA (to the EU's address).
  uint32_t report_out(uint32_t oseq) {
    xfrm::AeInfo ev;
    ev.id.family = AF_INET;
    std::memcpy(ev.id.daddr.data(), "\xc6\x33\x64\x07", 4);
    ev.id.spi = 0xd1e2f3a4;
    ev.id.proto = 50;
    ev.replay.oseq = oseq;
    ev.replay.oseq_hi = 1;
    ev.replay.esn_form = true;
    return plugin::store_counter_event(store, ev);
  }
};

// Distinct, non-zero values for every field of the C view, so that a swapped or dropped field shows.
elastic_buf_t B(const char* s) {
  return {s, std::strlen(s)};
}

std::string S(elastic_buf_t b) {
  return b.len ? std::string(static_cast<const char*>(b.ptr), b.len) : std::string();
}

elastic_ike_t full_ike() {
  elastic_ike_t ike{};
  ike.spi_i = 0x1111;
  ike.spi_r = 0x2222;
  ike.initiator = true;
  ike.algs = {20, 256, 12, 5, 31, false};
  ike.keys = {B("secret"), B("ni"), B("nr"), B("skd"), 7};
  ike.local_id = {2, B("sg.example.net")};
  ike.remote_id = {3, B("alice@example.net")};
  ike.remote_eap_id = {3, B("alice-eap")};
  ike.local = {B("\xc0\x00\x02\x01"), 4500};
  ike.remote = {B("\xc6\x33\x64\x07"), 39012};
  ike.local_behind_nat = ike.remote_behind_nat = ike.nat_faked = true;
  ike.peer_cfg = B("rw");
  ike.msgid_initiate = 4;
  ike.msgid_respond = 9;
  ike.conditions = 0x30;
  ike.extensions = 0x41;
  ike.times = {100, 200, 300, 400};
  ike.unique_id = 17;
  ike.dpd_interval = 30;
  return ike;
}

elastic_child_t full_child() {
  elastic_child_t c{};
  c.child_cfg = B("net");
  c.spi_in = 0xc1a2b3c4;
  c.spi_out = 0xd1e2f3a4;
  c.protocol = 50;
  c.mode = ELASTIC_MODE_TRANSPORT;
  c.udp_encap = true;
  c.cpi_in = 0x1234;
  c.cpi_out = 0x5678;
  c.algs = {12, 128, 12, 0, 14, true};
  c.keys = {B("ei"), B("ii"), B("er"), B("ir")};
  c.initiator = true;
  c.reqid = 5;
  c.mark_in = {1, 2};
  c.mark_out = {3, 4};
  c.if_id_in = 6;
  c.if_id_out = 7;
  c.times = {500, 600, 700};
  c.unique_id = 8;
  return c;
}

// Every field of `m` that the C view does not carry on purpose must be set after a put of a full
// view: a field added to the schema but not to the view fails here.
void expect_all_set(const google::protobuf::Message& m, const std::set<std::string>& not_in_view) {
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (not_in_view.count(f->name())) continue;
    const bool set = f->is_repeated() ? r->FieldSize(m, f) > 0 : r->HasField(m, f);
    EXPECT_TRUE(set) << d->name() << "." << f->name() << " is not filled from the C view";
    if (set && !f->is_repeated() && f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE)
      expect_all_set(r->GetMessage(m, f), not_in_view);
  }
}

TEST(PluginCtx, CStructsFillEveryFieldOfTheSchema) {
  elastic_ctx_t* ctx = elastic_ctx_create();
  const elastic_ike_t ike = full_ike();
  const elastic_child_t child = full_child();
  elastic_ctx_set_ike(ctx, &ike);
  elastic_ctx_add_vip(ctx, false, B("\x0a\x63\x00\x05"));
  elastic_ctx_add_vip(ctx, true, B("\x0a\x00\x00\x01"));
  const int i = elastic_ctx_add_child(ctx, &child);
  const elastic_ts_t ts{6, B("\x0a\x0a\x00\x00"), B("\x0a\x0a\x00\xff"), 80, 443};
  EXPECT_TRUE(elastic_ctx_add_ts(ctx, i, true, &ts));
  EXPECT_TRUE(elastic_ctx_add_ts(ctx, i, false, &ts));
  EXPECT_FALSE(elastic_ctx_add_ts(ctx, i + 1, true, &ts));  // no such CHILD_SA

  const v1::IkeSa& s = ctx->msg.ike_sa();
  // Spot checks by name, against swaps that a round trip would hide.
  EXPECT_EQ(s.spi_i(), 0x1111u);
  EXPECT_EQ(s.role(), v1::IKE_ROLE_INITIATOR);
  EXPECT_EQ(s.ike_version(), 2u);
  EXPECT_EQ(s.keys().nonce_r(), "nr");
  EXPECT_EQ(s.remote().port(), 39012u);
  EXPECT_EQ(s.message_ids().respond(), 9u);
  EXPECT_EQ(s.lifetimes().reauth_at(), 300u);
  EXPECT_EQ(s.local_virtual_ips(0), std::string("\x0a\x00\x00\x01"));
  EXPECT_EQ(s.child_sas(0).spi_out(), 0xd1e2f3a4u);
  EXPECT_EQ(s.child_sas(0).mode(), v1::CHILD_MODE_TRANSPORT);
  EXPECT_EQ(s.child_sas(0).keys().integrity_r(), "ir");
  EXPECT_EQ(s.child_sas(0).mark_out().mask(), 4u);
  EXPECT_EQ(s.child_sas(0).lifetimes().rekey_at(), 600u);
  EXPECT_EQ(s.child_sas(0).remote_ts(0).to_port(), 443u);
  expect_all_set(s, {"peer_addresses", "replay_in", "replay_out", "usage", "bytes_soft", "bytes_hard", "packets_soft",
                     "packets_hard"});

  elastic_ike_t back{};
  elastic_ctx_get_ike(ctx, &back);
  EXPECT_EQ(back.spi_r, ike.spi_r);
  EXPECT_TRUE(back.initiator);
  EXPECT_EQ(back.algs.prf, 5u);
  EXPECT_EQ(back.algs.integrity, 12u);
  EXPECT_EQ(S(back.keys.shared_secret), "secret");
  EXPECT_EQ(back.keys.old_prf, 7u);
  EXPECT_EQ(S(back.remote_eap_id.data), "alice-eap");
  EXPECT_EQ(S(back.local.address), std::string("\xc0\x00\x02\x01"));
  EXPECT_EQ(back.msgid_initiate, 4u);
  EXPECT_EQ(back.extensions, 0x41u);
  EXPECT_EQ(back.times.expire_at, 400u);
  EXPECT_EQ(back.dpd_interval, 30u);
  elastic_buf_t vip{};
  EXPECT_TRUE(elastic_ctx_get_vip(ctx, false, 0, &vip));
  EXPECT_EQ(S(vip), std::string("\x0a\x63\x00\x05"));
  EXPECT_FALSE(elastic_ctx_get_vip(ctx, false, 1, &vip));
  EXPECT_EQ(elastic_ctx_vip_count(ctx, true), 1);

  elastic_child_t c{};
  EXPECT_FALSE(elastic_ctx_get_child(ctx, 1, &c));
  ASSERT_TRUE(elastic_ctx_get_child(ctx, 0, &c));
  EXPECT_EQ(c.spi_in, child.spi_in);
  EXPECT_EQ(c.protocol, 50u);
  EXPECT_EQ(c.cpi_out, 0x5678u);
  EXPECT_TRUE(c.algs.esn);
  EXPECT_EQ(c.algs.dh_group, 14u);
  EXPECT_EQ(S(c.keys.encryption_r), "er");
  EXPECT_TRUE(c.initiator);
  EXPECT_EQ(c.mark_in.mask, 2u);
  EXPECT_EQ(c.if_id_out, 7u);
  EXPECT_EQ(c.times.installed, 500u);
  elastic_ts_t t{};
  EXPECT_EQ(elastic_ctx_ts_count(ctx, 0, false), 1);
  ASSERT_TRUE(elastic_ctx_get_ts(ctx, 0, false, 0, &t));
  EXPECT_EQ(t.protocol, 6u);
  EXPECT_EQ(S(t.to), std::string("\x0a\x0a\x00\xff"));
  EXPECT_EQ(t.from_port, 80u);
  EXPECT_FALSE(elastic_ctx_get_ts(ctx, 0, false, 1, &t));
  EXPECT_FALSE(elastic_ctx_get_ts(ctx, 3, false, 0, &t));
  EXPECT_EQ(elastic_ctx_ts_count(ctx, 3, true), 0);
  elastic_ctx_destroy(ctx);
}

TEST(PluginCtx, EmptyKeysAndEapIdAreLeftUnsetAndReadAsEmpty) {
  elastic_ctx_t* ctx = elastic_ctx_create();
  elastic_ike_t ike = full_ike();
  ike.keys = {};
  ike.remote_eap_id = {};
  elastic_ctx_set_ike(ctx, &ike);
  elastic_child_t child = full_child();
  child.keys = {};
  elastic_ctx_add_child(ctx, &child);
  // The store adds the captured keys later; an empty submessage would read as "keys present".
  EXPECT_FALSE(ctx->msg.ike_sa().has_keys());
  EXPECT_FALSE(ctx->msg.ike_sa().has_remote_eap_id());
  EXPECT_FALSE(ctx->msg.ike_sa().child_sas(0).has_keys());
  elastic_ike_t back{};
  elastic_ctx_get_ike(ctx, &back);
  EXPECT_EQ(back.keys.shared_secret.ptr, nullptr);
  EXPECT_EQ(back.keys.shared_secret.len, 0u);
  EXPECT_EQ(back.remote_eap_id.type, 0u);
  elastic_ctx_destroy(ctx);
}

TEST_F(StoreFixture, RolesAndListWithoutKeys) {
  hold(ELASTIC_ROLE_PASSIVE);
  EXPECT_EQ(elastic_store_role(store, 1), ELASTIC_ROLE_PASSIVE);
  EXPECT_EQ(elastic_store_role(store, 2), -1);
  EXPECT_EQ(elastic_store_find_vpn(store, "sg1/17"), 1u);
  CText list(elastic_store_list(store));
  EXPECT_NE(std::string(list.get()).find("passive"), std::string::npos) << list.get();
  EXPECT_EQ(std::string(list.get()).find("ZZZZ"), std::string::npos);  // shared secret bytes
}

TEST_F(StoreFixture, KernelReportsMoveCountersForwardOnlyAndOnlyWhenOwned) {
  hold(ELASTIC_ROLE_PASSIVE);
  EXPECT_EQ(stored().oseq(), 1000u);
  EXPECT_EQ(report_out(5000), 0u) << "a passive copy took a kernel report";
  EXPECT_EQ(stored().oseq(), 1000u);
  elastic_store_set_role(store, 1, ELASTIC_ROLE_ACTIVE);
  EXPECT_EQ(report_out(5000), 1u);
  EXPECT_EQ(stored().oseq(), 5000u);
  EXPECT_EQ(report_out(4000), 1u);  // a stale report (reordered): never backwards
  EXPECT_EQ(stored().oseq(), 5000u);
  EXPECT_EQ(stored().oseq_hi(), 1u);
}

TEST_F(StoreFixture, PassiveCopyTakesOnlyNewerReplicas) {
  hold(ELASTIC_ROLE_PASSIVE);
  auto env = sample_envelope();
  env.set_version(43);
  env.mutable_context()->mutable_ike_sa()->mutable_child_sas(0)->mutable_replay_out()->set_oseq(9000);
  std::string bytes = encode_envelope(env);
  EXPECT_EQ(elastic_store_refresh_passive(store, 1, bytes.data(), bytes.size()), 1);
  EXPECT_EQ(stored().oseq(), 9000u);
  env.set_version(40);  // older: ignored
  env.mutable_context()->mutable_ike_sa()->mutable_child_sas(0)->mutable_replay_out()->set_oseq(100);
  bytes = encode_envelope(env);
  EXPECT_EQ(elastic_store_refresh_passive(store, 1, bytes.data(), bytes.size()), 0);
  EXPECT_EQ(stored().oseq(), 9000u);
}

TEST(PluginCWrappers, StrictParserAndMarginRule) {
  uint64_t v = 0;
  EXPECT_EQ(elastic_parse_u64("4294967295", "x", 1, UINT32_MAX, &v), nullptr);
  EXPECT_EQ(v, 4294967295u);
  CText err(elastic_parse_u64("-1", "margin", 1, UINT32_MAX, &v));
  ASSERT_NE(err, nullptr);
  EXPECT_STREQ(err.get(), "margin '-1' is not a number (decimal digits only)");
  CText none(elastic_parse_u64(nullptr, "margin", 0, 1, &v));
  EXPECT_NE(none, nullptr);
  uint64_t m = 0;
  EXPECT_EQ(elastic_margin_rule(1024, 1000000, 100, 100, 2, 0, &m), nullptr);
  EXPECT_EQ(m, 402048u);
  CText wrap(elastic_margin_rule(UINT64_MAX, UINT64_MAX, 100, 100, 2, 0, &m));
  EXPECT_NE(wrap, nullptr);
}

// What protobuf logs (here: a string field that is not UTF-8) reaches the plugin's log sink, which
// is charon's logger in the plugin, never stderr past it.
std::vector<std::pair<int, std::string>> logged;
void capture_log(int level, const char* msg) {
  logged.emplace_back(level, msg);
}

TEST(PluginCore, ProtobufLogsGoToThePluginsSinkNotStderr) {
  logged.clear();
  elastic_core_set_log(capture_log);
  v1::Envelope env;
  env.set_vpn_id(std::string("sg1/\xff\xfe/1"));
  testing::internal::CaptureStderr();
  std::string bytes;
  env.SerializeToString(&bytes);
  const std::string err = testing::internal::GetCapturedStderr();
  elastic_core_set_log(nullptr);
  EXPECT_EQ(err, "");
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].first, 1);
  EXPECT_NE(logged[0].second.find("elastic: protobuf"), std::string::npos) << logged[0].second;
  EXPECT_NE(logged[0].second.find("UTF-8"), std::string::npos) << logged[0].second;
}

// The plugin's metrics: VPNs by role from the store, requests by command with their durations, and
// the kernel counter reports (none yet: timestamp 0), in the exposition format.
TEST_F(StoreFixture, MetricsCountVpnsByRoleAndRequestsByCommand) {
  hold(ELASTIC_ROLE_PASSIVE);
  elastic_stats_t* stats = elastic_stats_create();
  elastic_stats_request(stats, "activate", false, 0.012);
  elastic_stats_request(stats, "activate", true, 0.5);
  elastic_stats_request(stats, "bogus-command-from-a-client", false, 0.001);
  CText text(elastic_stats_text(stats, store, "5.9.8"));
  elastic_stats_destroy(stats);
  const std::string t = text.get();
  EXPECT_NE(t.find(std::string("elastic_plugin_build_info{version=\"") + elastic_core_version() +
                   "\",strongswan=\"5.9.8\"} 1\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("elastic_plugin_vpns{role=\"active\"} 0\n"), std::string::npos) << t;
  EXPECT_NE(t.find("elastic_plugin_vpns{role=\"passive\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("elastic_plugin_requests_total{command=\"activate\",result=\"ok\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("elastic_plugin_requests_total{command=\"activate\",result=\"error\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("elastic_plugin_requests_total{command=\"other\",result=\"ok\"} 1\n"), std::string::npos) << t;
  EXPECT_EQ(t.find("bogus"), std::string::npos) << "client input must not become a label: " << t;
  EXPECT_NE(t.find("elastic_plugin_request_duration_seconds_count{command=\"activate\"} 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("elastic_plugin_last_counter_report_timestamp_seconds 0\n"), std::string::npos) << t;
  EXPECT_EQ(t.find("# TYPE elastic_plugin_requests_total counter"), t.rfind("# TYPE elastic_plugin_requests_total"))
      << "one TYPE line per family: " << t;
}

}  // namespace
}  // namespace elastic
