#pragma once

// A tenant's sales process as the insight plugin learns from it: the rows of one snapshot
// read (plugin ABI 1.10, read_snapshot) gathered per deal, so features can be computed
// as of any instant (docs/insight.md, "Features").

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "nucleo/sdk/plugin.hpp"

namespace insight {

using Json = nlohmann::json;

constexpr std::int64_t micros_per_day = 86'400'000'000;

// RFC 3339 of micros, and YYYY-MM-DD to micros (midnight UTC); throws
// std::invalid_argument on a bad date.
std::string rfc3339(std::int64_t micros);
std::int64_t day_start_micros(const std::string& date);
// rfc3339()'s text back to micros ("2026-07-01T12:00:00Z"); std::invalid_argument otherwise.
std::int64_t rfc3339_micros(const std::string& text);

struct Stage {
  std::string id, pipeline_id, kind;  // kind: open, won, lost
  std::int64_t position = 0, probability = 0;
  std::optional<std::int64_t> rot_days;
  std::int64_t criteria = 0;  // how many entry criteria its gate has
  bool archived = false;
};

struct Stay {  // a deal's time in one stage
  std::string stage_id;
  std::int64_t entered_at = 0;
  std::optional<std::int64_t> left_at;
};

struct Touch {  // an interaction, as much of it as a feature needs
  std::int64_t at = 0;
  std::string type, channel;
  bool inbound = false;
  std::string contact_id;
};

struct CloseDate {  // an expected close the deal was given, and when
  std::int64_t at = 0;
  std::optional<std::int64_t> date;  // the day's start (micros); none: cleared
};

struct Task {
  std::int64_t created_at = 0;
  std::optional<std::int64_t> due_at, completed_at;
};

struct Deal {
  std::string id, account_id, pipeline_id, stage_id, owner_id, status, currency, lost_reason;
  std::optional<std::int64_t> amount;
  std::string expected_close;  // YYYY-MM-DD or empty
  std::int64_t created_at = 0, stage_entered_at = 0;
  std::size_t contact_count = 0;
  std::map<std::string, std::string> contact_roles;  // contact → the role the deal gives them ("decisor")
  Json attributes = Json::object();
  std::vector<Stay> stays;     // oldest first
  std::vector<Touch> touches;  // oldest first
  std::vector<CloseDate> close_dates;  // oldest first (snapshot kind deal_close_history)
  std::vector<Task> tasks;
  // When the deal was won or lost (its entry into a won or lost stage), if it was.
  std::optional<std::int64_t> closed_at;
  bool won = false;
};

// A contact as the diagnosis sees it: linked or not, and how it has been talked to.
struct ContactActivity {
  bool linked = false;  // belongs to an account
  bool described = false;  // has a job title
  std::optional<bool> consented;  // consent granted for some purpose (unknown: an older kernel)
  int messages = 0, outbound = 0;
  std::set<std::string> channels;
};

struct History {
  std::map<std::string, Stage> stages;
  std::map<std::string, std::string> owner_team;  // user → first team, "" when none
  std::map<std::string, std::string> job_titles;  // contact → job title
  std::map<std::string, ContactActivity> contacts;
  std::vector<Deal> deals;
  std::map<std::string, std::size_t> deal_index;  // id → position in deals
  std::int64_t read_at = 0;

  // Adds one snapshot row ({"kind", …}); unknown kinds are ignored (a newer kernel).
  void add(const Json& row);
  // Sorts each deal's stays and touches and works out how each closed deal ended: call
  // once after the last row.
  void finish();

  const Stage* stage(const std::string& id) const;
  // The live stage a deal in `stage_id` moves to next: the first after it in its
  // pipeline that is not a lost stage (a won stage may be it). Null when there is none.
  const Stage* next_stage(const std::string& stage_id) const;
  // The stage the deal was in at `at` (its stay covering `at`), or null before it existed.
  const Stay* stay_at(const Deal& deal, std::int64_t at) const;
  std::size_t closed_deals() const;
};

// The median amount of the deals created before `before` (0 when none has an amount):
// "typical deal" in the features' words.
double median_amount(const History& history, std::int64_t before);

}  // namespace insight
