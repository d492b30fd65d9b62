#pragma once

#include <string>

#include "kernel/domain/entity.hpp"
#include "kernel/services/call_context.hpp"
#include "kernel/store/record_table.hpp"

namespace nucleo::services {

enum class Operation { read, write };

// The permission matrix (docs/api.md):
//   admin        read and write everything
//   manager      read everything; write everything but users
//   sales, support, marketing
//                read everything they can see; write accounts, contacts, deals,
//                interactions and tasks they can see
//   auditor      read everything; write nothing
//   integration  what its scopes say ("deals:read", "deals:write", "*"); with
//                On-Behalf-Of, what both its scopes and that user's role allow
// Throws Error(forbidden) naming the role and the operation.
void require_permission(const CallContext& ctx, const EntitySpec& spec, Operation op);

// Every role a principal may have, and those the matrix above lets read or change
// records of `spec` ("integration" among them: its scopes decide). Routes declare these.
const std::vector<std::string>& every_role();
std::vector<std::string> roles_allowed(const EntitySpec& spec, Operation op);

// For operations only some roles may run (admin tools, audit reads): throws
// Error(forbidden) "<refusal>, not <role>" unless the caller's role is one of `roles`,
// and — for a caller bound by scopes (an integration key, also On-Behalf-Of) — unless
// its scopes grant `scope` ("audit:read", "channel_messages:write"; "*" grants all).
// Calls without a principal (the CLI, system work) are unrestricted.
void require_role(const CallContext& ctx, const std::vector<std::string>& roles, const std::string& refusal,
                  const std::string& scope);

// Whether a scope list grants "<resource>:<access>" (write implies read; "*" and
// "*:<access>" grant every resource).
bool scopes_grant(const std::vector<std::string>& scopes, const std::string& resource, const std::string& access);

// Whether `broader` may do everything `narrower` may: admin includes every user role,
// manager includes sales, support and marketing, each role includes itself. A user
// key's role must be one its user's role includes (docs/api.md, "Roles and permissions").
bool role_includes(const std::string& broader, const std::string& narrower);

// The field that says who owns a record of this entity ("owner_id", a task's
// "assignee_id"), or empty when its records are visible to the whole tenant.
std::string owner_field(const EntitySpec& spec);

// Whether the caller may see this record (object-level rule).
bool can_see(const CallContext& ctx, const EntitySpec& spec, const Json& record);

// Narrows a listing to what the caller may see.
void restrict_to_visible(const CallContext& ctx, const EntitySpec& spec, store::RecordQuery& query);

// The same rule for a hand-written read: " AND (<column> IS NULL OR <column> IN (…))"
// with the caller's visible owners appended to `params`, or "" for a caller who sees
// every owner.
std::string visible_owners_condition(const CallContext& ctx, const std::string& column,
                                     std::vector<store::SqlValue>& params);

}  // namespace nucleo::services
