#include "engine.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <random>
#include <stdexcept>

namespace insight {
namespace {

constexpr double validation_share = 0.2;
constexpr std::int64_t default_quiet_days = 21;  // a stage without rot_days: when silence is a risk

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

constexpr std::int64_t sample_every_days = 14;
constexpr std::int64_t max_samples_per_deal = 8;

// The moments of a closed deal's past the model learns from — "as it looked then", and
// how it ended: points spread evenly over its open life, one per two weeks of it (up to
// eight), so a deal weighs as much as it would among the deals open on a random day. One
// point per stage would over-represent short deals, and score long-open deals as if they
// were young.
struct Example {
  const Deal* deal;
  std::int64_t at;
  std::string stage_id;
};

std::vector<Example> examples_of(const History& history, const std::vector<const Deal*>& closed,
                                 std::int64_t from = std::numeric_limits<std::int64_t>::min(),
                                 std::int64_t to = std::numeric_limits<std::int64_t>::max()) {
  std::vector<Example> out;
  for (const Deal* d : closed) {
    std::int64_t start = std::min(d->created_at, d->stays.front().entered_at), life = *d->closed_at - start;
    if (life <= 0) continue;
    std::int64_t points = std::clamp<std::int64_t>(life / (sample_every_days * micros_per_day), 1, max_samples_per_deal);
    for (std::int64_t i = 0; i < points; ++i) {
      std::int64_t at = start + (2 * i + 1) * life / (2 * points);
      if (at <= from || at > to) continue;
      const Stay* stay = history.stay_at(*d, at);
      const Stage* s = stay ? history.stage(stay->stage_id) : nullptr;
      if (s && s->kind == "open") out.push_back({d, at, stay->stage_id});
    }
  }
  return out;
}

// Time in stage, in buckets: how soon a deal closes depends on how long it has waited.
std::string timing_key(const std::string& stage_id, double days_in_stage) {
  int bucket = days_in_stage < 14 ? 0 : days_in_stage < 45 ? 1 : days_in_stage < 120 ? 2 : 3;
  return stage_id + "|" + std::to_string(bucket);
}

Matrix features_of(const History& history, const AccountRecord& accounts, const FeatureSpace& space,
                   const std::vector<Example>& examples, std::vector<float>* won, std::vector<float>* baseline) {
  Matrix x;
  x.columns = space.size();
  x.values.reserve(examples.size() * x.columns);
  for (const auto& e : examples) {
    x.add(features_as_of(history, accounts, space, *e.deal, e.at));
    if (won) won->push_back(e.deal->won ? 1.0f : 0.0f);
    if (baseline) {
      const Stage* s = history.stage(e.stage_id);
      baseline->push_back(s ? static_cast<float>(s->probability) / 100 : 0.0f);
    }
  }
  return x;
}

// How long four closed deals in five took, from creation to close (at most a year).
std::int64_t censoring_margin(const std::vector<const Deal*>& closed) {
  std::vector<std::int64_t> lives;
  for (const Deal* d : closed) lives.push_back(*d->closed_at - std::min(d->created_at, d->stays.front().entered_at));
  if (lives.empty()) return 0;
  auto at = lives.begin() + static_cast<std::ptrdiff_t>(static_cast<double>(lives.size() - 1) * 0.8);
  std::nth_element(lives.begin(), at, lives.end());
  return std::min<std::int64_t>(*at, 365 * micros_per_day);
}

std::vector<const Deal*> closed_before(const History& history, std::int64_t cutoff) {
  std::vector<const Deal*> out;
  for (const auto& d : history.deals)
    if (d.closed_at && *d.closed_at < cutoff) out.push_back(&d);
  std::sort(out.begin(), out.end(), [](const Deal* a, const Deal* b) { return *a->closed_at < *b->closed_at; });
  return out;
}

double stage_probability_of(const History& history, const Deal& d, std::int64_t at) {
  const Stay* stay = history.stay_at(d, at);
  const Stage* s = stay ? history.stage(stay->stage_id) : history.stage(d.stage_id);
  return s ? static_cast<double>(s->probability) / 100 : 0;
}

std::string stage_at(const History& history, const Deal& d, std::int64_t at) {
  const Stay* stay = history.stay_at(d, at);
  return stay ? stay->stage_id : d.stage_id;
}

// The share of won deals seen in `stage_id`, as long in it as this one, that closed
// within `days` of being seen (the stage's alone when too few were that long in it).
double chance_to_close_within(const Trained* trained, const std::string& stage_id, double days_in_stage, double days) {
  if (!trained) return 1;
  auto it = trained->days_to_close.find(timing_key(stage_id, days_in_stage));
  if (it == trained->days_to_close.end() || it->second.size() < 20) it = trained->days_to_close.find(stage_id);
  if (it == trained->days_to_close.end() || it->second.empty()) return 1;
  const auto& sorted = it->second;
  auto n = std::upper_bound(sorted.begin(), sorted.end(), static_cast<float>(days)) - sorted.begin();
  return static_cast<double>(n) / static_cast<double>(sorted.size());
}

std::vector<std::string> risks_of(const History& history, const Deal& d, const std::vector<float>& x, std::int64_t at) {
  std::vector<std::string> risks;
  const Stage* s = history.stage(d.stage_id);
  std::int64_t quiet = s && s->rot_days ? *s->rot_days : default_quiet_days;
  float silent = x[days_since_activity];
  if (std::isnan(silent) ? x[deal_age_days] > static_cast<float>(quiet) : silent > static_cast<float>(quiet))
    risks.push_back(std::isnan(silent) ? "no activity recorded in " + std::to_string(static_cast<int>(x[deal_age_days])) + " days"
                                       : "no activity for " + std::to_string(static_cast<int>(silent)) +
                                             " days, beyond this stage's " + std::to_string(quiet));
  if (!d.expected_close.empty() && d.expected_close < rfc3339(at).substr(0, 10))
    risks.push_back("expected close " + d.expected_close + " has passed");
  // A close date that keeps moving: twice or more is a pattern, not a plan.
  if (x[close_slips] >= 2) risks.push_back("close date moved later " + std::to_string(static_cast<int>(x[close_slips])) + " times");
  if (s && s->position >= 3 && x[engaged_contacts] <= 1)
    risks.push_back("one contact or none engaged at stage " + std::to_string(s->position));
  if (x[overdue_tasks] > 0) risks.push_back(std::to_string(static_cast<int>(x[overdue_tasks])) + " overdue tasks");
  return risks;
}

}  // namespace


double Trained::probability(double model, double stage) const {
  return sigmoid(stack[0] * logit(model) + stack[1] * logit(stage) + stack[2]);
}

std::optional<Trained> train(const History& history, std::int64_t cutoff, const Settings& settings) {
  auto closed = closed_before(history, cutoff);
  if (closed.size() < settings.min_closed_deals || closed.empty()) return std::nullopt;
  Trained t{Model(), FeatureSpace::of(history, cutoff), cutoff, closed.size(), 0, Json::object(), {}};
  AccountRecord accounts(history);

  // Held out: the last fifth of the closes, by time — the model is judged on deals that
  // closed after everything it learned from, as it will be used. They choose how many
  // trees (early stopping) and how much to trust the model against the stage.
  //
  // Right-censoring: a moment long before the cutoff saw deals that have all closed since;
  // a moment just before it saw deals still open today, which the training set lacks —
  // the long ones, more often lost. So moments are taken only up to `margin` (the time
  // four deals in five took to close) before each set's end, where nearly every deal
  // open then has an outcome.
  auto split = closed.begin() + static_cast<std::ptrdiff_t>(static_cast<double>(closed.size()) * (1 - validation_share));
  std::vector<const Deal*> early(closed.begin(), split), late(split, closed.end());
  std::int64_t split_at = split == closed.end() ? cutoff : *(*split)->closed_at;
  std::int64_t margin = censoring_margin(closed);
  auto early_examples = examples_of(history, early, std::numeric_limits<std::int64_t>::min(), split_at - margin);
  auto late_examples = examples_of(history, closed, split_at - margin, cutoff - margin);
  if (early_examples.size() < 50 || late_examples.size() < 50) {  // too little history to leave a margin
    margin = 0;
    early_examples = examples_of(history, early);
    late_examples = examples_of(history, late);
  }
  std::vector<float> early_won, late_won, late_baseline;
  Matrix early_x = features_of(history, accounts, t.space, early_examples, &early_won, nullptr);
  Matrix late_x = features_of(history, accounts, t.space, late_examples, &late_won, &late_baseline);
  t.rounds = settings.training.rounds;
  if (!early_examples.empty() && !late_examples.empty()) {
    Model early_model = Model::train(early_x, early_won, settings.training);
    double best = 1e9;
    std::vector<float> p;
    for (int rounds = 10; rounds <= settings.training.rounds; rounds += 10) {
      auto q = early_model.predict(late_x, rounds);
      double loss = log_loss(q, late_won);
      if (loss < best - 1e-5) {
        best = loss;
        t.rounds = rounds;
        p = std::move(q);
      }
    }
    std::vector<std::vector<double>> inputs;
    for (std::size_t i = 0; i < p.size(); ++i) inputs.push_back({logit(p[i]), logit(late_baseline[i])});
    t.stack = fit_logistic(inputs, late_won);
    std::vector<float> stacked;
    for (std::size_t i = 0; i < p.size(); ++i) stacked.push_back(static_cast<float>(t.probability(p[i], late_baseline[i])));
    t.validation = {{"deals", late.size()},
                    {"censoring_margin_days", margin / micros_per_day},
                    {"examples", late_examples.size()},
                    {"rounds", t.rounds},
                    {"model_brier", brier_score(p, late_won)},
                    {"brier", brier_score(stacked, late_won)},
                    {"log_loss", log_loss(stacked, late_won)},
                    {"baseline_brier", brier_score(late_baseline, late_won)},
                    {"baseline_log_loss", log_loss(late_baseline, late_won)},
                    {"calibration", calibration_bins(stacked, late_won)},
                    {"note", "brier and log_loss include the stacker fitted on these same deals (3 weights); "
                             "model_brier is the trees alone; the backtest is the out-of-sample figure"}};
  }

  // The model in use learns from every close, with the trees early stopping chose.
  auto examples = examples_of(history, closed, std::numeric_limits<std::int64_t>::min(), cutoff - margin);
  std::vector<float> won;
  Matrix x = features_of(history, accounts, t.space, examples, &won, nullptr);
  TrainOptions final_options = settings.training;
  final_options.rounds = t.rounds;
  t.model = Model::train(x, won, final_options);
  t.examples = examples.size();
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const Example& e = examples[i];
    if (!e.deal->won) continue;
    float remaining = static_cast<float>(*e.deal->closed_at - e.at) / micros_per_day;
    t.days_to_close[e.stage_id].push_back(remaining);
    t.days_to_close[timing_key(e.stage_id, x.values[i * x.columns + days_in_stage])].push_back(remaining);
  }
  for (auto& [stage, sorted] : t.days_to_close) std::sort(sorted.begin(), sorted.end());
  return t;
}

Json trained_summary(const Trained& t) {
  Json days = Json::object();
  for (const auto& [stage, sorted] : t.days_to_close) {
    // Twenty quantiles are plenty to say when a deal closes; the model document stays small.
    Json q = Json::array();
    for (int i = 0; i <= 20 && !sorted.empty(); ++i)
      q.push_back(sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(i * (sorted.size() - 1) / 20))]);
    days[stage] = q;
  }
  return {{"features", t.space.to_json()},  {"cutoff", rfc3339(t.cutoff)}, {"cutoff_micros", t.cutoff},
          {"closed_deals", t.closed_deals}, {"examples", t.examples},     {"validation", t.validation},
          {"days_to_close", days},         {"rounds", t.rounds},           {"stack", t.stack}};
}

Trained restore(const Json& summary, const std::string& model_bytes) {
  Trained t{Model::load(model_bytes), FeatureSpace::from_json(summary.at("features")), summary.value("cutoff_micros", std::int64_t{0}),
            summary.value("closed_deals", std::size_t{0}), summary.value("examples", std::size_t{0}),
            summary.value("validation", Json::object()), {}};
  const Json days = summary.value("days_to_close", Json::object());  // items() of a temporary would dangle
  for (const auto& [stage, q] : days.items())
    t.days_to_close[stage] = q.get<std::vector<float>>();
  t.rounds = summary.value("rounds", 0);
  t.stack = summary.value("stack", std::vector<double>{1, 0, 0});
  return t;
}

Json Score::to_json() const {
  Json f = Json::array();
  for (const auto& factor : factors)
    f.push_back({{"feature", factor.feature}, {"text", factor.text}, {"points", std::round(factor.points * 10) / 10}});
  return {{"deal_id", deal_id},
          {"owner_id", owner_id.empty() ? Json() : Json(owner_id)},
          {"pipeline_id", pipeline_id},
          {"probability", std::round(probability * 1000) / 1000},
          {"stage_probability", stage_probability},
          {"basis", basis},
          {"factors", f},
          {"risks", risks}};
}

std::vector<const Deal*> open_deals_at(const History& history, std::int64_t at) {
  std::vector<const Deal*> out;
  for (const auto& d : history.deals)
    if (d.created_at <= at && (!d.closed_at || *d.closed_at > at)) out.push_back(&d);
  return out;
}

std::vector<Score> score_open_deals(const History& history, const Trained* trained, std::int64_t at,
                                    const std::vector<const Deal*>& deals) {
  AccountRecord accounts(history);
  FeatureSpace fallback_space = trained ? trained->space : FeatureSpace::of(history, at);
  const FeatureSpace& space = trained ? trained->space : fallback_space;
  Matrix x;
  x.columns = space.size();
  for (const Deal* d : deals) x.add(features_as_of(history, accounts, space, *d, at));
  std::vector<float> p, contributions;
  if (trained) {
    p = trained->model.predict(x);
    contributions = trained->model.contributions(x);
  }
  auto names = space.names();
  std::vector<Score> out;
  for (std::size_t i = 0; i < deals.size(); ++i) {
    const Deal& d = *deals[i];
    std::vector<float> row(x.values.begin() + static_cast<std::ptrdiff_t>(i * x.columns),
                           x.values.begin() + static_cast<std::ptrdiff_t>((i + 1) * x.columns));
    Score s{d.id, d.owner_id, d.pipeline_id, trained ? "model" : "stage_probability", 0, stage_probability_of(history, d, at), {}, {}};
    s.probability = trained ? trained->probability(p[i], s.stage_probability) : s.stage_probability;
    if (trained) {
      // Each feature's share of the final log-odds: its tree contribution, weighed as the
      // stacker weighs the trees.
      const float* c = &contributions[i * (x.columns + 1)];
      double margin = logit(s.probability);
      for (std::size_t j = 0; j < x.columns; ++j) {
        double points = (sigmoid(margin) - sigmoid(margin - trained->stack[0] * c[j])) * 100;
        if (std::abs(points) >= 0.5) s.factors.push_back({names[j], describe(space, j, row[j]), points});
      }
      std::sort(s.factors.begin(), s.factors.end(),
                [](const Factor& a, const Factor& b) { return std::abs(a.points) > std::abs(b.points); });
      if (s.factors.size() > 5) s.factors.resize(5);
    }
    s.risks = risks_of(history, d, row, at);
    out.push_back(std::move(s));
  }
  return out;
}

Json forecast(const History& history, const Trained* trained, const std::vector<Score>& scores, std::int64_t at,
              const Settings& settings) {
  struct Line {
    double amount, chance, stage_chance;
    std::vector<std::string> groups;
    bool committed;
  };
  std::string period_end = rfc3339(at + settings.horizon_days * micros_per_day).substr(0, 10);
  std::vector<Line> lines;
  std::map<std::string, std::size_t> group_index;
  for (const auto& s : scores) {
    const Deal& d = history.deals[history.deal_index.at(s.deal_id)];
    if (!d.amount || *d.amount <= 0) continue;
    const Stay* stay = history.stay_at(d, at);
    double waited = stay ? static_cast<double>(at - stay->entered_at) / micros_per_day : 0;
    double in_period = chance_to_close_within(trained, stage_at(history, d, at), waited, settings.horizon_days);
    Line line{static_cast<double>(*d.amount), s.probability * in_period, s.stage_probability * in_period, {"total"},
              !d.expected_close.empty() && d.expected_close <= period_end};
    if (!d.owner_id.empty()) line.groups.push_back("owner:" + d.owner_id);
    auto team = history.owner_team.find(d.owner_id);
    if (team != history.owner_team.end() && !team->second.empty()) line.groups.push_back("team:" + team->second);
    line.groups.push_back("pipeline:" + d.pipeline_id);
    for (const auto& g : line.groups) group_index.emplace(g, group_index.size());
    lines.push_back(std::move(line));
  }
  std::size_t groups = group_index.size();
  std::vector<double> expected(groups), weighted(groups), commit(groups);
  for (const auto& l : lines)
    for (const auto& g : l.groups) {
      std::size_t k = group_index[g];
      expected[k] += l.amount * l.chance;
      weighted[k] += l.amount * l.stage_chance;
      if (l.committed) commit[k] += l.amount;
    }
  // Each run: every deal wins in the period or not, independently, on its own chance.
  std::mt19937_64 random(20261205);
  std::uniform_real_distribution<double> uniform(0, 1);
  std::vector<std::vector<double>> runs(groups, std::vector<double>(static_cast<std::size_t>(settings.simulations)));
  std::vector<std::size_t> line_groups;
  for (int r = 0; r < settings.simulations; ++r)
    for (const auto& l : lines) {
      if (uniform(random) >= l.chance) continue;
      for (const auto& g : l.groups) runs[group_index[g]][static_cast<std::size_t>(r)] += l.amount;
    }
  Json out = Json::object();
  for (const auto& [name, k] : group_index) {
    auto& v = runs[k];
    std::sort(v.begin(), v.end());
    auto at_quantile = [&](double q) { return v.empty() ? 0.0 : v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))]; };
    out[name] = {{"expected", std::round(expected[k])},     {"p10", at_quantile(0.1)},  {"p50", at_quantile(0.5)},
                 {"p90", at_quantile(0.9)},                 {"stage_weighted", std::round(weighted[k])},
                 {"commit", commit[k]}};
  }
  if (!out.contains("total"))
    out["total"] = {{"expected", 0}, {"p10", 0}, {"p50", 0}, {"p90", 0}, {"stage_weighted", 0}, {"commit", 0}};
  return {{"from", rfc3339(at)}, {"to", rfc3339(at + settings.horizon_days * micros_per_day)},
          {"horizon_days", settings.horizon_days}, {"basis", trained ? "model" : "stage_probability"}, {"groups", out}};
}

Json forecast_outcome(const History& history, const Json& stored, std::int64_t now) {
  std::int64_t from = rfc3339_micros(stored.at("from").get<std::string>());
  std::int64_t to = rfc3339_micros(stored.at("to").get<std::string>());
  if (to > now) return nullptr;
  double actual = 0;
  for (const Deal* d : open_deals_at(history, from))
    if (d->won && *d->closed_at < to && d->amount) actual += static_cast<double>(*d->amount);
  const Json& total = stored.at("groups").at("total");
  auto error = [&](const char* figure) {
    return actual > 0 ? Json(std::abs(total.at(figure).get<double>() - actual) / actual) : Json();
  };
  return {{"from", stored["from"]},
          {"to", stored["to"]},
          {"horizon_days", stored.value("horizon_days", Json())},
          {"basis", stored.value("basis", Json())},
          {"actual", actual},
          {"expected", total["expected"]},
          {"p10", total["p10"]},
          {"p90", total["p90"]},
          {"stage_weighted", total["stage_weighted"]},
          {"commit", total["commit"]},
          {"error", error("expected")},
          {"stage_weighted_error", error("stage_weighted")},
          {"commit_error", error("commit")},
          {"covered", actual >= total["p10"].get<double>() && actual <= total["p90"].get<double>()}};
}

Json backtest(const History& history, std::int64_t as_of, const Settings& settings) {
  Json report{{"as_of", rfc3339(as_of)}, {"horizon_days", settings.horizon_days}};
  auto trained = train(history, as_of, settings);
  if (!trained) {
    report["status"] = "not_enough_history";
    report["closed_deals"] = closed_before(history, as_of).size();
    report["needed"] = settings.min_closed_deals;
    return report;
  }
  auto open = open_deals_at(history, as_of);
  auto scores = score_open_deals(history, &*trained, as_of, open);
  std::vector<float> p, baseline, outcome;
  for (std::size_t i = 0; i < open.size(); ++i) {
    if (!open[i]->closed_at) continue;  // still open: its outcome is unknown
    p.push_back(static_cast<float>(scores[i].probability));
    baseline.push_back(static_cast<float>(scores[i].stage_probability));
    outcome.push_back(open[i]->won ? 1.0f : 0.0f);
  }
  // Scored as a stored forecast is once its period has ended.
  Json result = forecast_outcome(history, forecast(history, &*trained, scores, as_of, settings),
                                 std::numeric_limits<std::int64_t>::max());
  report["status"] = "ok";
  report["trained_on"] = {{"closed_deals", trained->closed_deals}, {"examples", trained->examples}};
  report["deals_scored"] = outcome.size();
  report["win_probability"] = {{"brier", brier_score(p, outcome)},
                               {"log_loss", log_loss(p, outcome)},
                               {"baseline_brier", brier_score(baseline, outcome)},
                               {"baseline_log_loss", log_loss(baseline, outcome)},
                               {"calibration", calibration_bins(p, outcome)}};
  report["forecast"] = {{"actual", result["actual"]},
                        {"expected", result["expected"]},
                        {"p10", result["p10"]},
                        {"p90", result["p90"]},
                        {"stage_weighted", result["stage_weighted"]},
                        {"absolute_percentage_error", result["error"]},
                        {"baseline_absolute_percentage_error", result["stage_weighted_error"]},
                        {"covered", result["covered"]}};
  return report;
}

}  // namespace insight
