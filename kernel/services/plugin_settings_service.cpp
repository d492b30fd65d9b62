#include "kernel/services/plugin_settings_service.hpp"

#include "kernel/audit/recorder.hpp"
#include "kernel/domain/json_text.hpp"
#include "kernel/domain/value_schema.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/change.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

using store::integer_at;
using store::text_at;

constexpr std::size_t max_document = 64 * 1024;
// A setting's keywords beside JSON Schema's (as config_schema's: plugins/manifest.cpp).
const std::set<std::string> setting_keywords{"required", "secret"};

bool is_secret(const Json& rule) {
  return rule.is_object() && rule.value("secret", false);
}

void require_tenant(const CallContext& ctx) {
  if (ctx.tenant_id.empty())
    throw Error(ErrorCode::validation, "tenant settings belong to a tenant and this call has none"
                                       " (signed routes: channels.resolve first)");
}

}  // namespace

struct PluginSettingsService::Stored {
  Json settings, secret_names;
  std::string sealed;
  std::int64_t version, updated_at;
};

std::string PluginSettingsService::binding(const std::string& tenant_id) const {
  return "plugin_settings:" + tenant_id + ":" + plugin_id_;
}

std::optional<PluginSettingsService::Stored> PluginSettingsService::load(store::Transaction& tx,
                                                                         const std::string& tenant_id) {
  std::optional<Stored> found;
  store::query(tx.session(),
               "SELECT settings, secret_names, secrets_sealed, version, updated_at FROM plugin_settings"
               " WHERE tenant_id = :p0 AND plugin_id = :p1",
               {tenant_id, plugin_id_}, [&](const store::Row& r) {
                 found = Stored{Json::parse(store::required_text(r, 0)), Json::parse(store::required_text(r, 1)), store::required_text(r, 2),
                                store::required_integer(r, 3), store::required_integer(r, 4)};
               });
  return found;
}

Json PluginSettingsService::with_defaults(const Json& settings) const {
  Json out = settings;
  for (const auto& [key, rule] : schema_.items())
    if (!out.contains(key) && !is_secret(rule) && rule.contains("default")) out[key] = rule["default"];
  return out;
}

Json PluginSettingsService::answer(const std::optional<Stored>& stored) const {
  return {{"plugin_id", plugin_id_},
          {"settings", with_defaults(stored ? stored->settings : Json::object())},
          {"secret_names", stored ? stored->secret_names : Json::array()},
          {"version", stored ? stored->version : 0},
          {"updated_at", stored ? Json(format_rfc3339(Timestamp{stored->updated_at})) : Json()}};
}

Json PluginSettingsService::get(const CallContext& ctx) {
  require_tenant(ctx);
  require_role(ctx, {"admin", "auditor"}, "a plugin's settings are for the admin role (auditors read them)",
               "plugins:read");
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) { return answer(load(tx, ctx.tenant_id)); });
}

Json PluginSettingsService::put(const CallContext& ctx, const Json& body, std::optional<std::int64_t> expected_version) {
  require_tenant(ctx);
  require_role(ctx, {"admin"}, "a plugin's settings are set by the admin role", "plugins:write");
  if (!body.is_object()) throw Error(ErrorCode::validation, "plugin settings are {\"settings\": {…}, \"secrets\": {…}}");
  std::vector<FieldError> errors;
  for (const auto& [key, value] : body.items())
    if (key != "settings" && key != "secrets") errors.push_back({key, "is not a field (settings, secrets)"});
  Json settings = body.value("settings", Json::object()), secret_changes = body.value("secrets", Json::object());
  if (!settings.is_object()) errors.push_back({"settings", "must be an object"});
  if (!secret_changes.is_object()) errors.push_back({"secrets", "must be an object"});
  if (body.dump().size() > max_document) errors.push_back({"body", "must be at most 64 KiB"});
  if (!errors.empty()) throw Error(ErrorCode::validation, "invalid plugin settings", errors);

  for (const auto& [key, value] : settings.items()) {
    std::string field = "settings." + key;
    if (!schema_.contains(key)) errors.push_back({field, "is not a setting of " + plugin_id_});
    else if (is_secret(schema_[key])) errors.push_back({field, "is a secret: set it under \"secrets\""});
    else
      for (const auto& problem : ValueSchema(schema_[key], setting_keywords).check(value))
        errors.push_back({field + problem.path, problem.message});
  }
  for (const auto& [key, value] : secret_changes.items()) {
    std::string field = "secrets." + key;
    if (!schema_.contains(key) || !is_secret(schema_[key])) errors.push_back({field, "is not a secret of " + plugin_id_});
    else if (!value.is_null() && !value.is_string()) errors.push_back({field, "must be a string, or null to remove it"});
  }
  if (!errors.empty()) throw Error(ErrorCode::validation, "invalid plugin settings", errors);

  Timestamp now = ctx.now();
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    auto before = load(tx, ctx.tenant_id);
    std::int64_t version = before ? before->version : 0;
    if (expected_version && *expected_version != version)
      throw Error(ErrorCode::precondition_failed, "the settings of " + plugin_id_ + " are at version " +
                                                      std::to_string(version) + ", not " +
                                                      std::to_string(*expected_version));
    Json secrets = Json::object();
    if (before) {
      auto opened = deps_.secrets.open(binding(ctx.tenant_id), before->sealed);
      if (!opened) throw Error(ErrorCode::internal, "the sealed settings of " + plugin_id_ + " do not open with this key");
      secrets = Json::parse(*opened);
    }
    for (const auto& [key, value] : secret_changes.items()) {
      if (value.is_null()) secrets.erase(key);
      else secrets[key] = value;
    }
    std::vector<FieldError> missing;
    for (const auto& [key, rule] : schema_.items())
      if (rule.is_object() && rule.value("required", false) && !settings.contains(key) && !secrets.contains(key) &&
          !rule.contains("default"))
        missing.push_back({(is_secret(rule) ? "secrets." : "settings.") + key, "is required"});
    if (!missing.empty()) throw Error(ErrorCode::validation, "invalid plugin settings", missing);

    Json names = Json::array();
    for (const auto& [key, value] : secrets.items()) names.push_back(key);
    std::string sealed = deps_.secrets.seal(binding(ctx.tenant_id), to_json_text(secrets));
    std::vector<store::SqlValue> values{to_json_text(settings), to_json_text(names), sealed, version + 1, now.micros,
                                        ctx.tenant_id, plugin_id_};
    std::int64_t written =
        before ? store::execute(tx.session(),
                                "UPDATE plugin_settings SET settings = :p0, secret_names = :p1, secrets_sealed = :p2,"
                                " version = :p3, updated_at = :p4 WHERE tenant_id = :p5 AND plugin_id = :p6"
                                " AND version = :p7",
                                [&] {
                                  auto v = values;
                                  v.push_back(version);
                                  return v;
                                }())
               : store::execute(tx.session(),
                                "INSERT INTO plugin_settings (settings, secret_names, secrets_sealed, version,"
                                " updated_at, tenant_id, plugin_id) VALUES (:p0, :p1, :p2, :p3, :p4, :p5, :p6)",
                                values);
    if (written != 1) throw Error(ErrorCode::conflict, "the settings of " + plugin_id_ + " changed meanwhile");
    std::optional<Stored> after = Stored{settings, names, sealed, version + 1, now.micros};
    Json shown = answer(after);
    // The audit leaf holds values and the names of secrets, never a secret itself.
    Json from{{"settings", before ? before->settings : Json()}, {"secret_names", before ? before->secret_names : Json()}};
    Json to{{"settings", settings}, {"secret_names", names}};
    commit_change(tx, ctx, {"plugin_settings.updated", "plugin_settings", plugin_id_, audit::diff_changes(from, to), shown});
    return shown;
  });
}

Json PluginSettingsService::for_plugin(const CallContext& ctx) {
  require_tenant(ctx);
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    auto stored = load(tx, ctx.tenant_id);
    Json secrets = Json::object();
    if (stored) {
      auto opened = deps_.secrets.open(binding(ctx.tenant_id), stored->sealed);
      if (!opened) throw Error(ErrorCode::internal, "the sealed settings of " + plugin_id_ + " do not open with this key");
      secrets = Json::parse(*opened);
    }
    return Json{{"settings", with_defaults(stored ? stored->settings : Json::object())}, {"secrets", secrets}};
  });
}

}  // namespace nucleo::services
