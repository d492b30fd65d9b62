#include "kernel/services/privacy_service.hpp"

#include "kernel/services/access_policy.hpp"

#include "kernel/audit/personal_data.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/events/jobs.hpp"
#include "kernel/events/outbox.hpp"
#include "kernel/services/idempotency_service.hpp"
#include "kernel/services/plugin_record_service.hpp"
#include "kernel/services/write.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

constexpr std::size_t max_reason_length = 1000;
constexpr const char* erased_contact_name = "Erased contact";

void require_admin(const CallContext& ctx) {
  require_role(ctx, {"admin"}, "erasure and legal holds are for the admin role only", "privacy:write");
}

std::string checked_reason(const std::string& reason) {
  auto first = reason.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
    throw Error(ErrorCode::validation, "a reason is required", {{"reason", "is required"}});
  if (reason.size() > max_reason_length)
    throw Error(ErrorCode::validation, "the reason is longer than 1000 characters",
                {{"reason", "is longer than 1000 characters"}});
  return reason;
}

Json contact_or_404(store::Transaction& tx, const std::string& tenant_id, const std::string& contact_id) {
  auto found = store::RecordTable(entity_spec("contact")).find(tx, tenant_id, contact_id);
  if (!found) throw Error(ErrorCode::not_found, "contact " + contact_id + " not found");
  return *found;
}

Json hold_json(const store::Row& r) {
  using store::integer_at;
  using store::text_at;
  auto time = [](std::optional<std::int64_t> t) { return t ? Json(format_rfc3339(Timestamp{*t})) : Json(); };
  auto text = [](std::optional<std::string> s) { return s ? Json(*s) : Json(); };
  return Json{{"id", store::required_text(r, 0)},          {"subject_id", store::required_text(r, 1)},     {"reason", store::required_text(r, 2)},
              {"placed_by", store::required_text(r, 3)},   {"placed_at", time(integer_at(r, 4))}, {"lifted_by", text(text_at(r, 5))},
              {"lifted_at", time(integer_at(r, 6))}, {"lift_reason", text(text_at(r, 7))},
              {"active", !integer_at(r, 6).has_value()}};
}

constexpr const char* hold_columns =
    "id, subject_id, reason, placed_by, placed_at, lifted_by, lifted_at, lift_reason";

void refuse_if_held(store::Transaction& tx, const std::string& tenant_id, const std::string& subject_id) {
  std::optional<Json> hold;
  store::query(tx.session(),
               std::string("SELECT ") + hold_columns +
                   " FROM privacy_holds WHERE tenant_id = :p0 AND subject_id = :p1 AND lifted_at IS NULL"
                   " ORDER BY placed_at LIMIT 1",
               {tenant_id, subject_id}, [&](const store::Row& r) { hold = hold_json(r); });
  if (hold)
    throw Error(ErrorCode::conflict, "contact " + subject_id + " is under legal hold " + (*hold)["id"].get<std::string>() +
                                         " (" + (*hold)["reason"].get<std::string>() +
                                         "); lift the hold before erasing");
}

// Overwrites fields of one record, recording the change as `action` like any write:
// personal "from" values are sealed under the subject's key — which the erasure then
// destroys. The outbox gets only the record as it now is, never the old values.
Json overwrite(store::Transaction& tx, const CallContext& ctx, const EntitySpec& spec, const Json& before,
               const Json& patch, const std::string& action, const std::string& subject_id, Timestamp now) {
  Json after = before;
  for (const auto& [field, value] : patch.items()) after[field] = value;
  after["version"] = before.at("version").get<std::int64_t>() + 1;
  after["updated_at"] = format_rfc3339(now);
  if (!store::RecordTable(spec).update(tx, after, before.at("version").get<std::int64_t>()))
    throw Error(ErrorCode::aborted, spec.type + " " + before.at("id").get<std::string>() +
                                         " was changed by another request; retry the erasure");
  Json shown = visible_record(spec, after);
  Change change{action, spec.type, after.at("id"), audit::diff_changes(visible_record(spec, before), shown), shown};
  change.personal_fields = personal_fields_in(spec, change.changes);
  // Erasure changes attributes only to remove the subject's data: what they held is hers.
  if (change.changes.contains("attributes")) change.personal_fields.push_back("attributes");
  change.subject_id = subject_id;
  change.new_values_personal = false;
  change.event_carries_changes = false;
  change.at = now;
  commit_change(tx, ctx, change);
  return shown;
}

std::vector<std::string> interactions_of(store::Transaction& tx, const std::string& tenant_id,
                                         const std::string& contact_id) {
  std::vector<std::string> ids;
  store::query(tx.session(), "SELECT id FROM interactions WHERE tenant_id = :p0 AND contact_id = :p1 ORDER BY id",
               {tenant_id, contact_id}, [&](const store::Row& r) { ids.push_back(store::required_text(r, 0)); });
  return ids;
}

// The record's attributes without the keys plugins declared personal, or null when it
// holds none of them.
Json without_personal_attributes(const Json& record, const std::vector<std::string>& personal_keys) {
  Json attributes = record.value("attributes", Json::object());
  bool found = false;
  for (const auto& key : personal_keys)
    if (attributes.is_object() && attributes.erase(key) > 0) found = true;
  return found ? attributes : Json();
}

// Records mentioning the subject whose copies (outbox, idempotent replies) are purged.
void purge_copies(store::Transaction& tx, const std::string& tenant_id, const std::string& record_id,
                  ErasureReport& report) {
  report.idempotency_records_purged += IdempotencyService::redact_replies(tx, tenant_id, record_id);
  report.outbox_events_purged += events::redact_payloads(tx, tenant_id, record_id);
  report.jobs_purged += events::purge_jobs_mentioning(tx, tenant_id, record_id);
}

// Outbound channel messages to her — queued, sent or failed — keep neither what they
// said nor where they went: those that carried one of her interactions, and those sent
// to her phone or e-mail.
std::size_t erase_channel_messages(store::Transaction& tx, const std::string& tenant_id, const Json& contact,
                                   const std::vector<std::string>& interaction_ids) {
  std::string erased = Json{{"erased", true}}.dump();
  std::int64_t count = 0;
  auto erase_where = [&](const std::string& condition, const std::string& value) {
    count += store::execute(tx.session(),
                            "UPDATE channel_messages SET content = :p0, recipient = 'erased' WHERE tenant_id = :p1 AND "
                            "recipient <> 'erased' AND " + condition,
                            {erased, tenant_id, value});
  };
  for (const auto& id : interaction_ids) erase_where("content LIKE :p2", "%\"interaction_id\":\"" + id + "\"%");
  for (const char* field : {"phone", "email"})
    if (contact.value(field, Json()).is_string()) erase_where("recipient = :p2", contact[field].get<std::string>());
  return static_cast<std::size_t>(count);
}

}  // namespace

Json ErasureReport::to_json() const {
  return Json{{"contact_id", contact_id},
              {"erased_at", format_rfc3339(erased_at)},
              {"interactions_erased", interactions},
              {"sealed_values_destroyed", sealed_values_destroyed},
              {"idempotency_records_purged", idempotency_records_purged},
              {"outbox_events_purged", outbox_events_purged},
              {"jobs_purged", jobs_purged},
              {"personal_attributes_erased", personal_attributes},
              {"plugin_records_deleted", plugin_records_deleted},
              {"plugin_records_redacted", plugin_records_redacted},
              {"channel_messages_erased", channel_messages_erased},
              {"privacy_reports_deleted", privacy_reports_deleted},
              {"audit_event_id", audit_event_id}};
}

ErasureReport PrivacyService::erase_contact(const CallContext& ctx, const std::string& contact_id,
                                            const std::string& reason) {
  require_admin(ctx);
  CallContext call = ctx;
  call.reason = checked_reason(reason);
  auto report = deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    const std::string& tenant = ctx.tenant_id;
    Json contact = contact_or_404(tx, tenant, contact_id);
    if (!contact["erased_at"].is_null())
      throw Error(ErrorCode::conflict, "contact " + contact_id + " was already erased at " +
                                           contact["erased_at"].get<std::string>());
    refuse_if_held(tx, tenant, contact_id);
    Timestamp now = ctx.now();
    ErasureReport report{contact_id, now};

    // 1. The business rows: the contact keeps its id and links, nothing that names her.
    const EntitySpec& contact_spec = entity_spec("contact");
    purge_copies(tx, tenant, contact_id, report);
    overwrite(tx, call, contact_spec, contact,
                            {{"name", erased_contact_name}, {"email", nullptr}, {"phone", nullptr},
                             {"job_title", nullptr}, {"attributes", Json::object()}, {"erased_at", format_rfc3339(now)}},
                            "contact.erased", contact_id, now);
    store::execute(tx.session(), "DELETE FROM contact_points WHERE tenant_id = :p0 AND entity_id = :p1",
                   {tenant, contact_id});
    const EntitySpec& interaction_spec = entity_spec("interaction");
    const std::vector<std::string> interaction_ids = interactions_of(tx, tenant, contact_id);
    report.channel_messages_erased = erase_channel_messages(tx, tenant, contact, interaction_ids);
    const auto personal_keys = deps_.attribute_schemas.personal_keys("interaction");
    for (const auto& id : interaction_ids) {
      Json interaction = *store::RecordTable(interaction_spec).find(tx, tenant, id);
      purge_copies(tx, tenant, id, report);
      Json patch = Json::object();
      if (!interaction["body"].is_null() || !interaction["subject"].is_null() || !interaction["content"].is_null())
        patch = {{"subject", nullptr}, {"body", nullptr}, {"content", nullptr}};
      if (Json attributes = without_personal_attributes(interaction, personal_keys); !attributes.is_null()) {
        patch["attributes"] = attributes;
        ++report.personal_attributes;
      }
      if (patch.empty()) continue;
      overwrite(tx, call, interaction_spec, interaction, patch, "interaction.erased", contact_id, now);
      ++report.interactions;
    }

    // What plugins hold about her, as their manifests declared it — loaded now or not.
    for (const auto& document : subject_documents(tx, tenant, contact_id)) {
      purge_copies(tx, tenant, document.key(), report);
      ++(erase_subject_document(tx, call, document, now) ? report.plugin_records_deleted
                                                         : report.plugin_records_redacted);
    }

    // Reports of her access requests are copies of everything above.
    report.privacy_reports_deleted = static_cast<std::size_t>(store::execute(
        tx.session(), "DELETE FROM privacy_reports WHERE tenant_id = :p0 AND subject_id = :p1", {tenant, contact_id}));
    // Her requests stay on record (what was asked, when, and how it ended) without her words.
    store::execute(tx.session(),
                   "UPDATE privacy_requests SET details = NULL, identity_reference = NULL"
                   " WHERE tenant_id = :p0 AND subject_id = :p1",
                   {tenant, contact_id});

    // 2. The audit trail's copies: without the key no sealed value opens again; the
    //    leaves keep their commitments, so every hash and proof stays valid. An
    //    interaction logged before it named her sealed its body under its own key.
    report.sealed_values_destroyed = audit::destroy_subject_key(tx, tenant, contact_id);
    for (const auto& id : interaction_ids)
      report.sealed_values_destroyed += audit::destroy_subject_key(tx, tenant, id);

    // 3. The erasure itself, on the record of the data subject.
    Json summary = report.to_json(), changes = Json::object();
    for (const auto& [field, value] : summary.items())
      if (field != "audit_event_id" && field != "contact_id") changes[field] = Json{{"from", nullptr}, {"to", value}};
    summary.erase("audit_event_id");
    summary["id"] = contact_id;
    report.audit_event_id =
        commit_change(tx, call, {"privacy.subject_erased", "data_subject", contact_id, changes, summary});
    return report;
  });
  deps_.database.discard_deleted_content();
  return report;
}

bool PrivacyService::expire_interaction_content(const CallContext& ctx, const std::string& interaction_id,
                                                const std::string& reason) {
  CallContext call = ctx;
  call.reason = checked_reason(reason);
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    const EntitySpec& spec = entity_spec("interaction");
    auto interaction = store::RecordTable(spec).find(tx, ctx.tenant_id, interaction_id);
    if (!interaction) throw Error(ErrorCode::not_found, "interaction " + interaction_id + " not found");
    const std::string subject = (*interaction)["contact_id"].is_string() ? (*interaction)["contact_id"].get<std::string>() : "";
    if (!subject.empty()) refuse_if_held(tx, ctx.tenant_id, subject);
    Json patch = Json::object();
    if (!(*interaction)["body"].is_null() || !(*interaction)["subject"].is_null() || !(*interaction)["content"].is_null())
      patch = {{"subject", nullptr}, {"body", nullptr}, {"content", nullptr}};
    if (Json attributes = without_personal_attributes(*interaction, deps_.attribute_schemas.personal_keys("interaction"));
        !attributes.is_null())
      patch["attributes"] = attributes;
    if (patch.empty()) return false;
    ErasureReport copies{subject, ctx.now()};
    purge_copies(tx, ctx.tenant_id, interaction_id, copies);
    overwrite(tx, call, spec, *interaction, patch, "interaction.content_expired", subject.empty() ? interaction_id : subject,
              ctx.now());
    // Every sealed copy of what it said — this change's included — goes: the leaves keep
    // their commitments, so the log stays provable.
    audit::destroy_sealed_values_of(tx, ctx.tenant_id, "interaction", interaction_id);
    audit::destroy_subject_key(tx, ctx.tenant_id, interaction_id);
    return true;
  });
}

bool PrivacyService::expire_plugin_document(const CallContext& ctx, const std::string& plugin_id,
                                            const std::string& collection, const std::string& id,
                                            const std::string& reason) {
  CallContext call = ctx;
  call.reason = checked_reason(reason);
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    auto document = subject_document(tx, ctx.tenant_id, plugin_id, collection, id);
    if (!document) return false;
    const Json& subject = document->document.value(document->personal.subject_field, Json());
    if (subject.is_string()) refuse_if_held(tx, ctx.tenant_id, subject.get<std::string>());
    ErasureReport copies{subject.is_string() ? subject.get<std::string>() : "", ctx.now()};
    purge_copies(tx, ctx.tenant_id, document->key(), copies);
    erase_subject_document(tx, call, *document, ctx.now());
    audit::destroy_sealed_values_of(tx, ctx.tenant_id, "plugin_record", document->key());
    return true;
  });
}

Json plugin_held_data(store::Transaction& tx, AttributeSchemas& schemas, const std::string& tenant_id,
                      const Json& contact) {
  Json documents = Json::array(), attributes = Json::array();
  for (const auto& d : subject_documents(tx, tenant_id, contact["id"]))
    documents.push_back({{"plugin_id", d.plugin_id}, {"collection", d.collection}, {"id", d.id},
                         {"version", d.version}, {"document", d.document}, {"personal_fields", d.personal.fields},
                         {"on_erasure", d.personal.on_erasure}});
  auto attributes_of = [&](const std::string& type, const Json& record) {
    const Json held = record.value("attributes", Json::object());
    for (const auto& key : schemas.personal_keys(type))
      if (held.is_object() && held.contains(key))
        attributes.push_back({{"entity_type", type}, {"entity_id", record["id"]}, {"key", key}, {"value", held[key]}});
  };
  attributes_of("contact", contact);
  for (const auto& id : interactions_of(tx, tenant_id, contact["id"]))
    attributes_of("interaction", *store::RecordTable(entity_spec("interaction")).find(tx, tenant_id, id));
  return Json{{"contact_id", contact["id"]}, {"plugin_records", documents}, {"personal_attributes", attributes}};
}

Json PrivacyService::plugin_data(const CallContext& ctx, const std::string& contact_id) {
  require_role(ctx, {"admin", "auditor"}, "what plugins hold about a person is for the admin and auditor roles only",
               "privacy:read");
  Json out = deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    Json held = plugin_held_data(tx, deps_.attribute_schemas, ctx.tenant_id, contact_or_404(tx, ctx.tenant_id, contact_id));
    const Json &documents = held["plugin_records"], &attributes = held["personal_attributes"];
    // The read itself is on her record: who looked at what plugins hold about her.
    audit::AuditEvent e = audit_event(ctx, "privacy.subject_data_read", "data_subject", contact_id, ctx.now());
    e.changes = {{"plugin_records", {{"from", nullptr}, {"to", documents.size()}}},
                 {"personal_attributes", {{"from", nullptr}, {"to", attributes.size()}}}};
    audit::record_audit_event(tx, e);
    return held;
  });
  return out;
}

Json PrivacyService::place_hold(const CallContext& ctx, const std::string& contact_id, const std::string& reason) {
  require_admin(ctx);
  CallContext call = ctx;
  call.reason = checked_reason(reason);
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    contact_or_404(tx, ctx.tenant_id, contact_id);
    Timestamp now = ctx.now();
    std::string id = generate_id(id_prefix::legal_hold, now);
    store::execute(tx.session(),
                   "INSERT INTO privacy_holds (id, tenant_id, subject_id, reason, placed_by, placed_at)"
                   " VALUES (:p0, :p1, :p2, :p3, :p4, :p5)",
                   {id, ctx.tenant_id, contact_id, reason, ctx.actor.id, now.micros});
    Json hold;
    store::query(tx.session(), std::string("SELECT ") + hold_columns + " FROM privacy_holds WHERE id = :p0", {id},
                 [&](const store::Row& r) { hold = hold_json(r); });
    Json changes = {{"subject_id", {{"from", nullptr}, {"to", contact_id}}}, {"reason", {{"from", nullptr}, {"to", reason}}}};
    commit_change(tx, call, {"privacy.hold_placed", "privacy_hold", id, changes, hold});
    return hold;
  });
}

Json PrivacyService::lift_hold(const CallContext& ctx, const std::string& hold_id, const std::string& reason) {
  require_admin(ctx);
  CallContext call = ctx;
  call.reason = checked_reason(reason);
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    Json hold;
    auto read = [&] {
      store::query(tx.session(),
                   std::string("SELECT ") + hold_columns + " FROM privacy_holds WHERE id = :p0 AND tenant_id = :p1",
                   {hold_id, ctx.tenant_id}, [&](const store::Row& r) { hold = hold_json(r); });
    };
    read();
    if (hold.is_null()) throw Error(ErrorCode::not_found, "legal hold " + hold_id + " not found");
    if (!hold["active"].get<bool>())
      throw Error(ErrorCode::conflict, "legal hold " + hold_id + " was already lifted at " +
                                           hold["lifted_at"].get<std::string>());
    Timestamp now = ctx.now();
    store::execute(tx.session(),
                   "UPDATE privacy_holds SET lifted_by = :p0, lifted_at = :p1, lift_reason = :p2"
                   " WHERE id = :p3 AND tenant_id = :p4 AND lifted_at IS NULL",
                   {ctx.actor.id, now.micros, reason, hold_id, ctx.tenant_id});
    read();
    Json changes = {{"lifted_at", {{"from", nullptr}, {"to", format_rfc3339(now)}}},
                    {"lift_reason", {{"from", nullptr}, {"to", reason}}}};
    commit_change(tx, call, {"privacy.hold_lifted", "privacy_hold", hold_id, changes, hold});
    return hold;
  });
}

std::vector<Json> PrivacyService::holds(const CallContext& ctx, const std::string& subject_id) {
  require_role(ctx, {"admin", "auditor"}, "legal holds are readable by the admin and auditor roles only",
               "privacy:read");
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    std::vector<Json> out;
    std::string sql = std::string("SELECT ") + hold_columns + " FROM privacy_holds WHERE tenant_id = :p0";
    std::vector<store::SqlValue> values{ctx.tenant_id};
    if (!subject_id.empty()) {
      sql += " AND subject_id = :p1";
      values.push_back(subject_id);
    }
    store::query(tx.session(), sql + " ORDER BY placed_at DESC, id DESC", values,
                 [&](const store::Row& r) { out.push_back(hold_json(r)); });
    return out;
  });
}

}  // namespace nucleo::services
