// Issue #21, pipelines as data: every shipped template applies cleanly and a second
// apply changes nothing; a broken document changes nothing and names each problem; a
// removed stage's deals are moved or the apply is refused — on both backends.
#include "kernel/automation/pipeline_definition.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "kernel/automation/stage_gate.hpp"
#include "kernel/services/record_service.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::automation {
namespace {

Json read_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return Json::parse(text.str());
}

class PipelineDefinitionTest : public testing::TestWithParam<store::Backend> {
 protected:
  PipelineDefinitionTest() : h(GetParam()), records(h.records()), ctx(h.context(h.tenant)) {
    register_stage_gates(h.validators);
  }
  int rows(const std::string& table) {
    return h.count("SELECT count(*) FROM " + table + " WHERE tenant_id = '" + h.tenant + "'");
  }
  std::vector<std::string> problems(const std::function<void()>& apply) {
    try {
      apply();
    } catch (const Error& e) {
      std::vector<std::string> out;
      for (const auto& f : e.fields()) out.push_back(f.field);
      return out;
    }
    return {"applied"};
  }

  test::ServiceHarness h;
  services::RecordService records;
  services::CallContext ctx;
};

TEST_P(PipelineDefinitionTest, EveryShippedTemplateAppliesAndASecondApplyChangesNothing) {
  const std::string folder = std::string(NUCLEO_SOURCE_DIR) + "/config/examples/pipelines";
  int templates = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    Json document = read_json(entry.path().string());
    int audit_before = rows("audit_pending");
    Json dry = apply_pipeline_document(h.deps(), ctx, document, true);
    EXPECT_TRUE(dry["changed"].get<bool>()) << entry.path();
    EXPECT_EQ(rows("audit_pending"), audit_before) << "a dry run writes nothing";
    Json first = apply_pipeline_document(h.deps(), ctx, document, false);
    ASSERT_TRUE(first["changed"].get<bool>()) << entry.path();
    EXPECT_EQ(first["changes"].size(), dry["changes"].size()) << entry.path();
    int audit_after = rows("audit_pending");
    Json second = apply_pipeline_document(h.deps(), ctx, document, false);
    EXPECT_FALSE(second["changed"].get<bool>()) << entry.path() << ": " << second["changes"].dump(2);
    EXPECT_EQ(rows("audit_pending"), audit_after) << "a no-op is not audited";
    for (const auto& p : first["pipelines"]) EXPECT_EQ(p["created"], true);
    for (const auto& p : second["pipelines"]) EXPECT_EQ(p["created"], false);
    // What GET …/definition answers applies as a no-op too.
    for (const auto& p : second["pipelines"]) {
      Json exported = pipeline_definition_of(h.deps(), ctx, p["id"]);
      EXPECT_FALSE(apply_pipeline_definition(h.deps(), ctx, p["id"], exported, false)["changed"].get<bool>())
          << exported.dump(2);
    }
    ++templates;
  }
  EXPECT_EQ(templates, 6);  // config/examples/pipelines/*.json
}

TEST_P(PipelineDefinitionTest, ABrokenDocumentChangesNothingAndNamesEachProblem) {
  Json broken = Json::parse(R"({"pipelines": [{"key": "Vendas!", "name": "", "stages": [
      {"key": "a", "name": "A", "kind": "maybe", "rot_days": 0},
      {"key": "a", "name": "B", "probability": 140},
      {"name": "C", "colour": "red"}]},
    {"key": "ok", "name": "Ok", "stages": [
      {"key": "x", "name": "X", "entry_criteria": [{"kind": "checklist", "stage": "x"}],
       "checklist_template": [{"key": "i", "title": "I"}]},
      {"key": "y", "name": "Y", "entry_criteria": [{"kind": "checklist", "stage": "z"}, {"kind": "telepathy"},
                                                   {"kind": "field", "field": "amout", "op": "gte", "value": 1}]},
      {"key": "z", "name": "Z", "checklist_template": [{"key": "j", "title": "J"}]}],
     "move_deals": {"old": "nowhere"}}]})");
  int stages = rows("stages"), pipelines = rows("pipelines");
  EXPECT_EQ(problems([&] { apply_pipeline_document(h.deps(), ctx, broken, false); }),
            (std::vector<std::string>{
                "pipelines/0/key", "pipelines/0/name", "pipelines/0/stages/0/kind", "pipelines/0/stages/0/rot_days",
                "pipelines/0/stages/1/key", "pipelines/0/stages/1/probability", "pipelines/0/stages/2/colour",
                "pipelines/0/stages/2/key", "pipelines/1/stages/0/entry_criteria/0/stage",
                "pipelines/1/stages/1/entry_criteria/0/stage", "pipelines/1/stages/1/entry_criteria/1/kind",
                "pipelines/1/stages/1/entry_criteria/2/field", "pipelines/1/move_deals/old"}));
  EXPECT_EQ(rows("stages"), stages);
  EXPECT_EQ(rows("pipelines"), pipelines);
}

TEST_P(PipelineDefinitionTest, ARemovedStageMustSayWhereItsDealsGoAndNothingIsHalfApplied) {
  Json v1 = Json::parse(R"({"key": "vendas", "name": "Vendas", "stages": [
      {"key": "lead", "name": "Lead"}, {"key": "demo", "name": "Demonstração"},
      {"key": "ganho", "name": "Ganho", "kind": "won"}]})");
  Json applied = apply_pipeline_document(h.deps(), ctx, {{"pipelines", {v1}}}, false);
  std::string pipeline = applied["pipelines"][0]["id"];
  Json definition = pipeline_definition_of(h.deps(), ctx, pipeline);
  std::string demo = definition["stages"][1]["key"] == "demo" ? "" : "unexpected order";
  ASSERT_EQ(demo, "");
  std::string account = records.create(ctx, "account", {{"legal_name", "Cooperativa Vale Verde"}}).record["id"];
  store::RecordQuery q;
  q.equals = {{"key", "demo"}};
  std::string demo_id = records.list(ctx, "stage", q).at(0)["id"];
  std::string deal = records.create(ctx, "deal", {{"name", "Sementes 27/28"}, {"account_id", account},
                                                  {"pipeline_id", pipeline}, {"stage_id", demo_id}}).record["id"];

  // v2 drops "demo", renames "lead" and adds a gated "proposta" before "ganho".
  Json v2 = Json::parse(R"({"key": "vendas", "name": "Vendas B2B", "stages": [
      {"key": "lead", "name": "Qualificação", "checklist_template": [{"key": "cnpj", "title": "Conferir CNPJ",
                                                                      "required_for_exit": true}]},
      {"key": "proposta", "name": "Proposta", "entry_criteria": [{"kind": "checklist", "stage": "lead"}]},
      {"key": "ganho", "name": "Ganho", "kind": "won"}]})");
  int audit = rows("audit_pending");
  EXPECT_EQ(problems([&] { apply_pipeline_definition(h.deps(), ctx, pipeline, v2, false); }),
            std::vector<std::string>{"move_deals"});
  EXPECT_EQ(rows("audit_pending"), audit);  // the rename before the refusal was rolled back
  EXPECT_EQ(records.get(ctx, "pipeline", pipeline)["name"], "Vendas");

  v2["move_deals"] = {{"demo", "proposta"}};
  Json result = apply_pipeline_definition(h.deps(), ctx, pipeline, v2, false);
  ASSERT_TRUE(result["changed"].get<bool>());
  Json moved = records.get(ctx, "deal", deal);
  EXPECT_EQ(records.get(ctx, "stage", moved["stage_id"])["key"], "proposta");
  // The deal did not meet the new gate: the move is an override, recorded as such.
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending WHERE action = 'deal.gate_overridden' AND entity_id = '" + deal + "'"), 1);
  EXPECT_FALSE(records.get(ctx, "stage", demo_id)["archived_at"].is_null());
  bool archived_reported = false;
  for (const auto& c : result["changes"])
    if (c["op"] == "archive") archived_reported = c["deals_moved"] == 1;
  EXPECT_TRUE(archived_reported) << result.dump(2);
  EXPECT_FALSE(apply_pipeline_definition(h.deps(), ctx, pipeline, v2, false)["changed"].get<bool>());
}

INSTANTIATE_TEST_SUITE_P(Backends, PipelineDefinitionTest,
                         testing::Values(store::Backend::sqlite, store::Backend::postgresql), test::BackendName());

}  // namespace
}  // namespace nucleo::automation
