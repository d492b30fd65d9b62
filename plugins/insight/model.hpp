#pragma once

// Gradient-boosted trees through XGBoost's C API (Debian libxgboost-dev; ADR 0044): a
// binary classifier of won against lost, its per-feature contributions (SHAP values) for
// the factors a rep reads, and the scores that say how good it is.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "history.hpp"

namespace insight {

struct TrainOptions {
  int rounds = 300;  // at most: early stopping on the held-out closes picks how many
  int max_depth = 4;
  double learning_rate = 0.08;
  int threads = 1;  // deterministic: one thread gives the same trees on every run
  int seed = 7;
};

// Rows of features, row after row (`columns` floats each), NaN where missing.
struct Matrix {
  std::vector<float> values;
  std::size_t columns = 0;
  std::size_t rows() const { return columns == 0 ? 0 : values.size() / columns; }
  void add(const std::vector<float>& row) { values.insert(values.end(), row.begin(), row.end()); }
};

class Model {
 public:
  Model() = default;  // no model yet: train() or load() one
  // Fits won (1) against lost (0); throws std::runtime_error with XGBoost's message.
  static Model train(const Matrix& x, const std::vector<float>& won, const TrainOptions& options);
  // A model saved by save() (XGBoost's UBJSON).
  static Model load(const std::string& bytes);
  std::string save() const;

  // Probabilities of winning, one per row; `rounds` > 0 uses only the first that many
  // trees (how early stopping compares model sizes without training each).
  std::vector<float> predict(const Matrix& x, int rounds = 0) const;
  // Each row's contributions in log-odds, x.columns + 1 per row (the last: the bias).
  std::vector<float> contributions(const Matrix& x) const;

 private:
  struct Booster;
  explicit Model(std::shared_ptr<Booster> booster) : booster_(std::move(booster)) {}
  std::vector<float> run(const Matrix& x, int type, int rounds = 0) const;
  std::shared_ptr<Booster> booster_;
};

// Logistic regression of the outcome on a few inputs (Newton's method, lightly
// regularised): the stacker that weighs the model's log-odds against the stage's.
// Returns the weights, the intercept last.
std::vector<double> fit_logistic(const std::vector<std::vector<double>>& inputs, const std::vector<float>& outcome);
double logit(double p);

// How good probabilities are against what happened.
double brier_score(const std::vector<float>& p, const std::vector<float>& outcome);
double log_loss(const std::vector<float>& p, const std::vector<float>& outcome);
// Ten reliability bins (0-10 %, …, 90-100 %): {"from", "to", "deals", "mean_predicted",
// "observed"} — a calibrated model's predicted and observed rates agree in each bin.
Json calibration_bins(const std::vector<float>& p, const std::vector<float>& outcome);
// The largest |predicted − observed| over bins holding at least `min_deals` deals.
double calibration_gap(const Json& bins, int min_deals = 30);

}  // namespace insight
