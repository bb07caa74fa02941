// The plugin's C++ core (no strongSwan needed): context paths, the store's roles, counter merges
// from kernel reports (never backwards, only for owned VPNs), refresh of passive copies, and the
// C wrappers of the strict parser and the margin rule. Runs under ASan/UBSan in ./tests/run.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "elastic/context_codec.h"
#include "elastic_core.h"
#include "elastic_ctx.h"
#include "elastic_envelope.h"
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
  uint64_t stored(const char* path) {
    elastic_ctx_t* ctx = nullptr;
    uint64_t epoch = 0;
    CText err(elastic_store_context(store, 1, &ctx, &epoch));
    EXPECT_EQ(err, nullptr) << err.get();
    if (!ctx) return 0;
    const uint64_t v = elastic_ctx_get_u64(ctx, path);
    elastic_ctx_destroy(ctx);
    return v;
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

TEST(PluginCtx, UnknownPathsAreRefusedNotInvented) {
  elastic_ctx_t* ctx = elastic_ctx_create();
  EXPECT_TRUE(elastic_ctx_set_u64(ctx, "ike_sa.message_ids.initiate", 7));
  EXPECT_EQ(elastic_ctx_get_u64(ctx, "ike_sa.message_ids.initiate"), 7u);
  EXPECT_FALSE(elastic_ctx_set_u64(ctx, "ike_sa.message_ids.initate", 7));  // misspelled
  EXPECT_FALSE(elastic_ctx_set_u64(ctx, "ike_sa.child_sas[3].spi_in", 1));  // no such element
  EXPECT_EQ(elastic_ctx_count(ctx, "ike_sa.child_sas"), 0);
  // Reads: an unset field of the schema is 0 silently; a path not in the schema is reported.
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(elastic_ctx_get_u64(ctx, "ike_sa.child_sas[0].replay_out.oseq"), 0u);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(elastic_ctx_get_u64(ctx, "ike_sa.child_sas[0].replay_out.oseqq"), 0u);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "elastic: context path 'ike_sa.child_sas[0].replay_out.oseqq': no such field\n");
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
  const char* oseq = "ike_sa.child_sas[0].replay_out.oseq";
  EXPECT_EQ(stored(oseq), 1000u);
  EXPECT_EQ(report_out(5000), 0u) << "a passive copy took a kernel report";
  EXPECT_EQ(stored(oseq), 1000u);
  elastic_store_set_role(store, 1, ELASTIC_ROLE_ACTIVE);
  EXPECT_EQ(report_out(5000), 1u);
  EXPECT_EQ(stored(oseq), 5000u);
  EXPECT_EQ(report_out(4000), 1u);  // a stale report (reordered): never backwards
  EXPECT_EQ(stored(oseq), 5000u);
  EXPECT_EQ(stored("ike_sa.child_sas[0].replay_out.oseq_hi"), 1u);
}

TEST_F(StoreFixture, PassiveCopyTakesOnlyNewerReplicas) {
  hold(ELASTIC_ROLE_PASSIVE);
  auto env = sample_envelope();
  env.set_version(43);
  env.mutable_context()->mutable_ike_sa()->mutable_child_sas(0)->mutable_replay_out()->set_oseq(9000);
  std::string bytes = encode_envelope(env);
  EXPECT_EQ(elastic_store_refresh_passive(store, 1, bytes.data(), bytes.size()), 1);
  EXPECT_EQ(stored("ike_sa.child_sas[0].replay_out.oseq"), 9000u);
  env.set_version(40);  // older: ignored
  env.mutable_context()->mutable_ike_sa()->mutable_child_sas(0)->mutable_replay_out()->set_oseq(100);
  bytes = encode_envelope(env);
  EXPECT_EQ(elastic_store_refresh_passive(store, 1, bytes.data(), bytes.size()), 0);
  EXPECT_EQ(stored("ike_sa.child_sas[0].replay_out.oseq"), 9000u);
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

}  // namespace
}  // namespace elastic
