// Entity-specific rules that run inside the write transaction, around the generic
// save in write.cpp. Each rule reads like the business sentence it enforces.
#include <algorithm>
#include <map>
#include <set>

#include "kernel/domain/id.hpp"
#include "kernel/services/proposal_rules.hpp"
#include "kernel/services/write.hpp"
#include "kernel/services/write_batch.hpp"
#include "kernel/store/record_table.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

using store::SqlValue;

std::string text_of(const Json& record, const std::string& field) {
  const Json& v = record.value(field, Json());
  return v.is_string() ? v.get<std::string>() : std::string();
}

// --- duplicates and contact points (accounts, contacts) ------------------------------

struct ContactPoint {
  std::string field, kind, value;
};

std::vector<ContactPoint> contact_points_of(const Write& w) {
  std::vector<ContactPoint> points;
  auto add = [&](const std::string& field, const std::string& kind, const Json& v) {
    if (v.is_string()) points.push_back({field, kind, v.get<std::string>()});
  };
  if (w.spec.type == "account") {
    for (const auto& e : w.after.value("emails", Json::array())) add("emails", "email", e);
    for (const auto& p : w.after.value("phones", Json::array())) add("phones", "phone", p);
  } else {
    add("email", "email", w.after.value("email", Json()));
    add("phone", "phone", w.after.value("phone", Json()));
  }
  return points;
}

// The same e-mail or phone on another live record is saved anyway and reported in
// `duplicates[]` (docs/architecture.md §4): people share numbers; a merge is a human decision.
void sync_contact_points(Write& w) {
  auto& s = w.tx.session();
  if (!w.is_create())  // a new record has none yet (a statement fewer per created contact or account)
    store::execute(s, "DELETE FROM contact_points WHERE entity_id = :p0 AND tenant_id = :p1", {w.id(), w.ctx.tenant_id});
  if (!w.after["archived_at"].is_null()) return;  // archived records match nothing
  WriteBatch* batch = w.is_create() ? WriteBatch::of(w.tx) : nullptr;  // an update deletes its old points first
  for (const auto& p : contact_points_of(w)) {
    auto duplicate = [&](const std::string& entity_type, const std::string& entity_id) {
      w.duplicates.push_back({{"entity_type", entity_type}, {"id", entity_id}, {"field", p.field}, {"value", p.value}});
    };
    if (const auto* holders = batch ? batch->holders(p.kind, p.value) : nullptr) {
      // The batch asked who holds it; the row waits with the batch's others.
      for (const auto& h : *holders)
        if (h.entity_id != w.id()) duplicate(h.entity_type, h.entity_id);
      w.tx.append("contact_points", "(tenant_id, entity_type, entity_id, kind, value)",
                  {w.ctx.tenant_id, w.spec.type, w.id(), p.kind, p.value});
      batch->holds(p.kind, p.value, {w.spec.type, w.id()});
      continue;
    }
    store::execute(s,
                   "INSERT INTO contact_points (tenant_id, entity_type, entity_id, kind, value)"
                   " VALUES (:p0, :p1, :p2, :p3, :p4)",
                   {w.ctx.tenant_id, w.spec.type, w.id(), p.kind, p.value});
    store::query(s,
                 "SELECT entity_type, entity_id FROM contact_points"
                 " WHERE tenant_id = :p0 AND kind = :p1 AND value = :p2 AND entity_id <> :p3 ORDER BY entity_id",
                 {w.ctx.tenant_id, p.kind, p.value, w.id()},
                 [&](const store::Row& row) { duplicate(store::required_text(row, 0), store::required_text(row, 1)); });
  }
}

// --- accounts ------------------------------------------------------------------------

// One live account per normalised tax id in a tenant: a second is a conflict naming
// the first (the unique index is the backstop for a concurrent insert).
void refuse_duplicate_tax_id(Write& w) {
  if (!w.after["archived_at"].is_null()) return;
  if (!w.changed("tax_id") && !w.changed("tax_id_country") && !(w.changed("archived_at") && !w.is_create())) return;
  std::string tax_id = text_of(w.after, "tax_id");
  if (tax_id.empty()) return;
  std::string existing;
  store::query(w.tx.session(),
               "SELECT id FROM accounts WHERE tenant_id = :p0 AND tax_id_country = :p1 AND tax_id = :p2"
               " AND archived_at IS NULL AND id <> :p3",
               {w.ctx.tenant_id, text_of(w.after, "tax_id_country"), tax_id, w.id()},
               [&](const store::Row& row) { existing = store::required_text(row, 0); });
  if (!existing.empty())
    throw Error(ErrorCode::conflict, "an account with tax id " + tax_id + " already exists: " + existing,
                {{"tax_id", "already used by " + existing}});
}

// --- users ---------------------------------------------------------------------------

void refuse_duplicate_user_email(Write& w) {
  if (!w.changed("email")) return;
  std::string existing;
  store::query(w.tx.session(), "SELECT id FROM users WHERE tenant_id = :p0 AND email = :p1 AND id <> :p2",
               {w.ctx.tenant_id, text_of(w.after, "email"), w.id()},
               [&](const store::Row& row) { existing = store::required_text(row, 0); });
  if (!existing.empty())
    throw Error(ErrorCode::conflict, "a user with e-mail " + text_of(w.after, "email") + " already exists: " + existing,
                {{"email", "already used by " + existing}});
}

bool active_admin(const Json& user) {
  return user.value("role", "") == "admin" && user.value("active", false) == true &&
         user.value("archived_at", Json()).is_null();
}

// A tenant keeps an active admin (issue #26): the last one cannot be archived,
// deactivated or demoted — nobody could manage its users and keys afterwards. On
// PostgreSQL the other admins' rows are locked, so two admins demoting each other at
// once cannot both succeed: the second sees the first's change when it gets the lock.
void keep_an_active_admin(Write& w) {
  if (w.is_create() || !active_admin(w.before) || active_admin(w.after)) return;
  std::string sql =
      "SELECT id FROM users WHERE tenant_id = :p0 AND role = 'admin' AND active = 1 AND archived_at IS NULL"
      " AND id <> :p1";
  if (w.tx.backend() == store::Backend::postgresql) sql += " FOR UPDATE";
  bool another = false;
  store::query(w.tx.session(), sql, {w.ctx.tenant_id, w.id()}, [&](const store::Row&) { another = true; });
  if (!another)
    throw Error(ErrorCode::conflict,
                "user " + w.id() + " is the tenant's last active admin: make another user admin first",
                {{"role", "the tenant's last active admin"}});
}

// Archiving one's own user ends one's access at once: the caller must say they mean it.
void confirm_own_archive(Write& w) {
  const auto& caller = w.ctx.principal;
  bool archiving = !w.is_create() && w.before.value("archived_at", Json()).is_null() &&
                   !w.after.value("archived_at", Json()).is_null();
  if (!archiving || !caller || caller->user_id != w.id() || w.ctx.confirm_own_archive) return;
  throw Error(ErrorCode::conflict,
              "user " + w.id() + " is the caller's own user: archiving it ends this key's access; repeat with"
              " confirm_self=true to do it anyway",
              {{"confirm_self", "required to archive one's own user"}});
}

void check_team_ids(Write& w) {
  if (!w.changed("team_ids")) return;
  store::RecordTable teams(entity_spec("team"));
  const Json& ids = w.after["team_ids"];
  for (std::size_t i = 0; i < ids.size(); ++i) {
    std::string where = "team_ids[" + std::to_string(i) + "]";
    if (!ids[i].is_string() || !is_valid_id(ids[i].get<std::string>(), id_prefix::team))
      w.errors.push_back({where, "must be a team id (team_…)"});
    else if (!teams.exists(w.tx, w.ctx.tenant_id, ids[i].get<std::string>(), false))
      w.errors.push_back({where, "no live team " + ids[i].get<std::string>() + " in this tenant"});
  }
}

// --- pipelines and deals ---------------------------------------------------------------

void check_stage_numbers(Write& w) {
  auto probability = w.after.value("probability", Json());
  if (probability.is_number_integer() && (probability.get<std::int64_t>() < 0 || probability.get<std::int64_t>() > 100))
    w.errors.push_back({"probability", "must be from 0 to 100"});
  auto position = w.after.value("position", Json());
  if (position.is_number_integer() && position.get<std::int64_t>() < 0)
    w.errors.push_back({"position", "must not be negative"});
  auto rot = w.after.value("rot_days", Json());
  if (rot.is_number_integer() && rot.get<std::int64_t>() < 1) w.errors.push_back({"rot_days", "must be at least 1"});
}

std::optional<Json> first_stage_of(Write& w, const std::string& pipeline_id) {
  std::optional<Json> first;
  auto stages = store::RecordTable(entity_spec("stage"))
                    .list(w.tx, w.ctx.tenant_id, {{{"pipeline_id", pipeline_id}}, "", 1000, false});
  for (auto& s : stages)
    if (!first || s["position"].get<std::int64_t>() < (*first)["position"].get<std::int64_t>()) first = s;
  return first;
}

void check_deal_contacts(Write& w) {
  if (!w.changed("contacts")) return;
  store::RecordTable contacts(entity_spec("contact"));
  const Json& list = w.after["contacts"];
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string where = "contacts[" + std::to_string(i) + "]";
    const Json& c = list[i];
    if (!c.is_object() || !c.value("contact_id", Json()).is_string() ||
        !is_valid_id(c["contact_id"].get<std::string>(), id_prefix::contact)) {
      w.errors.push_back({where, "must be {\"contact_id\": \"con_…\", \"role\": \"…\"}"});
      continue;
    }
    for (const auto& [key, value] : c.items())
      if ((key != "contact_id" && key != "role") || (key == "role" && !value.is_string() && !value.is_null()))
        w.errors.push_back(
            {where + "." + key, key == "role" ? "must be a string" : "is not a field of a deal contact"});
    if (!contacts.exists(w.tx, w.ctx.tenant_id, c["contact_id"].get<std::string>(), false))
      w.errors.push_back(
          {where + ".contact_id", "no live contact " + c["contact_id"].get<std::string>() + " in this tenant"});
  }
}

// --- another system's stage history (an import, ADR 0045) -------------------------------

struct Stay {
  std::string stage_id;
  Timestamp entered;
};

// The stays an import says a new deal made, oldest first and its current stage last (the
// source system's dates: CallContext::source_history); empty when it names none and the
// deal enters its stage now. Problems go on the write, named by the mapping's fields.
std::vector<Stay> imported_stays(Write& w) {
  const Json& history = w.ctx.source_history;
  if (!w.is_create() || !history.is_object()) return {};
  const std::string current = text_of(w.after, "stage_id");
  const Json& stages = history.value("stages", Json::object());
  std::optional<Timestamp> entered = source_time(w, "stage_entered_at");
  if (stages.contains(current)) {
    auto same = source_time(w, stages[current], "stage_entered." + current);
    if (entered && same && same->micros != entered->micros)
      w.errors.push_back({"stage_entered_at", "differs from stage_entered." + current + ", the same stage's date"});
    entered = entered ? entered : same;
  }
  if (!entered) {
    if (!stages.empty())
      w.errors.push_back({"stage_entered_at", "is needed with earlier stages' dates: when the deal entered stage " + current});
    return {};
  }
  std::set<std::string> of_pipeline;
  for (const auto& s : store::RecordTable(entity_spec("stage"))
                           .list(w.tx, w.ctx.tenant_id, {{{"pipeline_id", text_of(w.after, "pipeline_id")}}, "", 1000, false}))
    of_pipeline.insert(text_of(s, "id"));
  std::vector<Stay> stays;
  for (const auto& [stage, at] : stages.items()) {
    if (stage == current) continue;
    std::string field = "stage_entered." + stage;
    auto time = source_time(w, at, field);
    if (!of_pipeline.count(stage))
      w.errors.push_back({field, "is not a live stage of pipeline " + text_of(w.after, "pipeline_id")});
    else if (time && time->micros > entered->micros)
      w.errors.push_back({field, "is after the deal entered its current stage (" + format_rfc3339(*entered) + ")"});
    else if (time)
      stays.push_back({stage, *time});
  }
  std::stable_sort(stays.begin(), stays.end(), [](const Stay& a, const Stay& b) { return a.entered.micros < b.entered.micros; });
  stays.push_back({current, *entered});
  return stays;
}

// A deal imported with its history: it entered its stage when the source says, and was
// created no later than its first stage (then, unless the source says when).
void date_imported_deal(Write& w) {
  auto stays = imported_stays(w);
  if (stays.empty()) return;
  w.after["stage_entered_at"] = format_rfc3339(stays.back().entered);
  auto created = source_time(w, "created_at");
  if (!created) w.after["created_at"] = format_rfc3339(stays.front().entered);
  else if (created->micros > stays.front().entered.micros)
    w.errors.push_back({"created_at", "is after the deal entered stage " + stays.front().stage_id + " (" +
                                          format_rfc3339(stays.front().entered) + ")"});
}

// A deal sits in one stage of its pipeline; its status follows the stage's kind
// (open/won/lost), and a lost deal says why. Entering a stage is timed for the
// stage history and for rot detection.
void place_deal_in_stage(Write& w) {
  check_deal_contacts(w);
  std::string pipeline_id = text_of(w.after, "pipeline_id");
  if (w.after["stage_id"].is_null()) {
    if (!w.is_create()) return void(w.errors.push_back({"stage_id", "is required"}));
    auto first = first_stage_of(w, pipeline_id);
    if (!first) return void(w.errors.push_back({"pipeline_id", "pipeline " + pipeline_id + " has no stages"}));
    w.after["stage_id"] = (*first)["id"];
  }
  if (!w.changed("stage_id") && !w.changed("pipeline_id")) return;

  auto stage = store::RecordTable(entity_spec("stage")).find(w.tx, w.ctx.tenant_id, text_of(w.after, "stage_id"));
  if (!stage || !(*stage)["archived_at"].is_null())
    return void(w.errors.push_back({"stage_id", "no live stage " + text_of(w.after, "stage_id") + " in this tenant"}));
  if ((*stage)["pipeline_id"] != w.after["pipeline_id"])
    return void(w.errors.push_back({"stage_id", "stage " + text_of(w.after, "stage_id") + " belongs to pipeline " +
                                                    text_of(*stage, "pipeline_id") + ", not " + pipeline_id}));
  std::string kind = text_of(*stage, "kind");
  if (kind == "lost" && text_of(w.after, "lost_reason").empty())
    w.errors.push_back({"lost_reason", "is required when a deal moves to a lost stage"});
  if (!w.changed("stage_id")) return;
  w.after["status"] = kind;
  w.after["stage_entered_at"] = format_rfc3339(w.ctx.now());
  w.after["stalled_since"] = nullptr;  // a move is progress: the rot clock starts again
  if (!w.is_create()) w.action = "deal.stage_changed";
  date_imported_deal(w);
}

void record_stage_history(Write& w) {
  if (!w.changed("stage_id")) return;
  auto& s = w.tx.session();
  if (auto stays = imported_stays(w); !stays.empty()) {
    for (std::size_t i = 0; i < stays.size(); ++i)
      store::execute(s,
                     "INSERT INTO deal_stage_history (id, tenant_id, deal_id, stage_id, entered_at, left_at, actor_type,"
                     " actor_id) VALUES (:p0, :p1, :p2, :p3, :p4, :p5, :p6, :p7)",
                     {generate_id(id_prefix::stage_history, w.ctx.now()), w.ctx.tenant_id, w.id(), stays[i].stage_id,
                      stays[i].entered.micros,
                      i + 1 < stays.size() ? SqlValue(stays[i + 1].entered.micros) : SqlValue(),
                      w.ctx.actor.type, w.ctx.actor.id});
    return;
  }
  std::int64_t now = w.ctx.now().micros;
  store::execute(
      s, "UPDATE deal_stage_history SET left_at = :p0 WHERE deal_id = :p1 AND tenant_id = :p2 AND left_at IS NULL",
      {now, w.id(), w.ctx.tenant_id});
  store::execute(s,
                 "INSERT INTO deal_stage_history (id, tenant_id, deal_id, stage_id, entered_at, actor_type, actor_id)"
                 " VALUES (:p0, :p1, :p2, :p3, :p4, :p5, :p6)",
                 {generate_id(id_prefix::stage_history, w.ctx.now()), w.ctx.tenant_id, w.id(),
                  text_of(w.after, "stage_id"), now, w.ctx.actor.type, w.ctx.actor.id});
}

// Each expected close a deal is given, from when it was given: how often and how far it
// slipped can be read back as of any day (docs/insight.md).
void record_close_history(Write& w) {
  if (!w.changed("expected_close")) return;
  const Json& date = w.after.value("expected_close", Json());
  store::execute(w.tx.session(),
                 "INSERT INTO deal_close_history (id, tenant_id, deal_id, expected_close, changed_at, actor_type, actor_id)"
                 " VALUES (:p0, :p1, :p2, :p3, :p4, :p5, :p6)",
                 {generate_id(id_prefix::close_history, w.ctx.now()), w.ctx.tenant_id, w.id(),
                  date.is_string() ? SqlValue(date.get<std::string>()) : SqlValue(), w.ctx.now().micros, w.ctx.actor.type,
                  w.ctx.actor.id});
}

// --- interactions and tasks -----------------------------------------------------------

// A message arrives once per channel: webhook retries carry the same external id.
void refuse_duplicate_external_id(Write& w) {
  if (w.after["occurred_at"].is_null()) w.after["occurred_at"] = format_rfc3339(w.ctx.now());
  if (!w.changed("external_id") && !w.changed("channel")) return;
  std::string external_id = text_of(w.after, "external_id");
  if (external_id.empty()) return;
  std::string channel = text_of(w.after, "channel"), existing;
  WriteBatch* batch = w.is_create() ? WriteBatch::of(w.tx) : nullptr;  // a batch's creates asked at its start
  if (auto held = batch ? batch->interaction_with(channel, external_id) : std::nullopt) {
    existing = *held;
    if (existing.empty()) batch->received(channel, external_id, w.id());
  } else {
    store::query(
        w.tx.session(),
        "SELECT id FROM interactions WHERE tenant_id = :p0 AND channel = :p1 AND external_id = :p2 AND id <> :p3",
        {w.ctx.tenant_id, channel, external_id, w.id()},
        [&](const store::Row& row) { existing = store::required_text(row, 0); });
  }
  if (!existing.empty())
    throw Error(ErrorCode::conflict,
                "interaction " + existing + " already has external id " + external_id + " on this channel",
                {{"external_id", "already recorded as " + existing}});
}

void time_task_completion(Write& w) {
  if (!w.changed("status")) return;
  bool done = text_of(w.after, "status") == "done";
  w.after["completed_at"] = done ? Json(format_rfc3339(w.ctx.now())) : Json();
  if (done && !w.is_create()) w.action = "task.completed";
}

void check_non_negative(Write& w, const std::string& field) {
  auto v = w.after.value(field, Json());
  if (v.is_number_integer() && v.get<std::int64_t>() < 0) w.errors.push_back({field, "must not be negative"});
}

void check_scopes(Write& w) {
  if (!w.changed("scopes")) return;
  const Json& scopes = w.after["scopes"];
  for (std::size_t i = 0; i < scopes.size(); ++i) {
    const Json& s = scopes[i];
    bool ok = s.is_string() && !s.get<std::string>().empty() && s.get<std::string>().size() <= 64 &&
              s.get<std::string>().find_first_not_of("abcdefghijklmnopqrstuvwxyz_.:*") == std::string::npos;
    if (!ok) w.errors.push_back({"scopes[" + std::to_string(i) + "]", "must look like \"deals:read\" or \"*\""});
  }
}

const std::map<std::string, EntityRules>& all_rules() {
  static const std::map<std::string, EntityRules> rules = {
      {"account", {refuse_duplicate_tax_id, sync_contact_points}},
      {"contact", {nullptr, sync_contact_points}},
      {"user",
       {[](Write& w) {
          refuse_duplicate_user_email(w), check_team_ids(w), confirm_own_archive(w), keep_an_active_admin(w);
        },
        nullptr}},
      {"stage", {check_stage_numbers, nullptr}},
      {"deal", {[](Write& w) { check_non_negative(w, "amount"), place_deal_in_stage(w); },
                [](Write& w) { record_stage_history(w), record_close_history(w); }}},
      {"interaction", {refuse_duplicate_external_id, nullptr}},
      {"task", {time_task_completion, nullptr}},
      {"product", {[](Write& w) { check_non_negative(w, "price"); }, nullptr}},
      {"api_key", {check_scopes, nullptr}},
      {"proposal", {shape_proposal, nullptr}},
      {"proposal_template", {check_proposal_template, nullptr}},
  };
  return rules;
}

}  // namespace

const EntityRules& rules_for(const std::string& entity_type) {
  static const EntityRules none;
  auto it = all_rules().find(entity_type);
  return it == all_rules().end() ? none : it->second;
}

}  // namespace nucleo::services
