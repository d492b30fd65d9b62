#include "kernel/domain/json_text.hpp"

#include <gtest/gtest.h>

namespace nucleo {
namespace {

// The response writer must produce nlohmann's bytes: clients and stored idempotent
// replies saw those before it existed.
std::string nlohmann_text(const Json& v) {
  return v.dump(-1, ' ', false, Json::error_handler_t::replace);
}

TEST(JsonText, WritesWhatNlohmannWrites) {
  std::vector<Json> samples = {
      Json(),
      Json(true),
      Json(false),
      Json(0),
      Json(-42),
      Json(std::int64_t{-9223372036854775807LL - 1}),
      Json(std::uint64_t{18446744073709551615ULL}),
      Json(1.5),
      Json(1e300),
      Json(-0.0),
      Json(""),
      Json("plain ascii that is longer than sixteen bytes, to take the SIMD path"),
      Json("quote \" backslash \\ slash / tab \t newline \n cr \r bs \b ff \f"),
      Json(std::string("controls \x01\x1f and DEL \x7f", 21)),
      Json(std::string("nul \0 inside", 12)),
      Json("João, cotação, 漢字, emoji 😀 — end"),
      Json::object(),
      Json::array(),
      Json::parse(R"({"b":[1,2,{"z":null,"a":"x"}],"a":{"nested":{"deep":[[],{}]}},"c":"\u00e9"})"),
  };
  for (const auto& v : samples) EXPECT_EQ(to_json_text(v), nlohmann_text(v)) << nlohmann_text(v);
}

TEST(JsonText, InvalidUtf8BecomesTheReplacementCharacter) {
  for (std::string bad : {std::string("a\xff" "b"), std::string("\xc3"), std::string("x\xed\xa0\x80y"),
                          std::string("\xe0\x80\xaf"), std::string("tail \xf4\x90\x80\x80")}) {
    std::string text = to_json_text(Json(bad));
    EXPECT_NE(text.find("\xEF\xBF\xBD"), std::string::npos) << text;
    EXPECT_TRUE(Json::accept(text)) << text;  // what we send is valid JSON and UTF-8
  }
  EXPECT_EQ(to_json_text(Json(std::string("a\xff" "b"))), "\"a\xEF\xBF\xBD" "b\"");
}

TEST(JsonText, SpecialBytesAreFoundAtEveryOffset) {
  for (std::size_t at = 0; at < 40; ++at) {
    for (char special : {'"', '\\', '\n', '\x80'}) {
      std::string s(40, 'x');
      s[at] = special;
      EXPECT_EQ(next_special_string_byte(s, 0), at);
      EXPECT_EQ(next_special_string_byte(s, at + 1), s.size());
    }
  }
}

}  // namespace
}  // namespace nucleo
