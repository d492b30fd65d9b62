#include "kernel/audit/canonical_json.hpp"

#include <gtest/gtest.h>

#include "kernel/domain/error.hpp"

namespace nucleo::audit {
namespace {

TEST(CanonicalJson, SortsKeysDropsWhitespaceAndEscapesOnlyWhatJcsEscapes) {
  Json v = Json::parse(R"({"b": [1, true, null], "a": {"z": "x", "y": -5}, "c": "é\u2028/\"\\\n\u0001\u007f"})");
  std::string expected = "{\"a\":{\"y\":-5,\"z\":\"x\"},\"b\":[1,true,null],\"c\":\"é\u2028/\\\"\\\\\\n\\u0001\x7f\"}";
  EXPECT_EQ(canonical_json(v), expected);
  EXPECT_FALSE(check_canonical(expected));
}

TEST(CanonicalJson, WriterRefusesWhatIsOutsideTheValueSpace) {
  EXPECT_THROW(canonical_json(Json(1.5)), Error);
  EXPECT_THROW(canonical_json(Json(std::int64_t{9007199254740992})), Error);
  EXPECT_THROW(canonical_json(Json(std::int64_t{-9007199254740992})), Error);
  EXPECT_THROW(canonical_json(Json{{"preço", 1}}), Error);
  EXPECT_THROW(canonical_json(Json(std::string("\xff"))), Error);
  EXPECT_EQ(canonical_json(Json(std::int64_t{9007199254740991})), "9007199254740991");
  EXPECT_EQ(canonical_json(Json(std::int64_t{-9007199254740991})), "-9007199254740991");
}

TEST(CanonicalJson, ValueSpaceMappingIsDeterministicAndCollisionFree) {
  Json mapped = to_leaf_value_space(Json{{"preço", 2.5}, {"pre%C3%A7o", 1}, {"big", std::uint64_t{1} << 60}});
  EXPECT_EQ(mapped["pre%C3%A7o"], "2.5");                 // the non-ASCII key, encoded
  EXPECT_EQ(mapped["pre%25C3%25A7o"], 1);                  // '%' is encoded in such keys too
  EXPECT_EQ(mapped["big"], "1152921504606846976");
  EXPECT_NO_THROW(canonical_json(mapped));
  EXPECT_EQ(to_leaf_value_space(Json(0.1)), "0.1");
}

struct Bad {
  std::string text;
  std::string why;
};

TEST(CanonicalJson, CheckerRejectsEveryNonCanonicalSpelling) {
  std::vector<Bad> bad = {
      {R"({"a":1,"a":2})", "duplicate"},
      {R"({"b":1,"a":2})", "out of order"},
      {R"({"a": 1})", "unexpected character"},
      {R"( {"a":1})", "unexpected character"},
      {R"({"a":1} )", "trailing"},
      {R"({"a":1}
)", "trailing"},
      {R"({"a":1.0})", "floating"},
      {R"({"a":1e3})", "floating"},
      {R"({"a":01})", "leading zero"},
      {R"({"a":-0})", "-0"},
      {R"({"a":9007199254740992})", "2^53"},
      {R"({"a":"\/"})", "not canonical"},
      {R"({"a":"\u0041"})", "needless"},
      {R"({"a":"\u000a"})", "needless"},
      {R"({"a":"\u001F"})", "lowercase"},
      {"{\"a\":\"\x01\"}", "control"},
      {"{\"a\":\"\xc3\"}", "UTF-8"},
      {"{\"a\":\"\xed\xa0\x80\"}", "UTF-8"},
      {"{\"\xc3\xa9\":1}", "non-ASCII key"},
      {R"({"a":tru})", "literal"},
      {R"({"a":[1,]})", "unexpected character"},
      {R"({"a")", "expected ':'"},
      {R"("abc)", "unterminated"},
      {"", "end of input"},
      {std::string(100, '[') + std::string(100, ']'), "deeper"},
  };
  for (const auto& b : bad) {
    auto error = check_canonical(b.text);
    ASSERT_TRUE(error.has_value()) << b.text;
    EXPECT_NE(error->message.find(b.why), std::string::npos) << b.text << " → " << error->message;
  }
}

TEST(CanonicalJson, CheckerAcceptsWhatTheWriterWrites) {
  for (const char* text : {R"({"a":[],"b":{},"c":"","d":0,"e":-1,"f":[{"g":null}]})", "[]", "\"x\"", "0", "true"}) {
    EXPECT_FALSE(check_canonical(text)) << text;
    EXPECT_EQ(canonical_json(Json::parse(text)), text);
  }
}

TEST(CanonicalJson, TopLevelIntegerFindsAMemberWithoutParsingTheRest) {
  std::string leaf = R"({"a":{"seq":5,"x":"}\",{"},"id":"e","seq":42,"z":[1,{"seq":7}]})";
  ASSERT_FALSE(check_canonical(leaf));
  EXPECT_EQ(top_level_integer(leaf, "seq"), 42);
  EXPECT_EQ(top_level_integer(leaf, "missing"), std::nullopt);
  EXPECT_EQ(top_level_integer(R"({"seq":"1"})", "seq"), std::nullopt);
  EXPECT_EQ(top_level_integer(R"({"z":1,"seq":-3})", "seq"), -3);
}

}  // namespace
}  // namespace nucleo::audit
