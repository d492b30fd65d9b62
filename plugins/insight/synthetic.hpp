#pragma once

// Synthetic tenants from a known sales process, for the tests and the benchmark: whether
// a deal is won depends on effects chosen here (engaged contacts, a responsive customer,
// the amount against the typical deal), deals are created with a seasonal rhythm and
// close later than reps expected (slippage). A model that learns from them must find
// those effects and nothing else (docs/insight.md, "How it is tested").

#include <cstdint>
#include <vector>

#include "history.hpp"

namespace insight::synthetic {

struct Process {
  std::size_t deals = 3000;
  std::int64_t now = 0;            // the snapshot's instant (micros)
  int days_of_history = 730;       // deals are created over this many days before `now`
  std::uint64_t seed = 42;
  double base_log_odds = -0.4;
  double per_engaged_contact = 0.9;  // each contact engaged beyond two
  double responsive = 1.3;           // ± for a customer who answers (and writes back) or not
  double per_log_amount = -0.8;      // per unit of log(amount / typical amount)
  int owners = 5;
  int accounts = 600;
  int interactions_cap = 40;         // per deal
};

// The rows read_snapshot would stream for such a tenant ({"kind", …}).
std::vector<Json> rows(const Process& process);

// The true win probability the process gave each deal (by id): what a perfect model says.
std::map<std::string, double> true_probabilities(const Process& process);

}  // namespace insight::synthetic
