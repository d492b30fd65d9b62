// Issue #33: plugins/insight loaded into a real server on both backends — trained by its
// job on a snapshot of the tenant's own deals (plugin ABI 1.10 read_snapshot, audited),
// open deals scored with their factors, each rep's priorities, rescoring after a change,
// the forecast and a backtest, who may see what, and tenants that never see each other's
// model or scores. The model's quality: tests/unit/insight (synthetic tenants).
#include "tests/e2e/pack_fixture.hpp"

namespace nucleo::test {
namespace {

const std::string insight = "/v1/x/org.nucleo.insight";

class Insight : public PackFixture {
 protected:
  Insight() : PackFixture("insight", INSIGHT_PLUGIN_DIR) {}
  // The tests write a history of deals through the API as fast as they can.
  EnvironmentChanges server_environment() override {
    return {{"NUCLEO_LIMITS_RATE_PER_SECOND", "100000"}, {"NUCLEO_LIMITS_RATE_BURST", "100000"}};
  }

  struct Pipeline {
    std::string id, won, lost;
    std::vector<std::string> open;
  };
  // Four open stages, then won and lost; `gate`: the entry criteria of the third (Etapa 2).
  Pipeline pipeline(const Json& gate = Json::array()) {
    Pipeline p;
    p.id = create("/v1/pipelines", {{"name", "Vendas"}});
    int position = 0;
    for (int probability : {10, 30, 60, 80}) {
      Json stage{{"pipeline_id", p.id}, {"name", "Etapa " + std::to_string(position)}, {"probability", probability}};
      if (position == 2) stage["entry_criteria"] = gate;
      stage["position"] = position++;
      p.open.push_back(create("/v1/stages", stage));
    }
    p.won = create("/v1/stages", {{"pipeline_id", p.id}, {"name", "Ganho"}, {"position", position++}, {"probability", 100}, {"kind", "won"}});
    p.lost = create("/v1/stages", {{"pipeline_id", p.id}, {"name", "Perdido"}, {"position", position++}, {"probability", 0}, {"kind", "lost"}});
    return p;
  }

  // A deal of `owner` that moves through the open stages up to `reach`, with `touches`
  // interactions with the customer; won, lost or left open.
  std::string deal(const Pipeline& p, const std::string& account, const std::string& contact, const std::string& owner,
                   std::size_t reach, int touches, const std::string& end) {
    std::string id = create("/v1/deals", {{"name", "Negócio"}, {"account_id", account}, {"pipeline_id", p.id},
                                          {"stage_id", p.open[0]}, {"amount", 1'000'000}, {"owner_id", owner},
                                          {"contacts", {{{"contact_id", contact}, {"role", "decisor"}}}}});
    for (int t = 0; t < touches; ++t)
      create("/v1/interactions", {{"type", "email"}, {"direction", t % 2 ? "inbound" : "outbound"}, {"deal_id", id},
                                  {"account_id", account}, {"contact_id", contact}, {"subject", "Proposta"}});
    for (std::size_t s = 1; s <= reach; ++s)
      EXPECT_EQ(call("POST", "/v1/deals/" + id + "/stage", admin, {{"stage_id", p.open[s]}}).status, 200);
    if (end == "won") {
      EXPECT_EQ(call("POST", "/v1/deals/" + id + "/stage", admin, {{"stage_id", p.won}}).status, 200);
    } else if (end == "lost") {
      EXPECT_EQ(call("POST", "/v1/deals/" + id + "/stage", admin, {{"stage_id", p.lost}, {"lost_reason", "preço"}}).status, 200);
    }
    return id;
  }

  void allow_models_from(int closed_deals) {
    auto set = call("PUT", "/v1/plugins/org.nucleo.insight/settings", admin, {{"settings", {{"min_closed_deals", closed_deals}}}});
    ASSERT_EQ(set.status, 200) << set.raw.body;
  }

  // The model once its training run has finished (scores, forecast and diagnosis written).
  Json model_when(const std::string& status) {
    return until(insight + "/model", [&](const Json& m) { return m.value("status", "") == status && m.contains("finished_at"); });
  }
};

TEST_P(Insight, TrainsOnTheTenantsHistoryScoresOpenDealsAndRanksEachRepsWork) {
  allow_models_from(20);
  Pipeline p = pipeline();
  std::string account = create("/v1/accounts", {{"legal_name", "Cooperativa Vale Verde"}});
  std::string contact = create("/v1/contacts", {{"name", "Ana Souza"}, {"account_id", account}, {"job_title", "Diretora"}});
  std::string ana_id, bruno_id;
  std::string ana = user_key(h->tenant, "sales", &ana_id), bruno = user_key(h->tenant, "sales", &bruno_id);
  // Won deals were talked through; lost ones were not.
  for (int i = 0; i < 24; ++i)
    deal(p, account, contact, i % 2 ? ana_id : bruno_id, 2 + i % 2, i % 3 == 0 ? 0 : 3, i % 3 == 0 ? "lost" : "won");
  std::vector<std::string> open;
  for (int i = 0; i < 6; ++i) open.push_back(deal(p, account, contact, i % 2 ? ana_id : bruno_id, 1, i % 2 ? 2 : 0, "open"));

  EXPECT_EQ(call("POST", insight + "/train", ana).status, 403);
  auto queued = call("POST", insight + "/train", manager);
  ASSERT_EQ(queued.status, 202) << queued.raw.body;
  Json model = model_when("trained");
  EXPECT_EQ(model["summary"]["closed_deals"], 24) << model.dump();
  EXPECT_EQ(call("GET", insight + "/model", ana).status, 403);

  // The read was one audited snapshot, by the plugin's job.
  Json audited = until("/v1/audit/events?action=snapshot.read", [](const Json& page) { return !page["data"].empty(); });
  EXPECT_EQ(audited["data"][0]["leaf"]["entity"]["type"], "tenant");
  EXPECT_EQ(audited["data"][0]["leaf"]["actor"]["type"], "plugin") << audited["data"][0].dump();

  // An open deal of Ana's: its score, with the model's reasons, to her; not to Bruno's
  // list; Ana's list holds her deals only, best first.
  std::string mine = open[1];
  auto score = call("GET", insight + "/deals/" + mine + "/score", ana);
  ASSERT_EQ(score.status, 200) << score.raw.body;
  EXPECT_EQ(score.body["basis"], "model");
  EXPECT_GE(score.body["probability"].get<double>(), 0.0);
  EXPECT_LE(score.body["probability"].get<double>(), 1.0);
  EXPECT_TRUE(score.body["factors"].is_array());
  auto list = call("GET", insight + "/priorities", ana);
  ASSERT_EQ(list.status, 200) << list.raw.body;
  ASSERT_EQ(list.body["data"].size(), 3u) << list.body.dump();
  for (const auto& item : list.body["data"]) EXPECT_EQ(item["owner_id"], ana_id);
  EXPECT_EQ(call("GET", insight + "/priorities?owner_id=" + bruno_id, ana).status, 403);
  EXPECT_EQ(call("GET", insight + "/priorities?owner_id=" + bruno_id, manager).status, 200);
  EXPECT_EQ(call("GET", insight + "/priorities?limit=0", ana).status, 422);

  // A conversation on the deal: it is rescored on the event, from a narrowed snapshot.
  std::int64_t before = score.body["score_version"];
  create("/v1/interactions", {{"type", "whatsapp"}, {"direction", "inbound"}, {"deal_id", mine},
                              {"account_id", account}, {"contact_id", contact}, {"subject", "Podemos fechar"}});
  std::string path = insight + "/deals/" + mine + "/score";
  Json rescored = until(path, [&](const Json& s) { return s.value("score_version", std::int64_t{0}) > before; });
  EXPECT_EQ(rescored["deal_id"], mine);

  // The forecast and a backtest, for managers.
  auto forecast = call("GET", insight + "/forecast", manager);
  ASSERT_EQ(forecast.status, 200) << forecast.raw.body;
  EXPECT_TRUE(forecast.body["groups"].contains("total"));
  EXPECT_TRUE(forecast.body["groups"].contains("owner:" + ana_id)) << forecast.body.dump();
  EXPECT_EQ(call("GET", insight + "/forecast", ana).status, 403);
  // No forecast has seen its period end yet: nothing to score.
  auto accuracy = call("GET", insight + "/forecast/accuracy", auditor);
  ASSERT_EQ(accuracy.status, 200) << accuracy.raw.body;
  EXPECT_TRUE(accuracy.body["data"].empty());
  EXPECT_EQ(accuracy.body["summary"]["forecasts"], 0);
  EXPECT_EQ(call("GET", insight + "/forecast/accuracy", ana).status, 403);
  EXPECT_EQ(call("GET", insight + "/forecast/accuracy?limit=0", manager).status, 422);
  auto diagnosis = call("GET", insight + "/diagnosis", manager);
  ASSERT_EQ(diagnosis.status, 200) << diagnosis.raw.body;
  EXPECT_EQ(diagnosis.body["closed_deals"], 24);
  EXPECT_EQ(diagnosis.body["lost_reasons"][0]["reason"], "preço");
  EXPECT_EQ(call("GET", insight + "/diagnosis", ana).status, 403);
  auto report = call_raw("GET", insight + "/diagnosis.md", auditor, "");
  ASSERT_EQ(report.status, 200);
  EXPECT_NE(report.raw.body.find("# Diagnosis of the sales process"), std::string::npos) << report.raw.body;
  EXPECT_EQ(call("POST", insight + "/backtests", manager, {{"as_of", "2026-02-30"}}).status, 422);
  EXPECT_EQ(call("POST", insight + "/backtests", manager, {{"as_of", 20260201}}).status, 422);
  EXPECT_EQ(call("POST", insight + "/backtests", manager, {{"as_of", PackFixture::day(1)}, {"folds", "4"}}).status, 422);
  EXPECT_EQ(call("POST", insight + "/backtests", manager, {{"as_of", PackFixture::day(1)}, {"horizon_days", 400}}).status, 422);
  ASSERT_EQ(call("POST", insight + "/backtests", manager, {{"as_of", PackFixture::day(1)}}).status, 202);
  auto monthly_run = call("POST", insight + "/backtests", manager, {{"as_of", PackFixture::day(1)}, {"horizon_days", 30}});
  EXPECT_EQ(monthly_run.status, 202) << monthly_run.raw.body;
  Json reports = until(insight + "/backtests", [](const Json& page) { return !page["data"].empty(); });
  EXPECT_EQ(reports["data"][0]["as_of"], PackFixture::day(1));

  // The same backtest from the command line, as an integrator runs it.
  EnvironmentChanges env{{"NUCLEO_STORE_URL", h->db.app_url}, {"NUCLEO_STORE_WORKER_URL", h->db.worker_url},
                         {"NUCLEO_STORE_OWNER_URL", h->db.owner_url}};
  auto cli = run_process({NUCLEO_BINARY, "insight", "backtest", "--tenant", h->tenant, "--as-of", PackFixture::day(1),
                          "--config", config()},
                         env, std::chrono::minutes(2));
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("status=ok"), std::string::npos) << cli.out;
  EXPECT_NE(cli.out.find("baseline_brier="), std::string::npos) << cli.out;
  EXPECT_NE(cli.out.find("report=cli-"), std::string::npos) << cli.out;
  auto monthly = run_process({NUCLEO_BINARY, "insight", "backtest", "--tenant", h->tenant, "--as-of", PackFixture::day(1),
                              "--horizon-days", "30", "--config", config()},
                             env, std::chrono::minutes(2));
  ASSERT_EQ(monthly.exit_code, 0) << monthly.err;
  EXPECT_NE(monthly.out.find("forecast next 30 days"), std::string::npos) << monthly.out;
  auto no_horizon = run_process({NUCLEO_BINARY, "insight", "backtest", "--tenant", h->tenant, "--as-of", PackFixture::day(1),
                                 "--horizon-days", "0", "--config", config()},
                                env, std::chrono::minutes(1));
  EXPECT_EQ(no_horizon.exit_code, 2) << no_horizon.err;
  EXPECT_NE(no_horizon.err.find("--horizon-days must be an integer from 1 to 365"), std::string::npos) << no_horizon.err;
  auto bad = run_process({NUCLEO_BINARY, "insight", "backtest", "--tenant", h->tenant, "--as-of", "2026-02-30",
                          "--config", config()},
                         env, std::chrono::minutes(1));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("must be a date"), std::string::npos) << bad.err;

  // Another tenant sees none of it.
  std::string other = h->create_tenant("Outra");
  std::string stranger = user_key(other, "admin");
  EXPECT_EQ(call("GET", insight + "/deals/" + mine + "/score", stranger).status, 404);
  EXPECT_EQ(call("GET", insight + "/model", stranger).body.value("status", ""), "not_trained");
  auto theirs = call("GET", insight + "/priorities?owner_id=" + ana_id, stranger);
  ASSERT_EQ(theirs.status, 200);
  EXPECT_TRUE(theirs.body["data"].empty());
}

TEST_P(Insight, WithoutEnoughHistoryScoresAreTheStagesProbabilityAndSaySo) {
  Pipeline p = pipeline();
  std::string account = create("/v1/accounts", {{"legal_name", "Hospital Santa Clara"}});
  std::string contact = create("/v1/contacts", {{"name", "Rui"}, {"account_id", account}});
  std::string rep_id, rep = user_key(h->tenant, "sales", &rep_id);
  deal(p, account, contact, rep_id, 1, 1, "won");
  std::string open = deal(p, account, contact, rep_id, 2, 1, "open");
  ASSERT_EQ(call("POST", insight + "/train", admin).status, 202);
  Json model = model_when("not_enough_history");
  EXPECT_NE(model["message"].get<std::string>().find("200 needed"), std::string::npos) << model.dump();
  auto score = call("GET", insight + "/deals/" + open + "/score", rep);
  ASSERT_EQ(score.status, 200) << score.raw.body;
  EXPECT_EQ(score.body["basis"], "stage_probability");
  EXPECT_DOUBLE_EQ(score.body["probability"].get<double>(), 0.6);
}

// A deal that cannot pass the gate of its next stage is at risk, in the gate's own words
// (the kernel's evaluation through deals.gate, plugin ABI 1.11); once it meets the
// criteria, the rescoring after the change clears the risk. A deal whose next stage has
// no gate is not flagged for it.
TEST_P(Insight, ADealThatCannotPassItsNextStagesGateIsAtRiskUntilItCan) {
  Pipeline p = pipeline(Json::array({{{"kind", "field"}, {"field", "amount"}, {"op", "gte"}, {"value", 5'000'000}}}));
  std::string account = create("/v1/accounts", {{"legal_name", "Universidade do Vale"}});
  std::string contact = create("/v1/contacts", {{"name", "Lia"}, {"account_id", account}});
  std::string rep_id, rep = user_key(h->tenant, "sales", &rep_id);
  std::string gated = deal(p, account, contact, rep_id, 1, 1, "open");  // in Etapa 1, BRL 10.000,00
  std::string early = deal(p, account, contact, rep_id, 0, 1, "open");  // in Etapa 0: Etapa 1 has no gate
  ASSERT_EQ(call("POST", insight + "/train", admin).status, 202);
  model_when("not_enough_history");

  const std::string words = "the gate to Etapa 2 is not met: amount is 1000000, needs gte 5000000";
  auto score = call("GET", insight + "/deals/" + gated + "/score", rep);
  ASSERT_EQ(score.status, 200) << score.raw.body;
  EXPECT_NE(score.body["risks"].dump().find(words), std::string::npos) << score.body.dump();
  auto calm = call("GET", insight + "/deals/" + early + "/score", rep);
  ASSERT_EQ(calm.status, 200) << calm.raw.body;
  EXPECT_EQ(calm.body["risks"].dump().find("the gate to"), std::string::npos) << calm.body.dump();

  auto raised = call("PATCH", "/v1/deals/" + gated, admin, {{"amount", 6'000'000}});
  ASSERT_EQ(raised.status, 200) << raised.raw.body;
  Json cleared = until(insight + "/deals/" + gated + "/score",
                       [](const Json& s) { return s.value("amount", Json()) == 6'000'000; });
  EXPECT_EQ(cleared["risks"].dump().find("the gate to"), std::string::npos) << cleared.dump();
}

INSTANTIATE_TEST_SUITE_P(Backends, Insight, testing::Values(store::Backend::sqlite, store::Backend::postgresql), BackendName());

}  // namespace
}  // namespace nucleo::test
