// The strict number parser and checked addition at their edges: what strtoull would accept
// ("-1", " 7", "7abc", "0x10", 2^64) is refused with a message naming the input.
#include "elastic/parse_number.h"

#include <gtest/gtest.h>

using elastic::checked_add;
using elastic::parse_u64;

TEST(ParseU64, AcceptsPlainDecimalWithinRange) {
  EXPECT_EQ(*parse_u64("0", "x"), 0u);
  EXPECT_EQ(*parse_u64("18446744073709551615", "x"), UINT64_MAX);
  EXPECT_EQ(*parse_u64("007", "x"), 7u);
  EXPECT_EQ(*parse_u64("5", "x", 5, 5), 5u);
}

TEST(ParseU64, RefusesWhatStrtoullWouldTake) {
  for (const char* bad : {"", "-1", "+1", " 7", "7 ", "7abc", "0x10", "1e3", "nan", "1.5", "１"}) {
    auto r = parse_u64(bad, "margin");
    ASSERT_FALSE(r) << "accepted '" << bad << "'";
    EXPECT_NE(r.error().message.find("margin '"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("is not a number"), std::string::npos) << r.error().message;
  }
}

TEST(ParseU64, RefusesOverflowAndRange) {
  auto wrap = parse_u64("18446744073709551616", "--margin");
  ASSERT_FALSE(wrap);
  EXPECT_NE(wrap.error().message.find("out of range"), std::string::npos);
  EXPECT_FALSE(parse_u64("99999999999999999999", "x"));
  EXPECT_FALSE(parse_u64("0", "x", 1, 10));
  EXPECT_FALSE(parse_u64("11", "x", 1, 10));
  auto big = parse_u64("4294967297", "ike-id", 1, UINT32_MAX);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().message, "ike-id '4294967297' is out of range 1..4294967295");
}

TEST(ParseU64, LongInputIsShortenedInTheMessage) {
  auto r = parse_u64(std::string(1000, 'a'), "k");
  ASSERT_FALSE(r);
  EXPECT_LT(r.error().message.size(), 120u);
}

TEST(CheckedAdd, RefusesInsteadOfWrapping) {
  EXPECT_EQ(*checked_add(UINT64_MAX - 1, 1, "oseq"), UINT64_MAX);
  auto r = checked_add(UINT64_MAX, 1, "oseq + margin");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("overflows"), std::string::npos);
}
