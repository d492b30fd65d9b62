#include "kernel/automation/stage_gate.hpp"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "kernel/automation/checklists.hpp"
#include "kernel/domain/time.hpp"
#include "kernel/services/principal.hpp"
#include "kernel/store/record_table.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::automation {
namespace {

const std::set<std::string> field_operators{"exists", "eq", "neq", "lt", "lte", "gt", "gte", "in"};
const std::set<std::string> directions{"inbound", "outbound", "internal"};
const std::set<std::string> kinds{"field", "interactions", "committee", "checklist", "approval"};

// A field path of a criterion: the entity it reads and the field there.
struct FieldPath {
  std::string entity;  // deal | account
  std::string field;   // "amount", "attributes.finance.rating"
};

FieldPath path_of(const std::string& text) {
  if (text.rfind("account.", 0) == 0) return {"account", text.substr(8)};
  return {"deal", text};
}

bool names_a_field(const FieldPath& p) {
  const EntitySpec& spec = entity_spec(p.entity);
  // What the move itself sets is no criterion: the gate reads the deal as it stands.
  if (p.entity == "deal" && (p.field == "stage_id" || p.field == "pipeline_id")) return false;
  if (const FieldSpec* f = spec.field(p.field); f && (f->derived || f->hidden)) return false;
  if (p.field.rfind("attributes.", 0) == 0) return spec.has_attributes && p.field.size() > 11;
  return spec.field(p.field) != nullptr || p.field == "id";
}

Json value_at(const Json& record, const std::string& field) {
  if (field.rfind("attributes.", 0) == 0) {
    const Json attributes = record.value("attributes", Json::object());
    std::string key = field.substr(11);
    return attributes.is_object() && attributes.contains(key) ? attributes[key] : Json();
  }
  return record.value(field, Json());
}

// Numbers compare as numbers, text as text (ISO dates in order); anything else only by
// equality.
bool holds(const std::string& op, const Json& actual, const Json& expected) {
  if (op == "exists") return !actual.is_null();
  if (actual.is_null()) return false;
  if (op == "in") return std::find(expected.begin(), expected.end(), actual) != expected.end();
  if (op == "eq") return actual == expected;
  if (op == "neq") return actual != expected;
  bool comparable = (actual.is_number() && expected.is_number()) || (actual.is_string() && expected.is_string());
  if (!comparable) return false;
  return op == "lt" ? actual < expected : op == "lte" ? actual <= expected : op == "gt" ? actual > expected : actual >= expected;
}

void field_problems(const Json& c, const std::string& at, std::vector<FieldError>& out) {
  for (const auto& [key, v] : c.items())
    if (key != "kind" && key != "field" && key != "op" && key != "value")
      out.push_back({at + "/" + key, "is not a field criterion's (field, op, value)"});
  Json field = c.value("field", Json());
  if (!field.is_string() || !names_a_field(path_of(field.get<std::string>())))
    out.push_back({at + "/field", "must name a field of the deal, or account.<field>; attributes as attributes.<key>"});
  Json op = c.value("op", Json());
  if (!op.is_string() || !field_operators.count(op.get<std::string>()))
    return out.push_back({at + "/op", "must be one of exists, eq, neq, lt, lte, gt, gte, in"});
  Json value = c.value("value", Json());
  if (op == "exists" && c.contains("value")) out.push_back({at + "/value", "is not taken by exists"});
  if (op == "in" && (!value.is_array() || value.empty())) out.push_back({at + "/value", "must be a non-empty array"});
  if (op != "exists" && op != "in" && !value.is_string() && !value.is_number() && !value.is_boolean())
    out.push_back({at + "/value", "must be a string, a number or a boolean"});
}

void interaction_problems(const Json& c, const std::string& at, std::vector<FieldError>& out) {
  for (const auto& [key, v] : c.items())
    if (key != "kind" && key != "types" && key != "direction" && key != "min_count")
      out.push_back({at + "/" + key, "is not an interactions criterion's (types, direction, min_count)"});
  const auto& allowed = entity_spec("interaction").field("type")->allowed;
  Json types = c.value("types", Json());
  bool ok = types.is_array() && !types.empty();
  for (const auto& t : ok ? types : Json::array())
    ok = ok && t.is_string() && std::find(allowed.begin(), allowed.end(), t.get<std::string>()) != allowed.end();
  if (!ok) out.push_back({at + "/types", "must be a non-empty array of interaction types (call, meeting, visit, …)"});
  if (c.contains("direction") && (!c["direction"].is_string() || !directions.count(c["direction"].get<std::string>())))
    out.push_back({at + "/direction", "must be inbound, outbound or internal"});
  if (c.contains("min_count") && (!c["min_count"].is_number_integer() || c["min_count"].get<std::int64_t>() < 1 ||
                                  c["min_count"].get<std::int64_t>() > 1000))
    out.push_back({at + "/min_count", "must be a whole number from 1 to 1000"});
}

// Keys a criterion of `kind` may carry besides "kind"; anything else is a typo.
void unknown_keys(const Json& c, const std::string& at, const std::set<std::string>& known, const std::string& kind,
                  std::vector<FieldError>& out) {
  for (const auto& [key, v] : c.items())
    if (key != "kind" && !known.count(key)) out.push_back({at + "/" + key, "is not a key of a " + kind + " criterion"});
}

bool is_name_list(const Json& v, std::size_t max_length) {
  if (!v.is_array() || v.empty()) return false;
  std::set<std::string> seen;
  for (const auto& x : v)
    if (!x.is_string() || x.get<std::string>().empty() || x.get<std::string>().size() > max_length ||
        !seen.insert(x.get<std::string>()).second)
      return false;
  return true;
}

void optional_types(const Json& c, const std::string& at, std::vector<FieldError>& out) {
  if (!c.contains("types")) return;
  const auto& allowed = entity_spec("interaction").field("type")->allowed;
  bool ok = is_name_list(c["types"], 64);
  for (const auto& t : ok ? c["types"] : Json::array())
    ok = ok && std::find(allowed.begin(), allowed.end(), t.get<std::string>()) != allowed.end();
  if (!ok) out.push_back({at + "/types", "must be a non-empty array of interaction types (call, meeting, visit, …)"});
}

void committee_problems(const Json& c, const std::string& at, std::vector<FieldError>& out) {
  unknown_keys(c, at, {"roles", "types"}, "committee (roles, types)", out);
  if (!is_name_list(c.value("roles", Json()), 64))
    out.push_back({at + "/roles", "must be a non-empty array of distinct contact roles on the deal (economic_buyer, …)"});
  optional_types(c, at, out);
}

void approval_problems(const Json& c, const std::string& at, std::vector<FieldError>& out) {
  unknown_keys(c, at, {"roles", "when"}, "approval (roles, when)", out);
  // "when": the deal's field condition under which the approval is needed (a field
  // criterion without its kind): four eyes on amounts above a threshold.
  if (c.contains("when")) {
    if (!c["when"].is_object()) out.push_back({at + "/when", "must be {\"field\", \"op\", \"value\"}"});
    else field_problems(c["when"], at + "/when", out);
  }
  const auto& roles = entity_spec("user").field("role")->allowed;
  bool ok = is_name_list(c.value("roles", Json()), 64);
  for (const auto& r : ok ? c["roles"] : Json::array())
    ok = ok && std::find(roles.begin(), roles.end(), r.get<std::string>()) != roles.end();
  if (!ok) out.push_back({at + "/roles", "must be a non-empty array of user roles (admin, manager, sales, …)"});
}

// A checklist criterion names an earlier stage of the pipeline: its own stage's
// checklist is only created once the deal is in, and a later one's after this gate.
void checklist_problems(const Json& c, const std::string& at, const GateScope& scope, std::vector<FieldError>& out) {
  const std::string& field = scope.stage_field;
  unknown_keys(c, at, {field, "items"}, "checklist (" + field + ", items)", out);
  Json ref = c.value(field, Json());
  const StageOutline* named = nullptr;
  for (const auto& s : scope.stages)
    if (ref.is_string() && s.ref == ref.get<std::string>()) named = &s;
  if (!named) return out.push_back({at + "/" + field, "must name a stage of this pipeline"});
  if (named->ref == scope.own_ref)
    return out.push_back({at + "/" + field,
                          "names this stage: its checklist is created when the deal enters, so it can never be done "
                          "before"});
  if (named->position >= scope.own_position)
    return out.push_back({at + "/" + field, "names a stage that does not come before this one: its checklist is "
                                            "created only after the deal passes this gate"});
  if (!c.contains("items")) return;
  if (!is_name_list(c["items"], 64)) return out.push_back({at + "/items", "must be a non-empty array of item keys"});
  for (std::size_t i = 0; i < c["items"].size(); ++i)
    if (std::find(named->checklist_keys.begin(), named->checklist_keys.end(), c["items"][i].get<std::string>()) ==
        named->checklist_keys.end())
      out.push_back({at + "/items/" + std::to_string(i), "is not an item of that stage's checklist"});
}

std::string describe(const Json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

// The deal's account, read once for all the account.* criteria of a gate.
const Json& account_of(store::Transaction& tx, const std::string& tenant_id, const Json& deal,
                       std::optional<Json>& cached) {
  if (!cached) {
    Json account_id = deal.value("account_id", Json());
    auto found = account_id.is_string() ? store::RecordTable(entity_spec("account")).find(tx, tenant_id, account_id)
                                        : std::nullopt;
    cached = found ? *found : Json::object();
  }
  return *cached;
}

std::optional<UnmetCriterion> unmet_field(store::Transaction& tx, const std::string& tenant_id, const Json& deal,
                                          const Json& c, std::optional<Json>& account) {
  FieldPath path = path_of(c["field"]);
  const Json& record = path.entity == "account" ? account_of(tx, tenant_id, deal, account) : deal;
  std::string op = c["op"];
  Json actual = value_at(record, path.field), expected = c.value("value", Json());
  if (holds(op, actual, expected)) return std::nullopt;
  std::string name = c["field"];
  if (actual.is_null()) return UnmetCriterion{"field_missing", 0, c, name + " is not set"};
  return UnmetCriterion{"field_mismatch", 0, c,
                        name + " is " + describe(actual) + ", needs " + op + " " + describe(expected)};
}

// "AND COALESCE(occurred_at, created_at) >= :pN" when the deal entered its stage at a
// known time (a new deal counts every interaction).
std::string since_clause(const std::string& since, const std::string& column_prefix,
                         std::vector<store::SqlValue>& values) {
  auto entered = parse_rfc3339(since);
  if (!entered) return "";
  values.push_back(entered->micros);
  return " AND COALESCE(" + column_prefix + "occurred_at, " + column_prefix + "created_at) >= " +
         store::placeholder(values.size() - 1);
}

std::string in_list(const Json& names, std::vector<store::SqlValue>& values) {
  std::string sql = "(";
  for (std::size_t i = 0; i < names.size(); ++i) {
    sql += (i ? ", " : "") + store::placeholder(values.size());
    values.push_back(names[i].get<std::string>());
  }
  return sql + ")";
}

std::string joined(const Json& names, const std::string& separator) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : separator) + n.get<std::string>();
  return out;
}

std::optional<UnmetCriterion> unmet_interactions(store::Transaction& tx, const std::string& tenant_id,
                                                 const GatedMove& move, const Json& c) {
  std::vector<store::SqlValue> values{tenant_id, move.deal.at("id").get<std::string>()};
  std::string sql = "SELECT count(*) FROM interactions WHERE tenant_id = :p0 AND deal_id = :p1 AND type IN ";
  sql += in_list(c["types"], values);
  if (c.contains("direction")) {
    sql += " AND direction = " + store::placeholder(values.size());
    values.push_back(c["direction"].get<std::string>());
  }
  sql += since_clause(move.since, "", values) + " AND archived_at IS NULL";
  std::int64_t count = 0;
  store::query(tx.session(), sql, values, [&](const store::Row& r) { count = store::integer_at(r, 0).value_or(0); });
  std::int64_t needed = c.value("min_count", 1);
  if (count >= needed) return std::nullopt;
  std::string what = joined(c["types"], " or ");
  if (c.contains("direction")) what = c["direction"].get<std::string>() + " " + what;
  return UnmetCriterion{"interactions_missing", 0, c,
                        std::to_string(needed) + " " + what + " interaction(s) since the deal entered its stage, " +
                            std::to_string(count) + " logged"};
}

// Each role needs a contact on the deal holding it who took part in an interaction (on
// this deal or on none) since the deal entered its stage.
std::optional<UnmetCriterion> unmet_committee(store::Transaction& tx, const std::string& tenant_id,
                                              const GatedMove& move, const Json& c) {
  std::map<std::string, std::vector<std::string>> holders;  // role → contact ids
  Json members = Json::array();
  for (const auto& m : move.deal.value("contacts", Json::array()))
    if (m.value("role", Json()).is_string()) {
      holders[m["role"].get<std::string>()].push_back(m["contact_id"].get<std::string>());
      members.push_back(m["contact_id"]);
    }
  std::set<std::string> engaged;
  if (!members.empty()) {
    std::vector<store::SqlValue> values{tenant_id, move.deal.at("id").get<std::string>()};
    std::string sql = "SELECT DISTINCT contact_id FROM interactions WHERE tenant_id = :p0"
                      " AND (deal_id = :p1 OR deal_id IS NULL) AND contact_id IN " + in_list(members, values);
    if (c.contains("types")) sql += " AND type IN " + in_list(c["types"], values);
    sql += since_clause(move.since, "", values) + " AND archived_at IS NULL";
    store::query(tx.session(), sql, values, [&](const store::Row& r) { engaged.insert(store::required_text(r, 0)); });
  }
  std::string missing;
  for (const auto& role : c["roles"]) {
    const auto& ids = holders[role.get<std::string>()];
    std::string problem;
    if (ids.empty()) problem = "no contact on the deal has this role";
    else if (std::none_of(ids.begin(), ids.end(), [&](const std::string& id) { return engaged.count(id) > 0; }))
      problem = "no interaction with " + joined(Json(ids), " or ") + " since the deal entered its stage";
    if (!problem.empty()) missing += (missing.empty() ? "" : "; ") + role.get<std::string>() + ": " + problem;
  }
  if (missing.empty()) return std::nullopt;
  return UnmetCriterion{"committee_incomplete", 0, c, missing};
}

// The items asked for (or, when none are named, those marked required_for_exit) of the
// named stage's checklist must be done on this deal.
std::optional<UnmetCriterion> unmet_checklist(store::Transaction& tx, const std::string& tenant_id,
                                              const GatedMove& move, const Json& c) {
  std::string stage_id = c["stage_id"];
  auto stage = store::RecordTable(entity_spec("stage")).find(tx, tenant_id, stage_id);
  Json items = stage ? stage->value("checklist_template", Json::array()) : Json::array();
  std::vector<std::pair<std::string, std::string>> wanted;  // origin → title
  for (const auto& item : items) {
    std::string key = item.value("key", "");
    bool asked = c.contains("items") ? std::find(c["items"].begin(), c["items"].end(), Json(key)) != c["items"].end()
                                     : item.value("required_for_exit", false);
    if (asked) wanted.emplace_back(checklist_origin(stage_id, key), item.value("title", key));
  }
  if (wanted.empty()) return std::nullopt;
  Json origins = Json::array();
  for (const auto& w : wanted) origins.push_back(w.first);
  std::vector<store::SqlValue> values{tenant_id, move.deal.at("id").get<std::string>()};
  std::set<std::string> done;
  store::query(tx.session(),
               "SELECT origin_rule FROM tasks WHERE tenant_id = :p0 AND deal_id = :p1 AND kind = 'checklist'"
               " AND status = 'done' AND archived_at IS NULL AND origin_rule IN " + in_list(origins, values),
               values, [&](const store::Row& r) { done.insert(store::required_text(r, 0)); });
  std::string missing;
  for (const auto& [origin, title] : wanted)
    if (!done.count(origin)) missing += (missing.empty() ? "" : ", ") + title;
  if (missing.empty()) return std::nullopt;
  std::string stage_name = stage ? stage->value("name", stage_id) : stage_id;
  return UnmetCriterion{"checklist_incomplete", 0, c, "not done on stage " + stage_name + "'s checklist: " + missing};
}

// An approval of this move (to this stage, given since the deal entered the stage it
// leaves) by a user of one of the roles who is not the one moving it.
std::optional<UnmetCriterion> unmet_approval(const GatedMove& move, const Json& c) {
  auto entered = parse_rfc3339(move.since);
  bool only_mover = false;
  for (const auto& a : move.deal.value("approvals", Json::array())) {
    if (a.value("stage_id", "") != move.stage_id) continue;
    if (entered && parse_rfc3339(a.value("at", "")) < entered) continue;
    if (std::find(c["roles"].begin(), c["roles"].end(), a.value("role", Json())) == c["roles"].end()) continue;
    if (!move.mover_user_id.empty() && a.value("user_id", "") == move.mover_user_id) {
      only_mover = true;
      continue;
    }
    return std::nullopt;
  }
  std::string missing = "an approval of this move by a " + joined(c["roles"], " or ") + " other than the mover";
  if (only_mover) missing += " (the mover's own approval does not count)";
  return UnmetCriterion{"approval_missing", 0, c, missing};
}

// Whether an approval criterion asks for an approval of this deal: always, or when the
// deal meets its "when".
bool approval_applies(store::Transaction& tx, const std::string& tenant_id, const Json& deal, const Json& c,
                      std::optional<Json>& account) {
  return !c.contains("when") || !unmet_field(tx, tenant_id, deal, c["when"], account);
}

Json unmet_json(const std::vector<UnmetCriterion>& unmet) {
  Json out = Json::array();
  for (const auto& u : unmet)
    out.push_back({{"code", u.code}, {"criterion_index", u.index}, {"criterion", u.criterion}, {"missing", u.missing}});
  return out;
}

// An override moves past unmet criteria when an admin or manager (or the command line,
// which has no principal) gives a reason; the move then carries a deal.gate_overridden
// note naming what was not met. Otherwise it is refused, saying why.
std::vector<FieldError> override_refusals(const services::ValidationRequest& r,
                                          const std::vector<UnmetCriterion>& unmet) {
  const services::Principal* who = r.context.principal.get();
  if (who && who->role != "admin" && who->role != "manager")
    return {{"override", "overriding a stage gate is for the admin and manager roles", "override_not_allowed"}};
  if (r.context.reason.find_first_not_of(" \t\r\n") == std::string::npos)
    return {{"reason", "an override needs a reason (body \"reason\" or the X-Reason header)", "reason_required"}};
  if (r.notes)
    r.notes->push_back({"deal.gate_overridden",
                        {{"stage_id", {{"from", r.before.is_object() ? r.before.value("stage_id", Json()) : Json()},
                                       {"to", r.after.value("stage_id", Json())}}},
                         {"unmet_criteria", {{"from", nullptr}, {"to", unmet_json(unmet)}}}}});
  return {};
}

// Who moves the deal, for the maker-checker rule: the user the call acts as.
std::string mover_of(const services::CallContext& ctx) { return ctx.principal ? ctx.principal->user_id : ""; }

// An approval is for a move a gate of the deal's pipeline asks approval for, by one of
// the roles it names.
std::vector<FieldError> approval_refusals(const services::ValidationRequest& r) {
  const Json& given = r.after["approvals"].back();
  std::string stage_id = given.value("stage_id", "");
  auto stage = store::RecordTable(entity_spec("stage")).find(r.tx, r.context.tenant_id, stage_id);
  if (!stage || !(*stage)["archived_at"].is_null() || (*stage)["pipeline_id"] != r.after["pipeline_id"])
    return {{"stage_id", "no live stage " + stage_id + " in the deal's pipeline", "stage_not_found"}};
  if (stage_id == r.after.value("stage_id", ""))
    return {{"stage_id", "the deal is already in stage " + stage_id, "already_in_stage"}};
  Json roles = Json::array();
  std::optional<Json> account;
  for (const auto& c : stage->value("entry_criteria", Json::array()))
    if (c.value("kind", "") == "approval" && approval_applies(r.tx, r.context.tenant_id, r.after, c, account))
      for (const auto& role : c["roles"]) roles.push_back(role);
  if (roles.empty())
    return {{"stage_id", "the gate of stage " + stage_id + " asks for no approval", "approval_not_needed"}};
  if (std::find(roles.begin(), roles.end(), given.value("role", Json())) == roles.end())
    return {{"role", "the gate of stage " + stage_id + " takes approvals from " + joined(roles, " or ") + ", not " +
                         given.value("role", "this role"), "approval_not_allowed"}};
  return {};
}

}  // namespace

std::vector<FieldError> gate_definition_problems(const Json& criteria, const GateScope& scope, const std::string& at) {
  std::vector<FieldError> out;
  if (!criteria.is_array()) return {{at, "must be an array of criteria"}};
  for (std::size_t i = 0; i < criteria.size(); ++i) {
    const Json& c = criteria[i];
    std::string here = at + "/" + std::to_string(i);
    std::string kind = c.is_object() ? c.value("kind", "") : "";
    if (kind == "field") field_problems(c, here, out);
    else if (kind == "interactions") interaction_problems(c, here, out);
    else if (kind == "committee") committee_problems(c, here, out);
    else if (kind == "checklist") checklist_problems(c, here, scope, out);
    else if (kind == "approval") approval_problems(c, here, out);
    else out.push_back({here + "/kind", "must be field, interactions, committee, checklist or approval"});
  }
  return out;
}

std::vector<UnmetCriterion> unmet_criteria(store::Transaction& tx, const std::string& tenant_id, const GatedMove& move,
                                           const Json& criteria) {
  std::vector<UnmetCriterion> out;
  std::optional<Json> account;
  for (std::size_t i = 0; i < criteria.size(); ++i) {
    const Json& c = criteria[i];
    const std::string& kind = c["kind"].get_ref<const std::string&>();
    std::optional<UnmetCriterion> unmet;
    if (kind == "field") unmet = unmet_field(tx, tenant_id, move.deal, c, account);
    else if (kind == "interactions") unmet = unmet_interactions(tx, tenant_id, move, c);
    else if (kind == "committee") unmet = unmet_committee(tx, tenant_id, move, c);
    else if (kind == "checklist") unmet = unmet_checklist(tx, tenant_id, move, c);
    else if (kind == "approval" && approval_applies(tx, tenant_id, move.deal, c, account)) unmet = unmet_approval(move, c);
    if (!unmet) continue;
    unmet->index = i;
    out.push_back(std::move(*unmet));
  }
  return out;
}

Json pending_approvals(services::ServiceDependencies deps, const services::CallContext& ctx, const std::string& user_id,
                       std::size_t limit) {
  services::RecordService records(deps);
  services::CallContext system = ctx;
  system.principal = nullptr;  // the gates are the tenant's, whoever asks
  Json user = records.get(system, "user", user_id);
  const Json& role = user["role"];
  store::RecordQuery all_stages;
  all_stages.limit = 1000;
  std::vector<Json> stages = records.list(system, "stage", all_stages);
  Json out = Json::array();
  for (const auto& gated : stages) {
    Json criteria = Json::array();  // the approvals this user's role may give into `gated`
    for (const auto& c : gated.value("entry_criteria", Json::array()))
      if (c.value("kind", "") == "approval" && std::find(c["roles"].begin(), c["roles"].end(), role) != c["roles"].end())
        criteria.push_back(c);
    if (criteria.empty()) continue;
    const Json* before = nullptr;  // the stage a deal leaves to enter it: the one just before
    for (const auto& s : stages)
      if (s["pipeline_id"] == gated["pipeline_id"] && s["position"] < gated["position"] &&
          (!before || s["position"] > (*before)["position"]))
        before = &s;
    if (!before) continue;
    store::RecordQuery waiting;
    waiting.equals = {{"stage_id", (*before)["id"]}, {"status", "open"}};
    waiting.limit = limit;
    for (const auto& deal : records.list(ctx, "deal", waiting)) {  // as the caller: what they may see
      if (deal.value("owner_id", Json()) == user_id) continue;
      bool given = false;
      for (const auto& a : deal.value("approvals", Json::array()))
        given = given || (a.value("stage_id", "") == gated["id"] && a.value("user_id", "") == user_id &&
                          parse_rfc3339(a.value("at", "")) >= parse_rfc3339(deal.value("stage_entered_at", "")));
      if (given) continue;
      bool needed = deps.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
        std::optional<Json> account;
        return std::any_of(criteria.begin(), criteria.end(),
                           [&](const Json& c) { return approval_applies(tx, ctx.tenant_id, deal, c, account); });
      });
      if (!needed) continue;
      out.push_back({{"deal", {{"id", deal["id"]}, {"name", deal["name"]}, {"stage_id", deal["stage_id"]},
                               {"stage_name", (*before)["name"]}, {"amount", deal.value("amount", Json())},
                               {"currency", deal.value("currency", Json())}}},
                     {"stage", {{"id", gated["id"]}, {"name", gated["name"]}}},
                     {"since", deal.value("stage_entered_at", Json())}});
      if (out.size() >= limit) return out;
    }
  }
  return out;
}

namespace {

// The registered gates' dry evaluation (services::GateEvaluator): the move a deal's
// stage change would be judged as, without making it.
Json gate_verdict(store::Transaction& tx, const services::CallContext& ctx, const Json& deal, const std::string& stage_id) {
  auto stage = store::RecordTable(entity_spec("stage")).find(tx, ctx.tenant_id, stage_id);
  if (!stage || !(*stage)["archived_at"].is_null())
    throw Error(ErrorCode::validation, "no live stage " + stage_id + " in this tenant", {{"stage_id", "not found"}});
  if ((*stage)["pipeline_id"] != deal["pipeline_id"])
    throw Error(ErrorCode::validation, "stage " + stage_id + " is not in the deal's pipeline",
                {{"stage_id", "belongs to another pipeline"}});
  GatedMove move{deal, stage_id, deal.value("stage_entered_at", ""), mover_of(ctx)};
  Json unmet = unmet_json(unmet_criteria(tx, ctx.tenant_id, move, stage->value("entry_criteria", Json::array())));
  return Json{{"deal_id", deal["id"]}, {"stage_id", stage_id}, {"passes", unmet.empty()}, {"unmet", unmet}};
}

}  // namespace

namespace {

StageOutline outline_of(const Json& stage) {
  StageOutline outline{stage.value("id", ""), stage.value("position", std::int64_t{0}), {}};
  for (const auto& item : stage.value("checklist_template", Json::array()))
    if (item.is_object() && item.value("key", Json()).is_string()) outline.checklist_keys.push_back(item["key"]);
  return outline;
}

// The pipeline of stage `gate` as it will be once `written` (the stage being saved:
// the gate's own or another of the pipeline) is.
GateScope gate_scope(store::Transaction& tx, const std::string& tenant_id, const Json& gate, const Json& written) {
  GateScope scope{gate.value("id", ""), gate.value("position", std::int64_t{0}), {}};
  store::RecordQuery q;
  q.equals.emplace_back("pipeline_id", gate.value("pipeline_id", Json()));
  q.limit = 1000;
  for (const Json& stored : store::RecordTable(entity_spec("stage")).list(tx, tenant_id, q)) {
    bool is_written = stored["id"] == written.value("id", Json());
    if (!is_written) scope.stages.push_back(outline_of(stored));
  }
    if (written.value("archived_at", Json()).is_null() && written.value("pipeline_id", Json()) == gate["pipeline_id"])
    scope.stages.push_back(outline_of(written));
  return scope;
}

// A stage write keeps every gate of its pipeline enforceable: its own, and those of the
// other stages whose checklist criteria name it (its position or items may change, or
// it may be archived).
std::vector<FieldError> stage_definition_problems(const services::ValidationRequest& r) {
  std::vector<FieldError> out = checklist_definition_problems(r.after.value("checklist_template", Json::array()));
  auto own = gate_definition_problems(r.after.value("entry_criteria", Json::array()),
                                      gate_scope(r.tx, r.context.tenant_id, r.after, r.after));
  out.insert(out.end(), own.begin(), own.end());
  if (!r.before.is_object()) return out;
  store::RecordQuery q;
  q.equals.emplace_back("pipeline_id", r.after.value("pipeline_id", Json()));
  q.limit = 1000;
  for (const Json& other : store::RecordTable(entity_spec("stage")).list(r.tx, r.context.tenant_id, q)) {
    if (other["id"] == r.after["id"] || other.value("entry_criteria", Json::array()).empty()) continue;
    if (!gate_definition_problems(other["entry_criteria"], gate_scope(r.tx, r.context.tenant_id, other, r.after)).empty())
      out.push_back({"checklist_template", "stage " + other["id"].get<std::string>() + "'s gate asks for this stage's "
                                           "checklist; this change would leave that gate unenforceable", "gate_broken"});
  }
  return out;
}

}  // namespace

namespace {

// A pipeline's key is unique in its tenant, a stage's in its pipeline: what pipeline
// definitions match them by (pipeline_definition.hpp).
std::vector<FieldError> key_problems(const services::ValidationRequest& r, const std::string& scope_field) {
  const Json& key = r.after.value("key", Json());
  if (key.is_null() || (r.before.is_object() && r.before.value("key", Json()) == key)) return {};
  static const std::regex pattern("^[a-z0-9_]{1,64}$");
  if (!key.is_string() || !std::regex_match(key.get<std::string>(), pattern))
    return {{"key", "must be 1 to 64 lower-case letters, digits or _"}};
  store::RecordQuery q;
  q.equals = {{"key", key}};
  if (!scope_field.empty()) q.equals.emplace_back(scope_field, r.after.value(scope_field, Json()));
  q.limit = 1;
  if (!store::RecordTable(entity_spec(r.entity_type)).list(r.tx, r.context.tenant_id, q).empty())
    return {{"key", "is taken by another " + r.entity_type + (scope_field.empty() ? "" : " of this pipeline"),
             "key_taken"}};
  return {};
}

}  // namespace

void register_stage_gates(services::ValidatorRegistry& validators) {
  validators.set_gate_evaluator(gate_verdict);
  validators.add("pipeline keys", "pipeline", [](const services::ValidationRequest& r) { return key_problems(r, ""); });
  // A gate that cannot be enforced is refused where it is written, never at move time.
  validators.add("stage gates", "stage", [](const services::ValidationRequest& r) {
    auto out = key_problems(r, "pipeline_id");
    auto more = stage_definition_problems(r);
    out.insert(out.end(), more.begin(), more.end());
    return out;
  });
  validators.add("stage gates", "deal", [](const services::ValidationRequest& r) {
    std::vector<FieldError> out;
    if (r.action == "deal.approved") return approval_refusals(r);
    // A deal created straight into a stage enters it too: no way around the gate.
    if (r.action != "deal.stage_changed" && !r.before.is_null()) return out;
    auto stage = store::RecordTable(entity_spec("stage")).find(r.tx, r.context.tenant_id, r.after.value("stage_id", ""));
    if (!stage) return out;  // the deal rules name a missing stage already
    GatedMove move{r.after, r.after.value("stage_id", ""),
                   r.before.is_object() ? r.before.value("stage_entered_at", "") : "", mover_of(r.context)};
    auto unmet = unmet_criteria(r.tx, r.context.tenant_id, move, stage->value("entry_criteria", Json::array()));
    if (unmet.empty()) return out;
    if (r.context.override_gates) return override_refusals(r, unmet);
    for (const auto& u : unmet) out.push_back({"entry_criteria/" + std::to_string(u.index), u.missing, u.code});
    return out;
  });
}

}  // namespace nucleo::automation
