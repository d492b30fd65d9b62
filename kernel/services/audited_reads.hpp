#pragma once

#include <condition_variable>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kernel/audit/recorder.hpp"
#include "kernel/services/record_service.hpp"
#include "kernel/store/database.hpp"

namespace nucleo::services {

// Records the audit events of reads (proofs, the log, sensitive fields) by group
// commit: concurrent readers of a tenant share one transaction, and each returns only
// once the transaction holding its events has committed — a response is never sent
// before its audit record is durable (issue #29).
//
// No window is waited for: the first reader writes at once, and readers that arrive
// while a tenant's transaction is being written form the next one, written as soon as
// the first commits. An idle server pays nothing; a busy one pays one commit per batch
// instead of one per read. After a failed batch each reader records its events alone.
class AuditedReads {
 public:
  explicit AuditedReads(store::Database& database) : database_(database) {}
  AuditedReads(const AuditedReads&) = delete;
  AuditedReads& operator=(const AuditedReads&) = delete;

  // Returns once `events` (all of `tenant_id`) are committed; throws what the commit threw.
  void record(const std::string& tenant_id, std::vector<audit::AuditEvent> events);

 private:
  struct Batch {
    std::vector<std::vector<audit::AuditEvent>> readers;  // each reader's events
    bool led = false;  // a reader is writing it, or waiting to
    bool done = false;
    std::exception_ptr error;
  };
  struct Tenant {
    std::shared_ptr<Batch> open;  // taking events
    bool writing = false;         // a batch's transaction is under way
  };
  // One transaction; what it threw, if anything.
  std::exception_ptr write(const std::string& tenant_id, const std::vector<std::vector<audit::AuditEvent>>& readers);

  store::Database& database_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, Tenant> tenants_;
};

// Records the audit events of a read the caller has finished: through deps.audited_reads
// when there is one, else (and inside a transaction the caller joined, whose fate they
// share: ADR 0033) in a transaction of the caller's.
void record_read_events(ServiceDependencies& deps, const std::string& tenant_id, std::vector<audit::AuditEvent> events);

}  // namespace nucleo::services
