#pragma once

// What the model sees of a deal as of an instant — computed from nothing later than that
// instant, so training (as of moments in closed deals' past), scoring (as of now) and the
// backtest (as of a past date) share one function and the backtest cannot peek at the
// future (docs/insight.md, "Features").

#include <cmath>
#include <string>
#include <vector>

#include "history.hpp"

namespace insight {

// The features of one tenant's model: the fixed ones, then the numeric deal attributes
// its deals carry (vertical packs' hectares, beds…), fixed when the model is trained.
struct FeatureSpace {
  std::vector<std::string> attribute_keys;
  double typical_amount = 0;  // the median amount of deals created before the cutoff

  // Up to ten numeric attribute keys found on deals created before `cutoff`.
  static FeatureSpace of(const History& history, std::int64_t cutoff);
  std::vector<std::string> names() const;
  std::size_t size() const;
  Json to_json() const;
  static FeatureSpace from_json(const Json& j);
};

// The fixed features, in order (names() starts with these).
enum Feature : std::size_t {
  stage_probability,
  stage_position,
  days_in_stage,
  deal_age_days,
  stages_entered,
  days_since_activity,
  activities_30d,
  inbound_share,
  channels_used,
  engaged_contacts,
  committee_roles,
  amount_ratio,
  overdue_tasks,
  account_wins,
  account_losses,
  rot_ratio,
  close_slips,       // times the expected close was moved later, so far
  days_past_close,   // days since the expected close known then (negative: still ahead)
  fixed_feature_count
};

// Deals of each account with how and when they ended: for the "account history" features.
class AccountRecord {
 public:
  explicit AccountRecord(const History& history);
  std::pair<int, int> wins_and_losses_before(const std::string& account_id, std::int64_t at) const;

 private:
  std::map<std::string, std::vector<std::pair<std::int64_t, bool>>> closes_;  // account → (closed_at, won)
};

// The deal's features as of `at` (missing values NaN: XGBoost learns where they go).
std::vector<float> features_as_of(const History& history, const AccountRecord& accounts, const FeatureSpace& space,
                                  const Deal& deal, std::int64_t at);

// A feature's value in a rep's words ("no activity for 21 days"); `value` as computed above.
std::string describe(const FeatureSpace& space, std::size_t feature, float value);

// The buying-committee role a job title suggests (decision, finance, procurement,
// technical, user), empty when it says nothing: Portuguese and English words.
std::string committee_role(const std::string& job_title);

}  // namespace insight
