#include "kernel/automation/stage_gate.hpp"

#include <algorithm>
#include <set>

#include "kernel/domain/time.hpp"
#include "kernel/services/principal.hpp"
#include "kernel/store/record_table.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::automation {
namespace {

const std::set<std::string> field_operators{"exists", "eq", "neq", "lt", "lte", "gt", "gte", "in"};
const std::set<std::string> directions{"inbound", "outbound", "internal"};

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

std::string describe(const Json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

std::optional<UnmetCriterion> unmet_field(store::Transaction& tx, const std::string& tenant_id, const Json& deal,
                                          const Json& c) {
  FieldPath path = path_of(c["field"]);
  Json record = deal;
  if (path.entity == "account") {
    Json account_id = deal.value("account_id", Json());
    auto account = account_id.is_string() ? store::RecordTable(entity_spec("account")).find(tx, tenant_id, account_id)
                                          : std::nullopt;
    record = account ? *account : Json::object();
  }
  std::string op = c["op"];
  Json actual = value_at(record, path.field), expected = c.value("value", Json());
  if (holds(op, actual, expected)) return std::nullopt;
  std::string name = c["field"];
  if (actual.is_null()) return UnmetCriterion{"field_missing", 0, c, name + " is not set"};
  return UnmetCriterion{"field_mismatch", 0, c,
                        name + " is " + describe(actual) + ", needs " + op + " " + describe(expected)};
}

std::optional<UnmetCriterion> unmet_interactions(store::Transaction& tx, const std::string& tenant_id,
                                                 const Json& deal, const Json& c, const std::string& since) {
  std::vector<store::SqlValue> values{tenant_id, deal.at("id").get<std::string>()};
  std::string sql = "SELECT count(*) FROM interactions WHERE tenant_id = :p0 AND deal_id = :p1 AND type IN (";
  const Json& types = c["types"];
  for (std::size_t i = 0; i < types.size(); ++i) {
    sql += (i ? ", " : "") + store::placeholder(values.size());
    values.push_back(types[i].get<std::string>());
  }
  sql += ")";
  if (c.contains("direction")) {
    sql += " AND direction = " + store::placeholder(values.size());
    values.push_back(c["direction"].get<std::string>());
  }
  if (auto entered = parse_rfc3339(since)) {
    sql += " AND COALESCE(occurred_at, created_at) >= " + store::placeholder(values.size());
    values.push_back(entered->micros);
  }
  sql += " AND archived_at IS NULL";
  std::int64_t count = 0;
  store::query(tx.session(), sql, values, [&](const soci::row& r) { count = store::integer_at(r, 0).value_or(0); });
  std::int64_t needed = c.value("min_count", 1);
  if (count >= needed) return std::nullopt;
  std::string what;
  for (const auto& t : types) what += (what.empty() ? "" : " or ") + t.get<std::string>();
  if (c.contains("direction")) what = c["direction"].get<std::string>() + " " + what;
  return UnmetCriterion{"interactions_missing", 0, c,
                        std::to_string(needed) + " " + what + " interaction(s) since the deal entered its stage, " +
                            std::to_string(count) + " logged"};
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

}  // namespace

std::vector<FieldError> gate_definition_problems(const Json& criteria) {
  std::vector<FieldError> out;
  if (!criteria.is_array()) return {{"entry_criteria", "must be an array of criteria"}};
  for (std::size_t i = 0; i < criteria.size(); ++i) {
    const Json& c = criteria[i];
    std::string at = "entry_criteria/" + std::to_string(i);
    std::string kind = c.is_object() ? c.value("kind", "") : "";
    if (kind == "field") field_problems(c, at, out);
    else if (kind == "interactions") interaction_problems(c, at, out);
    else out.push_back({at + "/kind", "must be field or interactions"});
  }
  return out;
}

std::vector<UnmetCriterion> unmet_criteria(store::Transaction& tx, const std::string& tenant_id, const Json& deal,
                                           const Json& criteria, const std::string& since) {
  std::vector<UnmetCriterion> out;
  for (std::size_t i = 0; i < criteria.size(); ++i) {
    const Json& c = criteria[i];
    auto unmet = c["kind"] == "field" ? unmet_field(tx, tenant_id, deal, c)
                                      : unmet_interactions(tx, tenant_id, deal, c, since);
    if (!unmet) continue;
    unmet->index = i;
    out.push_back(std::move(*unmet));
  }
  return out;
}

Json evaluate_gate(services::ServiceDependencies deps, const services::CallContext& ctx, const std::string& deal_id,
                   const std::string& stage_id) {
  Json deal = services::RecordService(deps).get(ctx, "deal", deal_id);  // 404 unless the caller sees it
  return deps.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    auto stage = store::RecordTable(entity_spec("stage")).find(tx, ctx.tenant_id, stage_id);
    if (!stage || !(*stage)["archived_at"].is_null())
      throw Error(ErrorCode::validation, "no live stage " + stage_id + " in this tenant", {{"stage_id", "not found"}});
    if ((*stage)["pipeline_id"] != deal["pipeline_id"])
      throw Error(ErrorCode::validation, "stage " + stage_id + " is not in the deal's pipeline",
                  {{"stage_id", "belongs to another pipeline"}});
    Json unmet = unmet_json(unmet_criteria(tx, ctx.tenant_id, deal, stage->value("entry_criteria", Json::array()),
                                           deal.value("stage_entered_at", "")));
    return Json{{"deal_id", deal_id}, {"stage_id", stage_id}, {"passes", unmet.empty()}, {"unmet", unmet}};
  });
}

void register_stage_gates(services::ValidatorRegistry& validators) {
  // A gate that cannot be enforced is refused where it is written, never at move time.
  validators.add("stage gates", "stage", [](const services::ValidationRequest& r) {
    return gate_definition_problems(r.after.value("entry_criteria", Json::array()));
  });
  validators.add("stage gates", "deal", [](const services::ValidationRequest& r) {
    std::vector<FieldError> out;
    // A deal created straight into a stage enters it too: no way around the gate.
    if (r.action != "deal.stage_changed" && !r.before.is_null()) return out;
    auto stage = store::RecordTable(entity_spec("stage")).find(r.tx, r.context.tenant_id, r.after.value("stage_id", ""));
    if (!stage) return out;  // the deal rules name a missing stage already
    auto unmet = unmet_criteria(r.tx, r.context.tenant_id, r.after, stage->value("entry_criteria", Json::array()),
                                r.before.is_object() ? r.before.value("stage_entered_at", "") : "");
    if (unmet.empty()) return out;
    if (r.context.override_gates) return override_refusals(r, unmet);
    for (const auto& u : unmet) out.push_back({"entry_criteria/" + std::to_string(u.index), u.missing, u.code});
    return out;
  });
}

}  // namespace nucleo::automation
