#pragma once

// What the insight plugin computes from a tenant's history: a trained model with its
// held-out quality, each open deal's score with the factors behind it and its risks, a
// forecast with an interval, and the backtest that measures all of it against what
// happened (docs/insight.md).

#include <optional>

#include "features.hpp"
#include "model.hpp"

namespace insight {

struct Settings {
  std::size_t min_closed_deals = 200;
  int horizon_days = 90;   // the forecast's period: the next N days
  int simulations = 2000;  // Monte Carlo runs of the forecast
  TrainOptions training;
};

// A model of one tenant with what it was trained on and how well it did on deals it
// had not seen (the last fifth of the closes, by time).
struct Trained {
  Model model;
  FeatureSpace space;
  std::int64_t cutoff = 0;  // trained on deals closed before this instant
  std::size_t closed_deals = 0, examples = 0;
  Json validation;  // {"deals", "examples", "brier", "log_loss", "baseline_brier", "baseline_log_loss", "calibration"}
  // Of won deals seen in each stage, the days they still took to close (sorted): when an
  // open deal in that stage would close if it wins.
  std::map<std::string, std::vector<float>> days_to_close;
  int rounds = 0;  // trees, chosen by early stopping on the held-out closes
  // The final probability: logistic(stack[0]·logit(model) + stack[1]·logit(stage's
  // declared probability) + stack[2]), fitted on the held-out closes — a model that
  // learned nothing useful leans on the stage, one that did overrides it.
  std::vector<double> stack{1, 0, 0};
  double probability(double model, double stage) const;
};

// The trained model, or nothing when fewer than settings.min_closed_deals deals closed
// before `cutoff` — the "not enough history" answer.
std::optional<Trained> train(const History& history, std::int64_t cutoff, const Settings& settings);

// Saves and restores what train() made (the model's bytes travel separately).
Json trained_summary(const Trained& t);
Trained restore(const Json& summary, const std::string& model_bytes);

struct Factor {
  std::string feature, text;
  double points = 0;  // how much it moves the probability, in percentage points
};

struct Score {
  std::string deal_id, owner_id, pipeline_id, basis;  // basis: "model" or "stage_probability"
  double probability = 0, stage_probability = 0;
  std::vector<Factor> factors;  // the largest first, at most five
  std::vector<std::string> risks;
  Json to_json() const;
};

// Open deals' scores as of `at` (all of them in one prediction). Without a model the
// score is the stage's probability and `basis` says so.
std::vector<Score> score_open_deals(const History& history, const Trained* trained, std::int64_t at,
                                    const std::vector<const Deal*>& deals);
// The open deals of the history as of `at`: created before it and not closed by then.
std::vector<const Deal*> open_deals_at(const History& history, std::int64_t at);

// Forecast of the won amount of `deals` over the `horizon_days` after `at`, per group
// ("total", "owner:<id>", "team:<id>", "pipeline:<id>"): {"expected", "p10", "p50",
// "p90", "stage_weighted", "commit"} — Monte Carlo over each deal's win probability and
// the chance it closes in the period (its stage's days_to_close), seeded.
Json forecast(const History& history, const Trained* trained, const std::vector<Score>& scores, std::int64_t at,
              const Settings& settings);

// How a stored forecast (forecast()'s answer) came out once its period has ended by
// `now`: the won amount of the deals open at its "from" that were won before its "to",
// beside the forecast's figures for the total — {"from", "to", "horizon_days", "basis",
// "actual", "expected", "p10", "p90", "stage_weighted", "commit", "error",
// "stage_weighted_error", "commit_error" (|figure − actual| / actual; null when nothing
// was won), "covered" (actual within p10–p90)}. Null while the period runs.
Json forecast_outcome(const History& history, const Json& stored, std::int64_t now);

// Trains on what was known before `as_of` and scores what happened after: the model's
// Brier score and log-loss against the stage-weighted baseline on the deals open at
// `as_of` that closed since, and the forecast of the next horizon against the actual won
// amount. {"as_of", "status": "ok" | "not_enough_history", …}
Json backtest(const History& history, std::int64_t as_of, const Settings& settings);


}  // namespace insight
