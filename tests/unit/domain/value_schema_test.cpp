// A declared value's schema (ADR 0019): valijson checks the structure, Nucleo its
// formats, and every problem comes back with its path and in the API's words.
#include "kernel/domain/value_schema.hpp"

#include <gtest/gtest.h>

namespace nucleo {
namespace {

std::vector<std::string> lines(const std::vector<ValueProblem>& problems) {
  std::vector<std::string> out;
  for (const auto& p : problems) out.push_back(p.path + ": " + p.message);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ValueSchema, ScalarsGetTheApiWords) {
  ValueSchema limit(Json::parse(R"({"type": "integer", "minimum": 0, "maximum": 100})"), {});
  EXPECT_TRUE(limit.check(50).empty());
  EXPECT_EQ(lines(limit.check(-1)), (std::vector<std::string>{": must be at least 0"}));
  EXPECT_EQ(lines(limit.check(101)), (std::vector<std::string>{": must be at most 100"}));
  EXPECT_EQ(lines(limit.check("ten")), (std::vector<std::string>{": must be an integer"}));
  ValueSchema rating(Json::parse(R"({"type": "string", "enum": ["A", "B"], "maxLength": 1})"), {});
  EXPECT_EQ(lines(rating.check("Z")), (std::vector<std::string>{": must be one of [\"A\",\"B\"]"}));
}

TEST(ValueSchema, NestedObjectsAndArraysNameThePlaceAndFormatsAreNucleos) {
  ValueSchema farm(Json::parse(R"({
    "type": "object",
    "required": ["car"],
    "additionalProperties": false,
    "properties": {
      "car": {"type": "string", "pattern": "^[A-Z]{2}-"},
      "owner_cpf": {"type": "string", "format": "cpf"},
      "fields": {"type": "array", "items": {"type": "object", "properties": {
        "hectares": {"type": "number", "exclusiveMinimum": 0},
        "surveyed_on": {"type": "string", "format": "date"}}}}
    }})"), {});
  EXPECT_TRUE(farm.check(Json::parse(R"({"car": "MG-3106200", "owner_cpf": "529.982.247-25",
                                         "fields": [{"hectares": 12.5, "surveyed_on": "2026-03-01"}]})")).empty());
  EXPECT_EQ(lines(farm.check(Json::parse(R"({"owner_cpf": "111.111.111-11", "color": "red",
                                             "fields": [{"hectares": 0}, {"surveyed_on": "2026-02-31"}]})"))),
            (std::vector<std::string>{".car: is required", ".color: is not allowed here",
                                      ".fields[0].hectares: must be greater than 0",
                                      ".fields[1].surveyed_on: must be a valid date",
                                      ".owner_cpf: must be a valid cpf"}));
}

TEST(ValueSchema, ADeclarationIsRefusedWithEveryProblemNamed) {
  auto problems = ValueSchema::problems(
      Json::parse(R"({"type": "integer", "pattern": "a+", "format": "cnpj", "oneOf": [], "required": true})"),
      {"required"});
  EXPECT_EQ(problems, (std::vector<std::string>{"format must be date, date-time, email, phone, cpf or cnpj, on a string value",
                                                "oneOf is not a supported schema keyword",
                                                "pattern must be a regular expression (ECMAScript), on a string value"}));
  EXPECT_EQ(ValueSchema::problems(Json::parse(R"({"type": "date"})"), {}),
            (std::vector<std::string>{"must have a type: string, integer, number, boolean, object or array"}));
  EXPECT_THROW(ValueSchema(Json::parse(R"({"type": "string", "pattern": "("})"), {}), Error);
}

}  // namespace
}  // namespace nucleo
