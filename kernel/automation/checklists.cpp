#include "kernel/automation/checklists.hpp"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "kernel/domain/time_zone.hpp"

namespace nucleo::automation {
namespace {

const std::set<std::string> item_keys{"key", "title", "due_in_business_days", "assignee", "required_for_exit"};

}  // namespace

void assignee_problems(const Json& a, const std::string& at, std::vector<FieldError>& out) {
  std::string rule = a.is_object() ? a.value("rule", "") : "";
  if (rule != "deal_owner" && rule != "owner" && rule != "role" && rule != "user")
    return out.push_back({at + "/rule", "must be deal_owner, owner, role or user"});
  for (const auto& [key, v] : a.items())
    if (key != "rule" && !(rule == "role" && key == "role") && !(rule == "user" && key == "user_id"))
      out.push_back({at + "/" + key, "is not taken by the " + rule + " rule"});
  const auto& roles = entity_spec("user").field("role")->allowed;
  if (rule == "role" && (!a.value("role", Json()).is_string() ||
                         std::find(roles.begin(), roles.end(), a["role"].get<std::string>()) == roles.end()))
    out.push_back({at + "/role", "must be a user role (admin, manager, sales, …)"});
  static const std::regex user_id("^usr_[0-9a-z]{26}$");
  if (rule == "user" && (!a.value("user_id", Json()).is_string() || !std::regex_match(a["user_id"].get<std::string>(), user_id)))
    out.push_back({at + "/user_id", "must be a user id (usr_…)"});
}

namespace {

void item_problems(const Json& item, const std::string& at, std::set<std::string>& keys, std::vector<FieldError>& out) {
  if (!item.is_object()) return out.push_back({at, "must be an object (key, title, due_in_business_days, assignee, "
                                                   "required_for_exit)"});
  for (const auto& [key, v] : item.items())
    if (!item_keys.count(key)) out.push_back({at + "/" + key, "is not a checklist item's key"});
  static const std::regex key_pattern("^[a-z0-9_]{1,64}$");
  Json key = item.value("key", Json());
  if (!key.is_string() || !std::regex_match(key.get<std::string>(), key_pattern))
    out.push_back({at + "/key", "must be 1 to 64 lower-case letters, digits or _"});
  else if (!keys.insert(key.get<std::string>()).second)
    out.push_back({at + "/key", "repeats another item's key"});
  Json title = item.value("title", Json());
  if (!title.is_string() || title.get<std::string>().empty() || title.get<std::string>().size() > 500)
    out.push_back({at + "/title", "must be text of 1 to 500 characters"});
  if (item.contains("due_in_business_days")) {
    const Json& d = item["due_in_business_days"];
    if (!d.is_number_integer() || d.get<std::int64_t>() < 0 || d.get<std::int64_t>() > 365)
      out.push_back({at + "/due_in_business_days", "must be a whole number from 0 to 365"});
  }
  if (item.contains("assignee")) assignee_problems(item["assignee"], at + "/assignee", out);
  if (item.contains("required_for_exit") && !item["required_for_exit"].is_boolean())
    out.push_back({at + "/required_for_exit", "must be true or false"});
}

bool shares_a_team(const Json& a, const Json& b) {
  for (const auto& t : a.value("team_ids", Json::array()))
    for (const auto& u : b.value("team_ids", Json::array()))
      if (t == u) return true;
  return false;
}

// The deal's checklist tasks by origin that count as already there: open or done.
std::set<std::string> existing_items(services::RecordService& records, const services::CallContext& ctx,
                                     const std::string& deal_id) {
  store::RecordQuery q;
  q.equals = {{"deal_id", deal_id}, {"kind", "checklist"}};
  q.limit = 1000;
  std::set<std::string> out;
  for (const auto& t : records.list(ctx, "task", q))
    if (t.value("status", "") != "cancelled" && t.value("origin_rule", Json()).is_string()) out.insert(t["origin_rule"]);
  return out;
}

}  // namespace

// Who gets a task: the owner; a named user; or for a role, an active user of
// it who shares a team with the deal's owner, else the first of the tenant (by id).
// Null when nobody fits: the task is then unassigned.
std::optional<Json> assignee_of(services::RecordService& records, const services::CallContext& ctx, const Json& rule,
                                const Json& owner_id) {
  auto user = [&](const Json& id) -> std::optional<Json> {
    if (!id.is_string()) return std::nullopt;
    try {
      Json u = records.get(ctx, "user", id);
      if (u.value("active", true) && u["archived_at"].is_null()) return u;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::not_found) throw;
    }
    return std::nullopt;
  };
  if (rule["rule"] == "user") return user(rule["user_id"]);
  auto owner = user(owner_id);
  if (rule["rule"] == "deal_owner" || rule["rule"] == "owner") return owner;
  store::RecordQuery q;
  q.equals = {{"role", rule["role"]}, {"active", true}};
  q.limit = 500;
  auto candidates = records.list(ctx, "user", q);
  if (candidates.empty()) return std::nullopt;
  if (owner)
    for (const auto& c : candidates)
      if (shares_a_team(c, *owner)) return c;
  return candidates.front();
}

std::string checklist_origin(const std::string& stage_id, const std::string& key) {
  return "checklist:" + stage_id + ":" + key;
}

std::vector<FieldError> checklist_definition_problems(const Json& items, const std::string& at) {
  if (!items.is_array()) return {{at, "must be an array of checklist items"}};
  if (items.size() > 100) return {{at, "must have at most 100 items"}};
  std::vector<FieldError> out;
  std::set<std::string> keys;
  for (std::size_t i = 0; i < items.size(); ++i) item_problems(items[i], at + "/" + std::to_string(i), keys, out);
  return out;
}

std::size_t open_checklist(services::ServiceDependencies deps, const services::CallContext& ctx,
                           const std::string& deal_id, const std::string& stage_id) {
  services::RecordService records(deps);
  Json deal = records.get(ctx, "deal", deal_id);
  // Moved on (or archived) before this ran: the stage it is in now has its own turn.
  if (deal["stage_id"] != stage_id || !deal["archived_at"].is_null()) return 0;
  Json items = records.get(ctx, "stage", stage_id).value("checklist_template", Json::array());
  if (items.empty()) return 0;
  std::set<std::string> existing = existing_items(records, ctx, deal_id);
  std::size_t created = 0;
  for (const auto& item : items) {
    std::string origin = checklist_origin(stage_id, item["key"]);
    if (existing.count(origin)) continue;
    auto assignee = assignee_of(records, ctx, item.value("assignee", Json{{"rule", "deal_owner"}}),
                                deal.value("owner_id", Json()));
    std::string zone = assignee ? assignee->value("time_zone", "") : "";
    int days = item.value("due_in_business_days", 1);
    Timestamp due = business_day_at(ctx.now(), zone, days, checklist_due_hour);
    // "Today" entered after today's due hour means the next working day's.
    if (due <= ctx.now()) due = business_day_at(ctx.now(), zone, days + 1, checklist_due_hour);
    Json task = {{"title", item["title"]},
                 {"due_at", format_rfc3339(due)},
                 {"assignee_id", assignee ? (*assignee)["id"] : Json()},
                 {"kind", "checklist"},
                 {"origin_rule", origin},
                 {"required_for_exit", item.value("required_for_exit", false)},
                 {"deal_id", deal_id},
                 {"account_id", deal["account_id"]}};
    try {
      records.create(ctx, "task", task);
      ++created;
    } catch (const Error& e) {
      // Another delivery opened it first (tasks_open_checklist_item): nothing to add.
      // Anything else that aborted the write (a busy database) is retried by the caller.
      if (e.code() != ErrorCode::aborted || !existing_items(records, ctx, deal_id).count(origin)) throw;
    }
  }
  return created;
}

events::Subscriber checklist_subscriber(services::ServiceDependencies deps, const Clock& clock) {
  return {"kernel:checklists", "deal.*", [deps, &clock](const Json& envelope) -> std::string {
            std::string name = envelope.value("name", "");
            if (name != "deal.created" && name != "deal.stage_changed") return "";
            const Json& record = envelope["data"].value("record", Json::object());
            if (!record.value("stage_id", Json()).is_string()) return "";
            services::CallContext ctx;
            ctx.tenant_id = envelope["tenant_id"];
            ctx.actor = {"system", "kernel:checklists", ""};
            ctx.request_id = envelope["id"];
            ctx.clock = &clock;
            ctx.causation_id = envelope["id"];
            ctx.depth = envelope.value("depth", 0) + 1;
            try {
              open_checklist(deps, ctx, envelope["entity"]["id"], record["stage_id"]);
            } catch (const Error& e) {
              if (e.code() == ErrorCode::not_found) return "";  // the deal or stage is gone
              return e.what();
            }
            return "";
          }};
}

}  // namespace nucleo::automation
