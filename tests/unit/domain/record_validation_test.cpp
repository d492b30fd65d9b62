#include "kernel/domain/record_validation.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace nucleo {
namespace {

std::set<std::string> failing_fields(const EntitySpec& spec, const Json& input, WriteMode mode = WriteMode::create) {
  try {
    validate_record_input(spec, input, mode, {});
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::validation);
    std::set<std::string> out;
    for (const auto& f : e.fields()) out.insert(f.field);
    return out;
  }
  return {};
}

TEST(RecordValidation, CreateFillsDefaultsAndNullsForEveryField) {
  Json out =
      validate_record_input(entity_spec("account"), {{"legal_name", "  Cooperativa Agro  "}}, WriteMode::create, {});
  EXPECT_EQ(out["legal_name"], "Cooperativa Agro");
  EXPECT_EQ(out["lifecycle"], "lead");
  EXPECT_EQ(out["tax_id_country"], "BR");
  EXPECT_EQ(out["phones"], Json::array());
  EXPECT_TRUE(out["trade_name"].is_null());
  EXPECT_EQ(out["attributes"], Json::object());
}

TEST(RecordValidation, EveryProblemIsNamedAtOnce) {
  auto fields = failing_fields(entity_spec("deal"), {{"amount", "lots"},
                                                     {"currency", "real"},
                                                     {"expected_close", "2027-02-30"},
                                                     {"status", "won"},
                                                     {"version", 3},
                                                     {"account_id", "con_01m80gv6y4eqcsmge90bwbtca7"},
                                                     {"colour", "red"}});
  EXPECT_EQ(fields, (std::set<std::string>{"amount", "currency", "expected_close", "status", "version", "account_id",
                                           "colour", "name", "pipeline_id"}));
}

// A write that reaches the services past the HTTP layer (a plugin's) cannot carry a NUL
// either: PostgreSQL's text and jsonb cannot store one. The field is named, to the key.
TEST(RecordValidation, ANulCharacterIsRefusedNamingItsField) {
  using namespace std::string_literals;
  auto fields = failing_fields(entity_spec("contact"),
                               {{"name", "Ana\0Lima"s}, {"attributes", {{"nota", {"ok", "x\0"s}}}}, {"job_title", "Agrônomo"}});
  EXPECT_EQ(fields, (std::set<std::string>{"name", "attributes.nota[1]"}));
}

TEST(RecordValidation, UpdateChecksOnlyWhatIsSent) {
  Json out = validate_record_input(entity_spec("contact"), {{"job_title", "Agrônomo"}}, WriteMode::update, {});
  EXPECT_EQ(out, (Json{{"job_title", "Agrônomo"}}));
  EXPECT_EQ(failing_fields(entity_spec("contact"), {{"name", nullptr}}, WriteMode::update),
            std::set<std::string>{"name"});
}

TEST(RecordValidation, NullClearsAnOptionalField) {
  Json out = validate_record_input(entity_spec("contact"), {{"phone", nullptr}}, WriteMode::update, {});
  EXPECT_TRUE(out.contains("phone") && out["phone"].is_null());
}

// Issue #26: a field with a default holds no null — null puts the default back (the
// fuzzer's explicit nulls reached NOT NULL columns as a 500 on PostgreSQL).
TEST(RecordValidation, NullPutsAFieldWithADefaultBackToIt) {
  Json deal = validate_record_input(entity_spec("deal"), {{"currency", nullptr}}, WriteMode::update, {});
  EXPECT_EQ(deal["currency"], "BRL");
  Json account = validate_record_input(entity_spec("account"), {{"emails", nullptr}, {"phones", nullptr}}, WriteMode::update, {});
  EXPECT_EQ(account["emails"], Json::array());
  EXPECT_EQ(account["phones"], Json::array());
}

TEST(RecordValidation, IntegersStayWithinTheSafeRange) {
  EXPECT_EQ(failing_fields(entity_spec("product"), {{"name", "x"}, {"price", 9007199254740992LL}}),
            std::set<std::string>{"price"});
  EXPECT_EQ(failing_fields(entity_spec("product"), {{"name", "x"}, {"price", 1.5}}), std::set<std::string>{"price"});
  EXPECT_TRUE(failing_fields(entity_spec("product"), {{"name", "x"}, {"price", 9007199254740991LL}}).empty());
}

TEST(RecordValidation, TimestampsAreCanonicalisedToUtc) {
  Json out = validate_record_input(entity_spec("task"), {{"title", "t"}, {"due_at", "2026-07-01T09:00:00-03:00"}},
                                   WriteMode::create, {});
  EXPECT_EQ(out["due_at"], "2026-07-01T12:00:00Z");
}

TEST(RecordValidation, TaxIdIsReadInItsCountryIncludingTheStoredOne) {
  Json br = validate_record_input(entity_spec("account"), {{"legal_name", "x"}, {"tax_id", "529.982.247-25"}},
                                  WriteMode::create, {});
  EXPECT_EQ(br["tax_id"], "52998224725");
  EXPECT_EQ(br["tax_id_kind"], "cpf");
  EXPECT_EQ(failing_fields(entity_spec("account"), {{"legal_name", "x"}, {"tax_id", "123"}}),
            std::set<std::string>{"tax_id"});
  // On update the country comes from the stored record when the patch omits it.
  Json stored = {{"tax_id_country", "US"}, {"tax_id", "123456789"}};
  Json out = validate_record_input(entity_spec("account"), {{"tax_id", "98-7654321"}}, WriteMode::update, {}, stored);
  EXPECT_EQ(out["tax_id"], "987654321");
  EXPECT_EQ(out["tax_id_kind"], "other");
}

TEST(RecordValidation, PhonesUseTheConfiguredRegion) {
  NormalisationSettings us{"US"};
  Json out = validate_record_input(entity_spec("contact"), {{"name", "x"}, {"phone", "(650) 253-0000"}},
                                   WriteMode::create, us);
  EXPECT_EQ(out["phone"], "+16502530000");
  Json list = validate_record_input(entity_spec("account"),
                                    {{"legal_name", "x"}, {"phones", {"(11) 98765-4321", "+55 11 98765 4321"}}},
                                    WriteMode::create, {});
  EXPECT_EQ(list["phones"], Json::array({"+5511987654321"}));  // duplicates within a list collapse
}

TEST(RecordValidation, BodyMustBeAnObject) {
  EXPECT_THROW(validate_record_input(entity_spec("account"), Json::array(), WriteMode::create, {}), Error);
  EXPECT_THROW(validate_record_input(entity_spec("account"), "text", WriteMode::create, {}), Error);
}

TEST(EntitySpecs, EveryReferenceTargetsAKnownEntity) {
  for (const auto* spec : all_entity_specs()) {
    for (const auto& f : spec->fields) {
      if (f.type == FieldType::reference) {
        EXPECT_NE(find_entity_spec(f.target), nullptr) << spec->type << "." << f.name;
      }
    }
  }
}

}  // namespace
}  // namespace nucleo

namespace nucleo {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// docs/domain-model.md must list every entity and each of its fields.
TEST(EntitySpecs, EveryEntityAndFieldIsDocumented) {
  std::string docs = read_text(std::string(NUCLEO_SOURCE_DIR) + "/docs/domain-model.md");
  ASSERT_FALSE(docs.empty());
  for (const auto* spec : all_entity_specs()) {
    auto row = docs.find("| `" + spec->type + "` |");
    ASSERT_NE(row, std::string::npos) << spec->type << " is not in docs/domain-model.md";
    std::string line = docs.substr(row, docs.find('\n', row) - row);
    for (const auto& f : spec->fields) {
      if (f.hidden) continue;
      EXPECT_NE(line.find(" " + f.name), std::string::npos) << spec->type << "." << f.name << " is not documented";
    }
  }
}

}  // namespace
}  // namespace nucleo
