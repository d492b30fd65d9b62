// Attributes plugins declare on core entities (attribute_schemas.hpp): a declaration is
// all or nothing, each key belongs to one plugin, and every write is checked field by
// field — no database needed.
#include "kernel/services/attribute_schemas.hpp"

#include <gtest/gtest.h>

namespace nucleo::services {
namespace {

const Json finance = Json::parse(R"({
  "finance.credit_limit": {"type": "integer", "minimum": 0, "required": true},
  "finance.rating": {"type": "string", "enum": ["A", "B", "C"]},
  "finance.cnpj_matriz": {"type": "string", "format": "cnpj"}
})");

std::vector<std::string> fields_of(const std::vector<FieldError>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.field);
  return out;
}

TEST(AttributeSchemas, AWriteIsCheckedFieldByFieldAndUndeclaredKeysPass) {
  AttributeSchemas schemas;
  schemas.add("com.acme.finance", "account", finance);
  EXPECT_TRUE(schemas.check("account", Json::parse(R"({"finance.credit_limit": 5000, "finance.rating": "A",
                                                       "finance.cnpj_matriz": "11.222.333/0001-81",
                                                       "agro.safra": "2026/27"})")).empty());
  auto errors = schemas.check("account", Json::parse(R"({"finance.credit_limit": -1, "finance.rating": "Z",
                                                         "finance.cnpj_matriz": "11.222.333/0001-00"})"));
  EXPECT_EQ(fields_of(errors), (std::vector<std::string>{"attributes.finance.cnpj_matriz",
                                                          "attributes.finance.credit_limit",
                                                          "attributes.finance.rating"}));
  EXPECT_EQ(fields_of(schemas.check("account", Json::object())),
            (std::vector<std::string>{"attributes.finance.credit_limit"}));  // required
  EXPECT_TRUE(schemas.check("contact", Json::object()).empty());  // declared on accounts only
  EXPECT_EQ(schemas.type_of("account", "finance.rating"), "string");
}

TEST(AttributeSchemas, ADeclarationIsAllOrNothingAndAKeyHasOneOwner) {
  AttributeSchemas schemas;
  Json bad = Json::parse(R"({"finance.limit": {"type": "integer", "pattern": "^x$"}, "Bad Key": {"type": "string"}})");
  try {
    schemas.add("com.acme.finance", "account", bad);
    FAIL() << "a bad declaration was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::validation);
    EXPECT_EQ(fields_of(e.fields()), (std::vector<std::string>{"Bad Key", "finance.limit"}));
  }
  EXPECT_TRUE(schemas.declared("account").empty());  // nothing of it was kept

  schemas.add("com.acme.finance", "account", finance);
  EXPECT_THROW(schemas.add("com.other.plugin", "account", Json::parse(R"({"finance.rating": {"type": "string"}})")),
               Error);
  schemas.remove_owner("com.acme.finance");
  EXPECT_TRUE(schemas.check("account", Json::object()).empty());
}

// Issue #20, point 8: "personal": true marks a key as the record's subject's data.
TEST(AttributeSchemas, PersonalKeysAreListedAndTheFlagIsABoolean) {
  AttributeSchemas schemas;
  schemas.add("com.acme.agro", "interaction", Json::parse(R"({"agro.phone": {"type": "string", "personal": true},
                                                              "agro.crop": {"type": "string", "personal": false}})"));
  EXPECT_EQ(schemas.personal_keys("interaction"), std::vector<std::string>{"agro.phone"});
  EXPECT_TRUE(schemas.personal_keys("account").empty());
  EXPECT_TRUE(schemas.check("interaction", Json::parse(R"({"agro.phone": "+5565999990001"})")).empty());
  try {
    schemas.add("com.acme.agro", "contact", Json::parse(R"({"agro.cpf": {"type": "string", "personal": "yes"}})"));
    FAIL() << "a non-boolean personal flag was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(fields_of(e.fields()), std::vector<std::string>{"agro.cpf"});
  }
}

}  // namespace
}  // namespace nucleo::services
