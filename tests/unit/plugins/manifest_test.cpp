// plugin.json: what is accepted, and every mistake named by its field.
#include <gtest/gtest.h>

#include "kernel/domain/error.hpp"
#include "kernel/plugins/manifest.hpp"

namespace nucleo::plugins {
namespace {

const char* good = R"({
  "id": "com.acme.whatsapp", "version": "1.4.0", "kind": "channel", "library": "libacme_whatsapp.so",
  "kernel": ">=0.1.0 <1.0.0",
  "requires": [{"id": "org.nucleo.crm-core", "version": ">=1.0.0"}],
  "config_schema": {"api_base": {"type": "string", "required": true},
                    "retries": {"type": "integer", "minimum": 0, "maximum": 10, "default": 3},
                    "mode": {"type": "string", "enum": ["live", "sandbox"], "default": "live"},
                    "verbose": {"type": "boolean", "default": false}},
  "data_classes": ["pii"], "status": "stable"})";

std::vector<std::string> problem_fields(const std::string& text) {
  try {
    parse_manifest(text);
  } catch (const Error& e) {
    std::vector<std::string> fields;
    for (const auto& f : e.fields()) fields.push_back(f.field);
    return fields;
  }
  return {};
}

Json with(const std::string& field, const Json& value) {
  Json j = Json::parse(good);
  if (value.is_null()) j.erase(field);
  else j[field] = value;
  return j;
}

TEST(Manifest, AWellFormedManifestIsRead) {
  Manifest m = parse_manifest(good);
  EXPECT_EQ(m.id, "com.acme.whatsapp");
  EXPECT_EQ(m.version, (Version{1, 4, 0}));
  EXPECT_EQ(m.kind, "channel");
  EXPECT_EQ(m.library, "libacme_whatsapp.so");
  EXPECT_TRUE(m.kernel.contains({0, 1, 0}));
  EXPECT_FALSE(m.kernel.contains({1, 0, 0}));
  ASSERT_EQ(m.requires_plugins.size(), 1u);
  EXPECT_EQ(m.requires_plugins[0].id, "org.nucleo.crm-core");
  EXPECT_EQ(m.data_classes, std::vector<std::string>{"pii"});
  EXPECT_EQ(m.status, "stable");
}

TEST(Manifest, EachMistakeIsNamedByItsField) {
  EXPECT_EQ(problem_fields(with("id", "WhatsApp").dump()), std::vector<std::string>{"id"});
  EXPECT_EQ(problem_fields(with("id", nullptr).dump()), std::vector<std::string>{"id"});
  EXPECT_EQ(problem_fields(with("version", "1.4").dump()), std::vector<std::string>{"version"});
  EXPECT_EQ(problem_fields(with("version", "01.4.0").dump()), std::vector<std::string>{"version"});
  EXPECT_EQ(problem_fields(with("kind", "theme").dump()), std::vector<std::string>{"kind"});
  EXPECT_EQ(problem_fields(with("library", "../evil.so").dump()), std::vector<std::string>{"library"});
  EXPECT_EQ(problem_fields(with("kernel", "about 1").dump()), std::vector<std::string>{"kernel"});
  EXPECT_EQ(problem_fields(with("requires", Json::array({{{"id", "x"}}})).dump()),
            std::vector<std::string>{"requires[0]"});
  EXPECT_EQ(problem_fields(with("data_classes", Json::array({"secret"})).dump()),
            std::vector<std::string>{"data_classes"});
  EXPECT_EQ(problem_fields(with("status", "beta").dump()), std::vector<std::string>{"status"});
  EXPECT_EQ(problem_fields(with("colour", "blue").dump()), std::vector<std::string>{"colour"});
  EXPECT_EQ(problem_fields(with("config_schema", {{"x", {{"type", "date"}}}}).dump()),
            std::vector<std::string>{"config_schema.x"});
  EXPECT_EQ(problem_fields(with("config_schema", {{"x", {{"type", "string"}, {"oneOf", Json::array()}}}}).dump()),
            std::vector<std::string>{"config_schema.x.oneOf"});
  EXPECT_EQ(problem_fields(with("config_schema", {{"x", {{"type", "integer"}, {"pattern", "a+"}}}}).dump()),
            std::vector<std::string>{"config_schema.x.pattern"});  // on a string value only
  // Several at once are all reported.
  Json many = with("id", "bad id");
  many["kind"] = "theme";
  EXPECT_EQ(problem_fields(many.dump()), (std::vector<std::string>{"id", "kind"}));
  EXPECT_EQ(problem_fields("not json"), std::vector<std::string>{"plugin.json"});
  EXPECT_EQ(problem_fields("[]"), std::vector<std::string>{"plugin.json"});
}

// issue #19: a route's description is published in OpenAPI and enforced by the kernel,
// so a broken one is refused at load, named by its field.
TEST(Manifest, RouteDescriptionsAreReadAndTheirMistakesNamed) {
  Json described = with("routes", {{"POST /leads",
                                     {{"summary", "Capture a lead"},
                                      {"query", {"source"}},
                                      {"request", {{"type", "object"}, {"required", {"name"}}}},
                                      {"status", 201},
                                      {"response", {{"type", "object"}}}}}});
  Manifest m = parse_manifest(described.dump());
  ASSERT_EQ(m.routes.count("POST /leads"), 1u);
  EXPECT_EQ(m.routes["POST /leads"].status, 201);
  EXPECT_EQ(m.routes["POST /leads"].query, std::vector<std::string>{"source"});
  EXPECT_EQ(m.routes["POST /leads"].request["required"], Json{"name"});
  EXPECT_EQ(problem_fields(with("routes", {{"leads", Json::object()}}).dump()), std::vector<std::string>{"routes.leads"});
  EXPECT_EQ(problem_fields(with("routes", {{"GET /x", {{"status", 404}}}}).dump()),
            std::vector<std::string>{"routes.GET /x.status"});
  EXPECT_EQ(problem_fields(with("routes", {{"GET /x", {{"request", {{"type", "date"}}}}}}).dump()),
            std::vector<std::string>{"routes.GET /x.request"});
  EXPECT_EQ(problem_fields(with("routes", {{"GET /x", {{"auth", "none"}}}}).dump()),
            std::vector<std::string>{"routes.GET /x.auth"});
}

// Issue #20: raw bodies, answers that are not JSON, tenant settings, collections in the
// timeline and collections served as resources — each mistake named by its field.
TEST(Manifest, PluginsIIIDeclarationsAreReadAndTheirMistakesNamed) {
  Json m = with("routes", {{"POST /import", {{"raw_body", {{"types", {"text/csv"}}, {"max_bytes", 4096}}}}},
                           {"GET /report", {{"response_type", "text/csv"}}}});
  m["tenant_settings"] = {{"token", {{"type", "string"}, {"secret", true}}}};
  m["collections"] = {{"visits",
                       {{"indexes", {{"account_id", "string"}, {"at", "integer"}}},
                        {"timeline", {{"account_field", "account_id"}, {"time_field", "at"}}}}},
                      {"contracts",
                       {{"indexes", {{"status", "string"}}},
                        {"schema", {{"type", "object"}, {"properties", {{"status", {{"type", "string"}}}}}}},
                        {"resource", {{"read", {"admin", "auditor"}}, {"write", {"admin"}}, {"id_prefix", "ctr"}}}}}};
  Manifest read = parse_manifest(m.dump());
  EXPECT_EQ(read.routes["POST /import"].raw_types, std::vector<std::string>{"text/csv"});
  EXPECT_EQ(read.routes["POST /import"].raw_max_bytes, 4096u);
  EXPECT_EQ(read.routes["GET /report"].response_type, "text/csv");
  EXPECT_TRUE(read.tenant_settings.contains("token"));
  EXPECT_EQ(read.collections["visits"].timeline_time_field, "at");
  ASSERT_TRUE(read.collections["contracts"].resource.has_value());
  EXPECT_EQ(read.collections["contracts"].resource->id_prefix, "ctr");

  auto fields_of = [&](Json broken) { return problem_fields(broken.dump()); };
  Json bad = m;
  bad["routes"]["POST /import"]["raw_body"] = {{"types", {"csv"}}, {"max_bytes", 0}};
  EXPECT_EQ(fields_of(bad), (std::vector<std::string>{"routes.POST /import.raw_body.types",
                                                      "routes.POST /import.raw_body.max_bytes"}));
  bad = m;
  bad["collections"]["visits"]["timeline"] = {{"account_field", "at"}, {"time_field", "nowhere"}};
  EXPECT_EQ(fields_of(bad), (std::vector<std::string>{"collections.visits.timeline.account_field",
                                                      "collections.visits.timeline.time_field"}));
  bad = m;
  bad["collections"]["contracts"]["resource"] = {{"read", {"admin"}}, {"write", {"auditor"}}, {"id_prefix", "C"}};
  EXPECT_EQ(fields_of(bad), (std::vector<std::string>{"collections.contracts.resource.write",
                                                      "collections.contracts.resource.id_prefix"}));
  bad = m;
  bad["collections"]["contracts"].erase("schema");
  EXPECT_EQ(fields_of(bad), (std::vector<std::string>{"collections.contracts.resource"}));
  bad = m;
  bad["collections"]["contracts"]["schema"]["properties"]["version"] = {{"type", "integer"}};
  EXPECT_EQ(fields_of(bad), (std::vector<std::string>{"collections.contracts.schema.properties.version"}));
  bad = m;
  bad["tenant_settings"] = {{"token", {{"type", "strang"}}}};
  EXPECT_EQ(fields_of(bad).size(), 1u);
  EXPECT_EQ(fields_of(bad)[0].rfind("tenant_settings.token", 0), 0u);
}

// ABI 1.7 (issue #27): date indexes (also a timeline's clock), sensitive collections and
// break-glass roles — each mistake named by its field.
TEST(Manifest, VerticalPackDeclarationsAreReadAndTheirMistakesNamed) {
  Json m = Json::parse(good);
  m["collections"] = {{"clinical_events",
                       {{"indexes", {{"account_id", "string"}, {"occurred_on", "date"}}},
                        {"schema", {{"type", "object"}}},
                        {"timeline", {{"account_field", "account_id"}, {"time_field", "occurred_on"}}},
                        {"sensitive", "phi"},
                        {"resource", {{"read", {"admin", "auditor"}}, {"break_glass", {"sales", "manager"}},
                                      {"write", {"admin", "sales"}}}}}}};
  Manifest read = parse_manifest(m.dump());
  const Collection& c = read.collections["clinical_events"];
  EXPECT_EQ(c.indexes.at("occurred_on"), "date");
  EXPECT_EQ(c.timeline_time_field, "occurred_on");
  EXPECT_EQ(c.sensitive, "phi");
  EXPECT_EQ(c.resource->break_glass, (std::vector<std::string>{"sales", "manager"}));

  auto fields_of = [&](Json broken) { return problem_fields(broken.dump()); };
  Json bad = m;
  bad["collections"]["clinical_events"]["indexes"]["occurred_on"] = "datetime";
  EXPECT_EQ(fields_of(bad), (std::vector<std::string>{"collections.clinical_events.indexes.occurred_on",
                                                      "collections.clinical_events.timeline.time_field"}));
  bad = m;
  bad["collections"]["clinical_events"]["sensitive"] = "secret";
  EXPECT_EQ(fields_of(bad), (std::vector<std::string>{"collections.clinical_events.sensitive"}));
  bad = m;
  bad["collections"]["clinical_events"]["resource"]["break_glass"] = {"auditor"};  // reads already
  EXPECT_EQ(fields_of(bad), (std::vector<std::string>{"collections.clinical_events.resource.break_glass"}));
  bad = m;
  bad["collections"]["clinical_events"]["resource"]["break_glass"] = Json::array();
  EXPECT_EQ(fields_of(bad), (std::vector<std::string>{"collections.clinical_events.resource.break_glass"}));
}

// Issue #20, point 8: whose personal data a collection holds, and what erasure does.
TEST(Manifest, PersonalCollectionsNameTheirSubjectAndWhatErasureDoes) {
  Json m = with("collections", {{"reviews",
                                 {{"indexes", {{"contact_id", "string"}, {"score", "integer"}}},
                                  {"schema", {{"type", "object"}, {"required", {"contact_id", "score"}}}},
                                  {"personal", {{"subject_field", "contact_id"}, {"fields", {"name", "cpf"}},
                                                {"on_erasure", "redact"}}}}}});
  Manifest read = parse_manifest(m.dump());
  ASSERT_TRUE(read.collections["reviews"].personal.has_value());
  EXPECT_EQ(read.collections["reviews"].personal->subject_field, "contact_id");
  EXPECT_EQ(read.collections["reviews"].personal->on_erasure, "redact");
  EXPECT_EQ(to_json(read)["collections"]["reviews"]["personal"]["fields"], (Json{"name", "cpf"}));
  Json deleting = m;
  deleting["collections"]["reviews"]["personal"].erase("on_erasure");
  EXPECT_EQ(parse_manifest(deleting.dump()).collections["reviews"].personal->on_erasure, "delete");

  auto fields_of = [&](const Json& personal) {
    Json bad = m;
    bad["collections"]["reviews"]["personal"] = personal;
    return problem_fields(bad.dump());
  };
  const std::string at = "collections.reviews.personal";
  EXPECT_EQ(fields_of({{"subject_field", "score"}, {"fields", {"name"}}}),
            std::vector<std::string>{at + ".subject_field"});  // an integer index names no contact
  EXPECT_EQ(fields_of({{"subject_field", "contact_id"}, {"fields", Json::array()}}), std::vector<std::string>{at + ".fields"});
  EXPECT_EQ(fields_of({{"subject_field", "contact_id"}, {"fields", {"name"}}, {"on_erasure", "shred"}}),
            std::vector<std::string>{at + ".on_erasure"});
  // Redaction may not take what the schema requires, nor the subject field.
  EXPECT_EQ(fields_of({{"subject_field", "contact_id"}, {"fields", {"score", "contact_id"}}, {"on_erasure", "redact"}}),
            (std::vector<std::string>{at + ".fields", at + ".fields", at + ".fields"}));  // score; contact_id twice
  EXPECT_EQ(fields_of({{"subject_field", "contact_id"}, {"fields", {"name"}}, {"owner", "x"}}),
            std::vector<std::string>{at + ".owner"});
  EXPECT_EQ(fields_of("contact_id"), std::vector<std::string>{at});
}

TEST(Manifest, VersionRangesHoldEveryComparator) {
  auto range = [](const char* text) { return *VersionRange::parse(text); };
  EXPECT_TRUE(range("*").contains({9, 9, 9}));
  EXPECT_TRUE(range("=1.2.3").contains({1, 2, 3}));
  EXPECT_TRUE(range("1.2.3").contains({1, 2, 3}));
  EXPECT_FALSE(range("1.2.3").contains({1, 2, 4}));
  EXPECT_TRUE(range(">1.0.0 <=2.0.0").contains({2, 0, 0}));
  EXPECT_FALSE(range(">1.0.0 <=2.0.0").contains({1, 0, 0}));
  EXPECT_FALSE(VersionRange::parse(""));
  EXPECT_FALSE(VersionRange::parse(">=1.x"));
  EXPECT_FALSE(parse_version("1.2.3-beta"));
}

TEST(Manifest, ConfigIsCheckedAgainstTheSchemaWithDefaultsApplied) {
  Manifest m = parse_manifest(good);
  // Values from a .properties file arrive as text and are read as the schema's type.
  Json config = checked_config(m, {{"api_base", "https://graph.example.com"}, {"retries", "5"}, {"verbose", "true"}});
  EXPECT_EQ(config, (Json{{"api_base", "https://graph.example.com"}, {"retries", 5}, {"mode", "live"}, {"verbose", true}}));

  auto fields = [&](const Json& c) {
    try {
      checked_config(m, c);
    } catch (const Error& e) {
      std::vector<std::string> out;
      for (const auto& f : e.fields()) out.push_back(f.field + ": " + f.message);
      return out;
    }
    return std::vector<std::string>{};
  };
  EXPECT_EQ(fields(Json::object()), std::vector<std::string>{"api_base: is required"});
  EXPECT_EQ(fields({{"api_base", "x"}, {"api_bsae", "y"}}),
            std::vector<std::string>{"api_bsae: is not a setting of com.acme.whatsapp"});
  EXPECT_EQ(fields({{"api_base", "x"}, {"retries", "11"}}), std::vector<std::string>{"retries: must be at most 10"});
  EXPECT_EQ(fields({{"api_base", "x"}, {"retries", "many"}}), std::vector<std::string>{"retries: must be an integer"});
  EXPECT_EQ(fields({{"api_base", "x"}, {"mode", "test"}}),
            std::vector<std::string>{R"(mode: must be one of ["live","sandbox"])"});
}

// ABI 1.8 (issue #28): fact sets — text dimensions in slots by name, one date, integer
// measures — and each mistake named by its field.
TEST(Manifest, FactSetsAreReadAndTheirMistakesNamed) {
  Json m = Json::parse(good);
  m["facts"] = {{"sell_out", {{"dimensions", {{"retailer", "string"}, {"location", "string"}, {"gtin", "string"}, {"day", "date"}}},
                              {"measures", {"units", "revenue_cents"}}}}};
  Manifest read = parse_manifest(m.dump());
  const services::FactSetSpec& f = read.facts.at("sell_out");
  EXPECT_EQ(f.dimensions, (std::vector<std::string>{"gtin", "location", "retailer"}));  // d1…d3, by name
  EXPECT_EQ(f.date_dimension, "day");
  EXPECT_EQ(f.measures, (std::vector<std::string>{"units", "revenue_cents"}));
  EXPECT_EQ(to_json(read)["facts"]["sell_out"]["dimensions"]["day"], "date");

  auto fields_of = [&](Json facts) {
    Json broken = Json::parse(good);
    broken["facts"] = facts;
    return problem_fields(broken.dump());
  };
  EXPECT_EQ(fields_of({{"s", {{"dimensions", {{"a", "string"}, {"b", "date"}, {"c", "date"}}}, {"measures", {"m"}}}}}),
            (std::vector<std::string>{"facts.s.dimensions.c"}));  // one date dimension
  EXPECT_EQ(fields_of({{"s", {{"dimensions", {{"a", "string"}, {"b", "string"}, {"c", "string"}, {"d", "string"}, {"e", "string"}}},
                               {"measures", {"m"}}}}}),
            (std::vector<std::string>{"facts.s.dimensions"}));  // four text dimensions at most
  EXPECT_EQ(fields_of({{"s", {{"dimensions", {{"a", "integer"}}}, {"measures", Json::array()}}}}),
            (std::vector<std::string>{"facts.s.dimensions.a", "facts.s.measures"}));
  EXPECT_EQ(fields_of({{"s", {{"dimensions", {{"a", "string"}}}, {"measures", {"a"}}, {"unique", true}}}}),
            (std::vector<std::string>{"facts.s.measures", "facts.s.unique"}));
  EXPECT_EQ(fields_of({{"Sell-Out", {{"dimensions", {{"a", "string"}}}, {"measures", {"m"}}}}}),
            (std::vector<std::string>{"facts.Sell-Out"}));
}

}  // namespace
}  // namespace nucleo::plugins
