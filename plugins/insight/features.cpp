#include "features.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <set>

namespace insight {
namespace {

constexpr float missing = std::numeric_limits<float>::quiet_NaN();
constexpr std::size_t max_attribute_keys = 10;

float days(std::int64_t micros) { return static_cast<float>(static_cast<double>(micros) / micros_per_day); }

std::string lower_ascii(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

bool says_any(const std::string& text, std::initializer_list<const char*> words) {
  return std::any_of(words.begin(), words.end(), [&](const char* w) { return text.find(w) != std::string::npos; });
}

std::string number(float v, int decimals = 0) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, static_cast<double>(v));
  return buffer;
}

}  // namespace

std::string committee_role(const std::string& job_title) {
  // Padded, so short words match whole: " ti " and " it ", not "gestión" or "digital".
  std::string t = " " + lower_ascii(job_title) + " ";
  for (auto& c : t)
    if (c == ',' || c == '/' || c == '-' || c == '(' || c == ')') c = ' ';
  if (says_any(t, {" ceo ", "decisor", "decision", "diretor", "director", "presidente", "president", " owner", "socio", "sócio", "founder", " head "}))
    return "decision";
  if (says_any(t, {"financ", " cfo ", "controller", "tesour"})) return "finance";
  if (says_any(t, {"compra", "procurement", "purchas", "suprimento", "buyer"})) return "procurement";
  if (says_any(t, {" cto ", " ti ", "tecnolog", "technolog", "engenh", "engineer", " it ", "sistemas", "developer"}))
    return "technical";
  if (t.find_first_not_of(' ') != std::string::npos) return "user";
  return "";
}

FeatureSpace FeatureSpace::of(const History& history, std::int64_t cutoff) {
  FeatureSpace space;
  space.typical_amount = median_amount(history, cutoff);
  std::map<std::string, std::size_t> seen;
  for (const auto& d : history.deals) {
    if (d.created_at >= cutoff || !d.attributes.is_object()) continue;
    for (const auto& [key, value] : d.attributes.items())
      if (value.is_number()) ++seen[key];
  }
  std::vector<std::pair<std::size_t, std::string>> by_use;
  for (const auto& [key, count] : seen) by_use.push_back({count, key});
  std::sort(by_use.begin(), by_use.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  for (std::size_t i = 0; i < by_use.size() && i < max_attribute_keys; ++i) space.attribute_keys.push_back(by_use[i].second);
  return space;
}

std::vector<std::string> FeatureSpace::names() const {
  std::vector<std::string> out{"stage_probability", "stage_position",   "days_in_stage",  "deal_age_days",
                               "stages_entered",    "days_since_activity", "activities_30d", "inbound_share",
                               "channels_used",     "engaged_contacts", "committee_roles", "amount_ratio",
                               "overdue_tasks",     "account_wins",     "account_losses", "rot_ratio",
                               "close_slips",       "days_past_close"};
  for (const auto& key : attribute_keys) out.push_back("attribute:" + key);
  return out;
}

std::size_t FeatureSpace::size() const { return fixed_feature_count + attribute_keys.size(); }

Json FeatureSpace::to_json() const {
  return {{"attribute_keys", attribute_keys}, {"typical_amount", typical_amount}, {"names", names()}};
}

FeatureSpace FeatureSpace::from_json(const Json& j) {
  FeatureSpace space;
  space.attribute_keys = j.value("attribute_keys", std::vector<std::string>());
  space.typical_amount = j.value("typical_amount", 0.0);
  return space;
}

AccountRecord::AccountRecord(const History& history) {
  for (const auto& d : history.deals)
    if (d.closed_at) closes_[d.account_id].push_back({*d.closed_at, d.won});
}

std::pair<int, int> AccountRecord::wins_and_losses_before(const std::string& account_id, std::int64_t at) const {
  auto it = closes_.find(account_id);
  int wins = 0, losses = 0;
  if (it == closes_.end()) return {0, 0};
  for (const auto& [closed_at, won] : it->second)
    if (closed_at < at) (won ? wins : losses) += 1;
  return {wins, losses};
}

std::vector<float> features_as_of(const History& history, const AccountRecord& accounts, const FeatureSpace& space,
                                  const Deal& deal, std::int64_t at) {
  std::vector<float> x(space.size(), missing);
  const Stay* stay = history.stay_at(deal, at);
  const Stage* stage = stay ? history.stage(stay->stage_id) : nullptr;
  if (stage) {
    x[stage_probability] = static_cast<float>(stage->probability);
    x[stage_position] = static_cast<float>(stage->position);
    if (stage->rot_days && *stage->rot_days > 0)
      x[rot_ratio] = days(at - stay->entered_at) / static_cast<float>(*stage->rot_days);
  }
  if (stay) x[days_in_stage] = days(at - stay->entered_at);
  x[deal_age_days] = days(at - deal.created_at);
  x[stages_entered] = static_cast<float>(
      std::count_if(deal.stays.begin(), deal.stays.end(), [&](const Stay& s) { return s.entered_at <= at; }));

  // Activity up to `at` only.
  auto end = std::upper_bound(deal.touches.begin(), deal.touches.end(), at,
                              [](std::int64_t t, const Touch& touch) { return t < touch.at; });
  std::size_t total = static_cast<std::size_t>(end - deal.touches.begin()), inbound = 0, recent = 0;
  std::set<std::string> channels, contacts, roles;
  for (auto it = deal.touches.begin(); it != end; ++it) {
    if (it->inbound) ++inbound;
    if (at - it->at <= 30 * micros_per_day) ++recent;
    channels.insert(it->channel.empty() ? it->type : it->channel);
    if (!it->contact_id.empty()) {
      contacts.insert(it->contact_id);
      // The role the deal gives the contact ("decisor", "compras"), else their job title.
      auto named = deal.contact_roles.find(it->contact_id);
      auto title = history.job_titles.find(it->contact_id);
      std::string role = named != deal.contact_roles.end() && !named->second.empty() ? committee_role(named->second)
                         : title != history.job_titles.end()                          ? committee_role(title->second)
                                                                                      : "";
      if (!role.empty()) roles.insert(role);
    }
  }
  if (total > 0) {
    x[days_since_activity] = days(at - std::prev(end)->at);
    x[inbound_share] = static_cast<float>(inbound) / static_cast<float>(total);
  }
  x[activities_30d] = static_cast<float>(recent);
  x[channels_used] = static_cast<float>(channels.size());
  x[engaged_contacts] = static_cast<float>(contacts.size());
  x[committee_roles] = static_cast<float>(roles.size());
  if (deal.amount && space.typical_amount > 0)
    x[amount_ratio] = static_cast<float>(static_cast<double>(*deal.amount) / space.typical_amount);
  x[overdue_tasks] = static_cast<float>(std::count_if(deal.tasks.begin(), deal.tasks.end(), [&](const Task& t) {
    return t.created_at <= at && t.due_at && *t.due_at < at && (!t.completed_at || *t.completed_at > at);
  }));
  // The expected close as it was known at `at`, and how often it had moved later by then.
  std::optional<std::int64_t> expected;
  int slips = 0;
  bool known = false;
  for (const auto& c : deal.close_dates) {
    if (c.at > at) break;
    if (known && c.date && expected && *c.date > *expected) ++slips;
    expected = c.date;
    known = true;
  }
  x[close_slips] = static_cast<float>(slips);
  if (expected) x[days_past_close] = days(at - *expected);
  auto [wins, losses] = accounts.wins_and_losses_before(deal.account_id, at);
  x[account_wins] = static_cast<float>(wins);
  x[account_losses] = static_cast<float>(losses);
  for (std::size_t i = 0; i < space.attribute_keys.size(); ++i) {
    auto it = deal.attributes.find(space.attribute_keys[i]);
    if (it != deal.attributes.end() && it->is_number()) x[fixed_feature_count + i] = it->get<float>();
  }
  return x;
}

std::string describe(const FeatureSpace& space, std::size_t feature, float value) {
  bool none = std::isnan(value);
  switch (feature) {
    case stage_probability: return none ? "stage unknown" : "stage probability " + number(value) + "%";
    case stage_position: return none ? "stage unknown" : "stage " + number(value) + " of the pipeline";
    case days_in_stage: return number(value) + " days in the current stage";
    case deal_age_days: return "open for " + number(value) + " days";
    case stages_entered: return number(value) + " stages reached";
    case days_since_activity: return none ? "no activity recorded" : "last activity " + number(value) + " days ago";
    case activities_30d: return number(value) + " activities in the last 30 days";
    case inbound_share: return none ? "no conversation yet" : number(value * 100) + "% of messages from the customer";
    case channels_used: return number(value) + (value == 1 ? " channel used" : " channels used");
    case engaged_contacts: return number(value) + (value == 1 ? " contact engaged" : " contacts engaged");
    case committee_roles: return number(value) + " buying-committee roles engaged";
    case amount_ratio: return none ? "no amount" : "amount " + number(value, 1) + "× the typical deal";
    case overdue_tasks: return number(value) + " overdue tasks";
    case account_wins: return number(value) + " deals won with this account before";
    case account_losses: return number(value) + " deals lost with this account before";
    case rot_ratio: return none ? "no rot limit" : number(value * 100) + "% of the stage's rot limit";
    case close_slips:
      return value == 0 ? "close date never moved later"
                        : "close date moved later " + number(value) + (value == 1 ? " time" : " times");
    case days_past_close:
      return none        ? "no expected close"
             : value > 0 ? "expected close passed " + number(value) + " days ago"
                         : "expected close in " + number(-value) + " days";
    default: break;
  }
  std::size_t i = feature - fixed_feature_count;
  std::string key = i < space.attribute_keys.size() ? space.attribute_keys[i] : "attribute";
  return none ? key + " not set" : key + " = " + number(value, value == std::floor(value) ? 0 : 2);
}

}  // namespace insight
