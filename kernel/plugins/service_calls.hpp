#pragma once

// The kernel services a plugin calls by name through `call_service` (plugin_abi.h),
// with a JSON request, as the caller of the unit of work it is handling:
//
//   records.create   {"type", "data"}                      → the record
//   records.get      {"type", "id"}                        → the record
//   records.update   {"type", "id", "data", "version"?}    → the record
//   records.archive  {"type", "id", "version"?}            → the record
//   records.restore  {"type", "id", "version"?}            → the record
//   records.search   {"type", "query": <search body>}      → {"data": [...], "next": ...}
//   interactions.log {"data"}                              → the interaction
//   tasks.complete   {"id", "version"?}                    → the task
//   deals.move_stage {"id", "stage_id", "lost_reason"?, "version"?} → the deal
//   deals.gate       {"id", "stage_id"}                    → {"deal_id", "stage_id", "passes", "unmet": [...]}
//     (ABI 1.11: a move's gate judged without moving, as GET /v1/deals/{id}/gate)
//   conversations.receive {"channel_account_id", "message"} → {"interaction", "matched_by", "duplicate",
//     "conversation_id"} (an inbound channel message made an interaction on its sender: services/conversation_service.hpp)
//   conversations.status {"channel_account_id", "status": {"external_id", "status", "error"?}} → the interaction
//   channels.report {"channel_account_id", "problem": {"code", "message"} | null} → the account
//     (what the plugin found wrong with its account, shown on it; null clears it)
//   channels.resolve {"external_id"}                       → {"id", "tenant_id", "config", "secrets", …}
//     (the plugin's own channel accounts; handled by the host: it puts the call in the
//     account's tenant)
//   network.resolve {"host", "port"}                       → {"host", "port", "addresses": [...], "ca_file"}
//     (ABI 1.4; handled by the host: where a plugin speaking SMTP or IMAP may connect —
//     every address public or in outbound.allow, else FORBIDDEN naming it — and the CA
//     file its TLS trusts, "" for the system's)
//
// Types are the entity types but api_key (account, contact, deal, task, …). Every
// call goes through the same services as the HTTP API: permissions, validation,
// audit events and domain events are the same.

#include <string>

#include "kernel/domain/error.hpp"
#include "kernel/services/record_service.hpp"
#include "nucleo/plugin_abi.h"

namespace nucleo::plugins {

// Runs one named service call; throws Error like the services do. With `read_only`
// (a validator's call) only reads are allowed.
Json call_kernel_service(services::ServiceDependencies deps, const services::CallContext& ctx,
                         const std::string& name, const Json& request, bool read_only = false);

// The names above, for docs and "unknown service" messages.
const std::vector<std::string>& kernel_service_names();

}  // namespace nucleo::plugins
