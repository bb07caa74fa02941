// elasticctl's readable output: algorithm names, addresses, selectors and identities of a context;
// inspect never shows key material; the plugin's own list text and syncd's status lines as JSON.
#include "elasticctl_format.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "elastic/context_codec.h"
#include "elastic_ctx.hpp"
#include "elastic_envelope.h"
#include "elastic_store.h"
#include "sample_context.h"

namespace elastic::ctl {
namespace {

bool has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

std::string ip(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out += static_cast<char>(b);
  return out;
}

const std::string kV6 = ip({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7});

// A DER TLV with a short length.
std::string tlv(int tag, const std::string& body) {
  return std::string(1, static_cast<char>(tag)) + static_cast<char>(body.size()) + body;
}

std::string rdn(const std::string& oid, const std::string& value) {
  return tlv(0x31, tlv(0x30, tlv(0x06, oid) + tlv(0x0c, value)));
}

TEST(ElasticctlFormat, AlgorithmNamesAsSwanctlShowsThem) {
  EXPECT_EQ(encryption_name(20, 128), "AES_GCM_16-128");
  EXPECT_EQ(encryption_name(12, 256), "AES_CBC-256");
  EXPECT_EQ(encryption_name(28), "CHACHA20_POLY1305");
  EXPECT_EQ(encryption_name(1026, 256), "SERPENT_CBC-256");  // strongSwan's private use
  EXPECT_EQ(integrity_name(12), "HMAC_SHA2_256_128");
  EXPECT_EQ(integrity_name(14), "HMAC_SHA2_512_256");
  EXPECT_EQ(integrity_name(1026), "HMAC_SHA2_256_96");
  EXPECT_EQ(prf_name(5), "PRF_HMAC_SHA2_256");
  EXPECT_EQ(prf_name(4), "PRF_AES128_XCBC");
  EXPECT_EQ(dh_group_name(14), "MODP_2048");
  EXPECT_EQ(dh_group_name(19), "ECP_256");
  EXPECT_EQ(dh_group_name(31), "CURVE_25519");
  EXPECT_EQ(dh_group_name(32), "CURVE_448");
}

TEST(ElasticctlFormat, UnknownNumbersAreMarked) {
  EXPECT_EQ(encryption_name(12345), "ENCR_12345 (unknown)");
  EXPECT_EQ(encryption_name(17, 128), "ENCR_17-128 (unknown)");  // 17 is unassigned
  EXPECT_EQ(integrity_name(99), "INTEG_99 (unknown)");
  EXPECT_EQ(prf_name(1024), "PRF_1024 (unknown)");
  EXPECT_EQ(dh_group_name(1025), "DH_1025 (unknown)");
}

TEST(ElasticctlFormat, AddressesAndEndpoints) {
  EXPECT_EQ(address_text(ip({192, 0, 2, 1})), "192.0.2.1");
  EXPECT_EQ(address_text(kV6), "2001:db8::7");
  EXPECT_EQ(address_text("abc"), "invalid address (3 bytes)");
  v1::Endpoint e;
  e.set_address(kV6);
  e.set_port(4500);
  EXPECT_EQ(endpoint_text(e), "2001:db8::7[4500]");
  e.set_port(0);
  EXPECT_EQ(endpoint_text(e), "2001:db8::7");
}

TEST(ElasticctlFormat, TrafficSelectorsAsCidr) {
  EXPECT_EQ(ts_text(ts(ip({10, 10, 0, 0}), ip({10, 10, 0, 255}))), "10.10.0.0/24");
  EXPECT_EQ(ts_text(ts(ip({10, 99, 0, 5}), ip({10, 99, 0, 5}))), "10.99.0.5/32");
  EXPECT_EQ(ts_text(ts(ip({0, 0, 0, 0}), ip({255, 255, 255, 255}))), "0.0.0.0/0");
  EXPECT_EQ(ts_text(ts(ip({10, 0, 0, 1}), ip({10, 0, 0, 9}))), "10.0.0.1..10.0.0.9");
  EXPECT_EQ(ts_text(ts(std::string(16, '\0'), std::string(16, '\xff'))), "::/0");
  auto web = ts(kV6, kV6);
  web.set_protocol(6);
  web.set_from_port(443);
  web.set_to_port(443);
  EXPECT_EQ(ts_text(web), "2001:db8::7/128[tcp/443]");
  web.set_protocol(17);
  web.set_from_port(1000);
  web.set_to_port(2000);
  EXPECT_EQ(ts_text(web), "2001:db8::7/128[udp/1000-2000]");
}

TEST(ElasticctlFormat, Identities) {
  v1::Identity id;
  id.set_type(2);
  id.set_data("sg.example.net");
  EXPECT_EQ(identity_text(id), "sg.example.net");
  id.set_type(1);
  id.set_data(ip({192, 0, 2, 1}));
  EXPECT_EQ(identity_text(id), "192.0.2.1");
  id.set_type(9);
  id.set_data(tlv(0x30, rdn("\x55\x04\x06", "CH") + rdn("\x55\x04\x0a", "Example") + rdn("\x55\x04\x03", "alice")));
  EXPECT_EQ(identity_text(id), "C=CH, O=Example, CN=alice");
  id.set_data(tlv(0x30, rdn("\x2b\x06\x01\x04\x01\x82\x37", "x")));  // 1.3.6.1.4.1.311
  EXPECT_EQ(identity_text(id), "1.3.6.1.4.1.311=x");
  id.set_data("\x30\x05\x31");  // truncated
  EXPECT_EQ(identity_text(id), "DN#300531");
  id.set_type(11);
  id.set_data("\x01\xab");
  EXPECT_EQ(identity_text(id), "@#01ab");
}

// The sample with an IPv6 EU and a second, CBC/HMAC CHILD_SA; its keys are left in place to show
// that inspect does not read them.
v1::Envelope sample_with_keys() {
  auto env = sample_envelope();
  auto* ike = env.mutable_context()->mutable_ike_sa();
  ike->mutable_remote()->set_address(kV6);
  auto* cbc = ike->add_child_sas();
  *cbc = ike->child_sas(0);
  cbc->set_child_cfg("cbc");
  cbc->set_spi_in(0x0000beef);
  cbc->mutable_algorithms()->set_encryption(12);
  cbc->mutable_algorithms()->set_encryption_key_bits(256);
  cbc->mutable_algorithms()->set_integrity(12);
  cbc->mutable_algorithms()->set_esn(false);
  cbc->mutable_keys()->set_integrity_i(std::string(32, '\x33'));
  cbc->mutable_algorithms()->set_dh_group(4242);
  return env;
}

TEST(ElasticctlFormat, InspectIsReadableAndWithoutKeys) {
  const auto env = sample_with_keys();
  const Value v = inspect_value(env);
  for (const std::string& out : {to_text(v), to_json(v)}) {
    EXPECT_FALSE(has(out, "ZZZZ")) << out;  // the shared secret (0x5a bytes)
    EXPECT_FALSE(has(out, "5a5a5a5a")) << out;
    EXPECT_FALSE(has(out, std::string(4, '\x11'))) << "ESP key bytes";
    EXPECT_FALSE(has(out, "11111111")) << out;
    EXPECT_FALSE(has(out, "33333333")) << out;
    EXPECT_FALSE(has(out, "\x01\x01\x01\x01")) << "nonce bytes";
  }
  const std::string text = to_text(v);
  for (const char* want : {"kind: upsert\n",
                           "vpn_id: sg1/17\n",
                           "epoch: 3\n",
                           "version: 42\n",
                           "role: responder\n",
                           "ike_version: 2\n",
                           "spi_i: 1122334455667788\n",
                           "spi_r: 99aabbccddeeff00\n",
                           "local: 192.0.2.1[4500]\n",
                           "remote: 2001:db8::7[39012]\n",
                           "local_id: sg.example.net\n",
                           "remote_id: alice@example.net\n",
                           "remote_virtual_ips: 10.99.0.5\n",
                           "encryption: AES_GCM_16-256\n",
                           "prf: PRF_HMAC_SHA2_256\n",
                           "dh_group: CURVE_25519\n",
                           "initiate: 4\n",
                           "respond: 9\n",
                           "- child_cfg: net\n",
                           "spi_in: 0xc1a2b3c4\n",
                           "spi_out: 0xd1e2f3a4\n",
                           "spi_in: 0x0000beef\n",
                           "encryption: AES_GCM_16-128\n",
                           "esn: yes\n",
                           "encryption: AES_CBC-256\n",
                           "integrity: HMAC_SHA2_256_128\n",
                           "esn: no\n",
                           "dh_group: DH_4242 (unknown)\n",
                           "local_ts: 10.10.0.0/24\n",
                           "remote_ts: 10.99.0.5/32\n",
                           "oseq: 4294968296\n",
                           "seq: 777\n",
                           "window: 128\n",
                           "mode: tunnel\n",
                           "protocol: ESP\n",
                           "udp_encap: yes\n",
                           "remote_behind_nat: yes\n"})
    EXPECT_TRUE(has(text, want)) << "missing '" << want << "' in\n" << text;
  const std::string json = to_json(v);
  for (const char* want : {"\"spi_in\": \"0xc1a2b3c4\"", "\"remote\": \"2001:db8::7[39012]\"", "\"esn\": true",
                           "\"oseq\": 4294968296", "\"local_ts\": [\"10.10.0.0/24\"]", "\"child_sas\": [{"})
    EXPECT_TRUE(has(json, want)) << "missing '" << want << "' in\n" << json;
}

TEST(ElasticctlFormat, NamesCannotDriveTheTerminal) {
  auto env = sample_envelope();
  env.mutable_context()->mutable_ike_sa()->set_peer_cfg("rw\x1b[31m\n");
  const Value v = inspect_value(env);
  EXPECT_TRUE(has(to_text(v), "peer_cfg: rw\\x1b[31m\\x0a\n")) << to_text(v);
  EXPECT_TRUE(has(to_json(v), "\"peer_cfg\": \"rw\\u001b[31m\\n\"")) << to_json(v);
}

TEST(ElasticctlFormat, CountersEnvelope) {
  v1::Envelope env;
  env.set_kind(v1::ENVELOPE_KIND_COUNTERS);
  env.mutable_counters()->mutable_message_ids()->set_initiate(7);
  auto* c = env.mutable_counters()->add_child_sas();
  c->set_spi_in(0xc1a2b3c4);
  c->mutable_replay_out()->set_oseq(99);
  const std::string text = to_text(inspect_value(env));
  EXPECT_TRUE(has(text, "kind: counters\n")) << text;
  EXPECT_TRUE(has(text, "counters:\n  message_ids:\n    initiate: 7\n")) << text;
  EXPECT_TRUE(has(text, "oseq: 99\n")) << text;
}

TEST(ElasticctlFormat, JsonEscapes) {
  EXPECT_EQ(json_escape("a\"b\\c\n\t\x01"), "a\\\"b\\\\c\\n\\t\\u0001");
  EXPECT_EQ(json_escape("gr\xc3\xbc\xc3\x9f"), "gr\xc3\xbc\xc3\x9f");  // valid UTF-8 stays
  EXPECT_EQ(json_escape("x\xff"
                        "y\xc0\xaf"),
            "x\\ufffdy\\ufffd\\ufffd");                             // invalid, overlong
  EXPECT_EQ(json_escape("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");  // a surrogate
}

struct CFree {
  void operator()(void* p) const { std::free(p); }
};

// The plugin's own list text (elastic_store_list) read back: the two stay in step.
TEST(ElasticctlFormat, ListOfThePluginAsJson) {
  elastic_store_t* store = elastic_store_create("sg2");
  const std::string bytes = encode_envelope(sample_envelope());
  elastic_ctx_t* ctx = nullptr;
  char* vpn_id = nullptr;
  uint64_t epoch = 0, version = 0;
  ASSERT_EQ(elastic_envelope_decode(bytes.data(), bytes.size(), &ctx, &vpn_id, &epoch, &version), nullptr);
  elastic_store_update(store, 1, ctx, ELASTIC_ROLE_PASSIVE);  // passive: no kernel counters read
  elastic_store_adopt(store, 1, vpn_id, "sg1", epoch, version);
  std::free(vpn_id);
  std::unique_ptr<char, CFree> list(elastic_store_list(store));
  elastic_store_destroy(store);

  const std::string json = to_json(list_value(list.get()));
  EXPECT_EQ(json,
            "{\"vpns\": [{\"name\": \"rw\", \"ike_id\": 1, \"vpn\": \"sg1/17\", \"epoch\": 3, \"version\": 42, "
            "\"role\": \"passive\", \"spi_i\": \"1122334455667788\", \"spi_r\": \"99aabbccddeeff00\", "
            "\"message_ids\": {\"initiate\": 4, \"respond\": 9}, \"child_sas\": [{\"name\": \"net\", "
            "\"spi_in\": \"0xc1a2b3c4\", \"spi_out\": \"0xd1e2f3a4\", \"oseq\": 4294968296, \"seq\": 777, "
            "\"packets\": {\"in\": 0, \"out\": 0}}]}]}\n")
      << list.get();
  EXPECT_EQ(to_json(list_value("")), "{\"vpns\": []}\n");
}

TEST(ElasticctlFormat, SyncStatusAsJson) {
  const std::string status =
      "node sg1\ncontexts 2\nentries 3\ndigest 0123abcd\nmembership epoch 3 live sg1,sg2\n"
      "tombstones 1 collected 0\nrefused_origin 0\nrouted 4 failed 0 refused 1\n"
      "placement replicas 1 live sg1=100,sg2=50\n"
      "peer sg2 connected pending 0 unacked 0 resyncs 1\npeer sg3 disconnected pending 2 unacked 5 resyncs 0\n";
  EXPECT_EQ(to_json(sync_status_value(status)),
            "{\"node\": \"sg1\", \"contexts\": 2, \"entries\": 3, \"digest\": \"0123abcd\", "
            "\"membership\": {\"epoch\": 3, \"live\": [\"sg1\", \"sg2\"]}, \"tombstones\": 1, "
            "\"tombstones_collected\": 0, \"refused_origin\": 0, \"routed\": 4, \"routed_failed\": 0, "
            "\"routed_refused\": 1, \"placement\": {\"replicas\": 1, \"live\": {\"sg1\": 100, \"sg2\": 50}}, "
            "\"peers\": [{\"name\": \"sg2\", \"connected\": true, \"pending\": 0, \"unacked\": 0, \"resyncs\": 1}, "
            "{\"name\": \"sg3\", \"connected\": false, \"pending\": 2, \"unacked\": 5, \"resyncs\": 0}]}\n");
  // nothing live yet: the lists keep their types
  EXPECT_EQ(to_json(sync_status_value("membership epoch 0 live \nplacement replicas all live \n")),
            "{\"membership\": {\"epoch\": 0, \"live\": []}, \"placement\": {\"replicas\": \"all\", \"live\": {}}, "
            "\"peers\": []}\n");
}

}  // namespace
}  // namespace elastic::ctl
