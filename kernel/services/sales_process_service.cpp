#include "kernel/services/sales_process_service.hpp"

#include <algorithm>
#include <map>

#include "kernel/domain/time_zone.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/change.hpp"
#include "kernel/store/record_table.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

constexpr std::int64_t micros_per_day = 86'400'000'000;

// A deal the stall scan found changing state.
struct StallChange {
  std::string deal_id;
  std::int64_t version = 0;
  std::optional<Timestamp> since;  // none: clear
};

// The deals whose stall state is not what it should be at `now`. Candidates are the
// open deals that entered their stage more than its rot_days ago (the partial index
// deals_tenant_open_stage) and those marked stalled; their last interaction, when
// activity counts, moves the clock.
std::vector<StallChange> stall_changes(store::Transaction& tx, const std::string& tenant_id, Timestamp now,
                                       const StallSettings& settings, StallScan& scan) {
  std::string last_activity =
      settings.activity_resets
          ? "(SELECT max(i.created_at) FROM interactions i WHERE i.tenant_id = d.tenant_id AND i.deal_id = d.id"
            " AND i.archived_at IS NULL)"
          : "NULL";
  std::string sql =
      "SELECT d.id, d.version, d.stage_entered_at, d.stalled_since, s.rot_days, " + last_activity +
      " FROM deals d JOIN stages s ON s.id = d.stage_id"
      " WHERE d.tenant_id = :p0 AND d.archived_at IS NULL AND ((d.status = 'open' AND s.rot_days > 0"
      " AND d.stage_entered_at <= :p1 - s.rot_days * " + std::to_string(micros_per_day) +
      ") OR d.stalled_since IS NOT NULL)";
  std::vector<StallChange> out;
  store::query(tx.session(), sql, {tenant_id, now.micros}, [&](const store::Row& r) {
    ++scan.candidates;
    std::int64_t clock = store::integer_at(r, 2).value_or(0);
    if (auto last = store::integer_at(r, 5); last && *last > clock) clock = std::min(*last, now.micros);
    std::optional<std::int64_t> rot_days = store::integer_at(r, 4);
    std::optional<Timestamp> due;
    if (rot_days && *rot_days > 0 && clock + *rot_days * micros_per_day <= now.micros)
      due = Timestamp{clock + *rot_days * micros_per_day};
    std::optional<std::int64_t> marked = store::integer_at(r, 3);
    if (due.has_value() == marked.has_value()) return;  // already as it should be
    out.push_back({store::required_text(r, 0), store::required_integer(r, 1), due});
  });
  return out;
}

// An open task due at or before `until` (and after `after`) with no reminder of `kind`
// for its due time yet.
struct DueTask {
  std::string id;
  std::int64_t due_at = 0;
};

std::vector<DueTask> tasks_to_remind(store::Transaction& tx, const std::string& tenant_id, const std::string& kind,
                                     std::int64_t after, std::int64_t until) {
  std::vector<DueTask> out;
  store::query(tx.session(),
               "SELECT t.id, t.due_at FROM tasks t WHERE t.tenant_id = :p0 AND t.status = 'open'"
               " AND t.archived_at IS NULL AND t.due_at > :p1 AND t.due_at <= :p2 AND NOT EXISTS ("
               "SELECT 1 FROM task_reminders r WHERE r.tenant_id = t.tenant_id AND r.task_id = t.id"
               " AND r.kind = :p3 AND r.due_at = t.due_at) ORDER BY t.due_at, t.id LIMIT 1000",
               {tenant_id, after, until, kind},
               [&](const store::Row& r) { out.push_back({store::required_text(r, 0), store::required_integer(r, 1)}); });
  return out;
}

// One reminder: its row and its event commit together, and only while the task is still
// open at that due time.
bool remind(ServiceDependencies& deps, const CallContext& ctx, const DueTask& task, const std::string& kind) {
  return deps.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    const EntitySpec& spec = entity_spec("task");
    auto found = store::RecordTable(spec).find(tx, ctx.tenant_id, task.id);
    if (!found || (*found)["status"] != "open" || !(*found)["archived_at"].is_null() ||
        parse_rfc3339((*found).value("due_at", "")) != Timestamp{task.due_at})
      return false;
    std::int64_t inserted = store::execute(
        tx.session(),
        "INSERT INTO task_reminders (tenant_id, task_id, kind, due_at, sent_at) VALUES (:p0, :p1, :p2, :p3, :p4)"
        " ON CONFLICT DO NOTHING",
        {ctx.tenant_id, task.id, kind, task.due_at, ctx.now().micros});
    if (inserted == 0) return false;  // another node sent it
    Json record = visible_record(spec, *found);
    commit_change(tx, ctx, {"task." + kind, "task", task.id, {{"reminder", {{"from", nullptr}, {"to", kind}}}}, record});
    return true;
  });
}

Json summary_or_null(const std::optional<std::string>& id, Json summary) {
  return id ? summary : Json();
}

}  // namespace

StallScan SalesProcessService::update_stalled_deals(const CallContext& ctx, const StallSettings& settings) {
  StallScan scan;
  Timestamp now = ctx.now();
  auto changes = deps_.database.read(
      ctx.tenant_id, [&](store::Transaction& tx) { return stall_changes(tx, ctx.tenant_id, now, settings, scan); });
  RecordService records(deps_);
  for (const auto& c : changes) {
    if (scan.stalled + scan.cleared >= settings.max_per_run) break;
    try {
      records.set_deal_stall(ctx, c.deal_id, c.since, c.version);
    } catch (const Error& e) {
      // Moved or changed since the scan read it: the next run sees it as it is.
      if (e.code() == ErrorCode::precondition_failed || e.code() == ErrorCode::aborted) continue;
      throw;
    }
    ++(c.since ? scan.stalled : scan.cleared);
  }
  return scan;
}

std::size_t SalesProcessService::send_task_reminders(const CallContext& ctx, std::chrono::minutes lead) {
  std::int64_t now = ctx.now().micros;
  std::int64_t lead_us = std::chrono::duration_cast<std::chrono::microseconds>(lead).count();
  std::size_t sent = 0;
  for (const std::string kind : {"overdue", "due_soon"}) {
    // Overdue: due up to now. Due soon: due after now, within the lead time.
    std::int64_t after = kind == "overdue" ? std::numeric_limits<std::int64_t>::min() : now;
    std::int64_t until = kind == "overdue" ? now : now + lead_us;
    auto due = deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
      return tasks_to_remind(tx, ctx.tenant_id, kind, after, until);
    });
    for (const auto& task : due) sent += remind(deps_, ctx, task, kind) ? 1 : 0;
  }
  return sent;
}

Json SalesProcessService::agenda(const CallContext& ctx, const AgendaQuery& q) {
  const Principal* who = ctx.principal.get();
  auto visible = [&](const std::optional<std::string>& owner) {
    if (!who || !who->restricted_to_owners || !owner) return true;
    return std::find(who->visible_owners.begin(), who->visible_owners.end(), *owner) != who->visible_owners.end();
  };
  Timestamp now = ctx.now();
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    auto user = store::RecordTable(entity_spec("user")).find(tx, ctx.tenant_id, q.user_id);
    if (!user) throw Error(ErrorCode::not_found, "user " + q.user_id + " not found");
    std::string zone = user->value("time_zone", "");
    Json items = Json::array();
    store::query(
        tx.session(),
        "SELECT t.id, t.title, t.kind, t.due_at, t.required_for_exit, t.origin_rule, t.version, t.deal_id, d.name,"
        " d.stage_id, s.name, d.amount, d.currency, d.owner_id, a.id, a.legal_name, a.owner_id, t.contact_id"
        " FROM tasks t LEFT JOIN deals d ON d.id = t.deal_id LEFT JOIN stages s ON s.id = d.stage_id"
        " LEFT JOIN accounts a ON a.id = COALESCE(t.account_id, d.account_id)"
        " WHERE t.tenant_id = :p0 AND t.assignee_id = :p1 AND t.status = 'open' AND t.archived_at IS NULL"
        " AND t.due_at IS NOT NULL AND (t.due_at < :p2 OR (t.due_at >= :p3 AND t.due_at < :p4))"
        " ORDER BY t.due_at, t.id LIMIT " + std::to_string(q.limit + 1),
        {ctx.tenant_id, q.user_id, now.micros, q.from.micros, q.to.micros}, [&](const store::Row& r) {
          using store::integer_at;
          using store::text_at;
          Timestamp due{store::required_integer(r, 3)};
          auto deal_id = text_at(r, 7), account_id = text_at(r, 14);
          bool deal_seen = deal_id && visible(text_at(r, 13));
          bool account_seen = account_id && visible(text_at(r, 16));
          items.push_back(
              {{"task",
                {{"id", store::required_text(r, 0)},
                 {"title", store::required_text(r, 1)},
                 {"kind", store::required_text(r, 2)},
                 {"due_at", format_rfc3339(due)},
                 {"required_for_exit", integer_at(r, 4).value_or(0) != 0},
                 {"origin_rule", text_at(r, 5) ? Json(store::required_text(r, 5)) : Json()},
                 {"contact_id", text_at(r, 17) ? Json(store::required_text(r, 17)) : Json()},
                 {"version", store::required_integer(r, 6)}}},
               {"due_local", format_rfc3339_in(due, zone)},
               {"overdue", due < now},
               {"deal", summary_or_null(deal_seen ? deal_id : std::nullopt,
                                        {{"id", deal_id.value_or("")},
                                         {"name", text_at(r, 8).value_or("")},
                                         {"stage_id", text_at(r, 9).value_or("")},
                                         {"stage_name", text_at(r, 10).value_or("")},
                                         {"amount", integer_at(r, 11) ? Json(store::required_integer(r, 11)) : Json()},
                                         {"currency", text_at(r, 12).value_or("")}})},
               {"account", summary_or_null(account_seen ? account_id : std::nullopt,
                                           {{"id", account_id.value_or("")}, {"legal_name", text_at(r, 15).value_or("")}})}});
        });
    bool truncated = items.size() > q.limit;
    if (truncated) items.erase(items.end() - 1);
    return Json{{"user_id", q.user_id}, {"time_zone", is_time_zone(zone) ? zone : "UTC"},
                {"now", format_rfc3339(now)},  {"now_local", format_rfc3339_in(now, zone)},
                {"from", format_rfc3339(q.from)}, {"to", format_rfc3339(q.to)},
                {"items", items},              {"truncated", truncated}};
  });
}

Json SalesProcessService::board(const CallContext& ctx, const std::string& pipeline_id) {
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    auto pipeline = store::RecordTable(entity_spec("pipeline")).find(tx, ctx.tenant_id, pipeline_id);
    if (!pipeline || !pipeline->value("archived_at", Json()).is_null())
      throw Error(ErrorCode::not_found, "pipeline " + pipeline_id + " not found");
    store::RecordQuery live;
    live.equals = {{"pipeline_id", pipeline_id}};
    live.limit = 1000;
    std::vector<Json> stages = store::RecordTable(entity_spec("stage")).list(tx, ctx.tenant_id, live);
    std::stable_sort(stages.begin(), stages.end(), [](const Json& a, const Json& b) {
      return a.value("position", std::int64_t{0}) < b.value("position", std::int64_t{0});
    });

    // Open deals per stage and currency, restricted as the deal list is (access_policy).
    std::vector<store::SqlValue> values{ctx.tenant_id, pipeline_id};
    std::string sql =
        "SELECT stage_id, currency, COUNT(*), COALESCE(SUM(amount), 0) FROM deals"
        " WHERE tenant_id = :p0 AND pipeline_id = :p1 AND status = 'open' AND archived_at IS NULL";
    sql += visible_owners_condition(ctx, "owner_id", values);
    sql += " GROUP BY stage_id, currency ORDER BY stage_id, currency";
    std::map<std::string, std::pair<std::int64_t, Json>> open;  // stage → (deals, [{currency, amount}])
    store::query(tx.session(), sql, values, [&](const store::Row& r) {
      auto& [count, amounts] = open[store::text_at(r, 0).value_or("")];
      if (amounts.is_null()) amounts = Json::array();
      count += store::required_integer(r, 2);
      amounts.push_back({{"currency", store::text_at(r, 1).value_or("BRL")}, {"amount", store::required_integer(r, 3)}});
    });

    Json columns = Json::array();
    for (const Json& stage : stages) {
      auto found = open.find(stage.value("id", ""));
      columns.push_back({{"id", stage["id"]},
                         {"name", stage["name"]},
                         {"position", stage["position"]},
                         {"kind", stage.value("kind", "open")},
                         {"probability", stage.value("probability", std::int64_t{0})},
                         {"gated", !stage.value("entry_criteria", Json::array()).empty()},
                         {"open_deals", found == open.end() ? 0 : found->second.first},
                         {"amounts", found == open.end() ? Json::array() : found->second.second}});
    }
    auto unstaged = open.find("");
    return Json{{"pipeline", {{"id", (*pipeline)["id"]}, {"name", (*pipeline)["name"]}}},
                {"stages", columns},
                {"unstaged_open_deals", unstaged == open.end() ? 0 : unstaged->second.first}};
  });
}

}  // namespace nucleo::services
