// Schema v1 round trips, unknown-field preservation and validation errors.
#include <gtest/gtest.h>

#include "elastic/context_codec.h"
#include "elastic/context_validate.h"
#include "sample_context.h"

namespace elastic {
namespace {

TEST(Proto, RoundTripKeepsEveryField) {
  const auto env = sample_envelope();
  const auto bytes = encode_envelope(env);
  auto decoded = decode_envelope(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->SerializeAsString(), env.SerializeAsString());
  const auto& child = decoded->context().ike_sa().child_sas(0);
  EXPECT_EQ(child.spi_out(), 0xd1e2f3a4u);
  EXPECT_EQ(child.replay_out().oseq_hi(), 1u);
  EXPECT_EQ(child.replay_in().bitmap_size(), 4);
  EXPECT_EQ(decoded->context().ike_sa().message_ids().respond(), 9u);
}

TEST(Proto, EncodingIsDeterministic) {
  EXPECT_EQ(encode_envelope(sample_envelope()), encode_envelope(sample_envelope()));
}

TEST(Proto, UnknownFieldsAreKept) {
  // A newer writer adds field 99 (varint 7) to IkeSa; an older reader must carry it along.
  auto env = sample_envelope();
  auto* ike = env.mutable_context()->mutable_ike_sa();
  ike->GetReflection()->MutableUnknownFields(ike)->AddVarint(99, 7);
  auto decoded = decode_envelope(encode_envelope(env));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  const auto& got = decoded->context().ike_sa();
  const auto& unknown = got.GetReflection()->GetUnknownFields(got);
  ASSERT_EQ(unknown.field_count(), 1);
  EXPECT_EQ(unknown.field(0).number(), 99);
  EXPECT_EQ(unknown.field(0).varint(), 7u);
  // Re-encoding carries the field on: field 99, varint 7 is tag bytes 98 06, value 07.
  EXPECT_NE(encode_envelope(*decoded).find(std::string("\x98\x06\x07", 3)), std::string::npos);
}

TEST(Proto, MissingMandatoryFieldIsNamed) {
  auto env = sample_envelope();
  env.mutable_context()->mutable_ike_sa()->mutable_keys()->clear_nonce_r();
  env.mutable_context()->mutable_ike_sa()->clear_peer_cfg();
  auto decoded = decode_envelope(encode_envelope(env));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("context.ike_sa.keys.nonce_r: missing"), std::string::npos)
      << decoded.error().message;
  EXPECT_NE(decoded.error().message.find("context.ike_sa.peer_cfg: missing"), std::string::npos);
}

TEST(Proto, MissingChildFieldsAreNamedWithIndex) {
  auto env = sample_envelope();
  auto* child = env.mutable_context()->mutable_ike_sa()->mutable_child_sas(0);
  child->set_spi_in(0);
  child->clear_remote_ts();
  auto r = validate(env);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("child_sas[0].spi_in: missing"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("child_sas[0].remote_ts: missing"), std::string::npos);
}

TEST(Proto, BadAddressIsRefused) {
  auto env = sample_envelope();
  env.mutable_context()->mutable_ike_sa()->mutable_remote()->set_address("abc");
  auto r = validate(env);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("context.ike_sa.remote.address: not an IPv4/IPv6 address"), std::string::npos);
}

TEST(Proto, WrongSchemaVersionIsRefused) {
  auto env = sample_envelope();
  env.set_schema(static_cast<v1::SchemaVersion>(7));
  auto decoded = decode_envelope(encode_envelope(env));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message, "unsupported schema version 7 (this build reads 1)");
}

TEST(Proto, TruncatedAndGarbageAreRefused) {
  const auto bytes = encode_envelope(sample_envelope());
  auto truncated = decode_envelope(std::string_view(bytes).substr(0, bytes.size() / 2));
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.error().message.find("truncated"), std::string::npos);
  EXPECT_FALSE(decode_envelope("\xff\xff\xff\xff\xff").ok());
  EXPECT_EQ(decode_envelope("").error().message, "empty envelope");
  EXPECT_FALSE(decode_envelope(std::string(kMaxEnvelopeBytes + 1, '\0')).ok());
}

TEST(Proto, KindAndBodyMustAgree) {
  auto env = sample_envelope();
  env.set_kind(v1::ENVELOPE_KIND_DELETE);
  EXPECT_FALSE(validate(env).ok());
  env.clear_context();
  EXPECT_TRUE(validate(env).ok());
  env.set_kind(v1::ENVELOPE_KIND_COUNTERS);
  auto r = validate(env);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("counters: missing (kind is counters)"), std::string::npos);
  env.mutable_counters()->mutable_message_ids()->set_initiate(5);
  EXPECT_TRUE(validate(env).ok()) << validate(env).error().message;
}

// Sense, not just presence: each case breaks one thing in a valid context and expects the path
// and the reason in the error.
void expect_refused(const v1::Envelope& env, const std::string& path, const std::string& why) {
  auto r = validate(env);
  ASSERT_FALSE(r.ok()) << "accepted although " << path << " " << why;
  EXPECT_NE(r.error().message.find(path + ": " + why), std::string::npos) << r.error().message;
}

v1::ChildSa* child0(v1::Envelope& env) {
  return env.mutable_context()->mutable_ike_sa()->mutable_child_sas(0);
}

TEST(ProtoSense, KeyLengthsMustMatchTheAlgorithm) {
  auto env = sample_envelope();
  child0(env)->mutable_keys()->set_encryption_i(std::string(16, 'k'));  // GCM-128 needs 16 + 4 salt
  expect_refused(env, "context.ike_sa.child_sas[0].keys.encryption_i", "is 16 bytes, the algorithm needs 20");
  env = sample_envelope();
  child0(env)->mutable_algorithms()->set_encryption_key_bits(256);
  expect_refused(env, "context.ike_sa.child_sas[0].keys.encryption_r", "is 20 bytes, the algorithm needs 36");
  env = sample_envelope();
  child0(env)->mutable_algorithms()->set_encryption(12);  // AES-CBC-128 with SHA2-256
  child0(env)->mutable_algorithms()->set_integrity(12);
  child0(env)->mutable_keys()->set_encryption_i(std::string(16, 'k'));
  child0(env)->mutable_keys()->set_encryption_r(std::string(16, 'k'));
  child0(env)->mutable_keys()->set_integrity_i(std::string(32, 'i'));
  child0(env)->mutable_keys()->set_integrity_r(std::string(20, 'i'));
  expect_refused(env, "context.ike_sa.child_sas[0].keys.integrity_r", "is 20 bytes, the algorithm needs 32");
  child0(env)->mutable_keys()->set_integrity_r(std::string(32, 'i'));
  EXPECT_TRUE(validate(env).ok()) << validate(env).error().message;
  env = sample_envelope();
  child0(env)->mutable_algorithms()->set_integrity(12);
  expect_refused(env, "context.ike_sa.child_sas[0].algorithms.integrity", "must be 0 with AEAD");
}

TEST(ProtoSense, ReplayStateMustBeThereAndFit) {
  auto env = sample_envelope();
  child0(env)->clear_replay_in();
  expect_refused(env, "context.ike_sa.child_sas[0].replay_in", "missing");
  env = sample_envelope();
  child0(env)->mutable_replay_in()->add_bitmap(1);  // 5 words for a 128-packet window
  expect_refused(env, "context.ike_sa.child_sas[0].replay_in.bitmap", "5 words for a window of 128");
  env = sample_envelope();
  child0(env)->mutable_replay_in()->set_window(40000);
  expect_refused(env, "context.ike_sa.child_sas[0].replay_in.window", "larger than the kernel's 32768");
  env = sample_envelope();
  child0(env)->mutable_algorithms()->set_esn(false);
  expect_refused(env, "context.ike_sa.child_sas[0].replay_out", "high sequence bits without ESN");
}

TEST(ProtoSense, RangesAndNames) {
  auto env = sample_envelope();
  env.mutable_context()->mutable_ike_sa()->set_role(static_cast<v1::IkeRole>(7));
  expect_refused(env, "context.ike_sa.role", "out of range");
  env = sample_envelope();
  child0(env)->set_mode(static_cast<v1::ChildMode>(9));
  expect_refused(env, "context.ike_sa.child_sas[0].mode", "out of range");
  env = sample_envelope();
  env.set_vpn_id("sg1/17\n../x");
  expect_refused(env, "vpn_id", "not a VPN id");
  env = sample_envelope();
  env.set_origin_node("sg 1");
  expect_refused(env, "origin_node", "not a node name");
  env = sample_envelope();
  env.mutable_context()->mutable_ike_sa()->mutable_keys()->set_nonce_i(std::string(8, 'n'));
  expect_refused(env, "context.ike_sa.keys.nonce_i", "must be 16..256 bytes");
}

TEST(Proto, WipeKeysClearsKeyMaterial) {
  auto env = sample_envelope();
  wipe_keys(env);
  const auto& ike = env.context().ike_sa();
  EXPECT_TRUE(ike.keys().shared_secret().empty());
  EXPECT_TRUE(ike.keys().nonce_i().empty());
  EXPECT_TRUE(ike.child_sas(0).keys().encryption_i().empty());
  EXPECT_TRUE(ike.child_sas(0).keys().encryption_r().empty());
  EXPECT_EQ(ike.spi_i(), 0x1122334455667788ULL);  // non-key fields stay
}

}  // namespace
}  // namespace elastic
