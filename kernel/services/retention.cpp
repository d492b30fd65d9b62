#include "kernel/services/retention.hpp"

#include <algorithm>
#include <regex>

#include "kernel/audit/recorder.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/change.hpp"
#include "kernel/services/consent_service.hpp"
#include "kernel/services/plugin_record_service.hpp"
#include "kernel/services/privacy_service.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

constexpr std::int64_t micros_per_day = 86'400'000'000;

void require_officer(const CallContext& ctx) {
  require_role(ctx, {"admin"}, "retention policies are set and run by the admin role", "privacy:write");
}
void require_reader(const CallContext& ctx) {
  require_role(ctx, {"admin", "auditor"}, "retention is for the admin and auditor roles only", "privacy:read");
}

const std::vector<std::string>& interaction_types() {
  static const std::vector<std::string> types = [] {
    std::vector<std::string> out;
    if (const FieldSpec* f = entity_spec("interaction").field("type"))
      for (const auto& v : f->allowed) out.push_back(v);
    return out;
  }();
  return types;
}

// A policy's body, checked: every field named when wrong, nothing unknown accepted.
Json checked_definition(store::Transaction& tx, const std::string& tenant_id, const Json& body) {
  if (!body.is_object()) throw Error(ErrorCode::validation, "a retention policy is a JSON object");
  std::vector<FieldError> errors;
  const std::string entity = body.value("entity", Json("")).is_string() ? body.value("entity", "") : "";
  std::vector<std::string> allowed{"description", "entity", "after_days", "enabled"};
  if (entity == "contact") allowed.insert(allowed.end(), {"purpose_not_granted"});
  if (entity == "interaction") allowed.insert(allowed.end(), {"types"});
  if (entity == "plugin_record") allowed.insert(allowed.end(), {"plugin_id", "collection", "date_field"});
  for (const auto& [key, value] : body.items())
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      errors.push_back({key, "is not a field of a " + (entity.empty() ? std::string("retention") : entity) + " policy"});
  if (!body.value("description", Json()).is_string() || body["description"].get<std::string>().empty())
    errors.push_back({"description", "is required: what the data served and why it goes now"});
  if (entity != "contact" && entity != "interaction" && entity != "plugin_record")
    errors.push_back({"entity", "must be contact, interaction or plugin_record"});
  const Json& days = body.value("after_days", Json());
  if (!days.is_number_integer() || days.get<std::int64_t>() < 1 || days.get<std::int64_t>() > 36500)
    errors.push_back({"after_days", "must be a whole number of days from 1 to 36500"});
  if (body.contains("enabled") && !body["enabled"].is_boolean()) errors.push_back({"enabled", "must be true or false"});
  if (body.contains("purpose_not_granted")) {
    if (!body["purpose_not_granted"].is_string())
      errors.push_back({"purpose_not_granted", "must be a purpose key"});
    else
      require_known_purpose(tx, tenant_id, body["purpose_not_granted"], "purpose_not_granted");
  }
  if (body.contains("types")) {
    const Json& types = body["types"];
    bool ok = types.is_array() && !types.empty();
    for (const auto& t : ok ? types : Json::array())
      ok = ok && t.is_string() &&
           std::find(interaction_types().begin(), interaction_types().end(), t.get<std::string>()) != interaction_types().end();
    if (!ok) errors.push_back({"types", "must be a non-empty list of interaction types (whatsapp, email, …)"});
  }
  if (entity == "plugin_record") {
    for (const char* field : {"plugin_id", "collection", "date_field"})
      if (!body.value(field, Json()).is_string()) errors.push_back({field, "is required for a plugin_record policy"});
    if (errors.empty()) {
      std::optional<std::pair<std::string, std::string>> declared;  // indexes, personal
      store::query(tx.session(),
                   "SELECT indexes, personal FROM plugin_collections WHERE plugin_id = :p0 AND collection = :p1",
                   {body["plugin_id"].get<std::string>(), body["collection"].get<std::string>()},
                   [&](const store::Row& r) {
                     declared = {store::required_text(r, 0), store::text_at(r, 1).value_or("")};
                   });
      if (!declared)
        errors.push_back({"collection", "no plugin declared collection " + body["collection"].get<std::string>()});
      else if (declared->second.empty())
        errors.push_back({"collection", "declares no personal data: retention policies are for personal data"});
      else if (!Json::parse(declared->first).contains(body["date_field"].get<std::string>()))
        errors.push_back({"date_field", "is not an indexed field of the collection (its plugin.json \"indexes\")"});
    }
  }
  if (!errors.empty()) throw Error(ErrorCode::validation, "invalid retention policy", errors);
  Json definition = body;
  if (!definition.contains("enabled")) definition["enabled"] = true;
  return definition;
}

Json policy_json(const store::Row& r, std::int64_t grace) {
  Json p = Json::parse(store::required_text(r, 1));
  p["key"] = store::required_text(r, 0);
  p["enabled"] = store::required_integer(r, 2) != 0;
  p["version"] = store::required_integer(r, 3);
  std::int64_t updated = store::required_integer(r, 4);
  p["updated_at"] = format_rfc3339(Timestamp{updated});
  p["grace_ends_at"] = format_rfc3339(Timestamp{updated + grace});
  return p;
}

std::vector<Json> read_policies(store::Transaction& tx, const std::string& tenant_id, std::int64_t grace) {
  std::vector<Json> out;
  store::query(tx.session(),
               "SELECT key, definition, enabled, version, updated_at FROM retention_policies WHERE tenant_id = :p0 ORDER BY key",
               {tenant_id}, [&](const store::Row& r) { out.push_back(policy_json(r, grace)); });
  return out;
}

struct Candidate {
  std::string entity_type, id, subject_id;
  bool held = false;
  Json to_json() const {
    return {{"entity_type", entity_type}, {"id", id}, {"subject_id", subject_id.empty() ? Json() : Json(subject_id)},
            {"held", held}};
  }
};

// An active legal hold on the subject named by `subject_column` of the row's tenant.
// (Columns, not parameters: store::query binds :pN in the order they appear.)
std::string held(const std::string& tenant_column, const std::string& subject_column) {
  return "CASE WHEN EXISTS (SELECT 1 FROM privacy_holds h WHERE h.tenant_id = " + tenant_column +
         " AND h.subject_id = " + subject_column + " AND h.lifted_at IS NULL) THEN 1 ELSE 0 END";
}

// What the policy covers now, by id, at most `limit` (+1 to tell there is more).
std::vector<Candidate> candidates(store::Transaction& tx, const std::string& tenant_id, const Json& policy,
                                  Timestamp cutoff, std::size_t limit) {
  const bool pg = tx.backend() == store::Backend::postgresql;
  const std::string entity = policy["entity"];
  // Placeholders are bound in the order they appear in the text (store::query), and the
  // operands of + are not evaluated in order: each is named before the text is built.
  std::vector<store::SqlValue> values;
  auto bind = [&](store::SqlValue v) {
    values.push_back(std::move(v));
    return store::placeholder(values.size() - 1);
  };
  std::string sql;
  if (entity == "contact") {
    // No activity since the cutoff: her record unchanged (the index on updated_at finds
    // those) and no interaction of hers since.
    const std::string tenant = bind(tenant_id), unchanged = bind(cutoff.micros), quiet = bind(cutoff.micros);
    sql = "SELECT c.id, c.id, " + held("c.tenant_id", "c.id") + " FROM contacts c WHERE c.tenant_id = " + tenant +
          " AND c.updated_at < " + unchanged + " AND c.erased_at IS NULL AND NOT EXISTS (SELECT 1 FROM interactions i"
          " WHERE i.tenant_id = c.tenant_id AND i.contact_id = c.id AND coalesce(i.occurred_at, i.created_at) >= " + quiet + ")";
    if (policy.contains("purpose_not_granted")) {
      const std::string purpose = policy["purpose_not_granted"];
      const std::string key = bind(pg ? purpose : "$." + purpose);
      sql += pg ? " AND coalesce(c.consent ->> " + key + ", '') <> 'granted'"
                : " AND coalesce(json_extract(c.consent, " + key + "), '') <> 'granted'";
    }
    sql += " ORDER BY c.id";
  } else if (entity == "interaction") {
    // occurred_at is never null (the interaction rules set it): the (tenant_id,
    // occurred_at, id) index finds the old ones without reading the tenant.
    const std::string tenant = bind(tenant_id), before = bind(cutoff.micros);
    sql = "SELECT i.id, coalesce(i.contact_id, ''), " + held("i.tenant_id", "i.contact_id") +
          " FROM interactions i WHERE i.tenant_id = " + tenant + " AND i.occurred_at < " + before +
          " AND (i.subject IS NOT NULL OR i.body IS NOT NULL OR i.content IS NOT NULL)";
    if (policy.contains("types")) sql += " AND i.type IN " + store::bound_list(policy["types"].get<std::vector<std::string>>(), values);
    sql += " ORDER BY i.id";
  } else {
    // A plugin's document past its own date (an ISO date or time, compared as text), and
    // the person it is about (the collection's declared subject field).
    std::string subject_field;
    store::query(tx.session(), "SELECT personal FROM plugin_collections WHERE plugin_id = :p0 AND collection = :p1",
                 {policy["plugin_id"].get<std::string>(), policy["collection"].get<std::string>()},
                 [&](const store::Row& r) {
                   subject_field = Json::parse(store::text_at(r, 0).value_or("{}")).value("subject_field", "");
                 });
    auto index = [](const std::string& alias) {
      return " JOIN plugin_record_index " + alias + " ON " + alias + ".tenant_id = r.tenant_id AND " + alias +
             ".plugin_id = r.plugin_id AND " + alias + ".collection = r.collection AND " + alias + ".record_id = r.id";
    };
    const std::string subject = bind(subject_field), tenant = bind(tenant_id),
                      plugin = bind(policy["plugin_id"].get<std::string>()),
                      collection = bind(policy["collection"].get<std::string>()),
                      date_field = bind(policy["date_field"].get<std::string>()), before = bind(format_rfc3339(cutoff));
    sql = "SELECT r.id, coalesce(s.text_value, ''), " + held("r.tenant_id", "s.text_value") + " FROM plugin_records r" +
          index("d") + " LEFT" + index("s") + " AND s.field = " + subject + " WHERE r.tenant_id = " + tenant +
          " AND r.plugin_id = " + plugin + " AND r.collection = " + collection + " AND d.field = " + date_field +
          " AND d.text_value < " + before + " ORDER BY r.id";
  }
  const std::string at_most = bind(static_cast<std::int64_t>(limit + 1));
  sql += " LIMIT " + at_most;
  const std::string prefix =
      entity == "plugin_record" ? policy["plugin_id"].get<std::string>() + "/" + policy["collection"].get<std::string>() + "/" : "";
  std::vector<Candidate> out;
  store::query(tx.session(), sql, values, [&](const store::Row& r) {
    out.push_back({entity, prefix + store::required_text(r, 0), store::required_text(r, 1),
                   store::integer_at(r, 2).value_or(0) != 0});
  });
  return out;
}

// Applies the policy to one record in its own transaction. False: under a hold since
// the plan, or already gone.
bool apply(PrivacyService& privacy, const CallContext& ctx, const Json& policy, const Candidate& c) {
  const std::string reason = "retention policy " + policy["key"].get<std::string>() + ": " +
                             policy["description"].get<std::string>().substr(0, 900);
  try {
    if (c.entity_type == "contact") {
      privacy.erase_contact(ctx, c.id, reason);
      return true;
    }
    if (c.entity_type == "interaction") return privacy.expire_interaction_content(ctx, c.id, reason);
    const std::string prefix = policy["plugin_id"].get<std::string>() + "/" + policy["collection"].get<std::string>() + "/";
    return privacy.expire_plugin_document(ctx, policy["plugin_id"], policy["collection"], c.id.substr(prefix.size()), reason);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::conflict || e.code() == ErrorCode::not_found) return false;  // held, or erased meanwhile
    throw;
  }
}

}  // namespace

std::vector<Json> RetentionService::policies(const CallContext& ctx) {
  require_reader(ctx);
  const std::int64_t grace = deps_.privacy.retention_grace_days * micros_per_day;
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) { return read_policies(tx, ctx.tenant_id, grace); });
}

Json RetentionService::define_policy(const CallContext& ctx, const std::string& key, const Json& body) {
  require_officer(ctx);
  if (!is_purpose_key(key))  // the same spelling as a purpose's: [a-z][a-z0-9_]{0,63}
    throw Error(ErrorCode::validation, "a policy key is [a-z][a-z0-9_]{0,63}, not '" + key + "'", {{"key", "malformed"}});
  const std::int64_t grace = deps_.privacy.retention_grace_days * micros_per_day;
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    Json definition = checked_definition(tx, ctx.tenant_id, body);
    Json before;
    for (const auto& p : read_policies(tx, ctx.tenant_id, grace))
      if (p["key"] == key) before = p;
    Timestamp now = ctx.now();
    Json stored = definition;
    stored.erase("enabled");
    if (before.is_null())
      store::execute(tx.session(),
                     "INSERT INTO retention_policies (tenant_id, key, definition, enabled, created_at, updated_at)"
                     " VALUES (:p0, :p1, :p2, :p3, :p4, :p5)",
                     {ctx.tenant_id, key, stored.dump(), std::int64_t{definition["enabled"].get<bool>()}, now.micros, now.micros});
    else
      store::execute(tx.session(),
                     "UPDATE retention_policies SET definition = :p0, enabled = :p1, version = version + 1, updated_at = :p2"
                     " WHERE tenant_id = :p3 AND key = :p4",
                     {stored.dump(), std::int64_t{definition["enabled"].get<bool>()}, now.micros, ctx.tenant_id, key});
    Json after;
    for (const auto& p : read_policies(tx, ctx.tenant_id, grace))
      if (p["key"] == key) after = p;
    Json changes = audit::diff_changes(before.is_null() ? Json::object() : before, after);
    changes.erase("version");
    changes.erase("updated_at");
    changes.erase("grace_ends_at");
    commit_change(tx, ctx, {"privacy.retention_policy_defined", "retention_policy", key, changes, after});
    return after;
  });
}

Json RetentionService::plan(const CallContext& ctx) {
  require_reader(ctx);
  return plan_or_run(ctx, false);
}

Json RetentionService::run(const CallContext& ctx) {
  require_officer(ctx);
  return plan_or_run(ctx, true);
}

Json RetentionService::plan_or_run(const CallContext& ctx, bool apply_it) {
  const Timestamp started = ctx.now();
  const std::int64_t grace = deps_.privacy.retention_grace_days * micros_per_day;
  const std::size_t limit = deps_.privacy.retention_max_per_run;
  const std::string run_id = generate_id(id_prefix::retention_run, started);
  if (apply_it)
    deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
      store::execute(tx.session(), "INSERT INTO retention_runs (id, tenant_id, started_at, actor_id) VALUES (:p0, :p1, :p2, :p3)",
                     {run_id, ctx.tenant_id, started.micros, ctx.actor.id});
    });
  Json out = {{"generated_at", format_rfc3339(started)}, {"grace_days", deps_.privacy.retention_grace_days},
              {"max_per_run", limit}, {"policies", Json::array()}};
  if (apply_it) out["run_id"] = run_id;
  std::vector<Json> policies =
      deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) { return read_policies(tx, ctx.tenant_id, grace); });
  PrivacyService privacy(deps_);
  CallContext call = ctx;
  call.principal = nullptr;  // the erasure path's own checks (holds) still apply
  for (const auto& policy : policies) {
    Timestamp cutoff{started.micros - policy["after_days"].get<std::int64_t>() * micros_per_day};
    Json result = {{"key", policy["key"]}, {"entity", policy["entity"]}, {"cutoff", format_rfc3339(cutoff)},
                   {"grace_ends_at", policy["grace_ends_at"]}, {"records", Json::array()}, {"held", 0}, {"more", false}};
    const bool in_grace = *parse_rfc3339(policy["grace_ends_at"].get<std::string>()) > started;
    result["status"] = !policy["enabled"].get<bool>() ? "disabled" : in_grace ? "in_grace" : "due";
    if (result["status"] == "disabled") {
      out["policies"].push_back(result);
      continue;
    }
    auto found = deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
      return candidates(tx, ctx.tenant_id, policy, cutoff, limit);
    });
    result["more"] = found.size() > limit;
    if (found.size() > limit) found.pop_back();
    std::size_t touched = 0, held_count = 0;
    for (const auto& c : found) {
      if (c.held) {
        ++held_count;
        continue;
      }
      // In grace, a plan still shows what the policy would take once it is over.
      if (apply_it && (in_grace || !apply(privacy, call, policy, c))) continue;
      ++touched;
      result["records"].push_back(c.to_json());
    }
    result["held"] = held_count;
    result[apply_it ? "touched" : "would_touch"] = in_grace && apply_it ? 0 : touched;
    out["policies"].push_back(result);
  }
  if (apply_it)
    deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
      Json summary = Json::array();
      for (const auto& p : out["policies"])
        summary.push_back({{"key", p["key"]}, {"status", p["status"]}, {"touched", p.value("touched", 0)},
                           {"held", p["held"]}, {"more", p["more"]}});
      Timestamp finished = ctx.now();
      store::execute(tx.session(), "UPDATE retention_runs SET finished_at = :p0, summary = :p1 WHERE tenant_id = :p2 AND id = :p3",
                     {finished.micros, summary.dump(), ctx.tenant_id, run_id});
      commit_change(tx, ctx,
                    {"privacy.retention_ran", "retention_run", run_id, {{"summary", {{"from", nullptr}, {"to", summary}}}},
                     {{"id", run_id}, {"started_at", format_rfc3339(started)}, {"finished_at", format_rfc3339(finished)},
                      {"summary", summary}}});
    });
  return out;
}

std::vector<Json> RetentionService::runs(const CallContext& ctx, std::size_t limit) {
  require_reader(ctx);
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    std::vector<Json> out;
    store::query(tx.session(),
                 "SELECT id, started_at, finished_at, actor_id, summary FROM retention_runs WHERE tenant_id = :p0"
                 " ORDER BY started_at DESC, id DESC LIMIT :p1",
                 {ctx.tenant_id, static_cast<std::int64_t>(limit)}, [&](const store::Row& r) {
                   auto finished = store::integer_at(r, 2);
                   out.push_back({{"id", store::required_text(r, 0)},
                                  {"started_at", format_rfc3339(Timestamp{store::required_integer(r, 1)})},
                                  {"finished_at", finished ? Json(format_rfc3339(Timestamp{*finished})) : Json()},
                                  {"actor_id", store::required_text(r, 3)},
                                  {"summary", store::text_at(r, 4) ? Json::parse(*store::text_at(r, 4)) : Json()}});
                 });
    return out;
  });
}

events::JobDefinition retention_job(ServiceDependencies deps, const Clock& clock, const std::string& schedule) {
  events::JobDefinition job;
  job.name = retention_job_name;
  job.schedule = events::Schedule::parse(schedule);
  job.time_zone = "tenant";
  job.run = [deps, &clock](const Json& row) -> std::string {
    CallContext ctx;
    ctx.tenant_id = row.at("tenant_id").get<std::string>();
    ctx.actor = {"system", retention_job_name, ""};
    ctx.request_id = row.value("job_id", "");
    ctx.clock = &clock;
    RetentionService(deps).run(ctx);
    return "";
  };
  return job;
}

}  // namespace nucleo::services
