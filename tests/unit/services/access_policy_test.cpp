// The permission matrix (docs/api.md, "Roles and permissions") as pure functions: who
// may read and change what, which scopes grant what, which roles include which.
#include "kernel/services/access_policy.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "kernel/domain/error.hpp"

namespace nucleo::services {
namespace {

CallContext as(const std::string& role, std::vector<std::string> scopes = {}, bool scopes_apply = false) {
  CallContext ctx;
  auto p = std::make_shared<Principal>();
  p->key_id = "key_test";
  p->role = role;
  p->scopes = std::move(scopes);
  p->scopes_apply = scopes_apply;
  ctx.principal = p;
  return ctx;
}

bool may(const CallContext& ctx, const std::string& type, Operation op) {
  try {
    require_permission(ctx, entity_spec(type), op);
    return true;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::forbidden);
    return false;
  }
}

TEST(AccessPolicy, TheMatrixOfRolesAndEntities) {
  for (const auto& type : {"account", "contact", "deal", "interaction", "task"}) {
    for (const auto& role : {"admin", "manager", "sales", "support", "marketing"})
      EXPECT_TRUE(may(as(role), type, Operation::write)) << role << " " << type;
    EXPECT_FALSE(may(as("auditor"), type, Operation::write)) << type;
    EXPECT_TRUE(may(as("auditor"), type, Operation::read)) << type;
  }
  EXPECT_TRUE(may(as("admin"), "user", Operation::write));
  EXPECT_FALSE(may(as("manager"), "user", Operation::write));
  EXPECT_FALSE(may(as("sales"), "pipeline", Operation::write));
  EXPECT_TRUE(may(as("manager"), "pipeline", Operation::write));
  EXPECT_FALSE(may(as("sales"), "api_key", Operation::read));
  EXPECT_TRUE(may(as("auditor"), "api_key", Operation::read));
  EXPECT_TRUE(may(CallContext{}, "user", Operation::write));  // no principal: the CLI, system work
}

TEST(AccessPolicy, RolesAllowedIsTheMatrixRoutesDeclare) {
  auto writers = roles_allowed(entity_spec("account"), Operation::write);
  EXPECT_EQ(writers, (std::vector<std::string>{"admin", "manager", "sales", "support", "marketing", "integration"}));
  EXPECT_EQ(roles_allowed(entity_spec("user"), Operation::write), (std::vector<std::string>{"admin", "integration"}));
  EXPECT_EQ(roles_allowed(entity_spec("deal"), Operation::read), every_role());
}

TEST(AccessPolicy, ScopesGrantByResourceAndAccess) {
  EXPECT_TRUE(scopes_grant({"*"}, "audit", "read"));
  EXPECT_TRUE(scopes_grant({"deals:write"}, "deals", "read"));  // write implies read
  EXPECT_FALSE(scopes_grant({"deals:read"}, "deals", "write"));
  EXPECT_FALSE(scopes_grant({"deals:read"}, "accounts", "read"));
  EXPECT_TRUE(scopes_grant({"*:read"}, "accounts", "read"));
  EXPECT_FALSE(scopes_grant({"*:read"}, "accounts", "write"));
  EXPECT_FALSE(scopes_grant({"deals"}, "deals", "read"));  // a scope without access grants nothing
  EXPECT_FALSE(scopes_grant({}, "deals", "read"));
  // Integration keys by entity type or by collection name; On-Behalf-Of keeps the bound.
  EXPECT_TRUE(may(as("integration", {"deal:read"}, true), "deal", Operation::read));
  EXPECT_TRUE(may(as("integration", {"deals:read"}, true), "deal", Operation::read));
  EXPECT_FALSE(may(as("admin", {"deals:read"}, true), "user", Operation::write));
  EXPECT_FALSE(may(as("sales", {"*"}, true), "user", Operation::write));
}

TEST(AccessPolicy, RoleGatedOperationsNeedTheRoleAndTheScope) {
  EXPECT_NO_THROW(require_role(as("auditor"), {"admin", "auditor"}, "audit", "audit:read"));
  EXPECT_THROW(require_role(as("sales"), {"admin", "auditor"}, "audit", "audit:read"), Error);
  EXPECT_THROW(require_role(as("admin", {"deals:read"}, true), {"admin"}, "audit", "audit:read"), Error);
  EXPECT_NO_THROW(require_role(as("admin", {"audit:read"}, true), {"admin"}, "audit", "audit:read"));
}

TEST(AccessPolicy, WhichRolesIncludeWhich) {
  for (const auto& role : every_role()) EXPECT_TRUE(role_includes(role, role)) << role;
  EXPECT_TRUE(role_includes("admin", "auditor"));
  EXPECT_TRUE(role_includes("admin", "sales"));
  EXPECT_FALSE(role_includes("admin", "integration"));  // integration keys are not user keys
  EXPECT_TRUE(role_includes("manager", "support"));
  EXPECT_FALSE(role_includes("manager", "auditor"));  // auditors read keys and the audit log
  EXPECT_FALSE(role_includes("sales", "support"));
  EXPECT_FALSE(role_includes("auditor", "sales"));  // reading all is not writing any
}

}  // namespace
}  // namespace nucleo::services
