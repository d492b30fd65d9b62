#pragma once

#include <optional>
#include <string>

#include "kernel/services/record_service.hpp"

namespace nucleo::services {

// Idempotency-Key handling (docs/architecture.md §7), scoped per API key:
//   first request        → proceed (an in-flight record is stored)
//   same key, same body  → replay the stored status and body
//   same key, other body → mismatch (422)
//   same key, in flight  → in_flight (409)
// Records are kept for `retention` (≥ 24 h); an in-flight record older than
// `in_flight_timeout` belonged to a request that died and may be taken over.
class IdempotencyService {
 public:
  enum class Outcome { proceed, replay, in_flight, mismatch };
  struct Begin {
    Outcome outcome = Outcome::proceed;
    int status = 0;
    std::string body;
  };

  explicit IdempotencyService(ServiceDependencies deps) : deps_(deps) {}

  Begin begin(const CallContext& ctx, const std::string& key, const std::string& request_hash);
  void complete(const CallContext& ctx, const std::string& key, int status, const std::string& body);
  // Forgets an in-flight record whose request failed before producing a response, so
  // the client may retry with the same key.
  void abandon(const CallContext& ctx, const std::string& key);

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
  // the same transaction.
  static std::optional<Json> replay_in(store::Transaction& tx, const CallContext& ctx);
  static void remember_in(store::Transaction& tx, const CallContext& ctx, const Json& answer);

  static constexpr std::int64_t retention_micros = 24LL * 3600 * 1'000'000;
  static constexpr std::int64_t in_flight_timeout_micros = 60LL * 1'000'000;

 private:
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
