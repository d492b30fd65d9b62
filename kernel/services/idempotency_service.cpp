#include "kernel/services/idempotency_service.hpp"

#include "kernel/domain/digest.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

const std::string& key_owner(const CallContext& ctx) {
  static const std::string none = "-";
  return ctx.principal ? ctx.principal->key_id : none;
}

}  // namespace

std::string IdempotencyService::fingerprint(const std::string& method, const std::string& path,
                                            const std::string& body) {
  return sha256_hex(method + " " + path + "\n" + body);
}

IdempotencyService::Begin IdempotencyService::begin(const CallContext& ctx, const std::string& key,
                                                    const std::string& request_hash) {
  std::int64_t now = ctx.now().micros;
  try {
    return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
      Begin result;
      bool found = false, stale = false;
      store::query(tx.session(),
                   "SELECT request_hash, state, response_status, response_body, created_at, expires_at"
                   " FROM idempotency_records WHERE api_key_id = :p0 AND idempotency_key = :p1 AND tenant_id = :p2",
                   {key_owner(ctx), key, ctx.tenant_id}, [&](const soci::row& row) {
                     found = true;
                     bool expired = *store::integer_at(row, 5) <= now;
                     bool in_flight = *store::text_at(row, 1) == "in_flight";
                     stale = expired || (in_flight && *store::integer_at(row, 4) + in_flight_timeout_micros <= now);
                     if (stale) return;
                     if (*store::text_at(row, 0) != request_hash)
                       result.outcome = Outcome::mismatch;
                     else if (in_flight)
                       result.outcome = Outcome::in_flight;
                     else
                       result = {Outcome::replay, static_cast<int>(*store::integer_at(row, 2)),
                                 store::text_at(row, 3).value_or("")};
                   });
      if (found && !stale) return result;
      if (found)
        store::execute(
            tx.session(),
            "DELETE FROM idempotency_records WHERE api_key_id = :p0 AND idempotency_key = :p1 AND tenant_id = :p2",
            {key_owner(ctx), key, ctx.tenant_id});
      store::execute(tx.session(),
                     "INSERT INTO idempotency_records (api_key_id, idempotency_key, tenant_id, request_hash, state,"
                     " created_at, expires_at) VALUES (:p0, :p1, :p2, :p3, 'in_flight', :p4, :p5)",
                     {key_owner(ctx), key, ctx.tenant_id, request_hash, now, now + retention_micros});
      return Begin{};
    });
  } catch (const Error& e) {
    // Two first requests raced on PostgreSQL: the loser sees the winner in flight.
    if (e.code() == ErrorCode::aborted) return Begin{Outcome::in_flight};
    throw;
  }
}

std::optional<Json> IdempotencyService::replay_in(store::Transaction& tx, const CallContext& ctx) {
  const auto& once = *ctx.write_once;
  std::optional<Json> answer;
  store::query(tx.session(),
               "SELECT request_hash, response_body FROM idempotency_records WHERE api_key_id = :p0"
               " AND idempotency_key = :p1 AND tenant_id = :p2 AND state = 'done' AND expires_at > :p3",
               {once.scope, once.key, ctx.tenant_id, ctx.now().micros}, [&](const soci::row& row) {
                 if (*store::text_at(row, 0) != once.fingerprint)
                   throw Error(ErrorCode::validation,
                               "idempotency_key " + once.key + " was used for another request within 24 hours",
                               {{"idempotency_key", "used for another request"}});
                 answer = Json::parse(store::text_at(row, 1).value_or("null"));
               });
  return answer;
}

void IdempotencyService::remember_in(store::Transaction& tx, const CallContext& ctx, const Json& answer) {
  const auto& once = *ctx.write_once;
  std::int64_t now = ctx.now().micros;
  // An expired memory of the same key gives way; a live one was replayed above.
  store::execute(tx.session(),
                 "DELETE FROM idempotency_records WHERE api_key_id = :p0 AND idempotency_key = :p1 AND tenant_id = :p2",
                 {once.scope, once.key, ctx.tenant_id});
  store::execute(tx.session(),
                 "INSERT INTO idempotency_records (api_key_id, idempotency_key, tenant_id, request_hash, state,"
                 " response_status, response_body, created_at, expires_at)"
                 " VALUES (:p0, :p1, :p2, :p3, 'done', 200, :p4, :p5, :p6)",
                 {once.scope, once.key, ctx.tenant_id, once.fingerprint, answer.dump(), now, now + retention_micros});
}

void IdempotencyService::complete(const CallContext& ctx, const std::string& key, int status, const std::string& body) {
  deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    store::execute(tx.session(),
                   "UPDATE idempotency_records SET state = 'done', response_status = :p0, response_body = :p1"
                   " WHERE api_key_id = :p2 AND idempotency_key = :p3 AND tenant_id = :p4",
                   {std::int64_t{status}, body, key_owner(ctx), key, ctx.tenant_id});
  });
}

void IdempotencyService::abandon(const CallContext& ctx, const std::string& key) {
  deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    store::execute(
        tx.session(),
        "DELETE FROM idempotency_records WHERE api_key_id = :p0 AND idempotency_key = :p1 AND tenant_id = :p2"
        " AND state = 'in_flight'",
        {key_owner(ctx), key, ctx.tenant_id});
  });
}

namespace {
const std::string& redacted_marker() {
  static const std::string marker = Json{{"erased", true}}.dump();
  return marker;
}
}  // namespace

bool IdempotencyService::is_redacted(const std::string& stored_body) {
  return stored_body == redacted_marker();
}

std::size_t IdempotencyService::redact_replies(store::Transaction& tx, const std::string& tenant_id,
                                              const std::string& record_id) {
  const std::string& marker = redacted_marker();
  return static_cast<std::size_t>(store::execute(
      tx.session(),
      "UPDATE idempotency_records SET response_body = :p0 WHERE tenant_id = :p1 AND response_body LIKE :p2"
      " AND response_body <> :p3",
      {marker, tenant_id, "%" + record_id + "%", marker}));
}

}  // namespace nucleo::services
