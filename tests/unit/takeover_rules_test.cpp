// The plugin's takeover rules that do not need charon: the sequence-number jump and its edges,
// the live-member list from elastic-heartbeatd, address ranges for the steering hook.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "elastic_takeover.hpp"

namespace p = elastic::plugin;

TEST(TakeoverMargin, DefaultsFollowTheDocumentedRule) {
  // 2 * (1024 + 1,000,000 pkt/s * (100 + 100) ms) = 402,048
  auto m = p::takeover_margin({});
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, 402048u);
}

TEST(TakeoverMargin, RoundsPartialPacketsUp) {
  auto m = p::takeover_margin({0, 3, 1, 0, 1, 0});  // 3 pkt/s for 1 ms: 0.003 -> 1 packet
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, 1u);
}

TEST(TakeoverMargin, FloorWins) {
  auto m = p::takeover_margin({1, 1, 1, 1, 1, 1u << 20});
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, 1u << 20);
}

TEST(TakeoverMargin, OverflowIsAnErrorNeverAWrappedValue) {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  EXPECT_FALSE(p::takeover_margin({0, max, 2, 0, 1, 0}));     // pps * ms
  EXPECT_FALSE(p::takeover_margin({max, 0, 0, 0, 2, 0}));     // * safety
  EXPECT_FALSE(p::takeover_margin({max, 1000, 1, 0, 1, 0}));  // threshold + packets
  EXPECT_FALSE(p::takeover_margin({0, 1, max, 1, 1, 0}));     // latency + detection
}

TEST(LiveMembers, ParsesNamesAndWeights) {
  auto m = p::parse_members("sg2=1,sg3=25,sg4");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[1].name, "sg3");
  EXPECT_DOUBLE_EQ((*m)[1].weight, 25);
  EXPECT_DOUBLE_EQ((*m)[2].weight, 1.0);
  auto empty = p::parse_members("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(LiveMembers, RefusesBadInputNamingIt) {
  for (const char* bad : {"sg2=0", "sg2=-1", "sg2=nan", "sg2=inf", "sg2=", "=1", "sg2,,sg3", "a b=1", "sg2=1x",
                          "sg2=2.5", "sg2=1001", "sg2= 1"}) {
    auto m = p::parse_members(bad);
    EXPECT_FALSE(m) << bad;
    if (!m) {
      EXPECT_NE(m.error().message.find("live member"), std::string::npos) << bad;
    }
  }
}

TEST(FormatRange, PrefixesRangesAndSingleAddresses) {
  const std::string a(std::string("\x0a\x01\x00\x00", 4)), b(std::string("\x0a\x01\xff\xff", 4));
  EXPECT_EQ(p::format_range(a, b), "10.1.0.0/16");
  EXPECT_EQ(p::format_range(a, a), "10.1.0.0");
  EXPECT_EQ(p::format_range(std::string("\x0a\x01\x00\x01", 4), std::string("\x0a\x01\x00\x05", 4)),
            "10.1.0.1-10.1.0.5");
  EXPECT_EQ(p::format_range(std::string(4, '\0'), std::string(4, '\xff')), "0.0.0.0/0");
}
