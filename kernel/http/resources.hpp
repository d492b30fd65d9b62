#pragma once

#include <string>

#include "kernel/http/router.hpp"
#include "kernel/services/record_service.hpp"
#include "kernel/services/sign_in_service.hpp"

namespace nucleo::http {

struct ApiSettings {
  std::size_t default_page_size = 50;
  std::size_t max_page_size = 200;
  std::string cursor_secret;  // signs list cursors; shared by every node of a deployment
  services::SignInSettings sign_in;  // auth.session_hours, … (ADR 0046)
};

// The core resources under /v1 (docs/architecture.md §7): for each entity, list, create, read,
// patch, archive (DELETE) and restore; plus POST /v1/deals/{id}/stage and
// POST /v1/tasks/{id}/complete. Handlers only call services.
void add_resource_routes(Router& router, services::ServiceDependencies deps, ApiSettings settings);

// The REST collection name of each exposed entity ("accounts" → "account").
const std::vector<std::pair<std::string, std::string>>& exposed_resources();

// The parts, one file each: record_routes (the generic protocol of every served
// entity, a deal's stage, a task's completion), customer_routes (360, briefing),
// audit_routes, privacy_routes (erasure, legal holds), event_routes (dead letters, failed jobs).
void add_record_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings);
void add_customer_view_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings);
void add_audit_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings);
void add_privacy_routes(Router& router, services::ServiceDependencies deps);
void add_event_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings);
void add_job_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings);
void add_sales_routes(Router& router, services::ServiceDependencies deps);
// POST /v1/contacts/{id}/merge, /v1/accounts/{id}/merge and GET /v1/duplicates.
void add_duplicate_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings);
// Automation rules' dry run, enable/disable and firings, and cadences' enrolments (the
// rules and cadences themselves: the generic protocol).
void add_automation_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings);
// People's sign-in (ADR 0046): POST /v1/sessions, the current session, signing out (here
// or everywhere) and setting a password.
void add_session_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings);
// API keys: list, create (the secret once), revoke — admins; as `nucleo key` does.
void add_key_routes(Router& router, services::ServiceDependencies deps);

}  // namespace nucleo::http
