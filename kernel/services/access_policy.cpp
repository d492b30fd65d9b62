#include "kernel/services/access_policy.hpp"

#include <algorithm>

#include "kernel/domain/error.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

bool is_one_of(const std::string& value, std::initializer_list<const char*> options) {
  return std::any_of(options.begin(), options.end(), [&](const char* o) { return value == o; });
}

const char* access_of(Operation op) {
  return op == Operation::read ? "read" : "write";
}

// Integration scopes name resources by entity type: "deal:read" or the plural the
// API uses, "deals:read".
bool scope_allows(const Principal& p, const EntitySpec& spec, Operation op) {
  return scopes_grant(p.scopes, spec.type, access_of(op)) || scopes_grant(p.scopes, spec.table, access_of(op));
}

bool listed(const std::vector<std::string>& roles, const std::string& role) {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

// The entity's declared policy (EntityPolicy): admin writes everything, auditors
// nothing, the rest what the declaration lists.
bool role_allows_write(const std::string& role, const EntitySpec& spec) {
  return role == "admin" || listed(spec.policy.writers, role);
}

}  // namespace

bool scopes_grant(const std::vector<std::string>& scopes, const std::string& resource, const std::string& access) {
  for (const auto& scope : scopes) {
    if (scope == "*") return true;
    auto colon = scope.find(':');
    if (colon == std::string::npos) continue;
    std::string named = scope.substr(0, colon), granted = scope.substr(colon + 1);
    if ((named == resource || named == "*") && (granted == access || (granted == "write" && access == "read")))
      return true;
  }
  return false;
}

bool role_includes(const std::string& broader, const std::string& narrower) {
  if (broader == narrower) return true;
  if (broader == "admin") return narrower != "integration";
  if (broader == "manager") return is_one_of(narrower, {"sales", "support", "marketing"});
  return false;
}

namespace {

bool role_may(const std::string& role, const EntitySpec& spec, Operation op) {
  if (role == "integration") return true;  // its scopes are all it has
  if (op == Operation::read) return spec.policy.readers.empty() || listed(spec.policy.readers, role);
  return role_allows_write(role, spec);
}

}  // namespace

const std::vector<std::string>& every_role() {
  static const std::vector<std::string> roles{"admin",     "manager", "sales",      "support",
                                              "marketing", "auditor", "integration"};
  return roles;
}

std::vector<std::string> roles_allowed(const EntitySpec& spec, Operation op) {
  std::vector<std::string> roles;
  for (const auto& role : every_role())
    if (role_may(role, spec, op)) roles.push_back(role);
  return roles;
}

void require_permission(const CallContext& ctx, const EntitySpec& spec, Operation op) {
  const Principal* p = ctx.principal.get();
  if (p == nullptr) return;
  if (p->scopes_apply && !scope_allows(*p, spec, op))
    throw Error(ErrorCode::forbidden, "API key " + p->key_id + " has no scope for " + access_of(op) + " on " + spec.table +
                                          " (needs " + spec.table + ":" + access_of(op) + ")");
  bool allowed = role_may(p->role, spec, op);
  if (!allowed)
    throw Error(ErrorCode::forbidden,
                "role " + p->role + " may not " + (op == Operation::read ? "read " : "change ") + spec.table);
}

std::string owner_field(const EntitySpec& spec) {
  return spec.policy.owner_field;
}

bool can_see(const CallContext& ctx, const EntitySpec& spec, const Json& record) {
  const Principal* p = ctx.principal.get();
  std::string field = owner_field(spec);
  if (p == nullptr || !p->restricted_to_owners || field.empty()) return true;
  const Json& owner = record.value(field, Json());
  if (owner.is_null()) return true;  // unowned records are the team's pool
  return std::find(p->visible_owners.begin(), p->visible_owners.end(), owner.get<std::string>()) !=
         p->visible_owners.end();
}

void restrict_to_visible(const CallContext& ctx, const EntitySpec& spec, store::RecordQuery& query) {
  const Principal* p = ctx.principal.get();
  std::string field = owner_field(spec);
  if (p == nullptr || !p->restricted_to_owners || field.empty()) return;
  query.owner_field = field;
  query.visible_owners = p->visible_owners;
}

std::string visible_owners_condition(const CallContext& ctx, const std::string& column,
                                     std::vector<store::SqlValue>& params) {
  const Principal* p = ctx.principal.get();
  if (!p || !p->restricted_to_owners) return "";
  std::string condition = " AND (" + column + " IS NULL";
  if (!p->visible_owners.empty()) {
    condition += " OR " + column + " IN (";
    for (std::size_t i = 0; i < p->visible_owners.size(); ++i) {
      condition += (i ? ", " : "") + store::placeholder(params.size());
      params.push_back(p->visible_owners[i]);
    }
    condition += ")";
  }
  return condition + ")";
}

void require_role(const CallContext& ctx, const std::vector<std::string>& roles, const std::string& refusal,
                  const std::string& scope) {
  const Principal* p = ctx.principal.get();
  if (p == nullptr) return;
  if (std::find(roles.begin(), roles.end(), p->role) == roles.end())
    throw Error(ErrorCode::forbidden, refusal + ", not " + p->role);
  auto colon = scope.find(':');
  if (p->scopes_apply &&
      !scopes_grant(p->scopes, scope.substr(0, colon), colon == std::string::npos ? "" : scope.substr(colon + 1)))
    throw Error(ErrorCode::forbidden, "API key " + p->key_id + " has no scope " + scope + ": " + refusal);
}

}  // namespace nucleo::services
