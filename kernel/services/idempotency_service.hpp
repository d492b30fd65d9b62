#pragma once

#include <optional>
#include <string>

#include "kernel/services/record_service.hpp"

namespace nucleo::services {

// Idempotency-Key handling (docs/api.md, "Idempotency"; ADR 0033), scoped per
// credential and operation (method + route template):
//   first request        → proceed: the key is held by the request's own transaction
//   same key, same body  → replay the stored status and body
//   same key, other body → mismatch (422)
//   same key, in flight  → in_flight (409): a record an older node left committed
// The request's writes and the memory of its answer commit in one transaction (the
// caller runs begin_in, its work and complete_in inside Database::in_one_transaction),
// so an attempt that failed after its commit is replayed, never applied twice.
// Records are kept for `retention` (≥ 24 h).
class IdempotencyService {
 public:
  enum class Outcome { proceed, replay, in_flight, mismatch };
  struct Attempt {
    std::string operation;    // "POST /v1/accounts/{id}/restore"
    std::string key;          // the client's Idempotency-Key
    std::string fingerprint;  // the request: see fingerprint()
  };
  struct Begin {
    Outcome outcome = Outcome::proceed;
    int status = 0;
    std::string body;
  };

  explicit IdempotencyService(ServiceDependencies deps) : deps_(deps) {}

  // In the request's transaction, before its work: what the key already answered, or
  // proceed — then the key's row is written (uncommitted, so a concurrent request with
  // the same key waits for this one at that row, and then finds its answer).
  static Begin begin_in(store::Transaction& tx, const CallContext& ctx, const Attempt& attempt);
  // In the same transaction, after the work: the answer to replay.
  static void complete_in(store::Transaction& tx, const CallContext& ctx, const Attempt& attempt, int status,
                          const std::string& body);
  // After the request's transaction rolled back on a final refusal (a 4xx): the refusal,
  // remembered in a transaction of its own so a retry gets the same answer.
  void remember_refusal(const CallContext& ctx, const Attempt& attempt, int status, const std::string& body);

  // Erasure (docs/architecture.md §5): stored replies that mention `record_id` are replaced by
  // {"erased": true}, so a replay no longer returns the personal data (the server
  // answers 410). Returns the number of records changed.
  static std::size_t redact_replies(store::Transaction& tx, const std::string& tenant_id, const std::string& record_id);
  static bool is_redacted(const std::string& stored_body);

  // What "the same request" means: method, path and the exact body bytes.
  static std::string fingerprint(const std::string& method, const std::string& path, const std::string& body);

  // CallContext::write_once, inside the write's own transaction: the record a previous
  // write with the same scope and key answered (Error(validation) when that key was
  // used for another request), or nullopt to write — then `remember` the answer in
  // the same transaction. A plugin's keys are not scoped per operation.
  static std::optional<Json> replay_in(store::Transaction& tx, const CallContext& ctx);
  static void remember_in(store::Transaction& tx, const CallContext& ctx, const Json& answer);

  static constexpr std::int64_t retention_micros = 24LL * 3600 * 1'000'000;
  static constexpr std::int64_t in_flight_timeout_micros = 60LL * 1'000'000;

 private:
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
