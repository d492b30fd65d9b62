#include "kernel/services/consent_service.hpp"

#include <algorithm>
#include <map>
#include <regex>

#include "kernel/domain/digest.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/write.hpp"
#include "kernel/store/record_table.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

// Where an entry came from. "migration" is the kernel's own (0032: the free-form field
// it replaced); callers name one of these.
const std::vector<std::string> source_types{"form", "channel_message", "unsubscribe_link", "import", "api"};
constexpr std::size_t max_notice_length = 20000, max_reference_length = 500, max_description_length = 500;

constexpr const char* entry_columns =
    "id, contact_id, purpose, action, legal_basis, source_type, source_ref, notice, actor_type, actor_id, recorded_at";

Json entry_json(const store::Row& r) {
  auto text = [&](std::size_t i) { return store::text_at(r, i) ? Json(*store::text_at(r, i)) : Json(); };
  return Json{{"id", text(0)},
              {"contact_id", text(1)},
              {"purpose", text(2)},
              {"action", text(3)},
              {"legal_basis", text(4)},
              {"source", {{"type", text(5)}, {"reference", text(6)}}},
              {"notice", text(7)},
              {"actor", {{"type", text(8)}, {"id", text(9)}}},
              {"recorded_at", format_rfc3339(Timestamp{store::integer_at(r, 10).value_or(0)})}};
}

// A caller's entry, checked field by field (every problem named at once).
struct EntryInput {
  std::string purpose, action, legal_basis, source_type = "api", source_ref, notice;
};

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

EntryInput checked_entry(const Json& body) {
  if (!body.is_object()) throw Error(ErrorCode::validation, "a consent entry is a JSON object", {{"", "must be an object"}});
  std::vector<FieldError> errors;
  EntryInput in;
  auto text = [&](const char* field, std::size_t max, std::string& out) {
    if (!body.contains(field)) return;
    if (!body[field].is_string() || body[field].get<std::string>().empty() || body[field].get<std::string>().size() > max)
      errors.push_back({field, "must be a string of 1 to " + std::to_string(max) + " characters"});
    else
      out = body[field].get<std::string>();
  };
  for (const auto& [key, _] : body.items())
    if (key != "purpose" && key != "action" && key != "legal_basis" && key != "source" && key != "notice")
      errors.push_back({key, "is not a field of a consent entry (purpose, action, legal_basis, source, notice)"});
  text("purpose", 64, in.purpose);
  if (!body.contains("purpose")) errors.push_back({"purpose", "is required"});
  else if (!in.purpose.empty() && !is_purpose_key(in.purpose))
    errors.push_back({"purpose", "must be lower-case letters, digits and _, starting with a letter"});
  text("action", 16, in.action);
  if (in.action != "grant" && in.action != "revoke") errors.push_back({"action", "must be \"grant\" or \"revoke\""});
  text("legal_basis", 64, in.legal_basis);
  const auto& bases = legal_bases();
  if (!in.legal_basis.empty() && std::find(bases.begin(), bases.end(), in.legal_basis) == bases.end())
    errors.push_back({"legal_basis", "'" + in.legal_basis + "' is not a legal basis (" + joined(bases) + ")"});
  if (in.action == "grant" && !body.contains("legal_basis"))
    errors.push_back({"legal_basis", "is required to grant (" + joined(bases) + ")"});
  text("notice", max_notice_length, in.notice);
  // Consent is free, informed and for a determined purpose (art. 8): keep what she read.
  if (in.action == "grant" && in.legal_basis == "consent" && !body.contains("notice"))
    errors.push_back({"notice", "is required for a consent: the text or version of the notice the person was shown"});
  if (body.contains("source")) {
    const Json& source = body["source"];
    bool shaped = source.is_object() && source.value("type", Json()).is_string();
    if (shaped)
      for (const auto& [key, _] : source.items())
        if (key != "type" && key != "reference") shaped = false;
    if (!shaped) {
      errors.push_back({"source", "must be {\"type\", \"reference\"?}"});
    } else {
      in.source_type = source["type"];
      if (std::find(source_types.begin(), source_types.end(), in.source_type) == source_types.end())
        errors.push_back({"source.type", "must be one of " + joined(source_types)});
      if (source.contains("reference")) {
        if (!source["reference"].is_string() || source["reference"].get<std::string>().empty() ||
            source["reference"].get<std::string>().size() > max_reference_length)
          errors.push_back({"source.reference", "must be a string of 1 to 500 characters"});
        else
          in.source_ref = source["reference"];
      }
    }
  }
  if (!errors.empty()) throw validation_error("invalid consent entry", std::move(errors));
  return in;
}

store::SqlValue nullable(const std::string& s) { return s.empty() ? store::SqlValue{} : store::SqlValue{s}; }

// The latest entry's time for a contact's purpose (0: none), so that a new entry is
// always later: the state is the latest entry, and two in one microsecond would tie.
std::int64_t last_entry_at(store::Transaction& tx, const std::string& tenant_id, const std::string& contact_id,
                           const std::string& purpose) {
  std::int64_t last = 0;
  store::query(tx.session(),
               "SELECT max(recorded_at) FROM consent_entries WHERE tenant_id = :p0 AND contact_id = :p1 AND purpose = :p2",
               {tenant_id, contact_id, purpose}, [&](const store::Row& r) { last = store::integer_at(r, 0).value_or(0); });
  return last;
}

Json visible_contact(ServiceDependencies& deps, const CallContext& ctx, const std::string& contact_id) {
  return RecordService(deps).get(ctx, "contact", contact_id);  // 404 unless the caller sees her
}

}  // namespace

const std::vector<std::string>& legal_bases() {
  // LGPD art. 7 I–X, in the article's order.
  static const std::vector<std::string> bases{"consent",          "legal_obligation",   "public_administration",
                                              "research",         "contract",           "exercise_of_rights",
                                              "protection_of_life", "health_protection", "legitimate_interest",
                                              "credit_protection"};
  return bases;
}

bool is_purpose_key(const std::string& key) {
  static const std::regex pattern("^[a-z][a-z0-9_]{0,63}$");
  return std::regex_match(key, pattern);
}

Json ConsentDecision::to_json() const {
  return Json{{"allowed", allowed},
              {"state", state},
              {"legal_basis", legal_basis.empty() ? Json() : Json(legal_basis)},
              {"entry_id", entry_id.empty() ? Json() : Json(entry_id)}};
}

void require_known_purpose(store::Transaction& tx, const std::string& tenant_id, const std::string& purpose,
                           const std::string& field) {
  bool known = false;
  store::query(tx.session(),
               "SELECT 1 FROM privacy_purposes WHERE tenant_id = :p0 AND key = :p1"
               " UNION ALL SELECT 1 FROM plugin_purposes WHERE key = :p2",
               {tenant_id, purpose, purpose}, [&](const store::Row&) { known = true; });
  if (!known)
    throw Error(ErrorCode::validation, "'" + purpose + "' is not a purpose of this tenant",
                {{field, "'" + purpose + "' is not a purpose (GET /v1/privacy/purposes lists them)", "unknown_purpose"}});
}

ConsentDecision consent_decision(store::Transaction& tx, const std::string& tenant_id, const std::string& contact_id,
                                 const std::string& purpose) {
  ConsentDecision d{false, "none", "", ""};
  store::query(tx.session(),
               "SELECT action, legal_basis, id FROM consent_entries WHERE tenant_id = :p0 AND contact_id = :p1"
               " AND purpose = :p2 ORDER BY recorded_at DESC, id DESC LIMIT 1",
               {tenant_id, contact_id, purpose}, [&](const store::Row& r) {
                 d.allowed = store::required_text(r, 0) == "grant";
                 d.state = d.allowed ? "granted" : "revoked";
                 d.legal_basis = store::required_text(r, 1);
                 d.entry_id = store::required_text(r, 2);
               });
  return d;
}

std::vector<Json> ConsentService::purposes(const CallContext& ctx) {
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    std::map<std::string, Json> by_key;
    store::query(tx.session(), "SELECT key, description FROM privacy_purposes WHERE tenant_id = :p0", {ctx.tenant_id},
                 [&](const store::Row& r) {
                   std::string key = store::required_text(r, 0);
                   by_key[key] = {{"key", key}, {"description", store::required_text(r, 1)}, {"declared_by", "tenant"}};
                 });
    store::query(tx.session(), "SELECT plugin_id, key, description FROM plugin_purposes ORDER BY plugin_id", {},
                 [&](const store::Row& r) {
                   std::string key = store::required_text(r, 1);
                   if (!by_key.count(key))
                     by_key[key] = {{"key", key}, {"description", store::required_text(r, 2)},
                                    {"declared_by", store::required_text(r, 0)}};
                 });
    std::vector<Json> out;
    for (auto& [_, purpose] : by_key) out.push_back(std::move(purpose));
    return out;
  });
}

Json ConsentService::define_purpose(const CallContext& ctx, const std::string& key, const Json& body) {
  require_role(ctx, {"admin"}, "purposes are defined by the admin role only", "privacy:write");
  std::vector<FieldError> errors;
  if (!is_purpose_key(key)) errors.push_back({"key", "must be lower-case letters, digits and _, starting with a letter (at most 64)"});
  if (!body.is_object()) throw Error(ErrorCode::validation, "a purpose is a JSON object", {{"", "must be an object"}});
  for (const auto& [field, _] : body.items())
    if (field != "description") errors.push_back({field, "is not a field of a purpose (description)"});
  const Json description = body.value("description", Json());
  if (!description.is_string() || description.get<std::string>().empty() ||
      description.get<std::string>().size() > max_description_length)
    errors.push_back({"description", "must be a string of 1 to 500 characters"});
  if (!errors.empty()) throw validation_error("invalid purpose", std::move(errors));
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    std::optional<std::string> before;
    std::int64_t created = ctx.now().micros;
    store::query(tx.session(), "SELECT description, created_at FROM privacy_purposes WHERE tenant_id = :p0 AND key = :p1",
                 {ctx.tenant_id, key}, [&](const store::Row& r) {
                   before = store::required_text(r, 0);
                   created = store::integer_at(r, 1).value_or(created);
                 });
    Json purpose = {{"key", key}, {"description", description}, {"declared_by", "tenant"}};
    if (before == description.get<std::string>()) return purpose;
    if (before)
      store::execute(tx.session(),
                     "UPDATE privacy_purposes SET description = :p0, updated_at = :p1 WHERE tenant_id = :p2 AND key = :p3",
                     {description.get<std::string>(), ctx.now().micros, ctx.tenant_id, key});
    else
      store::execute(tx.session(),
                     "INSERT INTO privacy_purposes (tenant_id, key, description, created_at, updated_at)"
                     " VALUES (:p0, :p1, :p2, :p3, :p4)",
                     {ctx.tenant_id, key, description.get<std::string>(), created, created});
    Json changes = {{"description", {{"from", before ? Json(*before) : Json()}, {"to", description}}}};
    commit_change(tx, ctx, {"privacy.purpose_defined", "privacy_purpose", key, changes, purpose});
    return purpose;
  });
}

Json ConsentService::record(const CallContext& ctx, const std::string& contact_id, const Json& body) {
  visible_contact(deps_, ctx, contact_id);  // another tenant's contact is not found, whatever the body
  EntryInput in = checked_entry(body);
  Json entry;
  // The entry and the contact's state commit together; updating the contact's row
  // also makes two entries for one contact wait for each other.
  WriteResult written = run_write(deps_, ctx, entity_spec("contact"), "contact.consent_changed", contact_id, std::nullopt,
                                  [&](Write& w) {
    const std::string& tenant = ctx.tenant_id;
    require_known_purpose(w.tx, tenant, in.purpose, "purpose");
    if (!w.before["erased_at"].is_null())
      throw Error(ErrorCode::conflict, "contact " + contact_id + " was erased at " +
                                           w.before["erased_at"].get<std::string>() + ": nothing is sent to her any more");
    ConsentDecision current = consent_decision(w.tx, tenant, contact_id, in.purpose);
    if (in.action == "revoke" && in.legal_basis.empty()) in.legal_basis = current.state == "none" ? "consent" : current.legal_basis;
    Timestamp at{std::max(ctx.now().micros, last_entry_at(w.tx, tenant, contact_id, in.purpose) + 1)};
    std::string id = generate_id(id_prefix::consent_entry, at);
    store::execute(w.tx.session(),
                   std::string("INSERT INTO consent_entries (") + entry_columns +
                       ", tenant_id) VALUES (:p0, :p1, :p2, :p3, :p4, :p5, :p6, :p7, :p8, :p9, :p10, :p11)",
                   {id, contact_id, in.purpose, in.action, in.legal_basis, in.source_type, nullable(in.source_ref),
                    nullable(in.notice), ctx.actor.type, ctx.actor.id, at.micros, tenant});
    store::query(w.tx.session(), std::string("SELECT ") + entry_columns + " FROM consent_entries WHERE id = :p0", {id},
                 [&](const store::Row& r) { entry = entry_json(r); });
    Json changes = Json::object();
    for (const char* field : {"contact_id", "purpose", "action", "legal_basis", "source", "notice"})
      changes[field] = {{"from", nullptr}, {"to", entry[field]}};
    Change logged{in.action == "grant" ? "consent.granted" : "consent.revoked", "consent", id, changes, entry};
    logged.at = at;
    commit_change(w.tx, ctx, logged);
    w.after = w.before;
    if (!w.after["consent"].is_object()) w.after["consent"] = Json::object();
    w.after["consent"][in.purpose] = in.action == "grant" ? "granted" : "revoked";
    bump_version(w);
  });
  return Json{{"entry", entry}, {"contact", written.record}};
}

Json ConsentService::history(const CallContext& ctx, const std::string& contact_id) {
  visible_contact(deps_, ctx, contact_id);
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    Json entries = Json::array();
    std::map<std::string, Json> latest;
    store::query(tx.session(),
                 std::string("SELECT ") + entry_columns +
                     " FROM consent_entries WHERE tenant_id = :p0 AND contact_id = :p1 ORDER BY recorded_at, id",
                 {ctx.tenant_id, contact_id}, [&](const store::Row& r) {
                   Json e = entry_json(r);
                   latest[e["purpose"]] = {{"purpose", e["purpose"]},
                                           {"state", e["action"] == "grant" ? "granted" : "revoked"},
                                           {"legal_basis", e["legal_basis"]},
                                           {"since", e["recorded_at"]},
                                           {"entry_id", e["id"]}};
                   entries.push_back(std::move(e));
                 });
    Json purposes = Json::array();
    for (auto& [_, state] : latest) purposes.push_back(std::move(state));
    return Json{{"contact_id", contact_id}, {"purposes", purposes}, {"entries", entries}};
  });
}

ConsentDecision ConsentService::allows(const CallContext& ctx, const std::string& contact_id, const std::string& purpose) {
  const EntitySpec& spec = entity_spec("contact");
  require_permission(ctx, spec, Operation::read);
  // One transaction: the check runs before every outbound message. It shows nothing of
  // the contact, so it is no read of her record to audit.
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    auto found = store::RecordTable(spec).find(tx, ctx.tenant_id, contact_id);
    if (!found || !can_see(ctx, spec, *found)) throw Error(ErrorCode::not_found, "contact " + contact_id + " not found");
    if (!is_purpose_key(purpose))
      throw Error(ErrorCode::validation, "'" + purpose + "' is not a purpose", {{"purpose", "is not a purpose key"}});
    require_known_purpose(tx, ctx.tenant_id, purpose, "purpose");
    return consent_decision(tx, ctx.tenant_id, contact_id, purpose);
  });
}

namespace {

constexpr const char* unsubscribe_use = "unsubscribe-link";
constexpr std::size_t unsubscribe_signature_length = 32;  // hex: 128 bits

std::string unsubscribe_signature(const SecretBox& secrets, const UnsubscribeTarget& t) {
  return secrets.signature(unsubscribe_use, t.tenant_id + "\n" + t.contact_id + "\n" + t.purpose)
      .substr(0, unsubscribe_signature_length);
}

}  // namespace

std::string unsubscribe_token(const SecretBox& secrets, const UnsubscribeTarget& target) {
  // Ids and purpose keys are [a-z0-9_]: the token is URL-safe as it is.
  return target.tenant_id + "." + target.contact_id + "." + target.purpose + "." + unsubscribe_signature(secrets, target);
}

std::optional<UnsubscribeTarget> read_unsubscribe_token(const SecretBox& secrets, const std::string& token) {
  static const std::regex shape("^(ten_[a-z0-9]{1,64})\\.(con_[a-z0-9]{1,64})\\.([a-z][a-z0-9_]{0,63})\\.([0-9a-f]{32})$");
  std::smatch m;
  if (token.size() > 300 || !std::regex_match(token, m, shape)) return std::nullopt;
  UnsubscribeTarget target{m[1], m[2], m[3]};
  if (!constant_time_equal(unsubscribe_signature(secrets, target), m[4].str())) return std::nullopt;
  return target;
}

namespace {

// The link's target, acting as the link (no principal: the signature is the authority).
std::pair<UnsubscribeTarget, CallContext> link_call(const SecretBox& secrets, const CallContext& ctx,
                                                   const std::string& token) {
  auto target = read_unsubscribe_token(secrets, token);
  if (!target) throw Error(ErrorCode::not_found, "this unsubscribe link is not valid");
  CallContext call = ctx;
  call.tenant_id = target->tenant_id;
  call.actor = {"system", "unsubscribe-link", ""};
  call.principal = nullptr;
  return {*target, call};
}

}  // namespace

Json ConsentService::unsubscribe_page(const CallContext& ctx, const std::string& token) {
  auto [target, call] = link_call(deps_.secrets, ctx, token);
  return deps_.database.read(call.tenant_id, [&](store::Transaction& tx) {
    Json page = {{"purpose", target.purpose}, {"description", target.purpose}, {"organisation", ""}};
    bool found = false;
    store::query(tx.session(), "SELECT name FROM tenants WHERE id = :p0", {call.tenant_id},
                 [&](const store::Row& r) { page["organisation"] = store::required_text(r, 0); });
    store::query(tx.session(), "SELECT 1 FROM contacts WHERE tenant_id = :p0 AND id = :p1 AND erased_at IS NULL",
                 {call.tenant_id, target.contact_id}, [&](const store::Row&) { found = true; });
    if (!found) throw Error(ErrorCode::not_found, "this unsubscribe link is not valid");
    store::query(tx.session(),
                 "SELECT description FROM privacy_purposes WHERE tenant_id = :p0 AND key = :p1"
                 " UNION ALL SELECT description FROM plugin_purposes WHERE key = :p2",
                 {call.tenant_id, target.purpose, target.purpose},
                 [&](const store::Row& r) { page["description"] = store::required_text(r, 0); });
    page["state"] = consent_decision(tx, call.tenant_id, target.contact_id, target.purpose).state;
    return page;
  });
}

Json ConsentService::unsubscribe(const CallContext& ctx, const std::string& token) {
  Json page = unsubscribe_page(ctx, token);
  if (page["state"] == "revoked") return page;  // a second click, a mail client's retry: nothing new
  auto [target, call] = link_call(deps_.secrets, ctx, token);
  record(call, target.contact_id,
         {{"purpose", target.purpose}, {"action", "revoke"}, {"source", {{"type", "unsubscribe_link"}}}});
  page["state"] = "revoked";
  return page;
}

void ConsentService::refuse_send(const CallContext& ctx, const std::string& contact_id, const std::string& purpose,
                                 const std::string& channel_account_id, const std::string& detail) {
  deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    // Not a change of the contact: no `changes` (a history rebuild skips it); what was
    // refused and why is in the reason.
    audit::AuditEvent e = audit_event(ctx, "consent.send_refused", "contact", contact_id, ctx.now());
    e.reason = "purpose " + (purpose.empty() ? std::string("(none)") : purpose) + " on channel account " +
               channel_account_id + ": " + detail;
    audit::record_audit_event(tx, e);
  });
  throw Error(ErrorCode::validation, detail, {{"purpose", detail, "no_legal_basis"}});
}

}  // namespace nucleo::services
