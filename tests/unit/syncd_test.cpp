// elastic-syncd's pieces without the network: frames, configuration, placement, replica table.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <new>

#include "elastic/membership.h"
#include "elastic/placement.h"
#include "elastic/read_buffer.h"
#include "elastic/replica_table.h"
#include "elastic/settings.h"
#include "elastic/sync_frame.h"
#include "elastic/syncd_config.h"
#include "elastic/tls.h"

namespace elastic::sync {
namespace {

v1::Envelope env(const std::string& id, uint64_t epoch, uint64_t version, v1::EnvelopeKind kind) {
  v1::Envelope e;
  e.set_schema(v1::SCHEMA_VERSION_1);
  e.set_origin_node("sg1");
  e.set_epoch(epoch);
  e.set_version(version);
  e.set_kind(kind);
  e.set_vpn_id(id);
  if (kind == v1::ENVELOPE_KIND_COUNTERS)
    e.mutable_counters()->mutable_message_ids()->set_initiate(static_cast<uint32_t>(version));
  if (kind == v1::ENVELOPE_KIND_UPSERT) {
    auto* ike = e.mutable_context()->mutable_ike_sa();
    ike->set_spi_i(1), ike->set_spi_r(2), ike->set_role(v1::IKE_ROLE_RESPONDER), ike->set_ike_version(2);
    ike->mutable_algorithms()->set_encryption(20), ike->mutable_algorithms()->set_prf(5);
    ike->mutable_algorithms()->set_dh_group(31);
    ike->mutable_keys()->set_shared_secret("s"), ike->mutable_keys()->set_nonce_i(std::string(16, 'i')),
        ike->mutable_keys()->set_nonce_r(std::string(16, 'r'));
    ike->mutable_local_id()->set_type(2), ike->mutable_local_id()->set_data("a");
    ike->mutable_remote_id()->set_type(2), ike->mutable_remote_id()->set_data("b");
    ike->mutable_local()->set_address(std::string(4, '\1')), ike->mutable_remote()->set_address(std::string(4, '\2'));
    ike->set_peer_cfg("rw");
    ike->mutable_message_ids();
  }
  return e;
}

std::string bytes(const std::string& id, uint64_t epoch, uint64_t version, v1::EnvelopeKind kind) {
  return encode_envelope(env(id, epoch, version, kind));
}

TEST(SyncFrame, RoundTripAndSplitAcrossReads) {
  std::string wire = encode_data(7, "hello") + encode_ack(7) + encode_frame(FrameType::Hello, "sg2");
  FrameDecoder d;
  std::vector<Frame> got;
  for (char c : wire) {  // one byte at a time: frames must survive any fragmentation
    d.feed(&c, 1);
    for (bool none = false;;) {
      auto f = d.next(none);
      if (none) break;
      ASSERT_TRUE(f.ok()) << f.error().message;
      got.push_back(*f);
    }
  }
  ASSERT_EQ(got.size(), 3u);
  auto data = split_data(got[0].body);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->first, 7u);
  EXPECT_EQ(data->second, "hello");
  EXPECT_EQ(*parse_ack(got[1].body), 7u);
  EXPECT_EQ(got[2].body, "sg2");
}

TEST(SyncFrame, MalformedFramesAreErrors) {
  auto bad = [](std::string wire, const std::string& msg) {
    FrameDecoder d;
    d.feed(wire.data(), wire.size());
    bool none = false;
    auto f = d.next(none);
    EXPECT_FALSE(none);
    ASSERT_FALSE(f.ok());
    EXPECT_NE(f.error().message.find(msg), std::string::npos) << f.error().message;
  };
  bad(std::string("\0\0\0\0\2", 5), "frame length 0 out of range");
  bad(std::string("\x7f\xff\xff\xff\2", 5), "out of range");
  bad(std::string("\0\0\0\1\x09", 5), "unknown frame type 9");
  EXPECT_FALSE(split_data("short").ok());
  EXPECT_FALSE(parse_ack("123").ok());
  FrameDecoder d;  // truncated: needs more, not an error
  std::string part = encode_data(1, "abc").substr(0, 7);
  d.feed(part.data(), part.size());
  bool none = false;
  (void)d.next(none);
  EXPECT_TRUE(none);
}

TEST(Settings, ParsesStrongswanConfSyntax) {
  auto s = Settings::parse(R"(
elastic {
  node = sg1   # comment
  cluster {
    replicas = 2
    members {
      sg1 { address = 127.0.0.1:7001 }
      sg2 { address = 127.0.0.1:7002
            weight = 2 }
    }
  }
})");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->get("elastic.node"), "sg1");
  EXPECT_EQ(s->get("elastic.cluster.members.sg2.weight"), "2");
  EXPECT_EQ(s->sections("elastic.cluster.members"), (std::vector<std::string>{"sg1", "sg2"}));
  auto bad = Settings::parse("elastic {\n  node sg1\n}", "x.conf");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "x.conf:2: elastic.node: expected '=' or '{' after 'node', found 'sg1'");
  EXPECT_EQ(Settings::parse("a {\n b = c\n", "y").error().message,
            "y:1: a: section is not closed (missing '}' at the end of the input)");
}

TEST(SyncdConfig, ErrorsNameTheKey) {
  auto cfg = [](const std::string& text) { return load_syncd_config(*Settings::parse(text)); };
  EXPECT_EQ(cfg("elastic { }").error().message, "config:1: elastic.node: is not set (this gateway's member name)");
  EXPECT_EQ(cfg("elastic { node = a\n cluster { members { a { address = nowhere } } } }").error().message,
            "config:2: elastic.cluster.members.a.address: 'nowhere': expected IP:PORT");
  EXPECT_NE(cfg("elastic { node = a\n cluster { members { a { address = 1.2.3.4:1 } } } }").error().message.find("tls"),
            std::string::npos);
  auto ok =
      cfg("elastic { node = a\n cluster { replicas = all\n members { a { address = 1.2.3.4:1 }\n b { address = "
          "1.2.3.5:2 } } }\n"
          " syncd { tls { ca = c\n cert = d\n key = e } } }");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->peers.size(), 1u);
  EXPECT_EQ(ok->peers[0].port, 2);
  EXPECT_EQ(ok->listen_port, 1);
}

TEST(SyncdConfig, LogLevelIsOneOfTheSyslogNames) {
  // elastic.syncd.loglevel is written on line 6.
  auto cfg = [](const std::string& level) {
    return load_syncd_config(
        *Settings::parse("elastic { node = a\n cluster { members { a { address = 1.2.3.4:1 } } }\n syncd { tls { ca = "
                         "c\n cert = d\n key "
                         "= e }\n loglevel = " +
                         level + "\n } }"));
  };
  for (const char* bad : {"verbose", "INFO", "6", "warn"})
    EXPECT_EQ(cfg(bad).error().message, std::string("config:6: elastic.syncd.loglevel: '") + bad +
                                            "': expected err, warning, notice, info or debug");
  auto ok = cfg("debug");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->loglevel, log::Priority::debug);
  ok = cfg("");  // cleared: the default
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->loglevel, log::Priority::info);
}

TEST(Placement, DeterministicAndSpreadsAFailedNodesVpns) {
  std::vector<Member> four{{"sg1", 1}, {"sg2", 1}, {"sg3", 1}, {"sg4", 1}};
  EXPECT_EQ(alternates("sg1/5", "sg1", four, 1), alternates("sg1/5", "sg1", four, 1));
  EXPECT_EQ(alternates("sg1/5", "sg1", four, 9).size(), 3u);  // k > others: all of them
  // With one alternate each, sg1's VPNs spread evenly over sg2..sg4 (about 1/3 each).
  std::map<std::string, int> count;
  const int n = 30000;
  for (int i = 0; i < n; ++i) count[alternates("sg1/" + std::to_string(i), "sg1", four, 1)[0]]++;
  for (const auto& name : {"sg2", "sg3", "sg4"}) EXPECT_NEAR(count[name], n / 3, n / 30) << name;
  // Removing sg4 only moves the VPNs that had sg4 as alternate.
  std::vector<Member> three{{"sg1", 1}, {"sg2", 1}, {"sg3", 1}};
  for (int i = 0; i < 1000; ++i) {
    auto id = "sg1/" + std::to_string(i);
    auto before = alternates(id, "sg1", four, 1)[0];
    if (before != "sg4") {
      EXPECT_EQ(alternates(id, "sg1", three, 1)[0], before);
    }
  }
  // Weights: a member with weight 2 gets about twice the share.
  std::vector<Member> weighted{{"sg1", 1}, {"sg2", 2}, {"sg3", 1}};
  int heavy = 0;
  for (int i = 0; i < n; ++i) heavy += alternates("sg1/" + std::to_string(i), "sg1", weighted, 1)[0] == "sg2";
  EXPECT_NEAR(heavy, 2 * n / 3, n / 30);
}

TEST(Membership, ParsesStrictly) {
  const std::vector<Member> cfg{{"sg1", 1}, {"sg2", 1}, {"sg3", 2}};
  auto ok = parse_membership("epoch=7 live=sg1,sg3", cfg);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->epoch, 7u);
  EXPECT_EQ(ok->live, (std::vector<std::string>{"sg1", "sg3"}));
  EXPECT_TRUE(parse_membership("epoch=1 live=", cfg).ok());  // nobody else live: well-formed
  EXPECT_TRUE(parse_membership("epoch=18446744073709551615 live=sg2", cfg).ok());
  for (const char* bad :
       {"", "epoch=1", "live=sg1 epoch=1", "epoch= live=sg1", "epoch=0 live=sg1", "epoch=-1 live=sg1",
        "epoch=+1 live=sg1", "epoch=1x live=sg1", "epoch=18446744073709551616 live=sg1", "epoch=1  live=sg1",
        "epoch=1 live=sg1,", "epoch=1 live=,sg1", "epoch=1 live=sg1,,sg2", "epoch=1 live=sg1,sg1", "epoch=1 live=sg1 ",
        "epoch=1 live=sg1\n", "Epoch=1 live=sg1", "epoch=1 live=sg1 extra=2", "epoch=1 live=sg1 live=sg2"})
    EXPECT_FALSE(parse_membership(bad, cfg).ok()) << "accepted '" << bad << "'";
  auto unknown = parse_membership("epoch=2 live=sg1,sg9", cfg);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unknown member 'sg9'"), std::string::npos) << unknown.error().message;
}

TEST(Membership, NewerEpochsOnlyAndRefusedViewsKeepTheOldOne) {
  LiveView v({{"sg1", 1}, {"sg2", 1}, {"sg3", 2}});
  EXPECT_EQ(v.epoch(), 0u);
  EXPECT_EQ(v.names(), "sg1,sg2,sg3");  // before any view: the configured members
  ASSERT_TRUE(*v.apply("epoch=5 live=sg3,sg1"));
  EXPECT_EQ(v.names(), "sg1,sg3");  // configuration order, weights kept
  EXPECT_EQ(v.live()[1].weight, 2);
  EXPECT_FALSE(v.is_live("sg2"));
  EXPECT_FALSE(*v.apply("epoch=5 live=sg1,sg2,sg3"));  // not newer: ignored
  EXPECT_FALSE(*v.apply("epoch=4 live=sg1,sg2,sg3"));
  EXPECT_FALSE(v.apply("epoch=9 live=sg1,nope").ok());  // refused: unchanged
  EXPECT_FALSE(v.apply("garbage").ok());
  EXPECT_EQ(v.epoch(), 5u);
  EXPECT_EQ(v.names(), "sg1,sg3");
  ASSERT_TRUE(*v.apply("epoch=6 live=sg1,sg2,sg3"));  // sg2 rejoins
  EXPECT_TRUE(v.is_live("sg2"));
}

TEST(Membership, PlacementOverLiveMembersMovesOnlyTheFailedMembersVpns) {
  LiveView v({{"sg1", 1}, {"sg2", 1}, {"sg3", 1}, {"sg4", 1}});
  const auto all = v.live();
  ASSERT_TRUE(*v.apply("epoch=1 live=sg1,sg2,sg4"));  // sg3 failed
  std::map<std::string, int> moved_to;
  int kept = 0;
  const int n = 30000;
  for (int i = 0; i < n; ++i) {
    const std::string id = "sg1/" + std::to_string(i);
    const auto before = alternates(id, "sg1", all, 1), after = alternates(id, "sg1", v.live(), 1);
    ASSERT_EQ(after.size(), 1u);
    EXPECT_NE(after[0], "sg3");
    if (before[0] == "sg3") {
      ++moved_to[after[0]];
    } else {
      EXPECT_EQ(after[0], before[0]) << id << " moved although its alternate did not fail";
      ++kept;
    }
  }
  EXPECT_NEAR(kept, 2 * n / 3, n / 30);
  // sg3's share spreads over both survivors (about half each).
  EXPECT_NEAR(moved_to["sg2"], n / 6, n / 30);
  EXPECT_NEAR(moved_to["sg4"], n / 6, n / 30);
  // sg3 rejoins: the placement is the configured one again.
  ASSERT_TRUE(*v.apply("epoch=2 live=sg1,sg2,sg3,sg4"));
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(alternates("sg1/" + std::to_string(i), "sg1", v.live(), 1),
              alternates("sg1/" + std::to_string(i), "sg1", all, 1));
}

TEST(ReplicaTable, NewerWinsWhateverTheOrder) {
  ReplicaTable t;
  EXPECT_EQ(*t.apply(bytes("v", 1, 5, v1::ENVELOPE_KIND_UPSERT)), Applied::New);
  EXPECT_EQ(*t.apply(bytes("v", 1, 5, v1::ENVELOPE_KIND_UPSERT)), Applied::Stale);  // again: idempotent
  EXPECT_EQ(*t.apply(bytes("v", 1, 4, v1::ENVELOPE_KIND_UPSERT)), Applied::Stale);  // reordered: older
  EXPECT_EQ(*t.apply(bytes("v", 1, 6, v1::ENVELOPE_KIND_COUNTERS)), Applied::New);
  EXPECT_EQ(t.find("v")->full_stamp.version, 5u);
  EXPECT_EQ(t.find("v")->stamp.version, 6u);
  EXPECT_EQ(*t.apply(bytes("v", 2, 1, v1::ENVELOPE_KIND_UPSERT)), Applied::New);       // new owner's epoch
  EXPECT_EQ(*t.apply(bytes("v", 1, 99, v1::ENVELOPE_KIND_COUNTERS)), Applied::Stale);  // old owner late
  EXPECT_TRUE(t.find("v")->tail.empty());
  EXPECT_EQ(t.contexts(), 1u);
  EXPECT_EQ(*t.apply(bytes("v", 2, 2, v1::ENVELOPE_KIND_DELETE)), Applied::New);
  EXPECT_EQ(*t.apply(bytes("v", 2, 1, v1::ENVELOPE_KIND_UPSERT)), Applied::Stale);  // no resurrection
  EXPECT_EQ(t.contexts(), 0u);
  EXPECT_TRUE(t.find("v")->deleted);
  EXPECT_FALSE(t.apply("garbage").ok());
}

TEST(ReplicaTable, RefusesAnotherOrigin) {
  ReplicaTable t;
  std::string id, origin;
  // env() writes origin "sg1": refused when sg2 sent it, and nothing changes
  EXPECT_EQ(*t.apply(bytes("v", 1, 1, v1::ENVELOPE_KIND_UPSERT), &id, "sg2", &origin), Applied::Refused);
  EXPECT_EQ(id, "v");
  EXPECT_EQ(origin, "sg1");
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(*t.apply(bytes("v", 1, 1, v1::ENVELOPE_KIND_UPSERT), nullptr, "sg1"), Applied::New);
  EXPECT_EQ(t.contexts(), 1u);
}

TEST(ReplicaTable, TombstonesAreCollectedAfterTheirAge) {
  using Clock = std::chrono::steady_clock;
  ReplicaTable t;
  (void)t.apply(bytes("gone", 1, 1, v1::ENVELOPE_KIND_UPSERT));
  (void)t.apply(bytes("kept", 1, 1, v1::ENVELOPE_KIND_UPSERT));
  EXPECT_EQ(*t.apply(bytes("gone", 1, 2, v1::ENVELOPE_KIND_DELETE)), Applied::New);
  EXPECT_EQ(t.tombstones(), 1u);
  // deleted just now: not older than a cutoff in the past
  EXPECT_EQ(t.collect_tombstones(Clock::now() - std::chrono::seconds(600)), 0u);
  EXPECT_TRUE(t.find("gone"));
  std::vector<std::string> dropped;
  EXPECT_EQ(t.collect_tombstones(Clock::now() + std::chrono::seconds(1),
                                 [&](const std::string& id) { dropped.push_back(id); }),
            1u);
  EXPECT_EQ(dropped, std::vector<std::string>{"gone"});
  EXPECT_FALSE(t.find("gone"));
  EXPECT_TRUE(t.find("kept"));  // live VPNs are never collected
  EXPECT_EQ(t.tombstones(), 0u);
  EXPECT_EQ(t.size(), 1u);
  // a resurrected VPN (newer upsert after its delete) is no tombstone any more
  (void)t.apply(bytes("back", 1, 1, v1::ENVELOPE_KIND_DELETE));
  (void)t.apply(bytes("back", 1, 2, v1::ENVELOPE_KIND_UPSERT));
  EXPECT_EQ(t.tombstones(), 0u);
  EXPECT_EQ(t.collect_tombstones(Clock::now() + std::chrono::seconds(1)), 0u);
}

TEST(ReadBuffer, WipedWhenItGoes) {
  alignas(ReadBuffer<64>) unsigned char storage[sizeof(ReadBuffer<64>)];
  auto* b = new (storage) ReadBuffer<64>;
  for (size_t i = 0; i < b->size(); ++i) b->data()[i] = 'k';
  b->wipe(8);
  EXPECT_EQ(b->data()[7], 0);
  EXPECT_EQ(b->data()[8], 'k');
  b->~ReadBuffer();
  for (unsigned char c : storage) ASSERT_EQ(c, 0);
}

TEST(ReplicaTable, DigestDependsOnContentNotOrder) {
  ReplicaTable a, b;
  for (int i = 0; i < 50; ++i) (void)a.apply(bytes("v" + std::to_string(i), 1, 3, v1::ENVELOPE_KIND_UPSERT));
  for (int i = 49; i >= 0; --i) {
    (void)b.apply(bytes("v" + std::to_string(i), 1, 3, v1::ENVELOPE_KIND_UPSERT));
    (void)b.apply(bytes("v" + std::to_string(i), 1, 2, v1::ENVELOPE_KIND_UPSERT));
  }
  EXPECT_EQ(a.digest(), b.digest());
  (void)b.apply(bytes("v7", 1, 4, v1::ENVELOPE_KIND_COUNTERS));
  EXPECT_NE(a.digest(), b.digest());
}

}  // namespace
}  // namespace elastic::sync

// Plaintext records (replicas with keys) are cleansed by OpenSSL and buffers released when idle,
// on every context syncd and its test client make (setup_tls), and so on every connection.
TEST(Tls, ContextsCleansePlaintextAndReleaseBuffers) {
  char tmpl[] = "/tmp/syncd-tls.XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=sg1 "
      "-keyout " +
      dir + "/k.pem -out " + dir + "/c.pem >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  for (auto method : {boost::asio::ssl::context::tls_server, boost::asio::ssl::context::tls_client}) {
    boost::asio::ssl::context ctx(method);
    auto ok = elastic::sync::setup_tls(ctx, dir + "/c.pem", dir + "/c.pem", dir + "/k.pem");
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    EXPECT_TRUE(SSL_CTX_get_options(ctx.native_handle()) & SSL_OP_CLEANSE_PLAINTEXT);
    EXPECT_TRUE(SSL_CTX_get_mode(ctx.native_handle()) & SSL_MODE_RELEASE_BUFFERS);
    SSL* ssl = SSL_new(ctx.native_handle());  // what each connection gets
    ASSERT_NE(ssl, nullptr);
    EXPECT_TRUE(SSL_get_options(ssl) & SSL_OP_CLEANSE_PLAINTEXT);
    EXPECT_TRUE(SSL_get_mode(ssl) & SSL_MODE_RELEASE_BUFFERS);
    SSL_free(ssl);
  }
  std::filesystem::remove_all(dir);
}
