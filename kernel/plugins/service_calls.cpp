#include "kernel/plugins/service_calls.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "kernel/services/audit_service.hpp"
#include "kernel/services/channel_account_service.hpp"
#include "kernel/services/consent_service.hpp"
#include "kernel/services/conversation_service.hpp"
#include "kernel/services/customer_view.hpp"
#include "kernel/services/privacy_service.hpp"


namespace nucleo::plugins {
namespace {

using services::CallContext;
using services::RecordService;

std::string string_field(const std::string& service, const Json& request, const std::string& name) {
  auto it = request.find(name);
  if (it == request.end() || !it->is_string() || it->get_ref<const std::string&>().empty())
    throw Error(ErrorCode::validation, service + " needs \"" + name + "\", a non-empty string", {{name, "is required"}});
  return *it;
}

Json object_field(const std::string& service, const Json& request, const std::string& name) {
  auto it = request.find(name);
  if (it == request.end() || !it->is_object())
    throw Error(ErrorCode::validation, service + " needs \"" + name + "\", an object", {{name, "must be an object"}});
  return *it;
}

std::optional<std::int64_t> version_field(const Json& request) {
  auto it = request.find("version");
  if (it == request.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) throw Error(ErrorCode::validation, "\"version\" must be an integer", {{"version", "must be an integer"}});
  return it->get<std::int64_t>();
}

// Every entity type but API keys, which only the kernel's CLI and key service handle.
std::string type_field(const std::string& service, const Json& request) {
  std::string type = string_field(service, request, "type");
  const auto& specs = all_entity_specs();
  bool known = type != "api_key" && std::any_of(specs.begin(), specs.end(), [&](const auto* s) { return s->type == type; });
  if (!known) throw Error(ErrorCode::validation, service + ": unknown entity type '" + type + "'", {{"type", "unknown entity type"}});
  return type;
}

using ServiceCall = std::function<Json(services::ServiceDependencies, const CallContext&, const std::string&, const Json&)>;

const std::map<std::string, ServiceCall>& service_table() {
  static const std::map<std::string, ServiceCall> table = {
      {"records.create",
       [](auto deps, const auto& ctx, const auto& n, const Json& r) {
         return RecordService(deps).create(ctx, type_field(n, r), object_field(n, r, "data")).record;
       }},
      {"records.get",
       [](auto deps, const auto& ctx, const auto& n, const Json& r) {
         return RecordService(deps).get(ctx, type_field(n, r), string_field(n, r, "id"));
       }},
      {"records.update",
       [](auto deps, const auto& ctx, const auto& n, const Json& r) {
         return RecordService(deps)
             .update(ctx, type_field(n, r), string_field(n, r, "id"), object_field(n, r, "data"), version_field(r))
             .record;
       }},
      {"records.archive",
       [](auto deps, const auto& ctx, const auto& n, const Json& r) {
         return RecordService(deps).archive(ctx, type_field(n, r), string_field(n, r, "id"), version_field(r)).record;
       }},
      {"records.restore",
       [](auto deps, const auto& ctx, const auto& n, const Json& r) {
         return RecordService(deps).restore(ctx, type_field(n, r), string_field(n, r, "id"), version_field(r)).record;
       }},
      {"records.search",
       [](auto deps, const auto& ctx, const auto& n, const Json& r) {
         Json query = r.contains("query") ? object_field(n, r, "query") : Json::object();
         auto page = RecordService(deps).search(ctx, type_field(n, r), query, r.value("after", Json()));
         Json data = Json::array();
         for (const auto& text : page.records) data.push_back(Json::parse(text));
         return Json{{"data", data}, {"next", page.next}};
       }},
      {"interactions.log",
       [](auto deps, const auto& ctx, const auto& n, const Json& r) {
         return RecordService(deps).log_interaction(ctx, object_field(n, r, "data")).record;
       }},
      {"tasks.complete",
       [](auto deps, const auto& ctx, const auto& n, const Json& r) {
         return RecordService(deps).complete_task(ctx, string_field(n, r, "id"), version_field(r)).record;
       }},
      {"conversations.receive",
       [](auto deps, const auto& ctx, const auto& n, const Json& r) {
         services::ConversationService conversations(deps);
         std::string account = string_field(n, r, "channel_account_id");
         if (!r.contains("messages")) return conversations.receive(ctx, account, object_field(n, r, "message"));
         if (r.contains("message"))
           throw Error(ErrorCode::validation, n + " takes \"message\" or \"messages\", not both",
                       {{"messages", "give one message or a list, not both"}});
         return Json{{"received", conversations.receive_many(ctx, account, r["messages"])}};
       }},
      {"conversations.status",
       [](auto deps, const auto& ctx, const auto& n, const Json& r) {
         return services::ConversationService(deps).record_status(ctx, string_field(n, r, "channel_account_id"),
                                                                  object_field(n, r, "status"));
       }},
      {"channels.report",
       [](auto deps, const auto& ctx, const auto& n, const Json& r) {
         return services::ChannelAccountService(deps).report_problem(ctx, string_field(n, r, "channel_account_id"),
                                                                     r.value("problem", Json()));
       }},
      // (ABI 1.7) An account's timeline as GET /v1/accounts/{id}/timeline answers it, as the
      // caller: {"account_id", "after": <a page's "next">, "limit": 1-200 (50)} →
      // {"data": [{"kind", "at", "id", "data"}, …], "next"}, newest first.
      {"accounts.timeline",
       [](auto deps, const auto& ctx, const auto& n, const Json& r) {
         Json limit = r.value("limit", Json(50));
         if (!limit.is_number_integer() || limit.get<std::int64_t>() < 1 || limit.get<std::int64_t>() > 200)
           throw Error(ErrorCode::validation, n + ": limit must be an integer from 1 to 200", {{"limit", "1-200"}});
         auto page = services::CustomerView(deps).timeline(ctx, string_field(n, r, "account_id"), r.value("after", Json()),
                                                           limit.get<std::size_t>());
         return Json{{"data", page.items}, {"next", page.next}};
       }},
      // (ABI 1.7) One party's audit trail for an examiner (AuditService::entity_proofs):
      // {"entities": [{"type", "id"}, …], "as_of"?: RFC 3339} → {"checkpoint", "tree_size",
      // "events", "records"}. Admin and auditor callers, or the plugin's own work.
      {"audit.proofs",
       [](auto deps, const auto& ctx, const auto& n, const Json& r) {
         Json list = r.value("entities", Json());
         if (!list.is_array()) throw Error(ErrorCode::validation, n + " needs \"entities\": [{\"type\", \"id\"}, …]");
         std::vector<std::pair<std::string, std::string>> entities;
         for (const auto& e : list) entities.emplace_back(string_field(n, e, "type"), string_field(n, e, "id"));
         std::optional<std::int64_t> as_of;
         if (r.contains("as_of")) {
           auto t = parse_rfc3339(string_field(n, r, "as_of"));
           if (!t) throw Error(ErrorCode::validation, n + ": as_of must be an RFC 3339 time", {{"as_of", "not a time"}});
           as_of = t->micros;
         }
         return services::AuditService(deps).entity_proofs(ctx, entities, as_of);
       }},
      // (ABI 1.7) The legal holds of the call's tenant ({"subject_id"} for one contact's;
      // "active": true leaves out lifted ones): what a pack's retention job asks before
      // deleting. Admin and auditor callers, or the plugin's own work.
      {"privacy.holds",
       [](auto deps, const auto& ctx, const auto& n, const Json& r) {
         std::string subject = r.contains("subject_id") ? string_field(n, r, "subject_id") : "";
         bool active_only = r.value("active", false) == true;
         Json data = Json::array();
         for (auto& hold : services::PrivacyService(deps).holds(ctx, subject))
           if (!active_only || hold.value("lifted_at", Json()).is_null()) data.push_back(std::move(hold));
         return Json{{"data", data}};
       }},
      // (ABI 1.9) The consent ledger (docs/compliance.md, "Consent"). consent.allows
      // {"contact_id", "purpose"} answers {"allowed", "state", "legal_basis", "entry_id"}:
      // what a plugin asks before it sends a person anything on its own. consent.record
      // {"contact_id", "purpose", "action", "legal_basis"?, "source"?, "notice"?} appends
      // an entry (a STOP keyword revokes) and answers {"entry", "contact"}.
      {"consent.allows",
       [](auto deps, const auto& ctx, const auto& n, const Json& r) {
         return services::ConsentService(deps)
             .allows(ctx, string_field(n, r, "contact_id"), string_field(n, r, "purpose"))
             .to_json();
       }},
      {"consent.record",
       [](auto deps, const auto& ctx, const auto& n, const Json& r) {
         Json entry = r;
         entry.erase("contact_id");
         return services::ConsentService(deps).record(ctx, string_field(n, r, "contact_id"), entry);
       }},
      // (ABI 1.11) What moving a deal to a stage would meet and miss of the stage's entry
      // criteria, without moving it: {"id", "stage_id"} → {"deal_id", "stage_id",
      // "passes", "unmet": [{"code", "criterion_index", "criterion", "missing"}]} — the
      // same evaluation the move enforces, as the caller (GET /v1/deals/{id}/gate).
      {"deals.gate",
       [](auto deps, const auto& ctx, const auto& n, const Json& r) {
         return RecordService(deps).deal_gate(ctx, string_field(n, r, "id"), string_field(n, r, "stage_id"));
       }},
      {"deals.move_stage",
       [](auto deps, const auto& ctx, const auto& n, const Json& r) {
         std::string lost_reason = r.contains("lost_reason") ? string_field(n, r, "lost_reason") : "";
         return RecordService(deps)
             .move_deal_stage(ctx, string_field(n, r, "id"), string_field(n, r, "stage_id"), version_field(r),
                              lost_reason)
             .record;
       }},
  };
  return table;
}

}  // namespace

const std::vector<std::string>& kernel_service_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& [name, call] : service_table()) out.push_back(name);
    return out;
  }();
  return names;
}

Json call_kernel_service(services::ServiceDependencies deps, const CallContext& ctx, const std::string& name,
                         const Json& request, bool read_only) {
  auto it = service_table().find(name);
  if (it == service_table().end()) {
    std::string known;
    for (const auto& n : kernel_service_names()) known += (known.empty() ? "" : ", ") + n;
    throw Error(ErrorCode::not_found, "no kernel service named '" + name + "' (known: " + known + ")");
  }
  if (!request.is_object()) throw Error(ErrorCode::validation, name + " takes a JSON object");
  static const std::set<std::string> reads{"records.get", "records.search", "privacy.holds", "accounts.timeline",
                                          "consent.allows", "deals.gate"};  // not audit.proofs: it records its read
  if (read_only && !reads.count(name))
    throw Error(ErrorCode::forbidden,
                name + " writes, and a validator may only read (records.get, records.search, privacy.holds, "
                       "accounts.timeline, consent.allows, deals.gate)");
  return it->second(deps, ctx, name, request);
}

}  // namespace nucleo::plugins
