// org.nucleo.insight: win probability, risk, priorities, forecast and backtest for each
// tenant, learned from a snapshot of its own sales process (plugin ABI 1.10
// read_snapshot) with XGBoost, kept in the tenant's own record store. docs/insight.md;
// ADR 0044.
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "diagnosis.hpp"
#include "engine.hpp"
#include "nucleo/sdk/plugin.hpp"

namespace {

using nucleo::sdk::Auth;
using nucleo::sdk::Error;
using nucleo::sdk::Host;
using nucleo::sdk::Json;
using nucleo::sdk::Request;
using nucleo::sdk::Response;
using namespace insight;

// A model's bytes are kept in parts: the record store holds documents of up to 256 KiB.
constexpr std::size_t model_part_bytes = 150 * 1024;
constexpr std::int64_t urgent_days = 30;
constexpr int max_folds = 24, max_horizon_days = 365;

// A query parameter that must be an integer in [low, high]; absent: `fallback`.
int integer_query(const Request& r, const std::string& name, int fallback, int low, int high) {
  std::string text = r.query(name);
  if (text.empty()) return fallback;
  std::size_t used = 0;
  int value = 0;
  try {
    value = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || value < low || value > high)
    throw Error(NUCLEO_INVALID_ARGUMENT,
                name + " must be an integer from " + std::to_string(low) + " to " + std::to_string(high));
  return value;
}

// A JSON body's (or job payload's) member that must be an integer in [low, high]; absent
// or null: `fallback`.
int integer_member(const Json& body, const std::string& name, int fallback, int low, int high) {
  const Json& v = body.is_object() ? body.value(name, Json()) : Json();
  if (v.is_null()) return fallback;
  if (!v.is_number_integer() || v.get<std::int64_t>() < low || v.get<std::int64_t>() > high)
    throw Error(NUCLEO_INVALID_ARGUMENT,
                name + " must be an integer from " + std::to_string(low) + " to " + std::to_string(high));
  return v.get<int>();
}

// YYYY-MM-DD as micros, or INVALID_ARGUMENT naming the field.
std::int64_t date_field(const std::string& name, const std::string& text) {
  try {
    return day_start_micros(text);
  } catch (const std::invalid_argument&) {
    throw Error(NUCLEO_INVALID_ARGUMENT, name + " must be a date, YYYY-MM-DD: " + text);
  }
}

std::string money(std::int64_t minor_units, const std::string& currency) {
  std::string digits = std::to_string(std::llabs(minor_units / 100)), grouped;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped += '.';
    grouped += digits[i];
  }
  return (currency.empty() ? "BRL" : currency) + " " + (minor_units < 0 ? "-" : "") + grouped;
}

class Insight : public nucleo::sdk::Plugin {
 public:
  void init(Host& host, const Json& config) override {
    host_ = &host;
    threads_ = config.value("training_threads", 2);
    host.job("train", "cron 30 2 * * *", nucleo::sdk::Scope::tenant, [this](const nucleo::sdk::Job& j) { train_job(j); },
             "tenant");
    host.job("backtest", "", nucleo::sdk::Scope::tenant, [this](const nucleo::sdk::Job& j) { backtest_job(j); });
    for (const char* pattern : {"deal.*", "interaction.*", "task.*"})
      host.subscribe(pattern, [this](const nucleo::sdk::Event& e) { on_change(e); });
    host.route("GET", "/deals/{id}/score", Auth::bearer, [this](const Request& r) { return deal_score(r); });
    host.route("GET", "/priorities", Auth::bearer, [this](const Request& r) { return priorities(r); });
    host.route("GET", "/model", Auth::bearer, [this](const Request& r) { return model(r); });
    host.route("GET", "/forecast", Auth::bearer, [this](const Request& r) { return latest_forecast(r); });
    host.route("GET", "/forecast/accuracy", Auth::bearer, [this](const Request& r) { return forecast_accuracy(r); });
    host.route("POST", "/train", Auth::bearer, [this](const Request& r) { return enqueue(r, "train", Json::object()); });
    host.route("POST", "/backtests", Auth::bearer, [this](const Request& r) { return start_backtest(r); });
    host.route("GET", "/backtests", Auth::bearer, [this](const Request& r) { return backtests(r); });
    host.route("GET", "/diagnosis", Auth::bearer, [this](const Request& r) { return Response{200, latest_diagnosis(r)}; });
    host.route("GET", "/diagnosis.md", Auth::bearer, [this](const Request& r) {
      return Response::raw(200, "text/markdown; charset=utf-8", diagnosis_report(latest_diagnosis(r)));
    });
  }

 private:
  // ---- Settings, history, models ----

  Settings settings_of(const nucleo_call* call) const {
    Json s = host_->tenant_settings(call).value("settings", Json::object());
    Settings out;
    out.min_closed_deals = s.value("min_closed_deals", 200);
    out.horizon_days = s.value("horizon_days", 90);
    out.training.threads = threads_;
    return out;
  }

  History read_history(const nucleo_call* call, const Json& request) const {
    History history;
    Json summary = host_->read_snapshot(call, request, [&](const Json& row) { history.add(row); });
    history.finish();
    history.read_at = host_->now_micros(call);
    return history;
  }

  // The tenant's current model, cached by version; null when it has none (not enough
  // history, or never trained).
  std::pair<std::int64_t, std::shared_ptr<const Trained>> current_model(const nucleo_call* call) {
    Json doc;
    try {
      doc = host_->store_get(call, "models", "current")["document"];
    } catch (const Error& e) {
      if (e.status() == NUCLEO_NOT_FOUND) return {0, nullptr};
      throw;
    }
    if (doc.value("status", "") != "trained") return {0, nullptr};
    // A model trained on another set of features (an older version of this plugin) is
    // as none until the next training: scores are the stage's probability meanwhile.
    const Json features = doc["summary"].value("features", Json::object());
    if (features.value("names", Json()) != Json(FeatureSpace::from_json(features).names())) return {0, nullptr};
    std::string tenant = host_->caller(call).tenant_id;
    std::int64_t version = doc.value("version", std::int64_t{0});
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = models_.find(tenant);
      if (it != models_.end() && it->second.first == version) return it->second;
    }
    std::string bytes;
    for (int part = 0; part < doc.value("parts", 0); ++part)
      bytes += nucleo::sdk::detail::from_base64(
          host_->store_get(call, "model_parts", std::to_string(version) + "-" + std::to_string(part))["document"]["bytes"]);
    auto trained = std::make_shared<const Trained>(restore(doc["summary"], bytes));
    std::lock_guard<std::mutex> lock(mutex_);
    models_[tenant] = {version, trained};
    return {version, trained};
  }

  // Writes the model (its parts, then "models/current") and answers the document.
  Json save_model(const nucleo_call* call, const std::optional<Trained>& trained, const History& history,
                  const Settings& settings) {
    std::int64_t version = host_->now_micros(call);
    Json doc{{"version", version}, {"trained_at", rfc3339(version)}};
    if (!trained) {
      doc.update({{"status", "not_enough_history"},
                  {"closed_deals", history.closed_deals()},
                  {"needed", settings.min_closed_deals},
                  {"message", "not enough history: " + std::to_string(history.closed_deals()) + " closed deals, " +
                                  std::to_string(settings.min_closed_deals) +
                                  " needed; scores are the stage's probability"}});
      host_->store_put(call, "models", "current", doc);
      return doc;
    }
    std::string bytes = trained->model.save();
    int parts = 0;
    for (std::size_t at = 0; at < bytes.size(); at += model_part_bytes, ++parts)
      host_->store_put(call, "model_parts", std::to_string(version) + "-" + std::to_string(parts),
                       {{"model_version", version},
                        {"bytes", nucleo::sdk::detail::to_base64(std::string_view(bytes).substr(at, model_part_bytes))}});
    doc.update({{"status", "trained"}, {"parts", parts}, {"model_bytes", bytes.size()}, {"summary", trained_summary(*trained)}});
    // The previous model's parts go once the new one is in place.
    Json previous = Json::object();
    try {
      previous = host_->store_get(call, "models", "current")["document"];
    } catch (const Error&) {
    }
    host_->store_put(call, "models", "current", doc);
    for (int part = 0; part < previous.value("parts", 0); ++part) try {
        host_->store_delete(call, "model_parts",
                            std::to_string(previous.value("version", std::int64_t{0})) + "-" + std::to_string(part));
      } catch (const Error&) {
      }
    return doc;
  }

  // The version of the tenant's current model (0: none) — what a rescoring checks before
  // it writes, so a score computed with a model replaced meanwhile is computed again.
  std::int64_t current_model_version(const nucleo_call* call) const {
    try {
      Json doc = host_->store_get(call, "models", "current")["document"];
      return doc.value("status", "") == "trained" ? doc.value("version", std::int64_t{0}) : 0;
    } catch (const Error& e) {
      if (e.status() == NUCLEO_NOT_FOUND) return 0;
      throw;
    }
  }

  // ---- Scores, risks, priorities ----

  Json score_document(const History& history, const Score& s, std::int64_t at) const {
    const Deal& d = history.deals[history.deal_index.at(s.deal_id)];
    Json doc = s.to_json();
    double expected = d.amount ? static_cast<double>(*d.amount) * s.probability : 0;
    bool soon = !d.expected_close.empty() && d.expected_close <= rfc3339(at + urgent_days * micros_per_day).substr(0, 10);
    double urgency = 1 + (soon ? 0.5 : 0) + (s.risks.empty() ? 0 : 0.25);
    std::string reason = d.amount ? money(static_cast<std::int64_t>(expected), d.currency) + " expected (" +
                                        money(*d.amount, d.currency) + " at " +
                                        std::to_string(static_cast<int>(std::lround(s.probability * 100))) + "%)"
                                  : "no amount";
    if (soon) reason += "; expected to close by " + d.expected_close;
    if (!s.risks.empty()) reason += "; at risk: " + s.risks.front();
    doc.update({{"amount", d.amount ? Json(*d.amount) : Json()},
                {"currency", d.currency},
                {"expected_close", d.expected_close.empty() ? Json() : Json(d.expected_close)},
                {"expected_value", std::round(expected)},
                {"priority", static_cast<std::int64_t>(std::llround(expected * urgency))},
                {"probability_points", static_cast<std::int64_t>(std::lround(s.probability * 100))},
                {"reason", reason},
                {"owner_id", d.owner_id.empty() ? Json("") : Json(d.owner_id)},
                {"scored_at", rfc3339(at)}});
    return doc;
  }

  using StageNames = std::map<std::string, std::string>;  // stage id → its name, read once per run

  // The gate of the deal's next stage, when it has one the deal does not meet yet: what
  // it misses, in the gate's own words (deals.gate, ABI 1.11) — the criteria a rep can
  // still work on. Nothing when the next stage has no criteria, the deal meets them, or
  // the kernel cannot say (an older kernel, the deal gone meanwhile).
  std::optional<std::string> gate_risk(const nucleo_call* call, const History& history, const Deal& d,
                                       StageNames& names) const {
    const Stage* next = history.next_stage(d.stage_id);
    if (!next || next->criteria == 0) return std::nullopt;
    Json verdict;
    try {
      verdict = host_->call(call, "deals.gate", {{"id", d.id}, {"stage_id", next->id}});
    } catch (const Error& e) {
      host_->log(nucleo::sdk::Level::debug, "deals.gate for " + d.id + ": " + e.what());
      return std::nullopt;
    }
    if (verdict.value("passes", true)) return std::nullopt;
    std::string missing;
    for (const auto& u : verdict.value("unmet", Json::array()))
      missing += (missing.empty() ? "" : "; ") + u.value("missing", u.value("code", std::string()));
    return "the gate to " + stage_name(call, *next, names) + " is not met: " + missing;
  }

  // A stage's name as its admin wrote it (the snapshot carries none), read once per run;
  // its position when it cannot be read.
  std::string stage_name(const nucleo_call* call, const Stage& stage, StageNames& names) const {
    auto known = names.find(stage.id);
    if (known != names.end()) return known->second;
    std::string name = "stage " + std::to_string(stage.position);
    try {
      name = host_->get(call, "stage", stage.id).value("name", name);
    } catch (const Error&) {
    }
    return names[stage.id] = name;
  }

  // Writes a deal's score and, when it is newly at risk or its probability fell by
  // drop_points, a document of the "risks" collection (plugin_record.* events automation
  // rules can take); a deal no longer at risk loses it.
  // Answers whether the deal is at risk.
  bool write_score(const nucleo_call* call, const History& history, Score s, std::int64_t at, int drop_points,
                   std::optional<double> previous, StageNames& stage_names) {
    if (auto gate = gate_risk(call, history, history.deals[history.deal_index.at(s.deal_id)], stage_names))
      s.risks.push_back(*gate);
    Json doc = score_document(history, s, at);
    std::vector<std::string> risks = s.risks;
    if (previous && (*previous - s.probability) * 100 >= drop_points)
      risks.push_back("win probability fell from " + std::to_string(std::lround(*previous * 100)) + "% to " +
                      std::to_string(std::lround(s.probability * 100)) + "%");
    doc["risks"] = risks;
    host_->store_put(call, "scores", s.deal_id, doc);
    if (!risks.empty())
      host_->store_put(call, "risks", s.deal_id,
                       {{"deal_id", s.deal_id}, {"owner_id", doc["owner_id"]}, {"risks", risks},
                        {"probability", doc["probability"]}, {"flagged_at", rfc3339(at)}});
    else if (previous)
      forget(call, "risks", s.deal_id);
    return !risks.empty();
  }

  // The ids of a collection's documents, page by page.
  std::vector<std::string> ids_of(const nucleo_call* call, const std::string& collection) const {
    std::vector<std::string> ids;
    Json cursor;
    do {
      Json query{{"limit", 200}};
      if (!cursor.is_null()) query["cursor"] = cursor;
      Json page = host_->store_query(call, collection, query);
      for (const auto& r : page["data"]) ids.push_back(r["id"]);
      cursor = page.value("next_cursor", Json());
    } while (!cursor.is_null());
    return ids;
  }

  void forget(const nucleo_call* call, const std::string& collection, const std::string& id) const {
    try {
      host_->store_delete(call, collection, id);
    } catch (const Error& e) {
      if (e.status() != NUCLEO_NOT_FOUND) throw;
    }
  }

  std::optional<double> previous_probability(const nucleo_call* call, const std::string& deal_id) const {
    try {
      return host_->store_get(call, "scores", deal_id)["document"].value("probability", 0.0);
    } catch (const Error& e) {
      if (e.status() == NUCLEO_NOT_FOUND) return std::nullopt;
      throw;
    }
  }

  // ---- Jobs ----

  void train_job(const nucleo::sdk::Job& job) {
    auto started = std::chrono::steady_clock::now();
    Settings settings = settings_of(job.call);
    History history = read_history(job.call, Json::object());
    std::int64_t now = host_->now_micros(job.call);
    auto trained = train(history, now, settings);
    // The model first: a rescoring that starts from now on uses it, and one that started
    // before sees it replaced and scores again (rescore). The scores written below then
    // all come from it.
    Json model = save_model(job.call, trained, history, settings);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      models_.erase(host_->caller(job.call).tenant_id);
    }
    auto open = open_deals_at(history, now);
    auto scores = score_open_deals(history, trained ? &*trained : nullptr, now, open);
    int drop = host_->tenant_settings(job.call).value("settings", Json::object()).value("drop_points", 15);
    std::set<std::string> at_risk;
    StageNames stage_names;
    for (const auto& s : scores)
      if (write_score(job.call, history, s, now, drop, std::nullopt, stage_names)) at_risk.insert(s.deal_id);
    for (const auto& id : ids_of(job.call, "risks"))  // risks that cleared since the last run
      if (!at_risk.count(id)) forget(job.call, "risks", id);
    forget_closed(job.call, history);
    Json f = forecast(history, trained ? &*trained : nullptr, scores, now, settings);
    f["day"] = rfc3339(now).substr(0, 10);
    host_->store_put(job.call, "forecasts", f["day"].get<std::string>(), f);
    score_past_forecasts(job.call, history, now);
    Json diagnosis = diagnose(history, now);
    diagnosis["day"] = f["day"];
    host_->store_put(job.call, "diagnoses", f["day"].get<std::string>(), diagnosis);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    host_->log(nucleo::sdk::Level::info, "trained on " + std::to_string(history.closed_deals()) + " closed deals, scored " +
                                             std::to_string(scores.size()) + " open deals in " + std::to_string(seconds) + " s");
    host_->gauge("training_seconds", seconds);
    // Said last: once GET /model shows "finished_at", the run's scores, forecast and
    // diagnosis are all written.
    model.update({{"finished_at", rfc3339(host_->now_micros(job.call))}, {"open_deals_scored", scores.size()},
                  {"seconds", std::round(seconds * 10) / 10}});
    host_->store_put(job.call, "models", "current", model);
  }

  // Each stored forecast whose period has ended gets its "outcome": what was won against
  // what it said (forecast_outcome), once — GET /forecast/accuracy reads them.
  void score_past_forecasts(const nucleo_call* call, const History& history, std::int64_t now) {
    Json cursor;
    do {
      Json query{{"limit", 200}, {"sort", "-day"}};
      if (!cursor.is_null()) query["cursor"] = cursor;
      Json page = host_->store_query(call, "forecasts", query);
      for (const auto& r : page["data"]) {
        Json f = r["document"];
        if (f.contains("outcome")) continue;
        Json outcome = forecast_outcome(history, f, now);
        if (outcome.is_null()) continue;  // its period still runs
        f["outcome"] = outcome;
        host_->store_put(call, "forecasts", r["id"].get<std::string>(), f);
      }
      cursor = page.value("next_cursor", Json());
    } while (!cursor.is_null());
  }

  // Scores of deals that closed or went away since they were scored.
  void forget_closed(const nucleo_call* call, const History& history) {
    for (const auto& id : ids_of(call, "scores")) {
      auto it = history.deal_index.find(id);
      if (it != history.deal_index.end() && !history.deals[it->second].closed_at) continue;
      forget(call, "scores", id);
      forget(call, "risks", id);
    }
  }

  void backtest_job(const nucleo::sdk::Job& job) {
    Json payload = job.payload();
    Settings settings = settings_of(job.call);
    History history = read_history(job.call, Json::object());
    std::int64_t as_of = date_field("as_of", payload.value("as_of", ""));
    int folds = integer_member(payload, "folds", 1, 1, max_folds);
    // A backtest may look at another period than the tenant's forecasts do.
    settings.horizon_days = integer_member(payload, "horizon_days", settings.horizon_days, 1, max_horizon_days);
    Json runs = Json::array();
    // Folds step back one horizon each: as_of, as_of − horizon, … — never overlapping.
    for (int k = 0; k < folds; ++k)
      runs.push_back(backtest(history, as_of - static_cast<std::int64_t>(k) * settings.horizon_days * micros_per_day, settings));
    Json report{{"as_of", payload["as_of"]}, {"folds", runs}, {"summary", summarise(runs)},
                {"ran_at", rfc3339(host_->now_micros(job.call))}};
    std::string id = payload.value("report_id", "");
    if (id.empty()) id = payload["as_of"].get<std::string>() + "-" + std::to_string(folds);
    host_->store_put(job.call, "backtests", id, report);
  }

  static Json summarise(const Json& runs) {
    double brier = 0, baseline = 0, ape = 0, baseline_ape = 0;
    int scored = 0, forecasts = 0, covered = 0;
    for (const auto& r : runs) {
      if (r.value("status", "") != "ok") continue;
      ++scored;
      brier += r["win_probability"]["brier"].get<double>();
      baseline += r["win_probability"]["baseline_brier"].get<double>();
      const Json& f = r["forecast"];
      if (f["absolute_percentage_error"].is_number()) {
        ++forecasts;
        ape += f["absolute_percentage_error"].get<double>();
        baseline_ape += f["baseline_absolute_percentage_error"].get<double>();
        covered += f["covered"].get<bool>();
      }
    }
    if (scored == 0) return {{"status", "not_enough_history"}};
    return {{"status", "ok"},
            {"folds_scored", scored},
            {"brier", brier / scored},
            {"baseline_brier", baseline / scored},
            {"mape", forecasts ? Json(ape / forecasts) : Json()},
            {"baseline_mape", forecasts ? Json(baseline_ape / forecasts) : Json()},
            {"interval_coverage", forecasts ? Json(static_cast<double>(covered) / forecasts) : Json()}};
  }

  // A change to a deal, or to an interaction or task of one: that deal is rescored now,
  // from a snapshot narrowed to it (plugin_abi.h read_snapshot "deal_ids").
  void on_change(const nucleo::sdk::Event& e) {
    const Json& entity = e.json.value("entity", Json::object());
    std::string deal_id = entity.value("type", "") == "deal" ? entity.value("id", "") : "";
    if (deal_id.empty()) {
      Json record = e.json.value("data", Json::object()).value("record", Json::object());
      if (record.is_object() && record.value("deal_id", Json()).is_string()) deal_id = record["deal_id"];
    }
    if (deal_id.empty()) return;
    rescore(e.call, deal_id);
  }

  void rescore(const nucleo_call* call, const std::string& deal_id) {
    History history = read_history(call, {{"deal_ids", {deal_id}}});
    auto it = history.deal_index.find(deal_id);
    if (it == history.deal_index.end() || history.deals[it->second].closed_at) {
      forget(call, "scores", deal_id);
      forget(call, "risks", deal_id);
      return;
    }
    std::int64_t now = host_->now_micros(call);
    int drop = host_->tenant_settings(call).value("settings", Json::object()).value("drop_points", 15);
    std::optional<double> previous = previous_probability(call, deal_id);
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto [version, trained] = current_model(call);
      auto scores = score_open_deals(history, trained.get(), now, {&history.deals[it->second]});
      if (current_model_version(call) != version) continue;  // trained meanwhile: score with the new one
      StageNames stage_names;
      write_score(call, history, scores.front(), now, drop, previous, stage_names);
      return;
    }
  }

  // ---- Routes ----

  static void require_role(const Request& r, std::initializer_list<const char*> roles, const std::string& what) {
    nucleo::sdk::Caller who = r.caller();
    if (who.unrestricted()) return;
    for (const char* role : roles)
      if (who.is(role)) return;
    throw Error(NUCLEO_FORBIDDEN, what + ", not " + who.role);
  }

  Response deal_score(const Request& r) {
    std::string id = r.param("id");
    host_->get(r.call, "deal", id);  // NOT_FOUND or FORBIDDEN as the caller would get them
    Json stored;
    try {
      stored = host_->store_get(r.call, "scores", id);
    } catch (const Error& e) {
      if (e.status() != NUCLEO_NOT_FOUND) throw;
      throw Error(NUCLEO_NOT_FOUND, "deal " + id + " has no score: open deals are scored after each change and by "
                                    "the nightly training; closed deals are not scored");
    }
    Json doc = stored["document"];
    doc["score_version"] = stored["version"];  // grows with each rescoring
    return {200, doc};
  }

  Response priorities(const Request& r) {
    nucleo::sdk::Caller who = r.caller();
    std::string owner = r.query("owner_id").empty() ? who.user_id : r.query("owner_id");
    if (owner.empty()) throw Error(NUCLEO_INVALID_ARGUMENT, "owner_id is required for a caller who is no user");
    if (owner != who.user_id) require_role(r, {"admin", "manager"}, "another rep's priorities are for admins and managers");
    int limit = integer_query(r, "limit", 50, 1, 200);
    Json page = host_->store_query(r.call, "scores", {{"where", {{"owner_id", {{"eq", owner}}}}}, {"sort", "-priority"}, {"limit", limit}});
    Json data = Json::array();
    int position = 0;
    for (const auto& item : page["data"]) {
      Json doc = item["document"];
      doc["position"] = ++position;
      data.push_back(doc);
    }
    return {200, {{"owner_id", owner}, {"data", data}}};
  }

  Response model(const Request& r) {
    require_role(r, {"admin", "manager", "auditor"}, "the model's figures are for admins, managers and auditors");
    try {
      Json doc = host_->store_get(r.call, "models", "current")["document"];
      return {200, doc};
    } catch (const Error& e) {
      if (e.status() != NUCLEO_NOT_FOUND) throw;
      return {200, {{"status", "not_trained"}, {"message", "no model yet: POST /train, or wait for the nightly run"}}};
    }
  }

  Response latest_forecast(const Request& r) {
    require_role(r, {"admin", "manager", "auditor"}, "the forecast is for admins, managers and auditors");
    Json page = host_->store_query(r.call, "forecasts", {{"sort", "-day"}, {"limit", 1}});
    if (page["data"].empty()) throw Error(NUCLEO_NOT_FOUND, "no forecast yet: POST /train first");
    Json f = page["data"][0]["document"];
    std::string group = r.query("group");
    if (!group.empty()) {
      Json only = Json::object();
      for (const auto& [name, figures] : f["groups"].items())
        if (name == group || name.rfind(group + ":", 0) == 0) only[name] = figures;
      f["groups"] = only;
    }
    return {200, f};
  }

  // The forecasts whose period has ended, newest first, each with what was actually won,
  // and the summary over them: the model's mean absolute percentage error beside the
  // stage-weighted forecast's and the reps' commit's, and how often the 80% interval
  // held the actual amount.
  Response forecast_accuracy(const Request& r) {
    require_role(r, {"admin", "manager", "auditor"}, "the forecast is for admins, managers and auditors");
    std::size_t limit = static_cast<std::size_t>(integer_query(r, "limit", 30, 1, 366));
    Json data = Json::array(), cursor;
    double error = 0, weighted = 0, commit = 0;
    std::size_t measured = 0, commit_measured = 0, covered = 0;
    do {
      Json query{{"limit", 200}, {"sort", "-day"}};
      if (!cursor.is_null()) query["cursor"] = cursor;
      Json page = host_->store_query(r.call, "forecasts", query);
      for (const auto& item : page["data"]) {
        const Json& f = item["document"];
        if (!f.contains("outcome") || data.size() >= limit) continue;
        Json row = f["outcome"];
        row["day"] = f.value("day", item["id"].get<std::string>());
        covered += row["covered"].get<bool>();
        if (row["error"].is_number()) {
          ++measured;
          error += row["error"].get<double>();
          weighted += row["stage_weighted_error"].get<double>();
        }
        if (row["commit_error"].is_number()) ++commit_measured, commit += row["commit_error"].get<double>();
        data.push_back(std::move(row));
      }
      cursor = data.size() >= limit ? Json() : page.value("next_cursor", Json());
    } while (!cursor.is_null());
    auto mean = [](double sum, std::size_t n) { return n ? Json(sum / static_cast<double>(n)) : Json(); };
    Json summary{{"forecasts", data.size()},
                 {"mape", mean(error, measured)},
                 {"stage_weighted_mape", mean(weighted, measured)},
                 {"commit_mape", mean(commit, commit_measured)},
                 {"interval_coverage", data.empty() ? Json() : Json(static_cast<double>(covered) / data.size())}};
    return {200, {{"data", data}, {"summary", summary}}};
  }

  Json latest_diagnosis(const Request& r) {
    require_role(r, {"admin", "manager", "auditor"}, "the diagnosis is for admins, managers and auditors");
    Json page = host_->store_query(r.call, "diagnoses", {{"sort", "-day"}, {"limit", 1}});
    if (page["data"].empty()) throw Error(NUCLEO_NOT_FOUND, "no diagnosis yet: POST /train first");
    return page["data"][0]["document"];
  }

  Response enqueue(const Request& r, const std::string& job, const Json& payload) {
    require_role(r, {"admin", "manager"}, "training and backtests are started by admins and managers");
    return {202, {{"job_id", host_->enqueue(r.call, job, payload)}, {"job", job}}};
  }

  Response start_backtest(const Request& r) {
    const Json& given = r.body.is_object() ? r.body.value("as_of", Json()) : Json();
    std::string as_of = given.is_string() ? given.get<std::string>() : "";
    date_field("as_of", as_of);  // refuses a malformed date before the job is queued
    Json payload{{"as_of", as_of}, {"folds", integer_member(r.body, "folds", 1, 1, max_folds)}};
    if (int horizon = integer_member(r.body, "horizon_days", 0, 1, max_horizon_days)) payload["horizon_days"] = horizon;
    return enqueue(r, "backtest", payload);
  }

  Response backtests(const Request& r) {
    require_role(r, {"admin", "manager", "auditor"}, "backtests are for admins, managers and auditors");
    int limit = integer_query(r, "limit", 20, 1, 200);
    Json page = host_->store_query(r.call, "backtests", {{"sort", "-as_of"}, {"limit", limit}});
    Json data = Json::array();
    for (const auto& item : page["data"]) {
      Json doc = item["document"];
      doc["id"] = item["id"];
      data.push_back(doc);
    }
    return {200, {{"data", data}}};
  }

  Host* host_ = nullptr;
  int threads_ = 2;
  std::mutex mutex_;
  std::map<std::string, std::pair<std::int64_t, std::shared_ptr<const Trained>>> models_;  // tenant → (version, model)
};

}  // namespace

NUCLEO_PLUGIN(Insight, "org.nucleo.insight", "1.0.0")
