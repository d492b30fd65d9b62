#include "kernel/services/webhook_service.hpp"

#include <atomic>

#include "kernel/audit/recorder.hpp"
#include "kernel/domain/base64.hpp"
#include "kernel/domain/digest.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/domain/json_text.hpp"
#include "kernel/events/dispatcher.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/change.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

using store::integer_at;
using store::text_at;

constexpr std::size_t max_url_length = 2000;
constexpr std::size_t max_patterns = 50;
constexpr std::size_t max_description_length = 500;
constexpr const char* columns = "id, url, events, description, status, version, created_at, updated_at, tenant_id";

void require_admin(const CallContext& ctx) {
  require_role(ctx, {"admin"}, "webhooks are for the admin role only", "webhooks:write");
}

// Standard Webhooks secrets: "whsec_" + base64 of the key bytes (24 here).
std::string new_secret() {
  return "whsec_" + to_base64(random_bytes(24));
}

Json webhook_json(const store::Row& r) {
  return {{"id", store::required_text(r, 0)},
          {"url", store::required_text(r, 1)},
          {"events", Json::parse(store::required_text(r, 2))},
          {"description", text_at(r, 3) ? Json(store::required_text(r, 3)) : Json()},
          {"status", store::required_text(r, 4)},
          {"version", store::required_integer(r, 5)},
          {"created_at", format_rfc3339(Timestamp{store::required_integer(r, 6)})},
          {"updated_at", format_rfc3339(Timestamp{store::required_integer(r, 7)})},
          {"tenant_id", store::required_text(r, 8)}};
}

std::optional<Json> find(store::Transaction& tx, const std::string& tenant_id, const std::string& id) {
  std::optional<Json> found;
  store::query(tx.session(), std::string("SELECT ") + columns + " FROM webhooks WHERE tenant_id = :p0 AND id = :p1",
               {tenant_id, id}, [&](const store::Row& r) { found = webhook_json(r); });
  return found;
}

Json existing(store::Transaction& tx, const CallContext& ctx, const std::string& id) {
  auto found = find(tx, ctx.tenant_id, id);
  if (!found) throw Error(ErrorCode::not_found, "no webhook " + id + " in this tenant");
  return *found;
}

bool valid_pattern(const std::string& p) {
  if (p == "*") return true;
  if (p.empty() || p.size() > 100) return false;
  auto star = p.find('*');
  if (star != std::string::npos && (star != p.size() - 1 || p.size() < 3 || p[p.size() - 2] != '.')) return false;
  return p.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._*") == std::string::npos;
}

// The fields of the audit event: what changed, never the secret.
Json audited(const Json& webhook) {
  Json out = webhook;
  for (const char* f : {"id", "version", "created_at", "updated_at", "tenant_id"}) out.erase(f);
  return out;
}

}  // namespace

std::string webhook_secret_binding(const std::string& webhook_id) {
  return "webhook:" + webhook_id;
}

// The body's fields checked, each problem named: on create url and events are required.
Json WebhookService::checked(const Json& body, bool creating) const {
  if (!body.is_object()) throw Error(ErrorCode::validation, "a webhook is a JSON object");
  std::vector<FieldError> errors;
  Json out = Json::object();
  for (const auto& [key, value] : body.items()) {
    if (key == "url") {
      if (!value.is_string() || value.get<std::string>().empty() || value.get<std::string>().size() > max_url_length) {
        errors.push_back({key, "must be an http(s) URL of at most 2000 characters"});
        continue;
      }
      try {
        if (outbound_) outbound_->check_target(value.get<std::string>());
        else events::OutboundHttp::parse_url(value.get<std::string>());
        out[key] = value;
      } catch (const Error& e) {
        errors.push_back({key, e.what()});
      }
    } else if (key == "events") {
      bool ok = value.is_array() && !value.empty() && value.size() <= max_patterns;
      for (const auto& p : value) ok = ok && p.is_string() && valid_pattern(p.get<std::string>());
      if (ok) out[key] = value;
      else
        errors.push_back({key, "must be 1 to 50 event patterns: a name (deal.stage_changed), a prefix ending in .* "
                               "(deal.*) or *"});
    } else if (key == "description") {
      if (value.is_null() || (value.is_string() && value.get<std::string>().size() <= max_description_length))
        out[key] = value;
      else
        errors.push_back({key, "must be a string of at most 500 characters, or null"});
    } else if (key == "status" && !creating) {
      if (value == "active" || value == "disabled") out[key] = value;
      else errors.push_back({key, "must be active or disabled"});
    } else {
      errors.push_back({key, "is not a field of a webhook"});
    }
  }
  if (creating)
    for (const char* required : {"url", "events"})
      if (!body.contains(required)) errors.push_back({required, "is required"});
  if (!errors.empty()) throw Error(ErrorCode::validation, "invalid webhook", errors);
  return out;
}

namespace {
std::atomic<std::uint64_t> webhook_changes{0};
// After the write commits or fails: a failed write makes a needless reload, nothing worse.
struct NoteWebhooksChanged {
  ~NoteWebhooksChanged() { webhook_changes.fetch_add(1, std::memory_order_acq_rel); }
};
}  // namespace

std::uint64_t webhooks_generation() {
  return webhook_changes.load(std::memory_order_acquire);
}

Json WebhookService::create(const CallContext& ctx, const Json& body) {
  NoteWebhooksChanged noted;
  require_admin(ctx);
  Json fields = checked(body, true);
  Timestamp now = ctx.now();
  std::string id = generate_id(id_prefix::webhook, now), secret = new_secret();
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    store::execute(tx.session(),
                   "INSERT INTO webhooks (id, tenant_id, url, events, description, status, secret_sealed, version,"
                   " created_at, updated_at) VALUES (:p0, :p1, :p2, :p3, :p4, 'active', :p5, 1, :p6, :p7)",
                   {id, ctx.tenant_id, fields["url"].get<std::string>(), to_json_text(fields["events"]),
                    fields.value("description", Json()).is_string() ? store::SqlValue{fields["description"].get<std::string>()}
                                                                     : store::SqlValue{},
                    deps_.secrets.seal(webhook_secret_binding(id), secret), now.micros, now.micros});
    Json webhook = existing(tx, ctx, id);
    commit_change(tx, ctx, {"webhook.created", "webhook", id, audit::diff_changes(nullptr, audited(webhook)), webhook});
    webhook["secret"] = secret;
    return webhook;
  });
}

std::vector<Json> WebhookService::list(const CallContext& ctx) {
  require_admin(ctx);
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    std::vector<Json> out;
    store::query(tx.session(), std::string("SELECT ") + columns + " FROM webhooks WHERE tenant_id = :p0 ORDER BY id",
                 {ctx.tenant_id}, [&](const store::Row& r) { out.push_back(webhook_json(r)); });
    return out;
  });
}

Json WebhookService::get(const CallContext& ctx, const std::string& id) {
  require_admin(ctx);
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) { return existing(tx, ctx, id); });
}

Json WebhookService::update(const CallContext& ctx, const std::string& id, const Json& patch,
                            std::optional<std::int64_t> expected_version) {
  require_admin(ctx);
  NoteWebhooksChanged noted;
  get(ctx, id);  // another tenant's webhook is a 404 whatever the patch says
  Json fields = checked(patch, false);
  Timestamp now = ctx.now();
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    Json before = existing(tx, ctx, id);
    if (expected_version && *expected_version != before["version"].get<std::int64_t>())
      throw Error(ErrorCode::precondition_failed, "webhook " + id + " is at version " +
                                                      std::to_string(before["version"].get<std::int64_t>()));
    Json after = before;
    for (const auto& [key, value] : fields.items()) after[key] = value;
    store::execute(tx.session(),
                   "UPDATE webhooks SET url = :p0, events = :p1, description = :p2, status = :p3, version = version + 1,"
                   " updated_at = :p4 WHERE tenant_id = :p5 AND id = :p6",
                   {after["url"].get<std::string>(), to_json_text(after["events"]),
                    after["description"].is_string() ? store::SqlValue{after["description"].get<std::string>()}
                                                     : store::SqlValue{},
                    after["status"].get<std::string>(), now.micros, ctx.tenant_id, id});
    Json changes = audit::diff_changes(audited(before), audited(after));
    Json updated = existing(tx, ctx, id);
    if (!changes.empty()) commit_change(tx, ctx, {"webhook.updated", "webhook", id, changes, updated});
    return updated;
  });
}

void WebhookService::remove(const CallContext& ctx, const std::string& id) {
  require_admin(ctx);
  NoteWebhooksChanged noted;
  deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    Json before = existing(tx, ctx, id);
    store::execute(tx.session(), "DELETE FROM webhook_deliveries WHERE tenant_id = :p0 AND webhook_id = :p1",
                   {ctx.tenant_id, id});
    store::execute(tx.session(), "DELETE FROM webhooks WHERE tenant_id = :p0 AND id = :p1", {ctx.tenant_id, id});
    commit_change(tx, ctx, {"webhook.deleted", "webhook", id, audit::diff_changes(audited(before), nullptr), nullptr});
  });
}

Json WebhookService::rotate_secret(const CallContext& ctx, const std::string& id) {
  require_admin(ctx);
  std::string secret = new_secret();
  Timestamp now = ctx.now();
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    existing(tx, ctx, id);  // 404 before anything is written
    store::execute(tx.session(),
                   "UPDATE webhooks SET secret_sealed = :p0, version = version + 1, updated_at = :p1"
                   " WHERE tenant_id = :p2 AND id = :p3",
                   {deps_.secrets.seal(webhook_secret_binding(id), secret), now.micros, ctx.tenant_id, id});
    Json webhook = existing(tx, ctx, id);
    commit_change(tx, ctx, {"webhook.secret_rotated", "webhook", id, Json::object(), webhook});
    webhook["secret"] = secret;
    return webhook;
  });
}

std::vector<Json> WebhookService::deliveries(const CallContext& ctx, const std::string& id, std::size_t limit) {
  require_admin(ctx);
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    existing(tx, ctx, id);
    std::vector<Json> out;
    store::query(tx.session(),
                 "SELECT event_id, event_name, attempt, status_code, error, duration_ms, attempted_at"
                 " FROM webhook_deliveries WHERE tenant_id = :p0 AND webhook_id = :p1"
                 " ORDER BY attempted_at DESC, id DESC LIMIT :p2",
                 {ctx.tenant_id, id, static_cast<std::int64_t>(limit)}, [&](const store::Row& r) {
                   out.push_back({{"event_id", store::required_text(r, 0)},
                                  {"event_name", store::required_text(r, 1)},
                                  {"attempt", store::required_integer(r, 2)},
                                  {"status_code", integer_at(r, 3) ? Json(store::required_integer(r, 3)) : Json()},
                                  {"error", text_at(r, 4) ? Json(store::required_text(r, 4)) : Json()},
                                  {"duration_ms", store::required_integer(r, 5)},
                                  {"attempted_at", format_rfc3339(Timestamp{store::required_integer(r, 6)})}});
                 });
    return out;
  });
}

}  // namespace nucleo::services
