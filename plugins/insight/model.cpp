#include "model.hpp"

#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace insight {
namespace {

void check(int status, const char* what) {
  if (status != 0) throw std::runtime_error(std::string("xgboost: ") + what + ": " + XGBGetLastError());
}

// A DMatrix that frees itself.
class DMatrix {
 public:
  explicit DMatrix(const Matrix& x) {
    check(XGDMatrixCreateFromMat(x.values.data(), x.rows(), x.columns, std::numeric_limits<float>::quiet_NaN(), &handle_),
          "matrix");
  }
  ~DMatrix() { XGDMatrixFree(handle_); }
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  DMatrixHandle get() const { return handle_; }

 private:
  DMatrixHandle handle_ = nullptr;
};

constexpr int predict_probability = 0, predict_contributions = 2;

}  // namespace

// One booster, used by one thread at a time: XGBoost's prediction caches are not
// documented as safe for concurrent calls on one handle.
struct Model::Booster {
  BoosterHandle handle = nullptr;
  std::mutex mutex;
  ~Booster() {
    if (handle) XGBoosterFree(handle);
  }
};

Model Model::train(const Matrix& x, const std::vector<float>& won, const TrainOptions& options) {
  if (x.rows() == 0 || x.rows() != won.size()) throw std::runtime_error("xgboost: no rows, or labels that do not match them");
  DMatrix data(x);
  check(XGDMatrixSetFloatInfo(data.get(), "label", won.data(), won.size()), "labels");
  auto booster = std::make_shared<Booster>();
  DMatrixHandle sets[] = {data.get()};
  check(XGBoosterCreate(sets, 1, &booster->handle), "booster");
  auto set = [&](const char* key, const std::string& value) {
    check(XGBoosterSetParam(booster->handle, key, value.c_str()), key);
  };
  set("objective", "binary:logistic");
  set("eval_metric", "logloss");
  set("tree_method", "hist");
  set("max_depth", std::to_string(options.max_depth));
  set("eta", std::to_string(options.learning_rate));
  set("min_child_weight", "5");
  set("subsample", "1");
  set("lambda", "2");
  set("nthread", std::to_string(options.threads));
  set("seed", std::to_string(options.seed));
  set("verbosity", "0");
  for (int round = 0; round < options.rounds; ++round)
    check(XGBoosterUpdateOneIter(booster->handle, round, data.get()), "training");
  return Model(booster);
}

Model Model::load(const std::string& bytes) {
  auto booster = std::make_shared<Booster>();
  check(XGBoosterCreate(nullptr, 0, &booster->handle), "booster");
  check(XGBoosterLoadModelFromBuffer(booster->handle, bytes.data(), bytes.size()), "loading the model");
  return Model(booster);
}

std::string Model::save() const {
  if (!booster_) throw std::runtime_error("xgboost: no model to save");
  std::lock_guard<std::mutex> lock(booster_->mutex);
  bst_ulong size = 0;
  const char* data = nullptr;
  check(XGBoosterSaveModelToBuffer(booster_->handle, R"({"format": "ubj"})", &size, &data), "saving the model");
  return std::string(data, size);
}

std::vector<float> Model::run(const Matrix& x, int type, int rounds) const {
  if (x.rows() == 0) return {};
  if (!booster_) throw std::runtime_error("xgboost: no model to predict with");
  DMatrix data(x);
  std::string config = R"({"type": )" + std::to_string(type) +
                       R"(, "training": false, "iteration_begin": 0, "iteration_end": )" + std::to_string(rounds) +
                       R"(, "strict_shape": false})";
  std::lock_guard<std::mutex> lock(booster_->mutex);
  const bst_ulong* shape = nullptr;
  bst_ulong dimensions = 0;
  const float* result = nullptr;
  check(XGBoosterPredictFromDMatrix(booster_->handle, data.get(), config.c_str(), &shape, &dimensions, &result),
        "prediction");
  std::size_t n = 1;
  for (bst_ulong i = 0; i < dimensions; ++i) n *= shape[i];
  return std::vector<float>(result, result + n);
}

std::vector<float> Model::predict(const Matrix& x, int rounds) const { return run(x, predict_probability, rounds); }
std::vector<float> Model::contributions(const Matrix& x) const { return run(x, predict_contributions); }

double logit(double p) {
  p = std::clamp(p, 1e-4, 1 - 1e-4);
  return std::log(p / (1 - p));
}

std::vector<double> fit_logistic(const std::vector<std::vector<double>>& inputs, const std::vector<float>& outcome) {
  const std::size_t k = inputs.empty() ? 1 : inputs.front().size() + 1;
  std::vector<double> w(k, 0.0);
  w[0] = 1;  // start from "trust the first input"
  for (int iteration = 0; iteration < 25; ++iteration) {
    std::vector<double> gradient(k, 0.0);
    std::vector<std::vector<double>> hessian(k, std::vector<double>(k, 0.0));
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      std::vector<double> v = inputs[i];
      v.push_back(1);
      double z = 0;
      for (std::size_t j = 0; j < k; ++j) z += w[j] * v[j];
      double p = 1 / (1 + std::exp(-z)), weight = std::max(p * (1 - p), 1e-6);
      for (std::size_t a = 0; a < k; ++a) {
        gradient[a] += (p - outcome[i]) * v[a];
        for (std::size_t b = 0; b < k; ++b) hessian[a][b] += weight * v[a] * v[b];
      }
    }
    for (std::size_t a = 0; a < k; ++a) {  // a little ridge keeps it solvable
      gradient[a] += 1e-3 * w[a];
      hessian[a][a] += 1e-3;
    }
    // Solve hessian · step = gradient (Gauss-Jordan; k is 3).
    std::vector<double> step = gradient;
    for (std::size_t c = 0; c < k; ++c) {
      std::size_t pivot = c;
      for (std::size_t r = c + 1; r < k; ++r)
        if (std::abs(hessian[r][c]) > std::abs(hessian[pivot][c])) pivot = r;
      std::swap(hessian[c], hessian[pivot]);
      std::swap(step[c], step[pivot]);
      if (std::abs(hessian[c][c]) < 1e-12) return w;
      for (std::size_t r = 0; r < k; ++r) {
        if (r == c) continue;
        double f = hessian[r][c] / hessian[c][c];
        for (std::size_t j = c; j < k; ++j) hessian[r][j] -= f * hessian[c][j];
        step[r] -= f * step[c];
      }
    }
    double moved = 0;
    for (std::size_t a = 0; a < k; ++a) {
      double delta = step[a] / hessian[a][a];
      w[a] -= delta;
      moved = std::max(moved, std::abs(delta));
    }
    if (moved < 1e-6) break;
  }
  return w;
}

double brier_score(const std::vector<float>& p, const std::vector<float>& outcome) {
  if (p.empty()) return 0;
  double sum = 0;
  for (std::size_t i = 0; i < p.size(); ++i) sum += (p[i] - outcome[i]) * (p[i] - outcome[i]);
  return sum / static_cast<double>(p.size());
}

double log_loss(const std::vector<float>& p, const std::vector<float>& outcome) {
  if (p.empty()) return 0;
  double sum = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    double q = std::clamp(static_cast<double>(p[i]), 1e-6, 1 - 1e-6);
    sum -= outcome[i] > 0.5 ? std::log(q) : std::log(1 - q);
  }
  return sum / static_cast<double>(p.size());
}

Json calibration_bins(const std::vector<float>& p, const std::vector<float>& outcome) {
  struct Bin {
    int deals = 0;
    double predicted = 0, observed = 0;
  };
  std::vector<Bin> bins(10);
  for (std::size_t i = 0; i < p.size(); ++i) {
    auto& b = bins[std::min<std::size_t>(9, static_cast<std::size_t>(p[i] * 10))];
    ++b.deals;
    b.predicted += p[i];
    b.observed += outcome[i];
  }
  Json out = Json::array();
  for (std::size_t i = 0; i < bins.size(); ++i) {
    const Bin& b = bins[i];
    out.push_back({{"from", static_cast<double>(i) / 10},
                   {"to", static_cast<double>(i + 1) / 10},
                   {"deals", b.deals},
                   {"mean_predicted", b.deals ? Json(b.predicted / b.deals) : Json()},
                   {"observed", b.deals ? Json(b.observed / b.deals) : Json()}});
  }
  return out;
}

double calibration_gap(const Json& bins, int min_deals) {
  double gap = 0;
  for (const auto& b : bins)
    if (b.value("deals", 0) >= min_deals)
      gap = std::max(gap, std::abs(b["mean_predicted"].get<double>() - b["observed"].get<double>()));
  return gap;
}

}  // namespace insight
