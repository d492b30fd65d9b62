#include "kernel/automation/rule_document.hpp"

#include <algorithm>
#include <regex>
#include <set>

#include "kernel/automation/checklists.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/domain/record_validation.hpp"
#include "kernel/domain/search_fold.hpp"
#include "kernel/domain/time.hpp"
#include "kernel/events/dispatcher.hpp"
#include "kernel/events/schedule.hpp"
#include "kernel/services/consent_service.hpp"
#include "kernel/services/search.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::automation {
namespace {

using Errors = std::vector<FieldError>;

const std::regex& variable_pattern() {
  static const std::regex pattern(R"(\{\{\s*([A-Za-z_]+)\.([A-Za-z0-9_.\-]+)\s*\}\})");
  return pattern;
}

// The records an event about a `type` record reaches, by scope, each with its entity
// type ("" for a plugin's document). The event itself is always there.
std::map<std::string, std::string> reachable_scopes(const std::string& type) {
  std::map<std::string, std::string> out{{"event", ""}};
  if (type.empty()) return out;
  const EntitySpec* spec = find_entity_spec(type);
  if (spec == nullptr) {  // a plugin's record or fact set: its document, unchecked
    out["record"] = "";
    return out;
  }
  out[type] = type;
  if (type == "account" || spec->field("account_id")) out["account"] = "account";
  if (type == "contact" || spec->field("contact_id") || type == "deal") out["contact"] = "contact";
  if (type == "deal" || spec->field("deal_id")) out["deal"] = "deal";
  if (!spec->policy.owner_field.empty()) out["owner"] = "user";
  return out;
}

std::string scope_list(const std::map<std::string, std::string>& scopes) {
  std::string out;
  for (const auto& [scope, _] : scopes) out += (out.empty() ? "" : ", ") + scope;
  return out;
}

bool is_event_field(const std::string& field) {
  static const std::set<std::string> fields{"id", "name", "occurred_at", "actor.type", "actor.id", "depth"};
  return fields.count(field) > 0;
}

// Whether a core record shows `field` (a template reads it).
bool shows_field(const EntitySpec& spec, const std::string& field) {
  if (std::find(system_fields().begin(), system_fields().end(), field) != system_fields().end()) return true;
  if (field.rfind("attributes.", 0) == 0) return spec.has_attributes && field.size() > 11;
  if (field.rfind("consent.", 0) == 0) return spec.type == "contact" && services::is_purpose_key(field.substr(8));
  const FieldSpec* f = spec.field(field);
  return f != nullptr && !f->hidden;
}

void template_problems(const std::string& text, const std::string& at, const std::map<std::string, std::string>& scopes,
                       std::vector<std::string>& used, Errors& out) {
  std::string rest = text;
  for (std::sregex_iterator it(text.begin(), text.end(), variable_pattern()), end; it != end; ++it) {
    const std::string scope = (*it)[1], field = (*it)[2], whole = (*it)[0];
    rest.replace(rest.find(whole), whole.size(), "");
    auto found = scopes.find(scope);
    if (scope == "rule" && field == "name") continue;
    if (found == scopes.end()) {
      out.push_back({at, "{{" + scope + "." + field + "}}: '" + scope + "' is not reachable from this trigger (" +
                             scope_list(scopes) + ", rule)", "unknown_variable"});
      continue;
    }
    bool known = scope == "event" ? is_event_field(field)
                 : found->second.empty() ? true
                                         : shows_field(entity_spec(found->second), field);
    if (!known) {
      out.push_back({at, "{{" + scope + "." + field + "}}: " + (found->second.empty() ? scope : found->second) +
                             " has no field '" + field + "'", "unknown_variable"});
      continue;
    }
    if (std::find(used.begin(), used.end(), scope) == used.end()) used.push_back(scope);
  }
  if (rest.find("{{") != std::string::npos || rest.find("}}") != std::string::npos)
    out.push_back({at, "a template variable is written {{scope.field}}, e.g. {{deal.name}}", "malformed_variable"});
}

// Every string inside `value` checked as a template.
void templates_in(const Json& value, const std::string& at, const std::map<std::string, std::string>& scopes,
                  std::vector<std::string>& used, Errors& out) {
  if (value.is_string()) return template_problems(value.get<std::string>(), at, scopes, used, out);
  if (value.is_array())
    for (std::size_t i = 0; i < value.size(); ++i) templates_in(value[i], at + "/" + std::to_string(i), scopes, used, out);
  if (value.is_object())
    for (const auto& [key, item] : value.items()) templates_in(item, at + "/" + key, scopes, used, out);
}

// The entity a time trigger names: records with an owner and activity.
std::string time_entity(const Json& t, const std::string& at, Errors& out) {
  const Json& entity = t.value("entity", Json());
  if (entity != "deal" && entity != "account" && entity != "contact") {
    out.push_back({at + "/entity", "must be deal, account or contact"});
    return "";
  }
  return entity;
}

// A stage as a rule names it: its id, or "<pipeline key>/<stage key>" — what a rule kept
// in git can say of any tenant that applied the same pipeline definition
// (docs/sales-process.md). Checked against the tenant when saved (`tx`); resolved to the
// id when compiled to run (`keys`); a key no stage has now resolves to nothing and the
// rule's trigger, move or condition on it takes no deal.
struct StageRefs {
  store::Transaction* tx = nullptr;
  std::string tenant_id;
  const StageKeys* keys = nullptr;

  static bool is_key_ref(const std::string& v) {
    static const std::regex pattern("^[a-z0-9_]{1,64}/[a-z0-9_]{1,64}$");
    return std::regex_match(v, pattern);
  }

  // The stage id `value` names (itself, when it is an id or cannot be resolved here);
  // a problem in `problem`.
  std::string resolve(const Json& value, std::string& problem) const {
    if (!value.is_string()) {
      problem = "must be a stage id (stg_…) or \"<pipeline key>/<stage key>\"";
      return "";
    }
    const std::string v = value;
    if (is_valid_id(v, id_prefix::stage)) return v;
    if (!is_key_ref(v)) {
      problem = "must be a stage id (stg_…) or \"<pipeline key>/<stage key>\"";
      return "";
    }
    if (keys) {
      auto found = keys->find(v);
      return found == keys->end() ? v : found->second;
    }
    if (!tx) return v;
    std::string id;
    const auto slash = v.find('/');
    store::query(tx->session(),
                 "SELECT s.id FROM stages s JOIN pipelines p ON p.id = s.pipeline_id WHERE s.tenant_id = :p0"
                 " AND p.key = :p1 AND s.key = :p2 AND s.archived_at IS NULL AND p.archived_at IS NULL",
                 {tenant_id, v.substr(0, slash), v.substr(slash + 1)}, [&](const store::Row& r) { id = store::required_text(r, 0); });
    if (id.empty()) problem = "no stage with key " + v.substr(slash + 1) + " in a pipeline with key " + v.substr(0, slash);
    return id.empty() ? v : id;
  }
};

Trigger trigger_of(const Json& t, const std::string& at, const StageRefs& stages, Errors& out) {
  Trigger trigger;
  static const char* forms =
      "must be one of {\"event\": \"deal.*\"}, {\"stage_entered\": \"stg_…\"}, {\"stage_left\": \"stg_…\"}, "
      "{\"idle_days\": 10, \"entity\": \"deal\"}, {\"schedule\": \"cron 0 8 * * 1\", \"entity\": \"deal\"}, "
      "{\"task_overdue\": true}";
  if (!t.is_object() || t.empty()) {
    out.push_back({at, forms});
    return trigger;
  }
  auto only = [&](const std::set<std::string>& keys) {
    for (const auto& [key, _] : t.items())
      if (!keys.count(key)) out.push_back({at + "/" + key, "is not part of this trigger"});
  };
  static const std::regex pattern(R"(^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$)");
  if (t.contains("event")) {
    only({"event"});
    const Json& value = t["event"];
    if (!value.is_string() || !std::regex_match(value.get<std::string>(), pattern)) {
      out.push_back({at + "/event", "must be an event name (deal.stage_changed), a prefix (deal.*) or *"});
      return trigger;
    }
    trigger.event_pattern = value;
    std::string prefix = trigger.event_pattern.substr(0, trigger.event_pattern.find('.'));
    if (prefix != "*" && prefix != "custom" && prefix != "automation") trigger.entity_type = prefix;
    return trigger;
  }
  for (const char* kind : {"stage_entered", "stage_left"}) {
    if (!t.contains(kind)) continue;
    only({kind});
    std::string problem, id = stages.resolve(t[kind], problem);
    if (!problem.empty())
      out.push_back({at + "/" + kind, problem});
    else
      (std::string(kind) == "stage_entered" ? trigger.stage_entered : trigger.stage_left) = id;
    trigger.event_pattern = "deal.*";
    trigger.entity_type = "deal";
    return trigger;
  }
  if (t.contains("idle_days")) {
    only({"idle_days", "entity"});
    const Json& days = t["idle_days"];
    if (!days.is_number_integer() || days.get<std::int64_t>() < 1 || days.get<std::int64_t>() > 3650)
      out.push_back({at + "/idle_days", "must be a whole number of days from 1 to 3650"});
    else
      trigger.idle_days = days.get<int>();
    trigger.time = "idle";
    trigger.event_pattern = idle_event;
    trigger.entity_type = time_entity(t, at, out);
    return trigger;
  }
  if (t.contains("schedule")) {
    only({"schedule", "entity"});
    try {
      if (!t["schedule"].is_string()) throw Error(ErrorCode::validation, "must be a schedule");
      auto parsed = events::Schedule::parse(t["schedule"]);
      trigger.schedule = parsed.text();
    } catch (const Error& e) {
      out.push_back({at + "/schedule", std::string(e.what()) + " (\"cron 0 8 * * 1\": Mondays 08:00 on the tenant's clock)"});
    }
    trigger.time = "schedule";
    trigger.event_pattern = schedule_event;
    trigger.entity_type = time_entity(t, at, out);
    return trigger;
  }
  if (t.contains("task_overdue")) {
    only({"task_overdue"});
    if (t["task_overdue"] != true) out.push_back({at + "/task_overdue", "must be true"});
    trigger.time = "overdue";
    trigger.event_pattern = overdue_event;
    trigger.entity_type = "task";
    return trigger;
  }
  out.push_back({at, forms});
  return trigger;
}

void condition_of(const Json& c, const std::string& at, const std::map<std::string, std::string>& scopes,
                  const StageRefs& stages, CompiledRule& rule, Errors& out) {
  if (!c.is_object() || !c.value("field", Json()).is_string())
    return out.push_back({at, "must be {\"field\": \"<scope>.<field>\", \"op\", \"value\"}"});
  const std::string qualified = c["field"];
  const auto dot = qualified.find('.');
  const std::string scope = qualified.substr(0, dot);
  auto found = scopes.find(scope);
  if (dot == std::string::npos || found == scopes.end())
    return out.push_back({at + "/field", "must name a record this trigger reaches and its field: " + scope_list(scopes) +
                                             " (\"deal.amount\", \"account.attributes.segment\")"});
  Condition condition{scope, found->second, {}};
  Json relative = c;
  relative["field"] = qualified.substr(dot + 1);
  // A deal's stage compared with a stage named by key: compared with its id.
  if (found->second == "deal" && relative["field"] == "stage_id" && relative.contains("value")) {
    auto resolve = [&](Json& v, const std::string& where) {
      if (!v.is_string() || !StageRefs::is_key_ref(v.get<std::string>())) return;
      std::string problem;
      v = stages.resolve(v, problem);
      if (!problem.empty()) out.push_back({where, problem});
    };
    if (relative["value"].is_array())
      for (std::size_t i = 0; i < relative["value"].size(); ++i) resolve(relative["value"][i], at + "/value/" + std::to_string(i));
    else
      resolve(relative["value"], at + "/value");
  }
  if (!found->second.empty()) {
    auto problems = services::filter_problems(entity_spec(found->second), relative, at, "/", condition.filter);
    for (auto& p : problems) out.push_back(std::move(p));
  } else {
    for (const auto& [key, _] : c.items())
      if (key != "field" && key != "op" && key != "value") out.push_back({at + "/" + key, "is not part of a condition"});
    static const std::set<std::string> ops{"eq", "neq", "lt", "lte", "gt", "gte", "in", "contains", "starts_with", "exists"};
    condition.filter = {relative["field"], c.value("op", Json()).is_string() ? c["op"].get<std::string>() : "",
                        c.value("value", Json())};
    if (scope == "event" && !is_event_field(condition.filter.field))
      out.push_back({at + "/field", "the event has id, name, occurred_at, actor.type, actor.id and depth"});
    if (!ops.count(condition.filter.op))
      out.push_back({at + "/op", "must be one of eq, neq, lt, lte, gt, gte, in, contains, starts_with, exists"});
    else if (condition.filter.op == "in" ? !condition.filter.value.is_array() || condition.filter.value.empty()
                                         : !condition.filter.value.is_primitive() || condition.filter.value.is_null())
      out.push_back({at + "/value", condition.filter.op == "in" ? "must be a non-empty array" : "must be a string, number or boolean"});
  }
  const store::SearchFilter& f = condition.filter;
  const FieldSpec* field = found->second.empty() ? nullptr : entity_spec(found->second).field(f.field);
  condition.timestamps = f.field == "created_at" || f.field == "updated_at" || f.field == "occurred_at" ||
                         (field != nullptr && field->type == FieldType::timestamp);
  condition.folded = field != nullptr && field->folded;
  static const std::map<std::string, Condition::Op> ops{
      {"eq", Condition::Op::eq},   {"neq", Condition::Op::neq}, {"lt", Condition::Op::lt},
      {"lte", Condition::Op::lte}, {"gt", Condition::Op::gt},   {"gte", Condition::Op::gte},
      {"in", Condition::Op::in},   {"contains", Condition::Op::contains},
      {"starts_with", Condition::Op::starts_with}, {"exists", Condition::Op::exists}};
  if (auto op = ops.find(f.op); op != ops.end()) condition.op = op->second;
  const bool folds = f.op == "contains" || f.op == "starts_with" || (condition.folded && (f.op == "eq" || f.op == "neq"));
  if (folds && f.value.is_string()) condition.folded_value = fold_for_search(f.value.get<std::string>());
  rule.conditions.push_back(std::move(condition));
  if (std::find(rule.scopes.begin(), rule.scopes.end(), scope) == rule.scopes.end()) rule.scopes.push_back(scope);
}

// Whether the tenant has the record (live, for tables that archive).
bool exists_in(store::Transaction& tx, const std::string& table, const std::string& tenant_id, const std::string& id) {
  bool found = false;
  const std::string live = table == "channel_accounts" ? "" : " AND archived_at IS NULL";
  store::query(tx.session(), "SELECT 1 FROM " + table + " WHERE tenant_id = :p0 AND id = :p1" + live,
               {tenant_id, id}, [&](const store::Row&) { found = true; });
  return found;
}

void require_keys(const Json& action, const std::string& at, const std::set<std::string>& allowed, Errors& out) {
  for (const auto& [key, _] : action.items())
    if (key != "type" && !allowed.count(key)) out.push_back({at + "/" + key, "is not taken by a " +
                                                                                 action["type"].get<std::string>() + " action"});
}

void need_scope(const std::string& scope, const std::map<std::string, std::string>& scopes, const std::string& at,
                const std::string& what, std::vector<std::string>& used, Errors& out) {
  if (!scopes.count(scope)) return out.push_back({at, what + " needs a " + scope + ", which this trigger does not reach"});
  if (std::find(used.begin(), used.end(), scope) == used.end()) used.push_back(scope);
}

// Checks actions and notes the scopes they read; with no transaction, the checks that
// read the tenant's data are skipped (a rule compiled again after it was saved).
struct ActionCheck {
  store::Transaction* tx;
  const std::string& tenant_id;
  const StageRefs& stages;
  const Trigger& trigger;
  const std::map<std::string, std::string>& scopes;
  std::vector<std::string>& used;
  Errors& out;

  void text(const Json& action, const std::string& key, const std::string& at, bool required, std::size_t max) {
    if (!action.contains(key)) {
      if (required) out.push_back({at + "/" + key, "is required"});
      return;
    }
    const Json& v = action[key];
    if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > max)
      return out.push_back({at + "/" + key, "must be text of 1 to " + std::to_string(max) + " characters"});
    template_problems(v, at + "/" + key, scopes, used, out);
  }

  void create_task(const Json& a, const std::string& at) {
    require_keys(a, at, {"title", "due_in_business_days", "assignee"}, out);
    text(a, "title", at, true, 500);
    if (a.contains("due_in_business_days")) {
      const Json& d = a["due_in_business_days"];
      if (!d.is_number_integer() || d.get<std::int64_t>() < 0 || d.get<std::int64_t>() > 365)
        out.push_back({at + "/due_in_business_days", "must be a whole number from 0 to 365"});
    }
    if (a.contains("assignee")) {
      assignee_problems(a["assignee"], at + "/assignee", out);
      std::string rule = a["assignee"].is_object() ? a["assignee"].value("rule", "") : "";
      if (rule == "owner" || rule == "deal_owner")
        need_scope(rule == "owner" ? "owner" : "deal", scopes, at + "/assignee/rule", "the " + rule + " rule", used, out);
    }
  }

  void send_message(const Json& a, const std::string& at) {
    require_keys(a, at, {"channel_account_id", "to", "text", "subject", "template", "purpose"}, out);
    const Json& channel = a.value("channel_account_id", Json());
    if (!channel.is_string() || !is_valid_id(channel.get<std::string>(), id_prefix::channel_account))
      out.push_back({at + "/channel_account_id", "must be a channel account id (chn_…)"});
    else if (tx && !exists_in(*tx, "channel_accounts", tenant_id, channel))
      out.push_back({at + "/channel_account_id", "no channel account " + channel.get<std::string>()});
    recipient(a, at, "sending to");
    if (a.contains("text") == a.contains("template"))
      out.push_back({at, "takes either text or a template (a WhatsApp template outside the 24-hour window)"});
    text(a, "text", at, false, 100000);
    text(a, "subject", at, false, 500);
    if (a.contains("template")) {
      const Json& t = a["template"];
      if (!t.is_object() || !t.value("name", Json()).is_string() || !t.value("language", Json()).is_string())
        out.push_back({at + "/template", "must be {\"name\", \"language\", \"components\"?}"});
      else
        templates_in(t, at + "/template", scopes, used, out);
    }
    if (a.contains("purpose") && tx) {
      if (!a["purpose"].is_string()) return out.push_back({at + "/purpose", "must be a purpose key"});
      try {
        services::require_known_purpose(*tx, tenant_id, a["purpose"], at + "/purpose");
      } catch (const Error& e) {
        for (const auto& f : e.fields()) out.push_back({at + "/purpose", f.message, f.code});
        if (e.fields().empty()) out.push_back({at + "/purpose", e.what()});
      }
    }
  }

  // The proposal the rule's trigger is about, or the deal's latest open one.
  void send_proposal(const Json& a, const std::string& at) {
    require_keys(a, at, {"channel_account_id", "purpose", "message", "link_days"}, out);
    if (scopes.count("proposal"))
      need_scope("proposal", scopes, at, "sending a proposal", used, out);
    else
      need_scope("deal", scopes, at, "sending a proposal", used, out);
    if (a.contains("channel_account_id")) {
      const Json& channel = a["channel_account_id"];
      if (!channel.is_string() || !is_valid_id(channel.get<std::string>(), id_prefix::channel_account))
        out.push_back({at + "/channel_account_id", "must be a channel account id (chn_…)"});
      else if (tx && !exists_in(*tx, "channel_accounts", tenant_id, channel))
        out.push_back({at + "/channel_account_id", "no channel account " + channel.get<std::string>()});
    }
    text(a, "message", at, false, 10000);
    if (a.contains("purpose") && !a["purpose"].is_string()) out.push_back({at + "/purpose", "must be a purpose key"});
    if (a.contains("link_days") && (!a["link_days"].is_number_integer() || a["link_days"].get<std::int64_t>() < 1 ||
                                    a["link_days"].get<std::int64_t>() > 365))
      out.push_back({at + "/link_days", "must be 1 to 365 days"});
  }

  void move_stage(Json& a, const std::string& at) {
    require_keys(a, at, {"stage_id"}, out);
    need_scope("deal", scopes, at, "moving a stage", used, out);
    std::string problem, id = stages.resolve(a.value("stage_id", Json()), problem);
    if (!problem.empty()) return out.push_back({at + "/stage_id", problem});
    if (tx && is_valid_id(id, id_prefix::stage) && !exists_in(*tx, "stages", tenant_id, id))
      out.push_back({at + "/stage_id", "no stage " + id});
    a["stage_id"] = id;  // the compiled rule moves to the id
  }

  // The scope an action writes to: `on`, or the trigger's own record.
  std::string target(const Json& a, const std::string& at) {
    std::string on = a.value("on", Json(trigger.entity_type)).is_string() ? a.value("on", trigger.entity_type) : "";
    auto found = scopes.find(on);
    if (found == scopes.end() || found->second.empty() || on == "owner") {
      out.push_back({at + "/on", "must name a record this trigger reaches: " + scope_list(scopes)});
      return "";
    }
    if (std::find(used.begin(), used.end(), on) == used.end()) used.push_back(on);
    return found->second;
  }

  void set_field(const Json& a, const std::string& at) {
    require_keys(a, at, {"on", "field", "value"}, out);
    std::string type = target(a, at);
    if (!a.value("field", Json()).is_string()) return out.push_back({at + "/field", "must name a field"});
    if (!a.contains("value")) return out.push_back({at + "/value", "is required (null clears the field)"});
    if (type.empty()) return;
    const std::string field = a["field"];
    if (field.find('.') != std::string::npos || field == "stage_id")
      return out.push_back({at + "/field", field == "stage_id" ? "a stage is changed with move_stage, through its gates"
                                                              : "must be a field of the record itself"});
    const FieldSpec* spec = entity_spec(type).field(field);
    if (spec == nullptr || spec->derived || spec->hidden)
      return out.push_back({at + "/field", "'" + field + "' is not a field a " + type + " takes"});
    Json value = a["value"];
    if (value.is_string() && value.get<std::string>().find("{{") != std::string::npos) {
      // A template fills text only: what it renders is checked as text when the rule fires.
      if (spec->type != FieldType::text)
        return out.push_back({at + "/value", "a template sets text fields only; " + field + " is not one"});
      template_problems(value, at + "/value", scopes, used, out);
      value = "x";
    }
    try {
      validate_record_input(entity_spec(type), {{field, value}}, WriteMode::update, NormalisationSettings{});
    } catch (const Error& e) {
      for (const auto& f : e.fields())
        out.push_back({at + (f.field == field ? "/value" : "/field"), f.field + ": " + f.message, f.code});
      if (e.fields().empty()) out.push_back({at + "/value", e.what()});
    }
  }

  void assign_owner(const Json& a, const std::string& at) {
    require_keys(a, at, {"on", "team_id", "strategy"}, out);
    std::string type = target(a, at);
    if (!type.empty() && entity_spec(type).policy.owner_field != "owner_id")
      out.push_back({at + "/on", "a " + type + " has no owner_id to assign"});
    const Json& team = a.value("team_id", Json());
    if (!team.is_string() || !is_valid_id(team.get<std::string>(), id_prefix::team))
      out.push_back({at + "/team_id", "must be a team id (team_…)"});
    else if (tx && !exists_in(*tx, "teams", tenant_id, team))
      out.push_back({at + "/team_id", "no team " + team.get<std::string>()});
    const Json& strategy = a.value("strategy", Json("round_robin"));
    if (strategy != "round_robin" && strategy != "least_loaded")
      out.push_back({at + "/strategy", "must be round_robin or least_loaded"});
  }

  void emit_event(const Json& a, const std::string& at) {
    require_keys(a, at, {"name", "data"}, out);
    static const std::regex name("^[a-z][a-z0-9_]{0,63}$");
    if (!a.value("name", Json()).is_string() || !std::regex_match(a["name"].get<std::string>(), name))
      out.push_back({at + "/name", "must be [a-z][a-z0-9_]{0,63}: the event is custom.<name>"});
    if (trigger.entity_type.empty() || !find_entity_spec(trigger.entity_type))
      out.push_back({at, "emits an event about the trigger's record: the trigger must name a core record's events"});
    if (a.contains("data")) {
      if (!a["data"].is_object()) out.push_back({at + "/data", "must be an object"});
      else templates_in(a["data"], at + "/data", scopes, used, out);
    }
  }

  // To whom: the contact in reach, or a deal's contact in a role.
  void recipient(const Json& a, const std::string& at, const std::string& what) {
    const Json& to = a.value("to", Json("contact"));
    if (to == "contact") {
      need_scope("contact", scopes, at + "/to", what + " the contact", used, out);
    } else if (to.is_object() && to.size() == 1 && to.value("deal_role", Json()).is_string()) {
      need_scope("deal", scopes, at + "/to", what + " a deal role", used, out);
    } else {
      out.push_back({at + "/to", "must be \"contact\" or {\"deal_role\": \"economic_buyer\"}"});
    }
  }

  // A cadence by id (`cadence_id`) or by its key (`cadence`): a rule kept in git names it so.
  void cadence(const Json& a, const std::string& at, bool enrol) {
    std::set<std::string> keys{"cadence_id", "cadence"};
    if (enrol) keys.insert("to");
    require_keys(a, at, keys, out);
    if (enrol) recipient(a, at, "enrolling");
    else need_scope("contact", scopes, at, "stopping a cadence", used, out);
    if (a.contains("cadence_id") && a.contains("cadence"))
      return out.push_back({at + "/cadence", "name the cadence by cadence_id or by its key (cadence), not both"});
    if (a.contains("cadence")) {
      static const std::regex key("^[a-z0-9_]{1,64}$");
      const Json& k = a["cadence"];
      if (!k.is_string() || !std::regex_match(k.get<std::string>(), key))
        return out.push_back({at + "/cadence", "must be a cadence's key (1 to 64 lower-case letters, digits or _)"});
      bool found = !tx;
      if (tx)
        store::query(tx->session(), "SELECT 1 FROM cadences WHERE tenant_id = :p0 AND key = :p1 AND archived_at IS NULL",
                     {tenant_id, k.get<std::string>()}, [&](const store::Row&) { found = true; });
      if (!found) out.push_back({at + "/cadence", "no cadence with key " + k.get<std::string>()});
      return;
    }
    const Json& id = a.value("cadence_id", Json());
    if (!enrol && id.is_null()) return;  // every cadence of the contact
    if (!id.is_string() || !is_valid_id(id.get<std::string>(), id_prefix::cadence))
      out.push_back({at + "/cadence_id", "must be a cadence id (cad_…), or give the cadence's key as cadence"});
    else if (tx && !exists_in(*tx, "cadences", tenant_id, id))
      out.push_back({at + "/cadence_id", "no cadence " + id.get<std::string>()});
  }

  void check(Json& a, const std::string& at) {
    if (!a.is_object() || !a.value("type", Json()).is_string())
      return out.push_back({at + "/type", "is required: create_task, send_message, move_stage, set_field, "
                                          "assign_owner, emit_event, enrol_in_cadence, stop_cadence or send_proposal"});
    const std::string type = a["type"];
    if (type == "create_task") return create_task(a, at);
    if (type == "send_message") return send_message(a, at);
    if (type == "move_stage") return move_stage(a, at);
    if (type == "set_field") return set_field(a, at);
    if (type == "assign_owner") return assign_owner(a, at);
    if (type == "emit_event") return emit_event(a, at);
    if (type == "enrol_in_cadence") return cadence(a, at, true);
    if (type == "stop_cadence") return cadence(a, at, false);
    if (type == "send_proposal") return send_proposal(a, at);
    out.push_back({at + "/type", "'" + type + "' is not an action: create_task, send_message, move_stage, set_field, "
                                             "assign_owner, emit_event, enrol_in_cadence, stop_cadence or send_proposal", "unknown_action"});
  }
};

// Compiles what can be compiled, collecting every problem; `tx` null skips the checks
// that read the database (compiling a rule that was checked when saved).
CompiledRule compile(store::Transaction* tx, const std::string& tenant_id, const Json& rule, Errors& out,
                     const StageKeys* keys = nullptr) {
  const StageRefs stages{tx, tenant_id, keys};
  CompiledRule compiled;
  compiled.id = rule.value("id", "");
  compiled.version = rule.value("version", std::int64_t{0});
  compiled.name = rule.value("name", "");
  compiled.enabled = rule.value("enabled", false);
  compiled.trigger = trigger_of(rule.value("trigger", Json()), "/trigger", stages, out);
  const auto scopes = reachable_scopes(compiled.trigger.entity_type);
  const Json& conditions = rule.value("conditions", Json::array());
  if (!conditions.is_array() || conditions.size() > 50) out.push_back({"/conditions", "must be an array of at most 50 conditions"});
  else
    for (std::size_t i = 0; i < conditions.size(); ++i)
      condition_of(conditions[i], "/conditions/" + std::to_string(i), scopes, stages, compiled, out);
  compiled.actions = rule.value("actions", Json());
  if (!compiled.actions.is_array() || compiled.actions.empty() || compiled.actions.size() > 20) {
    out.push_back({"/actions", "must be an array of 1 to 20 actions"});
    compiled.actions = Json::array();
  } else {
    ActionCheck check{tx, tenant_id, stages, compiled.trigger, scopes, compiled.scopes, out};
    for (std::size_t i = 0; i < compiled.actions.size(); ++i)
      check.check(compiled.actions[i], "/actions/" + std::to_string(i));
  }
  return compiled;
}

std::optional<double> as_number(const Json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    try {
      std::size_t used = 0;
      double d = std::stod(v.get<std::string>(), &used);
      if (used == v.get<std::string>().size()) return d;
    } catch (const std::exception&) {
    }
  }
  return std::nullopt;
}

// <0, 0 or >0 as `a` sorts before, with or after `b`; nothing when they do not compare.
std::optional<int> compare(const Json& a, const Json& b, bool timestamps) {
  if (timestamps && a.is_string() && b.is_string()) {
    auto x = parse_rfc3339(a.get<std::string>()), y = parse_rfc3339(b.get<std::string>());
    if (!x || !y) return std::nullopt;
    return x->micros < y->micros ? -1 : x->micros > y->micros ? 1 : 0;
  }
  if (b.is_number()) {  // numbers, and an attribute's text holding one
    auto x = as_number(a), y = as_number(b);
    if (!x || !y) return std::nullopt;
    return *x < *y ? -1 : *x > *y ? 1 : 0;
  }
  if (a.is_boolean() && b.is_boolean()) return a == b ? 0 : 1;
  if (b.is_string()) {
    if (!a.is_string() && !a.is_number()) return std::nullopt;
    int order = a.is_string() ? a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>())
                              : a.dump().compare(b.get_ref<const std::string&>());
    return order < 0 ? -1 : order > 0 ? 1 : 0;
  }
  return std::nullopt;
}

// `v`: the value the condition's field holds (null: none); `fold_memo`: where its folded
// text is kept for the other conditions of the event on the same value (null: nowhere).
bool holds(const Condition& c, const Json& v, EventMemo::Value* fold_memo) {
  using Op = Condition::Op;
  const store::SearchFilter& f = c.filter;
  if (c.op == Op::exists) return v.is_null() != f.value.get<bool>();
  if (v.is_null()) return false;  // as SQL compares a NULL: never true
  // Many rules fold the same value of one event: once is enough.
  std::string unmemoised;
  auto folded = [&]() -> const std::string& {
    std::string& text = fold_memo ? fold_memo->folded_text : unmemoised;
    if (fold_memo && fold_memo->folded) return text;
    text = fold_for_search(v.is_string() ? v.get_ref<const std::string&>() : v.dump());
    if (fold_memo) fold_memo->folded = true;
    return text;
  };
  if (c.op == Op::contains) return folded().find(c.folded_value) != std::string::npos;
  if (c.op == Op::starts_with) return folded().rfind(c.folded_value, 0) == 0;
  auto equal = [&](const Json& want) {
    if (c.folded && v.is_string() && want.is_string())
      return folded() == (&want == &f.value ? c.folded_value : fold_for_search(want.get_ref<const std::string&>()));
    auto order = compare(v, want, c.timestamps);
    return order && *order == 0;
  };
  if (c.op == Op::eq) return equal(f.value);
  if (c.op == Op::neq) return !equal(f.value);
  if (c.op == Op::in) return std::any_of(f.value.begin(), f.value.end(), equal);
  auto order = compare(v, f.value, c.timestamps);
  if (!order) return false;
  if (c.op == Op::lt) return *order < 0;
  if (c.op == Op::lte) return *order <= 0;
  if (c.op == Op::gt) return *order > 0;
  return *order >= 0;  // gte
}

}  // namespace

const Json& json_at(const Json& record, const std::string& field) {
  static const Json none;
  if (!record.is_object()) return none;
  if (auto whole = record.find(field); whole != record.end()) return *whole;
  if (field.find('.') == std::string::npos) return none;
  const Json* at = &record;
  for (std::size_t start = 0;;) {
    std::size_t dot = field.find('.', start);
    auto part = at->find(field.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (part == at->end()) return none;
    at = &*part;
    if (dot == std::string::npos) return *at;
    if (!at->is_object()) return none;
    start = dot + 1;
  }
}

std::vector<FieldError> rule_problems(store::Transaction& tx, const std::string& tenant_id, const Json& rule) {
  Errors out;
  compile(&tx, tenant_id, rule, out);
  return out;
}

CompiledRule compile_rule(const Json& rule, const StageKeys& stage_keys) {
  Errors problems;
  CompiledRule compiled = compile(nullptr, "", rule, problems, &stage_keys);
  if (!problems.empty()) throw validation_error("invalid automation rule", std::move(problems));
  return compiled;
}

std::vector<FieldError> template_problems_in(const Json& value, const std::string& at, const std::string& type) {
  Errors out;
  std::vector<std::string> used;
  templates_in(value, at, reachable_scopes(type), used, out);
  return out;
}

bool trigger_matches(const Trigger& trigger, const Json& envelope) {
  const Json& name = json_at(envelope, "name");
  if (!name.is_string() || !events::matches_pattern(trigger.event_pattern, name.get_ref<const std::string&>())) return false;
  if (trigger.stage_entered.empty() && trigger.stage_left.empty()) return true;
  const Json& data = json_at(envelope, "data");
  const Json& change = json_at(data, "changes.stage_id");
  if (!trigger.stage_left.empty())
    return name == "deal.stage_changed" && json_at(change, "from") == trigger.stage_left;
  if (name == "deal.created") return json_at(data, "record.stage_id") == trigger.stage_entered;
  return name == "deal.stage_changed" && json_at(change, "to") == trigger.stage_entered;
}

bool conditions_hold(const CompiledRule& rule, const Scopes& scopes, EventMemo* memo) {
  return conditions_hold(
      rule,
      [&](const std::string& name) {
        auto found = scopes.find(name);
        return found == scopes.end() ? nullptr : &found->second;
      },
      memo);
}

bool conditions_hold(const CompiledRule& rule, const std::function<const Json*(const std::string&)>& scope,
                     EventMemo* memo) {
  auto value_of = [&](const Condition& c) -> const Json* {
    const Json* record = scope(c.scope);
    return record == nullptr || record->is_null() ? nullptr : &json_at(*record, c.filter.field);
  };
  for (const auto& c : rule.conditions) {
    EventMemo::Value* slot = nullptr;
    if (memo && c.slot >= 0) {
      if (memo->slots.size() <= static_cast<std::size_t>(c.slot)) memo->slots.resize(c.slot + 1);
      slot = &memo->slots[c.slot];
      if (!slot->found) *slot = {true, value_of(c), false, {}};
    }
    const Json* v = slot ? slot->json : value_of(c);
    if (v == nullptr || !holds(c, *v, slot)) return false;
  }
  return true;
}

std::string render_template(const std::string& text, const Scopes& scopes) {
  std::string out;
  auto last = text.cbegin();
  for (std::sregex_iterator it(text.begin(), text.end(), variable_pattern()), end; it != end; ++it) {
    out.append(last, (*it)[0].first);
    auto found = scopes.find((*it)[1]);
    const Json& v = found == scopes.end() ? Json() : json_at(found->second, (*it)[2]);
    if (v.is_string()) out += v.get<std::string>();
    else if (!v.is_null()) out += v.dump();
    last = (*it)[0].second;
  }
  out.append(last, text.cend());
  return out;
}

Json render_strings(const Json& value, const Scopes& scopes) {
  if (value.is_string()) return render_template(value.get<std::string>(), scopes);
  if (!value.is_structured()) return value;
  Json out = value;
  for (auto& item : out) item = render_strings(item, scopes);
  return out;
}

}  // namespace nucleo::automation
