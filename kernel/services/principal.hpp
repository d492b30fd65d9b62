#pragma once

#include <string>
#include <vector>

namespace nucleo::services {

// What an authenticated caller may do (docs/architecture.md §4, object-level rule). A CallContext
// without a principal (CLI, system work) is unrestricted.
struct Principal {
  std::string key_id;
  std::string role;                 // admin | manager | sales | support | marketing | auditor | integration
  std::string user_id;              // the user the call acts as (a user key's owner, or On-Behalf-Of); may be empty
  std::vector<std::string> team_ids;  // that user's teams (plugins see them: plugin_abi.h caller)
  std::vector<std::string> scopes;  // integration keys: "deals:read", "deals:write", "*"
  // An integration key's scopes bound what it may do — also when it acts On-Behalf-Of
  // a user, whose role then bounds it too (effective = scopes ∩ role).
  bool scopes_apply = false;

  // sales/support/marketing see records owned by these users (themselves and their
  // teams' members) plus unowned ones; other roles see the whole tenant.
  bool restricted_to_owners = false;
  std::vector<std::string> visible_owners;
};

}  // namespace nucleo::services
