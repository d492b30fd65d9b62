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

namespace {

// The columns that name one memory: whose key, for which operation, which key.
const std::string key_columns = "tenant_id = :p0 AND api_key_id = :p1 AND operation = :p2 AND idempotency_key = :p3";

std::vector<store::SqlValue> key_values(const CallContext& ctx, const IdempotencyService::Attempt& a) {
  return {ctx.tenant_id, key_owner(ctx), a.operation, a.key};
}

void insert_record(store::Transaction& tx, const CallContext& ctx, const IdempotencyService::Attempt& a,
                   const std::string& state, std::optional<int> status, const std::string& body) {
  std::int64_t now = ctx.now().micros;
  store::SqlValue stored_status, stored_body;
  if (status) {
    stored_status = std::int64_t{*status};
    stored_body = body;
  }
  store::execute(tx.session(),
                 "INSERT INTO idempotency_records (tenant_id, api_key_id, operation, idempotency_key, request_hash,"
                 " state, response_status, response_body, created_at, expires_at)"
                 " VALUES (:p0, :p1, :p2, :p3, :p4, :p5, :p6, :p7, :p8, :p9)",
                 {ctx.tenant_id, key_owner(ctx), a.operation, a.key, a.fingerprint, state, stored_status, stored_body, now,
                  now + IdempotencyService::retention_micros});
}

}  // namespace

IdempotencyService::Begin IdempotencyService::begin_in(store::Transaction& tx, const CallContext& ctx,
                                                       const Attempt& attempt) {
  std::int64_t now = ctx.now().micros;
  Begin result;
  bool found = false, stale = false;
  store::query(tx.session(),
               "SELECT request_hash, state, response_status, response_body, created_at, expires_at"
               " FROM idempotency_records WHERE " + key_columns,
               key_values(ctx, attempt), [&](const store::Row& row) {
                 found = true;
                 bool expired = store::required_integer(row, 5) <= now;
                 bool in_flight = store::required_text(row, 1) == "in_flight";
                 stale = expired || (in_flight && store::required_integer(row, 4) + in_flight_timeout_micros <= now);
                 if (stale) return;
                 if (store::required_text(row, 0) != attempt.fingerprint)
                   result.outcome = Outcome::mismatch;
                 else if (in_flight)
                   result.outcome = Outcome::in_flight;
                 else
                   result = {Outcome::replay, static_cast<int>(store::required_integer(row, 2)),
                             store::text_at(row, 3).value_or("")};
               });
  if (found && !stale) return result;
  if (found) store::execute(tx.session(), "DELETE FROM idempotency_records WHERE " + key_columns, key_values(ctx, attempt));
  insert_record(tx, ctx, attempt, "in_flight", std::nullopt, "");
  return result;
}

void IdempotencyService::complete_in(store::Transaction& tx, const CallContext& ctx, const Attempt& attempt, int status,
                                     const std::string& body) {
  std::vector<store::SqlValue> values{std::int64_t{status}, body};
  for (auto& v : key_values(ctx, attempt)) values.push_back(std::move(v));
  store::execute(tx.session(),
                 "UPDATE idempotency_records SET state = 'done', response_status = :p0, response_body = :p1 WHERE"
                 " tenant_id = :p2 AND api_key_id = :p3 AND operation = :p4 AND idempotency_key = :p5",
                 values);
}

void IdempotencyService::remember_refusal(const CallContext& ctx, const Attempt& attempt, int status,
                                          const std::string& body) {
  deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    // Only where nothing live is stored: a concurrent request with the key may have
    // answered meanwhile, and its answer stands.
    if (begin_in(tx, ctx, attempt).outcome != Outcome::proceed) return;
    complete_in(tx, ctx, attempt, status, body);
  });
}

std::optional<Json> IdempotencyService::replay_in(store::Transaction& tx, const CallContext& ctx) {
  const auto& once = *ctx.write_once;
  std::optional<Json> answer;
  store::query(tx.session(),
               "SELECT request_hash, response_body FROM idempotency_records WHERE tenant_id = :p0 AND api_key_id = :p1"
               " AND operation = '' AND idempotency_key = :p2 AND state = 'done' AND expires_at > :p3",
               {ctx.tenant_id, once.scope, once.key, ctx.now().micros}, [&](const store::Row& row) {
                 if (store::required_text(row, 0) != once.fingerprint)
                   throw Error(ErrorCode::validation,
                               "idempotency_key " + once.key + " was used for another request within 24 hours",
                               {{"idempotency_key", "used for another request"}});
                 answer = Json::parse(store::text_at(row, 1).value_or("null"));
               });
  return answer;
}

void IdempotencyService::remember_in(store::Transaction& tx, const CallContext& ctx, const Json& answer) {
  const auto& once = *ctx.write_once;
  // An expired memory of the same key gives way; a live one was replayed above.
  store::execute(tx.session(),
                 "DELETE FROM idempotency_records WHERE tenant_id = :p0 AND api_key_id = :p1 AND operation = ''"
                 " AND idempotency_key = :p2",
                 {ctx.tenant_id, once.scope, once.key});
  std::int64_t now = ctx.now().micros;
  store::execute(tx.session(),
                 "INSERT INTO idempotency_records (tenant_id, api_key_id, operation, idempotency_key, request_hash,"
                 " state, response_status, response_body, created_at, expires_at)"
                 " VALUES (:p0, :p1, '', :p2, :p3, 'done', 200, :p4, :p5, :p6)",
                 {ctx.tenant_id, once.scope, once.key, once.fingerprint, answer.dump(), now, now + retention_micros});
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
