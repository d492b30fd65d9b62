#include "committee.hpp"

#include <map>

namespace nucleo::education {

const std::vector<std::string>& committee_roles() {
  static const std::vector<std::string> roles{"sponsor", "economic_buyer", "technical_evaluator", "user", "blocker"};
  return roles;
}

Json committee_coverage(const std::vector<Json>& members, const std::vector<std::string>& roles) {
  std::map<std::string, std::pair<int, int>> by_role;  // holders, engaged
  for (const auto& role : roles) by_role[role] = {0, 0};
  for (const auto& m : members) {
    auto it = by_role.find(m.value("role", ""));
    if (it == by_role.end()) continue;
    ++it->second.first;
    if (m.value("engaged_in_stage", false)) ++it->second.second;
  }
  Json per_role = Json::object(), unengaged = Json::array(), missing = Json::array();
  int covered = 0;
  for (const auto& role : roles) {
    auto [holders, engaged] = by_role[role];
    per_role[role] = {{"holders", holders}, {"engaged", engaged}};
    if (holders == 0) missing.push_back(role);
    if (engaged == 0) unengaged.push_back(role);
    else ++covered;
  }
  int percent = roles.empty() ? 100 : covered * 100 / static_cast<int>(roles.size());  // rounded down
  return {{"roles", per_role}, {"unengaged", unengaged}, {"missing", missing}, {"coverage_percent", percent}};
}

}  // namespace nucleo::education
