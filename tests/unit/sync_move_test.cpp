// What moving VPNs needs from the sync layer: routed control frames (Request/Response between the
// members' plugins) and forget envelopes (a former alternate drops its copy; an older epoch stays
// out, the same epoch is taken again when it becomes an alternate anew).
#include <gtest/gtest.h>

#include "elastic/context_codec.h"
#include "elastic/replica_table.h"
#include "elastic/sync_frame.h"
#include "sample_context.h"

namespace elastic::sync {
namespace {

TEST(Routed, RoundTripThroughTheDecoder) {
  const std::string frame = encode_routed(FrameType::Request, 7, "sg1", "sg2", "export vpn:sg1/1\n");
  FrameDecoder dec;
  dec.feed(frame.data(), frame.size());
  bool none = false;
  auto f = dec.next(none);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->type, FrameType::Request);
  auto r = parse_routed(f->body);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->id, 7u);
  EXPECT_EQ(r->src, "sg1");
  EXPECT_EQ(r->dst, "sg2");
  EXPECT_EQ(r->payload, "export vpn:sg1/1\n");
}

TEST(Routed, MalformedHeadersAreErrors) {
  EXPECT_FALSE(parse_routed(std::string(8, '\0')));                     // no names at all
  EXPECT_FALSE(parse_routed(std::string(8, '\0') + '\0' + "x"));        // empty src
  EXPECT_FALSE(parse_routed(std::string(8, '\0') + "\x03sg1\x05sg2"));  // dst truncated
  EXPECT_TRUE(parse_routed(std::string(8, '\0') + "\x03sg1\x03sg2"));   // empty payload is fine
  const std::string frame = encode_routed(FrameType::Response, 1, std::string(300, 'a'), "b", "OK\n");
  auto r = parse_routed(std::string_view(frame).substr(5));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->src.size(), 255u);  // names are bounded, never wrap the length byte
  EXPECT_EQ(r->payload, "OK\n");
}

std::string envelope(const std::string& origin, uint64_t epoch, uint64_t version, v1::EnvelopeKind kind) {
  v1::Envelope env = sample_envelope();
  env.set_origin_node(origin);
  env.set_epoch(epoch);
  env.set_version(version);
  env.set_kind(kind);
  if (kind == v1::ENVELOPE_KIND_FORGET || kind == v1::ENVELOPE_KIND_DELETE) env.clear_body();
  if (kind == v1::ENVELOPE_KIND_COUNTERS) env.mutable_counters()->mutable_message_ids()->set_initiate(1);
  return encode_envelope(env);
}

TEST(Forget, DropsTheCopyKeepsOlderEpochsOutAndTakesTheSameEpochAgain) {
  ReplicaTable t;
  const std::string id = sample_envelope().vpn_id();
  ASSERT_EQ(*t.apply(envelope("sg1", 3, 5, v1::ENVELOPE_KIND_UPSERT)), Applied::New);
  EXPECT_EQ(t.contexts(), 1u);
  // the VPN moved to sg2 (epoch 4) and this member is not its alternate there
  ASSERT_EQ(*t.apply(envelope("sg2", 4, 9, v1::ENVELOPE_KIND_FORGET)), Applied::New);
  EXPECT_EQ(t.contexts(), 0u);
  ASSERT_NE(t.find(id), nullptr);
  EXPECT_TRUE(t.find(id)->deleted);
  EXPECT_TRUE(t.find(id)->forgotten);
  // a late envelope of the old owner stays out
  EXPECT_EQ(*t.apply(envelope("sg1", 3, 6, v1::ENVELOPE_KIND_UPSERT)), Applied::Stale);
  // counters have nothing to apply to
  EXPECT_EQ(*t.apply(envelope("sg2", 4, 10, v1::ENVELOPE_KIND_COUNTERS)), Applied::Stale);
  // an alternate again: the owner resends its context, older than the forget's version
  EXPECT_EQ(*t.apply(envelope("sg2", 4, 8, v1::ENVELOPE_KIND_UPSERT)), Applied::New);
  EXPECT_EQ(t.contexts(), 1u);
  EXPECT_FALSE(t.find(id)->forgotten);
}

TEST(Forget, OfAVpnNotHeldChangesNothingAndIsNotAResurrectionPass) {
  ReplicaTable t;
  EXPECT_EQ(*t.apply(envelope("sg2", 4, 9, v1::ENVELOPE_KIND_FORGET)), Applied::Stale);
  EXPECT_EQ(t.size(), 0u);
  // a real delete's tombstone is not a forget: an upsert of its epoch stays out
  ASSERT_EQ(*t.apply(envelope("sg1", 3, 5, v1::ENVELOPE_KIND_UPSERT)), Applied::New);
  ASSERT_EQ(*t.apply(envelope("sg1", 3, 7, v1::ENVELOPE_KIND_DELETE)), Applied::New);
  EXPECT_EQ(*t.apply(envelope("sg1", 3, 6, v1::ENVELOPE_KIND_UPSERT)), Applied::Stale);
  // and a forget older than what is held is stale like any envelope
  ASSERT_EQ(*t.apply(envelope("sg1", 3, 8, v1::ENVELOPE_KIND_UPSERT)), Applied::New);
  EXPECT_EQ(*t.apply(envelope("sg1", 3, 2, v1::ENVELOPE_KIND_FORGET)), Applied::Stale);
  EXPECT_EQ(t.contexts(), 1u);
}

TEST(Forget, AfterAMembershipChangeCarriesTheStampLastSentAndStillApplies) {
  ReplicaTable t;
  ASSERT_EQ(*t.apply(envelope("sg2", 4, 8, v1::ENVELOPE_KIND_UPSERT)), Applied::New);
  EXPECT_EQ(*t.apply(envelope("sg2", 4, 8, v1::ENVELOPE_KIND_FORGET)), Applied::New);
  EXPECT_EQ(t.contexts(), 0u);
  EXPECT_EQ(*t.apply(envelope("sg2", 4, 8, v1::ENVELOPE_KIND_FORGET)), Applied::Stale);  // once
  EXPECT_EQ(*t.apply(envelope("sg2", 4, 8, v1::ENVELOPE_KIND_UPSERT)), Applied::New);    // back
  EXPECT_EQ(t.contexts(), 1u);
}

}  // namespace
}  // namespace elastic::sync
