#include "kernel/domain/id.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace nucleo {
namespace {

constexpr std::string_view crockford = "0123456789abcdefghjkmnpqrstvwxyz";

// The first 10 base32 characters hold 2 zero bits + the 48-bit millisecond time.
std::int64_t embedded_millis(const std::string& id, std::string_view prefix) {
  std::int64_t value = 0;
  for (char c : id.substr(prefix.size() + 1, 10)) value = value * 32 + static_cast<std::int64_t>(crockford.find(c));
  return value;
}

// Bits 48..51 of the 128-bit body (the version nibble) sit in characters 10..11.
int version_nibble(const std::string& body) {
  // char i covers bits [5i-2, 5i+3) of the 128-bit value; the nibble is bits 48..51.
  std::uint64_t window = 0;
  for (int i = 10; i < 12; ++i) window = window * 32 + crockford.find(body[i]);
  // window holds bits 48..57 (10 bits): the top 4 are the version
  return static_cast<int>(window >> 6);
}

TEST(Id, HasPrefixUnderscoreAndTwentySixBase32Characters) {
  std::string id = generate_id(id_prefix::deal, Timestamp::from_millis(1'700'000'000'000));
  ASSERT_EQ(id.size(), 5u + 26u);
  EXPECT_EQ(id.substr(0, 5), "deal_");
  EXPECT_EQ(id.substr(5).find_first_not_of(crockford), std::string::npos);
  EXPECT_TRUE(is_valid_id(id, id_prefix::deal));
}

TEST(Id, EmbedsTheMillisecondTimeAndVersionSeven) {
  Timestamp t = Timestamp::from_millis(1'785'000'123'456);
  std::string id = generate_id(id_prefix::account, t);
  EXPECT_EQ(embedded_millis(id, id_prefix::account), t.millis());
  EXPECT_EQ(version_nibble(id.substr(4)), 7);
}

TEST(Id, SortsByCreationMillisecond) {
  std::string earlier = generate_id(id_prefix::contact, Timestamp::from_millis(1'000'000));
  std::string later = generate_id(id_prefix::contact, Timestamp::from_millis(1'000'001));
  EXPECT_LT(earlier, later);
  std::string much_later = generate_id(id_prefix::contact, Timestamp::from_millis(281'474'976'710'655));  // 2^48-1
  EXPECT_LT(later, much_later);
  EXPECT_TRUE(is_valid_id(much_later, id_prefix::contact));
}

TEST(Id, IsUniqueWithinOneMillisecond) {
  std::set<std::string> seen;
  Timestamp same = Timestamp::from_millis(1'785'000'000'000);
  for (int i = 0; i < 20000; ++i) seen.insert(generate_id(id_prefix::interaction, same));
  EXPECT_EQ(seen.size(), 20000u);
}

TEST(Id, ValidationRejectsMalformedIds) {
  std::string good = generate_id(id_prefix::tenant, Timestamp::from_millis(1));
  EXPECT_TRUE(is_valid_id(good, "ten"));
  EXPECT_FALSE(is_valid_id(good, "usr"));                             // other prefix
  EXPECT_FALSE(is_valid_id(good.substr(0, good.size() - 1), "ten"));  // short
  EXPECT_FALSE(is_valid_id(good + "0", "ten"));                       // long
  std::string bad_char = good;
  bad_char.back() = 'u';  // not in Crockford's alphabet
  EXPECT_FALSE(is_valid_id(bad_char, "ten"));
  std::string overflow = good;
  overflow[4] = '8';  // first body character above 7 would need 131 bits
  EXPECT_FALSE(is_valid_id(overflow, "ten"));
  std::string upper = good;
  upper[10] = 'A';
  EXPECT_FALSE(is_valid_id(upper, "ten"));
  EXPECT_FALSE(is_valid_id("", "ten"));
  EXPECT_FALSE(is_valid_id("ten-" + good.substr(4), "ten"));
}

}  // namespace
}  // namespace nucleo
