#include "history.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace insight {

std::string rfc3339(std::int64_t micros) {
  std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  std::tm t{};
  gmtime_r(&seconds, &t);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &t);
  return buffer;
}

std::int64_t day_start_micros(const std::string& date) {
  std::tm t{};
  if (date.size() != 10 || std::sscanf(date.c_str(), "%4d-%2d-%2d", &t.tm_year, &t.tm_mon, &t.tm_mday) != 3 ||
      date[4] != '-' || date[7] != '-')
    throw std::invalid_argument("not a date (YYYY-MM-DD): " + date);
  if (t.tm_mon < 1 || t.tm_mon > 12 || t.tm_mday < 1 || t.tm_mday > 31)
    throw std::invalid_argument("not a date (YYYY-MM-DD): " + date);
  t.tm_year -= 1900;
  t.tm_mon -= 1;
  std::int64_t micros = static_cast<std::int64_t>(timegm(&t)) * 1'000'000;
  if (rfc3339(micros).substr(0, 10) != date) throw std::invalid_argument("no such day: " + date);  // 2026-02-30
  return micros;
}

std::int64_t rfc3339_micros(const std::string& text) {
  int hours = 0, minutes = 0, seconds = 0;
  if (text.size() != 20 || text[10] != 'T' || text[19] != 'Z' ||
      std::sscanf(text.c_str() + 11, "%2d:%2d:%2d", &hours, &minutes, &seconds) != 3 || hours > 23 || minutes > 59 ||
      seconds > 60)
    throw std::invalid_argument("not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ): " + text);
  return day_start_micros(text.substr(0, 10)) + ((hours * 60 + minutes) * 60 + seconds) * std::int64_t{1'000'000};
}

namespace {

std::string text(const Json& row, const char* key) {
  auto it = row.find(key);
  return it != row.end() && it->is_string() ? it->get<std::string>() : std::string();
}
std::optional<std::int64_t> integer(const Json& row, const char* key) {
  auto it = row.find(key);
  if (it == row.end() || !it->is_number()) return std::nullopt;
  return it->get<std::int64_t>();
}

}  // namespace

void History::add(const Json& row) {
  const std::string kind = text(row, "kind");
  if (kind == "stage") {
    Stage s{text(row, "id"), text(row, "pipeline_id"), text(row, "stage_kind"), integer(row, "position").value_or(0),
            integer(row, "probability").value_or(0), integer(row, "rot_days"), integer(row, "criteria").value_or(0),
            row.value("archived", false)};
    stages[s.id] = s;
  } else if (kind == "user") {
    const Json& teams = row.value("team_ids", Json::array());
    owner_team[text(row, "id")] = teams.is_array() && !teams.empty() && teams[0].is_string() ? teams[0].get<std::string>() : "";
  } else if (kind == "contact") {
    if (row.value("archived", false)) return;
    std::string title = text(row, "job_title");
    if (!title.empty()) job_titles[text(row, "id")] = title;
    ContactActivity& c = contacts[text(row, "id")];
    c.linked = !text(row, "account_id").empty();
    c.described = !title.empty();
    if (auto granted = row.find("consent_granted"); granted != row.end() && granted->is_array())
      c.consented = !granted->empty();
  } else if (kind == "deal") {
    if (row.value("archived", false)) return;
    Deal d;
    d.id = text(row, "id");
    d.account_id = text(row, "account_id");
    d.pipeline_id = text(row, "pipeline_id");
    d.stage_id = text(row, "stage_id");
    d.owner_id = text(row, "owner_id");
    d.status = text(row, "status");
    d.currency = text(row, "currency");
    d.lost_reason = text(row, "lost_reason");
    d.amount = integer(row, "amount");
    d.expected_close = text(row, "expected_close");
    d.created_at = integer(row, "created_at").value_or(0);
    d.stage_entered_at = integer(row, "stage_entered_at").value_or(d.created_at);
    const Json& contacts = row.value("contacts", Json::array());
    d.contact_count = contacts.is_array() ? contacts.size() : 0;
    for (const auto& c : contacts.is_array() ? contacts : Json::array())
      if (c.is_object() && c.value("contact_id", Json()).is_string())
        d.contact_roles[c["contact_id"]] = c.value("role", Json()).is_string() ? c["role"].get<std::string>() : "";
    d.attributes = row.value("attributes", Json::object());
    deal_index[d.id] = deals.size();
    deals.push_back(std::move(d));
  } else if (kind == "deal_stage_history" || kind == "deal_close_history" || kind == "interaction" || kind == "task") {
    if (kind == "interaction" && !row.value("archived", false)) {
      auto c = contacts.find(text(row, "contact_id"));
      if (c != contacts.end()) {
        ++c->second.messages;
        c->second.outbound += text(row, "direction") == "outbound";
        std::string channel = text(row, "channel");
        c->second.channels.insert(channel.empty() ? text(row, "type") : channel);
      }
    }
    auto it = deal_index.find(text(row, "deal_id"));
    if (it == deal_index.end()) return;  // an account's or a contact's, or an archived deal's
    Deal& d = deals[it->second];
    if (kind == "deal_stage_history") {
      d.stays.push_back({text(row, "stage_id"), integer(row, "entered_at").value_or(0), integer(row, "left_at")});
    } else if (kind == "deal_close_history") {
      std::string day = text(row, "expected_close");
      std::optional<std::int64_t> date;
      try {
        if (!day.empty()) date = day_start_micros(day);
      } catch (const std::invalid_argument&) {
        // not a date: as if cleared
      }
      d.close_dates.push_back({integer(row, "changed_at").value_or(0), date});
    } else if (kind == "interaction") {
      if (row.value("archived", false)) return;
      d.touches.push_back({integer(row, "occurred_at").value_or(0), text(row, "type"), text(row, "channel"),
                           text(row, "direction") == "inbound", text(row, "contact_id")});
    } else if (kind == "task") {
      if (row.value("archived", false)) return;
      d.tasks.push_back({integer(row, "created_at").value_or(0), integer(row, "due_at"), integer(row, "completed_at")});
    }
  }
}

void History::finish() {
  for (auto& d : deals) {
    std::sort(d.stays.begin(), d.stays.end(), [](const Stay& a, const Stay& b) { return a.entered_at < b.entered_at; });
    std::sort(d.touches.begin(), d.touches.end(), [](const Touch& a, const Touch& b) { return a.at < b.at; });
    std::stable_sort(d.close_dates.begin(), d.close_dates.end(),
                     [](const CloseDate& a, const CloseDate& b) { return a.at < b.at; });
    if (d.stays.empty()) d.stays.push_back({d.stage_id, d.stage_entered_at, std::nullopt});
    // How it ended: the first entry into a won or lost stage after which it never reopened.
    const Stage* now = stage(d.stage_id);
    if (now && (now->kind == "won" || now->kind == "lost")) {
      d.won = now->kind == "won";
      d.closed_at = d.stays.back().entered_at;
    }
  }
}

const Stage* History::stage(const std::string& id) const {
  auto it = stages.find(id);
  return it == stages.end() ? nullptr : &it->second;
}

const Stage* History::next_stage(const std::string& stage_id) const {
  const Stage* from = stage(stage_id);
  if (!from) return nullptr;
  const Stage* next = nullptr;
  for (const auto& [id, s] : stages)
    if (s.pipeline_id == from->pipeline_id && !s.archived && s.kind != "lost" && s.position > from->position &&
        (!next || s.position < next->position))
      next = &s;
  return next;
}

const Stay* History::stay_at(const Deal& deal, std::int64_t at) const {
  const Stay* found = nullptr;
  for (const auto& s : deal.stays) {
    if (s.entered_at > at) break;
    found = &s;
  }
  return found;
}

std::size_t History::closed_deals() const {
  return static_cast<std::size_t>(std::count_if(deals.begin(), deals.end(), [](const Deal& d) { return d.closed_at.has_value(); }));
}

double median_amount(const History& history, std::int64_t before) {
  std::vector<std::int64_t> amounts;
  for (const auto& d : history.deals)
    if (d.amount && *d.amount > 0 && d.created_at < before) amounts.push_back(*d.amount);
  if (amounts.empty()) return 0;
  auto mid = amounts.begin() + static_cast<std::ptrdiff_t>(amounts.size() / 2);
  std::nth_element(amounts.begin(), mid, amounts.end());
  return static_cast<double>(*mid);
}

}  // namespace insight
