#include "kernel/services/audited_reads.hpp"

namespace nucleo::services {

void AuditedReads::record(const std::string& tenant_id, std::vector<audit::AuditEvent> events) {
  if (events.empty()) return;
  std::unique_lock lock(mutex_);
  Tenant& tenant = tenants_[tenant_id];
  if (!tenant.open) tenant.open = std::make_shared<Batch>();
  std::shared_ptr<Batch> batch = tenant.open;
  std::size_t mine = batch->readers.size();
  batch->readers.push_back(std::move(events));
  if (batch->led) {
    // Another reader writes this batch: wait for its commit.
    changed_.wait(lock, [&] { return batch->done; });
  } else {
    // This reader writes it, once the tenant's previous batch has committed; readers
    // arriving meanwhile join it.
    batch->led = true;
    changed_.wait(lock, [&] { return !tenant.writing; });
    tenant.writing = true;
    tenant.open.reset();
    lock.unlock();
    batch->error = write(tenant_id, batch->readers);
    lock.lock();
    tenant.writing = false;
    batch->done = true;
    changed_.notify_all();
  }
  if (!batch->error) return;
  // One reader's events the database refuses must not fail the others': after a failed
  // batch each reader records its own alone, and only its own failure is its answer.
  if (batch->readers.size() == 1) std::rethrow_exception(batch->error);
  lock.unlock();
  if (auto error = write(tenant_id, {batch->readers[mine]})) std::rethrow_exception(error);
}

std::exception_ptr AuditedReads::write(const std::string& tenant_id,
                                       const std::vector<std::vector<audit::AuditEvent>>& readers) {
  try {
    database_.write(tenant_id, [&](store::Transaction& tx) {
      for (const auto& events : readers)
        for (const auto& e : events) audit::record_audit_event(tx, e);
    });
    return nullptr;
  } catch (...) {
    return std::current_exception();
  }
}

void record_read_events(ServiceDependencies& deps, const std::string& tenant_id, std::vector<audit::AuditEvent> events) {
  if (events.empty()) return;
  if (deps.audited_reads && !deps.database.runs_joined_transaction())
    return deps.audited_reads->record(tenant_id, std::move(events));
  deps.database.write(tenant_id, [&](store::Transaction& tx) {
    for (const auto& e : events) audit::record_audit_event(tx, e);
  });
}

}  // namespace nucleo::services
