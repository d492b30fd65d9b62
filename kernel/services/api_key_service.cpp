#include "kernel/services/api_key_service.hpp"

#include "kernel/domain/digest.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/write.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

constexpr std::string_view secret_prefix = "nuc_";
constexpr std::size_t id_body_length = 26;

// A user key speaks for its user; an integration key for a system, with the
// integration role (and may later act On-Behalf-Of a user).
void check_key_kind(const Json& key, std::vector<FieldError>& errors) {
  bool integration = key.value("integration", false);
  std::string role = key.value("role", "");
  if (integration && role != "integration")
    errors.push_back({"role", "must be \"integration\" for an integration key"});
  if (!integration && role == "integration") errors.push_back({"role", "\"integration\" is for integration keys"});
  if (!integration && key.value("user_id", Json()).is_null())
    errors.push_back({"user_id", "is required for a user key (an integration key sets integration: true in the "
                                 "API, --integration on the command line)"});
}

// A user key may not outrank its user (docs/api.md, "Roles and permissions"): its role must be one the user's
// role includes. (An unknown user is reported by the reference check.)
void check_role_within_user(store::Transaction& tx, const std::string& tenant_id, const Json& key,
                            std::vector<FieldError>& errors) {
  const Json& user_id = key.value("user_id", Json());
  if (!user_id.is_string()) return;
  std::string key_role = key.value("role", "");
  store::query(tx.session(), "SELECT role FROM users WHERE tenant_id = :p0 AND id = :p1 AND archived_at IS NULL",
               {tenant_id, user_id.get<std::string>()}, [&](const store::Row& r) {
                 std::string user_role = store::text_at(r, 0).value_or("");
                 if (!role_includes(user_role, key_role))
                   errors.push_back({"role", "must not exceed the role of user " + user_id.get<std::string>() + " (" +
                                                 user_role + ")"});
               });
}

}  // namespace

std::string id_of_secret(const std::string& secret, std::string_view prefix, std::string_view id_prefix) {
  if (secret.size() != prefix.size() + id_body_length + 1 + 64 || secret.rfind(prefix, 0) != 0 ||
      secret[prefix.size() + id_body_length] != '_')
    return "";
  std::string id = std::string(id_prefix) + "_" + secret.substr(prefix.size(), id_body_length);
  return is_valid_id(id, id_prefix) ? id : "";
}

std::string key_id_of_secret(const std::string& secret) {
  return id_of_secret(secret, secret_prefix, id_prefix::api_key);
}

CreatedKey ApiKeyService::create(const CallContext& ctx, const Json& input) {
  const EntitySpec& spec = entity_spec("api_key");
  Json fields = validate_record_input(spec, input, WriteMode::create, deps_.normalisation);
  std::vector<FieldError> errors;
  check_key_kind(fields, errors);
  if (!errors.empty())
    throw Error(ErrorCode::validation, "invalid api_key: " + errors.front().field + " " + errors.front().message,
                errors);

  Timestamp now = ctx.now();
  std::string id = generate_id(id_prefix::api_key, now);
  std::string secret = std::string(secret_prefix) + id.substr(id_prefix::api_key.size() + 1) + "_" + random_hex(32);
  WriteResult result = run_write(deps_, ctx, spec, "api_key.created", "", std::nullopt, [&](Write& w) {
    check_role_within_user(w.tx, ctx.tenant_id, fields, w.errors);
    w.after = fields;
    w.after["id"] = id;
    w.after["tenant_id"] = ctx.tenant_id;
    w.after["version"] = 1;
    w.after["created_at"] = w.after["updated_at"] = format_rfc3339(now);
    w.after["archived_at"] = nullptr;
    w.after["secret_hash"] = sha256_hex(secret);
  });
  return {result.record, secret};
}

WriteResult ApiKeyService::revoke(const CallContext& ctx, const std::string& key_id) {
  return run_write(deps_, ctx, entity_spec("api_key"), "api_key.revoked", key_id, std::nullopt, [&](Write& w) {
    w.after = w.before;
    if (!w.before["revoked_at"].is_null()) return;  // revoking twice changes nothing
    w.after["revoked_at"] = format_rfc3339(ctx.now());
    bump_version(w);
  });
}

std::vector<Json> ApiKeyService::list(const CallContext& ctx) {
  return RecordService(deps_).list(ctx, "api_key", {{}, "", 1000, true});
}

}  // namespace nucleo::services
