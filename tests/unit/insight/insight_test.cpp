// Issue #33, the insight plugin without a kernel: synthetic tenants from a known process
// (plugins/insight/synthetic.hpp), the model that must find the planted effects and name
// them, its calibration, the forecast's interval, the "not enough history" answer, and
// the plugin's jobs and routes through the SDK's fake host.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "diagnosis.hpp"
#include "engine.hpp"
#include "nucleo/sdk/testing/fake_host.hpp"
#include "synthetic.hpp"

extern "C" const nucleo_plugin_descriptor* nucleo_plugin_entry(void);

namespace insight {
namespace {

using nucleo::sdk::testing::FakeHost;

constexpr std::int64_t now = 1'780'000'000'000'000;  // 2026-05-28

synthetic::Process process(std::size_t deals = 3000) {
  synthetic::Process p;
  p.deals = deals;
  p.now = now;
  return p;
}

History history_of(const std::vector<Json>& rows) {
  History h;
  for (const auto& r : rows) h.add(r);
  h.finish();
  h.read_at = now;
  return h;
}

Settings settings() {
  Settings s;
  s.min_closed_deals = 200;
  return s;
}

// Mean |contribution| per feature over the open deals: which features the model uses.
std::map<std::string, double> importance(const History& h, const Trained& t) {
  std::map<std::string, double> out;
  auto open = open_deals_at(h, now);
  for (const auto& s : score_open_deals(h, &t, now, open))
    for (const auto& f : s.factors) out[f.feature] += std::abs(f.points) / static_cast<double>(open.size());
  return out;
}

TEST(InsightModel, BeatsTheStageBaselineAndFindsThePlantedEffects) {
  History h = history_of(synthetic::rows(process()));
  ASSERT_GT(h.closed_deals(), 2000u);
  auto trained = train(h, now, settings());
  ASSERT_TRUE(trained);
  const Json& v = trained->validation;
  RecordProperty("brier", std::to_string(v["brier"].get<double>()));
  RecordProperty("baseline_brier", std::to_string(v["baseline_brier"].get<double>()));
  EXPECT_LT(v["brier"].get<double>(), v["baseline_brier"].get<double>() * 0.85) << v.dump();
  EXPECT_LT(v["log_loss"].get<double>(), v["baseline_log_loss"].get<double>()) << v.dump();

  // The planted causes carry the weight; account history, which the process ignores, does not.
  auto weight = importance(h, *trained);
  double activity = weight["days_since_activity"] + weight["inbound_share"] + weight["activities_30d"];
  EXPECT_GT(weight["engaged_contacts"], 2.0) << Json(weight).dump();
  EXPECT_GT(activity, 2.0) << Json(weight).dump();
  EXPECT_GT(weight["amount_ratio"], 1.0) << Json(weight).dump();
  EXPECT_LT(weight["account_wins"] + weight["account_losses"], weight["engaged_contacts"] / 4) << Json(weight).dump();
}

TEST(InsightModel, IsCalibratedWithinTenPointsOnDealsItDidNotSee) {
  History h = history_of(synthetic::rows(process()));
  auto trained = train(h, now, settings());
  ASSERT_TRUE(trained);
  const Json& bins = trained->validation["calibration"];
  EXPECT_LE(calibration_gap(bins, 40), 0.10) << bins.dump();
}

TEST(InsightModel, MovesEachDealTheWayThePlantedEffectSays) {
  History h = history_of(synthetic::rows(process()));
  auto trained = train(h, now, settings());
  ASSERT_TRUE(trained);
  // The same open deal, with one more engaged contact, is more likely to be won.
  AccountRecord accounts(h);
  auto open = open_deals_at(h, now);
  int higher = 0, compared = 0;
  for (const Deal* d : open) {
    Matrix x;
    x.columns = trained->space.size();
    auto row = features_as_of(h, accounts, trained->space, *d, now);
    if (row[engaged_contacts] >= 3) continue;
    x.add(row);
    row[engaged_contacts] += 1;
    x.add(row);
    auto p = trained->model.predict(x);
    higher += p[1] > p[0];
    ++compared;
  }
  ASSERT_GT(compared, 50);
  EXPECT_GT(static_cast<double>(higher) / compared, 0.8) << higher << " of " << compared;
}

TEST(InsightModel, ExplainsAnUnresponsiveDealByItsSilence) {
  History h = history_of(synthetic::rows(process()));
  auto trained = train(h, now, settings());
  ASSERT_TRUE(trained);
  auto open = open_deals_at(h, now);
  auto scores = score_open_deals(h, &*trained, now, open);
  int named = 0, low = 0;
  for (const auto& s : scores) {
    if (s.probability > 0.2 || s.factors.empty()) continue;
    ++low;
    for (const auto& f : s.factors)
      if ((f.feature == "days_since_activity" || f.feature == "inbound_share" || f.feature == "activities_30d" ||
           f.feature == "engaged_contacts") && f.points < 0) {
        ++named;
        EXPECT_FALSE(f.text.empty());
        break;
      }
  }
  ASSERT_GT(low, 10);
  EXPECT_GT(static_cast<double>(named) / low, 0.8) << named << " of " << low;
  // Words a rep reads, with the figure in them.
  for (const auto& s : scores)
    for (const auto& f : s.factors)
      if (f.feature == "days_since_activity" && !std::isnan(f.points)) {
        EXPECT_NE(f.text.find("days ago"), std::string::npos) << f.text;
        return;
      }
}

TEST(InsightForecast, ItsIntervalCoversOutcomesAtTheNominalRate) {
  // Given the deals' chances, the 80 % interval of the simulated sum must hold the real
  // sum about 80 % of the time: draw the world 400 times from the same chances.
  History h = history_of(synthetic::rows(process(1500)));
  auto open = open_deals_at(h, now);
  auto scores = score_open_deals(h, nullptr, now, open);  // stage probabilities, certain to close in the period
  Settings s = settings();
  Json total = forecast(h, nullptr, scores, now, s)["groups"]["total"];
  std::mt19937_64 random(1);
  std::uniform_real_distribution<double> uniform(0, 1);
  int covered = 0;
  const int worlds = 400;
  for (int w = 0; w < worlds; ++w) {
    double sum = 0;
    for (const auto& score : scores) {
      const Deal& d = h.deals[h.deal_index.at(score.deal_id)];
      if (d.amount && uniform(random) < score.probability) sum += static_cast<double>(*d.amount);
    }
    covered += sum >= total["p10"].get<double>() && sum <= total["p90"].get<double>();
  }
  double rate = static_cast<double>(covered) / worlds;
  RecordProperty("coverage", std::to_string(rate));
  EXPECT_NEAR(rate, 0.8, 0.06) << total.dump();
  EXPECT_LT(total["p10"].get<double>(), total["expected"].get<double>());
  EXPECT_GT(total["p90"].get<double>(), total["expected"].get<double>());
}

TEST(InsightBacktest, TrainsOnThePastOnlyAndBeatsTheBaseline) {
  History h = history_of(synthetic::rows(process()));
  std::int64_t as_of = now - 120 * micros_per_day;
  Json report = backtest(h, as_of, settings());
  ASSERT_EQ(report["status"], "ok") << report.dump();
  // Nothing closed after as_of was learned from.
  std::size_t closed_before = 0;
  for (const auto& d : h.deals) closed_before += d.closed_at && *d.closed_at < as_of;
  EXPECT_EQ(report["trained_on"]["closed_deals"].get<std::size_t>(), closed_before);
  EXPECT_GT(report["deals_scored"].get<int>(), 100);
  EXPECT_LT(report["win_probability"]["brier"].get<double>(), report["win_probability"]["baseline_brier"].get<double>())
      << report.dump();
  EXPECT_GT(report["forecast"]["actual"].get<double>(), 0);
}

TEST(InsightModel, SaysWhenThereIsNotEnoughHistory) {
  History h = history_of(synthetic::rows(process(120)));
  ASSERT_LT(h.closed_deals(), 200u);
  EXPECT_FALSE(train(h, now, settings()));
  auto open = open_deals_at(h, now);
  ASSERT_FALSE(open.empty());
  auto scores = score_open_deals(h, nullptr, now, open);
  for (const auto& s : scores) {
    EXPECT_EQ(s.basis, "stage_probability");
    EXPECT_DOUBLE_EQ(s.probability, s.stage_probability);
  }
  Json report = backtest(h, now - 30 * micros_per_day, settings());
  EXPECT_EQ(report["status"], "not_enough_history");
}

TEST(InsightModel, SurvivesASaveAndALoad) {
  History h = history_of(synthetic::rows(process(1000)));
  auto trained = train(h, now, settings());
  ASSERT_TRUE(trained);
  Trained back = restore(trained_summary(*trained), trained->model.save());
  auto open = open_deals_at(h, now);
  auto a = score_open_deals(h, &*trained, now, open), b = score_open_deals(h, &back, now, open);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_FLOAT_EQ(static_cast<float>(a[i].probability), static_cast<float>(b[i].probability));
}

TEST(InsightFeatures, NameBuyingCommitteeRolesInPortugueseAndEnglish) {
  EXPECT_EQ(committee_role("Diretor Comercial"), "decision");
  EXPECT_EQ(committee_role("Gerente de Compras"), "procurement");
  EXPECT_EQ(committee_role("CFO"), "finance");
  EXPECT_EQ(committee_role("Coordenador de TI"), "technical");
  EXPECT_EQ(committee_role("Assistente"), "user");
  EXPECT_EQ(committee_role(""), "");
}

// A close date that slipped is counted as of each moment from the deal's close history
// (snapshot kind deal_close_history), never from what it became later.
TEST(InsightFeatures, CountCloseDateSlipsAsTheyWereKnownThen) {
  const std::int64_t day = micros_per_day, start = day_start_micros("2026-01-01");
  History h = history_of({{{"kind", "stage"}, {"id", "s1"}, {"pipeline_id", "p"}, {"position", 1}, {"probability", 20},
                           {"stage_kind", "open"}, {"rot_days", nullptr}, {"criteria", 0}},
                          {{"kind", "deal"}, {"id", "d1"}, {"account_id", "a"}, {"pipeline_id", "p"}, {"stage_id", "s1"},
                           {"status", "open"}, {"expected_close", "2026-03-15"}, {"stage_entered_at", start},
                           {"created_at", start}, {"contacts", Json::array()}, {"attributes", Json::object()}},
                          {{"kind", "deal_close_history"}, {"deal_id", "d1"}, {"expected_close", "2026-03-01"},
                           {"changed_at", start + 10 * day}},
                          {{"kind", "deal_close_history"}, {"deal_id", "d1"}, {"expected_close", "2026-02-01"},
                           {"changed_at", start}},
                          {{"kind", "deal_close_history"}, {"deal_id", "d1"}, {"expected_close", "2026-03-15"},
                           {"changed_at", start + 60 * day}}});
  FeatureSpace space;
  AccountRecord accounts(h);
  const Deal& d = h.deals.at(0);
  auto at = [&](int days_in) { return features_as_of(h, accounts, space, d, start + days_in * day); };
  EXPECT_EQ(at(5)[close_slips], 0);
  EXPECT_FLOAT_EQ(at(5)[days_past_close], -26) << "due 2026-02-01, as known on day 5";
  EXPECT_EQ(at(20)[close_slips], 1);
  EXPECT_FLOAT_EQ(at(20)[days_past_close], -39) << "moved to 2026-03-01 on day 10";
  EXPECT_EQ(at(70)[close_slips], 2);
  EXPECT_FLOAT_EQ(at(70)[days_past_close], -3) << "moved again to 2026-03-15 on day 60";
  EXPECT_EQ(describe(space, close_slips, 2), "close date moved later 2 times");
  EXPECT_EQ(describe(space, days_past_close, 4), "expected close passed 4 days ago");
  EXPECT_TRUE(std::isnan(features_as_of(h, accounts, space, d, start - day)[days_past_close])) << "not known yet";
}

TEST(InsightDiagnosis, FindsTheStagesThatDeclareTheWrongProbabilityAndWhyDealsAreLost) {
  History h = history_of(synthetic::rows(process(2000)));
  Json d = diagnose(h, now);
  ASSERT_EQ(d["stages"].size(), 4u) << d.dump().substr(0, 400);
  for (const auto& s : d["stages"]) {
    EXPECT_GE(s["conversion"].get<double>(), 0.0);
    EXPECT_LE(s["conversion"].get<double>(), 1.0);
    EXPECT_GT(s["entered"].get<int>(), 0);
  }
  // Stage 1 declares 10 %; about half the deals that reach it are won.
  std::string findings = d["findings"].dump();
  EXPECT_NE(findings.find("stage 1 declares 10%"), std::string::npos) << findings;
  EXPECT_EQ(d["lost_reasons"][0]["reason"], "price");
  EXPECT_NEAR(d["lost_reasons"][0]["share"].get<double>(), 1.0, 1e-9);
  EXPECT_EQ(d["owners"].size(), 5u);
  std::string report = diagnosis_report(d);
  EXPECT_NE(report.find("## Stages"), std::string::npos);
  EXPECT_NE(report.find("| pip_1 | 1 |"), std::string::npos) << report.substr(0, 600);
}

// Messages to contacts whose consent is granted for no purpose are counted (snapshot
// contact rows carry the purposes granted); a snapshot without consent says nothing.
TEST(InsightDiagnosis, CountsMessagesToContactsWithoutConsent) {
  auto rows = synthetic::rows(process(200));
  std::vector<Json> without = rows;
  int first = -1;
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (rows[i]["kind"] == "contact") {
      if (first < 0) first = static_cast<int>(i);
      rows[i]["consent_granted"] = Json::array();  // none granted…
    }
  rows[static_cast<std::size_t>(first)]["consent_granted"] = {"marketing_email"};  // …but the first contact's
  History h = history_of(rows);
  int expected = 0, contacts = 0;
  for (const auto& [id, c] : h.contacts)
    if (c.consented == false && c.outbound > 0) expected += c.outbound, ++contacts;
  ASSERT_GT(expected, 10);
  Json d = diagnose(h, now);
  EXPECT_EQ(d["without_context"]["messages_to_contacts_without_consent"], expected);
  EXPECT_EQ(d["without_context"]["contacts_without_consent_messaged"], contacts);
  EXPECT_NE(d["findings"].dump().find("contacts who had granted consent for no purpose"), std::string::npos);
  EXPECT_NE(diagnosis_report(d).find("contacts who have granted consent for no purpose"), std::string::npos);
  Json unknown = diagnose(history_of(without), now);
  EXPECT_TRUE(unknown["without_context"]["messages_to_contacts_without_consent"].is_null());
  EXPECT_NE(diagnosis_report(unknown).find("consent: not in this kernel's snapshot"), std::string::npos);
}

// ---- The plugin through the fake host ----

class InsightPlugin : public ::testing::Test {
 protected:
  void SetUp() override {
    host.use_manifest(nucleo::sdk::testing::read_json(std::string(NUCLEO_SOURCE_DIR) + "/plugins/insight/plugin.json"));
    host.now_micros = now;
    host.role = "";  // jobs and event handlers: the plugin's own work
    host.load(&nucleo_plugin_entry, {{"training_threads", 1}});
  }
  FakeHost host;
};

TEST_F(InsightPlugin, TrainsScoresAndRanksEachRepsDeals) {
  host.snapshot = synthetic::rows(process(1500));
  host.run_job("train");
  Json model = host.records["models"]["current"]["document"];
  EXPECT_EQ(model["status"], "trained") << model.dump().substr(0, 500);
  EXPECT_GE(model["parts"].get<int>(), 1);
  ASSERT_FALSE(host.records["scores"].empty());
  EXPECT_EQ(host.snapshot_reads, 1);
  ASSERT_FALSE(host.records["forecasts"].empty());
  ASSERT_FALSE(host.records["diagnoses"].empty());

  host.role = "sales";
  host.user_id = "usr_1";
  auto mine = host.request("GET", "/priorities");
  ASSERT_EQ(mine.status, 200);
  const Json& list = mine.body["data"];
  ASSERT_GT(list.size(), 3u);
  for (std::size_t i = 1; i < list.size(); ++i) {
    EXPECT_GE(list[i - 1]["priority"].get<std::int64_t>(), list[i]["priority"].get<std::int64_t>());
    EXPECT_EQ(list[i]["owner_id"], "usr_1");
    EXPECT_FALSE(list[i]["reason"].get<std::string>().empty());
  }
  // Another rep's list, the model and the forecast are a manager's.
  EXPECT_THROW(host.request("GET", "/priorities", Json::object(), Json::object(), {{"owner_id", "usr_2"}}), nucleo::sdk::Error);
  EXPECT_THROW(host.request("GET", "/model"), nucleo::sdk::Error);
  host.role = "manager";
  EXPECT_EQ(host.request("GET", "/priorities", Json::object(), Json::object(), {{"owner_id", "usr_2"}}).status, 200);
  auto forecast = host.request("GET", "/forecast", Json::object(), Json::object(), {{"group", "owner"}});
  ASSERT_EQ(forecast.status, 200);
  EXPECT_TRUE(forecast.body["groups"].contains("owner:usr_1")) << forecast.body.dump();
  EXPECT_FALSE(forecast.body["groups"].contains("total"));
  auto report = host.request("GET", "/diagnosis.md");
  ASSERT_EQ(report.status, 200);
  ASSERT_TRUE(report.bytes);
  EXPECT_NE(report.bytes->find("# Diagnosis of the sales process"), std::string::npos);
  try {
    host.request("GET", "/priorities", Json::object(), Json::object(), {{"limit", "many"}});
    ADD_FAILURE() << "a bad limit was taken";
  } catch (const nucleo::sdk::Error& e) {
    EXPECT_EQ(e.status(), NUCLEO_INVALID_ARGUMENT);
  }
}

TEST_F(InsightPlugin, RescoresADealWhenItsConversationChanges) {
  host.snapshot = synthetic::rows(process(1500));
  host.run_job("train");
  std::string deal;
  for (const auto& [id, doc] : host.records["scores"]) {
    deal = id;
    break;
  }
  ASSERT_FALSE(deal.empty());
  host.advance(3 * micros_per_day);
  int reads = host.snapshot_reads;
  auto failures = host.publish({{"id", "evt_1"}, {"name", "interaction.created"}, {"entity", {{"type", "interaction"}, {"id", "int_x"}}},
                                {"data", {{"record", {{"id", "int_x"}, {"deal_id", deal}}}}}});
  EXPECT_TRUE(failures.empty()) << failures.front();
  EXPECT_EQ(host.snapshot_reads, reads + 1);
  EXPECT_EQ(host.records["scores"][deal]["document"]["scored_at"], rfc3339(now + 3 * micros_per_day));
}

TEST_F(InsightPlugin, FallsBackToTheStageProbabilityAndSaysWhy) {
  host.snapshot = synthetic::rows(process(100));
  host.run_job("train");
  Json model = host.records["models"]["current"]["document"];
  EXPECT_EQ(model["status"], "not_enough_history");
  EXPECT_NE(model["message"].get<std::string>().find("200 needed"), std::string::npos) << model.dump();
  ASSERT_FALSE(host.records["scores"].empty());
  for (const auto& [id, doc] : host.records["scores"]) EXPECT_EQ(doc["document"]["basis"], "stage_probability");
}

// A deal whose next stage has a gate it does not meet is at risk in the gate's words
// (deals.gate); the plugin asks only for deals whose next stage has criteria.
TEST_F(InsightPlugin, FlagsADealThatCannotPassItsNextStagesGate) {
  host.snapshot = synthetic::rows(process(400));
  std::string gated_stage;
  for (auto& row : host.snapshot)
    if (row["kind"] == "stage" && row["position"] == 2) row["criteria"] = 1, gated_stage = row["id"];
  std::vector<std::string> before_gate;  // open deals in the stage just before it
  for (const auto& row : host.snapshot)
    if (row["kind"] == "deal" && row["status"] == "open" && row["stage_id"] == "stg_1") before_gate.push_back(row["id"]);
  ASSERT_FALSE(gated_stage.empty());
  ASSERT_GE(before_gate.size(), 2u);
  host.gates[before_gate[0]][gated_stage] = {{{"code", "field_missing"}, {"criterion_index", 0}, {"missing", "amount is not set"}}};
  host.run_job("train");

  Json flagged = host.records["scores"][before_gate[0]]["document"];
  EXPECT_NE(flagged["risks"].dump().find("the gate to stage 2 is not met: amount is not set"), std::string::npos)
      << flagged.dump();
  EXPECT_TRUE(host.records["risks"].count(before_gate[0]));
  EXPECT_EQ(host.records["scores"][before_gate[1]]["document"]["risks"].dump().find("the gate to"), std::string::npos);
  std::size_t asked = 0;
  for (const auto& c : host.service_calls)
    if (c.service == "deals.gate") {
      ++asked;
      EXPECT_EQ(c.request["stage_id"], gated_stage);
    }
  EXPECT_EQ(asked, before_gate.size());
}

// A forecast kept by an earlier training run is scored once its period is over: the won
// amount of the deals open when it was made that were won within the period, beside
// its figures; GET /forecast/accuracy lists them with the errors' means.
TEST_F(InsightPlugin, ScoresAForecastOnceItsPeriodHasEndedAgainstWhatWasWon) {
  auto rows = synthetic::rows(process(1500));
  History h = history_of(rows);
  host.snapshot = rows;
  auto kept = [&](std::int64_t from, double won) {
    Json total{{"expected", won * 1.1}, {"p10", won * 0.8}, {"p50", won},
               {"p90", won * 1.3},      {"stage_weighted", won * 1.5}, {"commit", won * 0.5}};
    Json doc{{"day", rfc3339(from).substr(0, 10)}, {"from", rfc3339(from)}, {"to", rfc3339(from + 90 * micros_per_day)},
             {"horizon_days", 90}, {"basis", "model"}, {"groups", {{"total", total}}}};
    host.records["forecasts"][doc["day"].get<std::string>()] = {{"collection", "forecasts"}, {"id", doc["day"]},
                                                                  {"version", 1}, {"document", doc}};
    return doc["day"].get<std::string>();
  };
  const std::int64_t ended = now - 120 * micros_per_day, running = now - 30 * micros_per_day;
  double won = 0;
  for (const Deal* d : open_deals_at(h, ended))
    if (d->won && *d->closed_at < ended + 90 * micros_per_day && d->amount) won += static_cast<double>(*d->amount);
  ASSERT_GT(won, 0);
  std::string past = kept(ended, won), current = kept(running, 1000);
  host.run_job("train");

  Json outcome = host.records["forecasts"][past]["document"]["outcome"];
  EXPECT_DOUBLE_EQ(outcome["actual"].get<double>(), won) << outcome.dump();
  EXPECT_NEAR(outcome["error"].get<double>(), 0.1, 1e-9);
  EXPECT_NEAR(outcome["stage_weighted_error"].get<double>(), 0.5, 1e-9);
  EXPECT_NEAR(outcome["commit_error"].get<double>(), 0.5, 1e-9);
  EXPECT_TRUE(outcome["covered"].get<bool>());
  EXPECT_FALSE(host.records["forecasts"][current]["document"].contains("outcome")) << "its period still runs";

  host.role = "manager";
  auto accuracy = host.request("GET", "/forecast/accuracy");
  ASSERT_EQ(accuracy.status, 200);
  ASSERT_EQ(accuracy.body["data"].size(), 1u) << accuracy.body.dump();
  EXPECT_EQ(accuracy.body["data"][0]["day"], past);
  EXPECT_NEAR(accuracy.body["summary"]["mape"].get<double>(), 0.1, 1e-9);
  EXPECT_NEAR(accuracy.body["summary"]["stage_weighted_mape"].get<double>(), 0.5, 1e-9);
  EXPECT_DOUBLE_EQ(accuracy.body["summary"]["interval_coverage"].get<double>(), 1.0);
  host.role = "sales";
  EXPECT_THROW(host.request("GET", "/forecast/accuracy"), nucleo::sdk::Error);
}

TEST_F(InsightPlugin, BacktestsAsOfAPastDateAndStoresTheReport) {
  host.snapshot = synthetic::rows(process(3000));
  host.run_job("backtest", {{"as_of", "2026-02-01"}, {"folds", 2}, {"report_id", "r1"}});
  Json report = host.records["backtests"]["r1"]["document"];
  ASSERT_EQ(report["summary"]["status"], "ok") << report.dump().substr(0, 800);
  EXPECT_EQ(report["folds"].size(), 2u);
  EXPECT_LT(report["summary"]["brier"].get<double>(), report["summary"]["baseline_brier"].get<double>());
  EXPECT_THROW(host.run_job("backtest", {{"as_of", "2026-13-45"}}), nucleo::sdk::Error);
}

}  // namespace
}  // namespace insight
