#include "kernel/services/event_service.hpp"

#include "kernel/services/access_policy.hpp"
#include "kernel/services/change.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

void require_admin(const CallContext& ctx) {
  require_role(ctx, {"admin"}, "dead letters are for the admin role only", "events:write");
}

}  // namespace

std::vector<Json> EventService::dead_letters(const CallContext& ctx, std::size_t limit) {
  require_admin(ctx);
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    std::vector<Json> out;
    store::query(tx.session(),
                 "SELECT event_id, event_name, subscriber, attempts, last_error, dead_at FROM event_failures"
                 " WHERE tenant_id = :p0 AND dead_at IS NOT NULL ORDER BY dead_at DESC, event_seq DESC LIMIT :p1",
                 {ctx.tenant_id, static_cast<std::int64_t>(limit)}, [&](const store::Row& r) {
                   out.push_back({{"event_id", store::required_text(r, 0)},
                                  {"event_name", store::required_text(r, 1)},
                                  {"subscriber", store::required_text(r, 2)},
                                  {"attempts", store::required_integer(r, 3)},
                                  {"last_error", store::required_text(r, 4)},
                                  {"dead_at", format_rfc3339(Timestamp{store::required_integer(r, 5)})}});
                 });
    return out;
  });
}

std::size_t EventService::replay(const CallContext& ctx, const std::string& event_id, const std::string& subscriber) {
  require_admin(ctx);
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    tx.announce(store::Work::outbox);  // the replayed letters are due now
    std::string sql =
        "UPDATE event_failures SET dead_at = NULL, attempts = 0, next_attempt_at = :p0"
        " WHERE tenant_id = :p1 AND event_id = :p2 AND dead_at IS NOT NULL";
    std::vector<store::SqlValue> values{ctx.now().micros, ctx.tenant_id, event_id};
    if (!subscriber.empty()) {
      sql += " AND subscriber = :p3";
      values.push_back(subscriber);
    }
    auto replayed = static_cast<std::size_t>(store::execute(tx.session(), sql, values));
    if (replayed == 0)
      throw Error(ErrorCode::not_found, "event " + event_id + " has no dead letter" +
                                            (subscriber.empty() ? "" : " for subscriber " + subscriber));
    Json changes = {{"replayed", {{"from", nullptr}, {"to", replayed}}},
                    {"subscriber", {{"from", nullptr}, {"to", subscriber.empty() ? Json("*") : Json(subscriber)}}}};
    commit_change(tx, ctx, {"event.replayed", "event", event_id, changes,
                            {{"id", event_id}, {"subscriber", changes["subscriber"]["to"]}, {"replayed", replayed}}});
    return replayed;
  });
}

}  // namespace nucleo::services
