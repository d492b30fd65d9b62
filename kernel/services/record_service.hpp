#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/domain/entity.hpp"
#include "kernel/domain/record_validation.hpp"
#include "kernel/services/attribute_schemas.hpp"
#include "kernel/services/customer_extensions.hpp"
#include "kernel/services/import_formats.hpp"
#include "kernel/services/call_context.hpp"
#include "kernel/services/secret_box.hpp"
#include "kernel/services/sensitive_data.hpp"
#include "kernel/services/validator_registry.hpp"
#include "kernel/store/database.hpp"
#include "kernel/store/record_table.hpp"

namespace nucleo::services {

// privacy.* (docs/configuration.md): data-subject requests.
struct PrivacySettings {
  int request_deadline_days = 15;  // LGPD art. 19 II: the complete report within 15 days
  int report_link_hours = 72;      // how long a report's signed download link works
  int retention_grace_days = 7;    // a retention policy changed since touches nothing
  std::size_t retention_max_per_run = 10000;  // records one policy touches per run; the rest next run
};

// proposals.* (docs/configuration.md): public links and discount limits.
struct ProposalSettings {
  int link_days = 30;  // how long a proposal's public link works
  // The largest discount of one line (hundredths of a percent) a role or a team's
  // members may send without an approval: {"sales": 1000, "team_…": 1500}. A caller's
  // limit is the highest of her role's and her teams'; a role not named has none.
  std::map<std::string, std::int64_t> discount_limits;
};

struct ServiceDependencies {
  store::Database& database;         // request traffic (PostgreSQL: nucleo_app, under RLS)
  store::Database& worker_database;  // cross-tenant work (PostgreSQL: nucleo_worker)
  ValidatorRegistry& validators;
  NormalisationSettings normalisation;
  const SensitiveData& sensitive;  // reads of these are audited
  const SecretBox& secrets;         // seals webhook and channel-account secrets at rest
  AttributeSchemas& attribute_schemas;  // plugins' declared attributes, checked on every write
  CustomerExtensions& customer_extensions;  // plugins' timeline sources and briefing sections
  ImportFormats& import_formats;            // plugins' import formats
  // limits.search_scan_rows: records a search reads per page when a text match has no
  // index to use (store::SearchQuery::scan_limit) — for the API and plugins alike.
  std::size_t search_scan_rows = 10000;
  // Group commit for the audit events of reads (audited_reads.hpp); none: each read
  // records its events in a transaction of its own.
  class AuditedReads* audited_reads = nullptr;
  // http.public_url: where people reach this deployment (https://crm.example.com), for
  // links the kernel puts in what it sends — an e-mail's one-click unsubscribe. Empty:
  // no such links.
  std::string public_url;
  PrivacySettings privacy;
  ProposalSettings proposals;
};

struct WriteResult {
  Json record;                      // the record as callers see it (hidden fields removed)
  Json duplicates = Json::array();  // [{"entity_type","id","field","value"}]: same e-mail/phone elsewhere
  bool unchanged = false;           // an update that changed nothing: nothing was written
};

// The use cases on every core entity (docs/architecture.md §4): create, update, archive, restore,
// move a deal's stage, log an interaction, complete a task — and the reads.
//
// Each write is one transaction: validate → load → change → entity rules →
// registered validators → save → audit event (audit_pending) → domain event (outbox)
// → commit. A failure anywhere leaves nothing behind.
class RecordService {
 public:
  explicit RecordService(ServiceDependencies deps) : deps_(deps) {}

  WriteResult create(const CallContext& ctx, std::string_view type, const Json& input);
  // `expected_version` (from If-Match) must equal the stored version, or the write is
  // refused with precondition_failed. A concurrent writer that got there first makes
  // the update fail with conflict.
  WriteResult update(const CallContext& ctx, std::string_view type, const std::string& id, const Json& patch,
                     std::optional<std::int64_t> expected_version = std::nullopt);
  WriteResult archive(const CallContext& ctx, std::string_view type, const std::string& id,
                      std::optional<std::int64_t> expected_version = std::nullopt);
  WriteResult restore(const CallContext& ctx, std::string_view type, const std::string& id,
                      std::optional<std::int64_t> expected_version = std::nullopt);

  WriteResult move_deal_stage(const CallContext& ctx, const std::string& deal_id, const std::string& stage_id,
                              std::optional<std::int64_t> expected_version = std::nullopt,
                              const std::string& lost_reason = "");
  // What moving deal `deal_id` to `stage_id` would meet and miss, without moving it: the
  // registered gates' verdict (ValidatorRegistry::GateEvaluator), as GET
  // /v1/deals/{id}/gate and a plugin's deals.gate answer it. The caller must be able to
  // read the deal (404 otherwise); UNAVAILABLE when no gates are registered.
  Json deal_gate(const CallContext& ctx, const std::string& deal_id, const std::string& stage_id);
  WriteResult log_interaction(const CallContext& ctx, const Json& input) { return create(ctx, "interaction", input); }
  // A second person's approval of moving the deal to `stage_id` (a gate's "approval"
  // criterion, docs/sales-process.md): appended to the deal's `approvals` as
  // {stage_id, user_id, role, at, note}, action deal.approved. The caller must act as
  // a user; the registered gates refuse a role the stage does not ask for. The same
  // user approving the same move again while the deal sits in its stage changes nothing.
  WriteResult approve_deal_move(const CallContext& ctx, const std::string& deal_id, const std::string& stage_id,
                                const std::string& note, std::optional<std::int64_t> expected_version = std::nullopt);
  // Marks the deal stalled since `since` (action deal.stalled) or, with none, no longer
  // stalled (deal.stall_cleared). Setting what is already set changes nothing.
  WriteResult set_deal_stall(const CallContext& ctx, const std::string& deal_id, std::optional<Timestamp> since,
                             std::optional<std::int64_t> expected_version = std::nullopt);
  WriteResult complete_task(const CallContext& ctx, const std::string& task_id,
                            std::optional<std::int64_t> expected_version = std::nullopt);

  // Up to 100 creates/updates of one entity type (docs/architecture.md §7 batch endpoints):
  //   {"method": "create", "data": {…}}
  //   {"method": "update", "id": "acc_…", "data": {…}, "version": 3}
  // Each gets its own result. With `atomic`, all run in one transaction: at the first
  // failure nothing is kept, that item reports its error and the rest report that
  // they were not applied.
  // not_applied: an atomic batch whose other operation failed left this one out.
  enum class BatchOutcome { created, updated, failed, not_applied };
  struct BatchItem {
    BatchOutcome outcome = BatchOutcome::failed;
    std::optional<WriteResult> result;
    std::optional<Error> error;
  };
  std::vector<BatchItem> batch(const CallContext& ctx, std::string_view type, const Json& operations, bool atomic);

  // Reads. A record of another tenant is simply not found. Reading what the deployment
  // marks sensitive (SensitiveData) records a "<type>.sensitive_read" audit event per
  // record first; if that fails, nothing is returned.
  Json get(const CallContext& ctx, std::string_view type, const std::string& id);
  std::vector<Json> list(const CallContext& ctx, std::string_view type, store::RecordQuery query);
  // The same page rendered straight to the JSON text the API sends (hidden fields left out).
  std::vector<store::RenderedRecord> list_rendered(const CallContext& ctx, std::string_view type,
                                                   store::RecordQuery query);

  // One page of a search (services/search.hpp for the body). `after` is where the
  // previous page ended, as returned in SearchPage::next (null for the first page).
  // A text match no index serves reads at most `scan_limit` records per page (default:
  // the deployment's limits.search_scan_rows; store::SearchQuery::scan_limit): such a
  // page may be short, even empty, and still have a next.
  struct SearchPage {
    std::vector<std::string> records;  // each record's JSON text, as the API shows it
    Json next;  // [sort value, id] to continue from, or null on the last page
  };
  SearchPage search(const CallContext& ctx, std::string_view type, const Json& body, const Json& after,
                    std::size_t max_limit = 200, std::optional<std::size_t> scan_limit = std::nullopt);

 private:
  ServiceDependencies deps_;
};

// The record without its hidden fields (secret hashes): what leaves the kernel.
Json visible_record(const EntitySpec& spec, Json record);

}  // namespace nucleo::services
