#include "kernel/services/customer_view.hpp"

#include <map>

#include "kernel/domain/error.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/plugin_record_service.hpp"
#include "kernel/services/write.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

constexpr std::int64_t micros_per_day = 86'400'000'000;

using store::SqlValue;

std::string text(const Json& record, const std::string& field) {
  const Json& v = record.value(field, Json());
  return v.is_string() ? v.get<std::string>() : "";
}

std::int64_t micros_of(const Json& timestamp) {
  auto t = timestamp.is_string() ? parse_rfc3339(timestamp.get<std::string>()) : std::nullopt;
  return t ? t->micros : 0;
}

}  // namespace

CustomerView::TimelinePage CustomerView::timeline(const CallContext& ctx, const std::string& account_id,
                                                  const Json& after, std::size_t limit) {
  RecordService records(deps_);
  records.get(ctx, "account", account_id);  // 404 unless the caller may see the account
  require_permission(ctx, entity_spec("interaction"), Operation::read);

  // Plugins' records join in when the caller may read the plugins' record store.
  std::vector<TimelineSource> sources = deps_.customer_extensions.timeline_sources();
  if (!sources.empty()) {
    try {
      require_role(ctx, {"admin", "manager", "sales", "support", "marketing", "auditor", "integration"}, "",
                   "plugin_records:read");
    } catch (const Error&) {
      sources.clear();
    }
  }
  std::map<std::string, TimelineSource> source_by_kind;
  for (const auto& source : sources) source_by_kind[source.kind()] = source;

  TimelinePage result = deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    const std::string& t = ctx.tenant_id;
    std::vector<SqlValue> v{t, account_id, t, account_id, t, account_id};
    auto next = [&v](SqlValue value) {
      v.push_back(std::move(value));
      return ":p" + std::to_string(v.size() - 1);
    };
    std::string sql =
        "SELECT kind, happened_at, id FROM ("
        " SELECT 'interaction' AS kind, occurred_at AS happened_at, id FROM interactions"
        "  WHERE tenant_id = :p0 AND account_id = :p1 AND archived_at IS NULL"
        " UNION ALL SELECT 'stage_change', h.entered_at, h.id FROM deal_stage_history h"
        "  JOIN deals d ON d.id = h.deal_id WHERE h.tenant_id = :p2 AND d.account_id = :p3"
        " UNION ALL SELECT 'task', created_at, id FROM tasks"
        "  WHERE tenant_id = :p4 AND account_id = :p5 AND archived_at IS NULL";
    // A plugin record is in the timeline through its two index rows: the account it
    // names and its time (plugin_record_index, both indexed by value).
    for (const auto& source : sources) {
      // Named one by one: the operands of + are evaluated in no fixed order.
      std::string kind = next(source.kind()), time = next(source.time_field), tenant = next(t),
                  plugin = next(source.owner), collection = next(source.collection),
                  field = next(source.account_field), account = next(account_id);
      sql += " UNION ALL SELECT CAST(" + kind + " AS text), w.int_value, a.record_id FROM plugin_record_index a"
             " JOIN plugin_record_index w ON w.tenant_id = a.tenant_id AND w.plugin_id = a.plugin_id"
             " AND w.collection = a.collection AND w.record_id = a.record_id AND w.field = " + time +
             " WHERE a.tenant_id = " + tenant + " AND a.plugin_id = " + plugin + " AND a.collection = " + collection +
             " AND a.field = " + field + " AND a.text_value = " + account;
    }
    sql += ") merged";
    if (after.is_array() && after.size() == 2 && after[0].is_number_integer() && after[1].is_string()) {
      std::string at = next(after[0].get<std::int64_t>()), again = next(after[0].get<std::int64_t>()),
                  id = next(after[1].get<std::string>());
      sql += " WHERE (happened_at < " + at + " OR (happened_at = " + again + " AND id < " + id + "))";
    }
    sql += " ORDER BY happened_at DESC, id DESC LIMIT " + std::to_string(limit + 1);
    struct Entry {
      std::string kind, id;
      std::int64_t at;
    };
    std::vector<Entry> entries;
    store::query(tx.session(), sql, v, [&](const store::Row& row) {
      entries.push_back({store::required_text(row, 0), store::required_text(row, 2), store::integer_at(row, 1).value_or(0)});
    });

    TimelinePage page;
    if (entries.size() > limit) {
      entries.resize(limit);
      page.next = Json::array({entries.back().at, entries.back().id});
    }
    store::RecordTable interactions(entity_spec("interaction")), tasks(entity_spec("task"));
    for (const auto& e : entries) {
      Json data;
      if (e.kind == "interaction") data = interactions.find(tx, t, e.id).value_or(Json());
      if (e.kind == "task") data = tasks.find(tx, t, e.id).value_or(Json());
      if (auto source = source_by_kind.find(e.kind); source != source_by_kind.end())
        store::query(tx.session(),
                     "SELECT document FROM plugin_records WHERE tenant_id = :p0 AND plugin_id = :p1"
                     " AND collection = :p2 AND id = :p3",
                     {t, source->second.owner, source->second.collection, e.id},
                     [&](const store::Row& row) { data = Json::parse(store::required_text(row, 0)); });
      if (e.kind == "stage_change") {
        store::query(tx.session(),
                     "SELECT h.deal_id, d.name, h.stage_id, s.name, s.kind, h.left_at, h.actor_type, h.actor_id"
                     " FROM deal_stage_history h JOIN deals d ON d.id = h.deal_id JOIN stages s ON s.id = h.stage_id"
                     " WHERE h.id = :p0 AND h.tenant_id = :p1",
                     {e.id, t}, [&](const store::Row& row) {
                       auto left = store::integer_at(row, 5);
                       data = {{"deal_id", store::required_text(row, 0)},
                               {"deal_name", store::required_text(row, 1)},
                               {"stage_id", store::required_text(row, 2)},
                               {"stage_name", store::required_text(row, 3)},
                               {"stage_kind", store::required_text(row, 4)},
                               {"left_at", left ? Json(format_rfc3339(Timestamp{*left})) : Json()},
                               {"actor", {{"type", store::required_text(row, 6)}, {"id", store::required_text(row, 7)}}}};
                     });
      }
      page.items.push_back({{"kind", e.kind}, {"at", format_rfc3339(Timestamp{e.at})}, {"id", e.id}, {"data", data}});
    }
    return page;
  });
  // The timeline shows interactions and tasks whole: reading them here is a read.
  for (const char* type : {"interaction", "task"}) {
    std::vector<const Json*> shown;
    for (const auto& item : result.items)
      if (item["kind"] == type && item["data"].is_object()) shown.push_back(&item["data"]);
    if (deps_.sensitive.marks(type)) record_sensitive_reads(deps_, ctx, entity_spec(type), shown);
  }
  // And so is a plugin's item from a collection it declares sensitive.
  for (const auto& source : sources) {
    if (source.sensitive.empty()) continue;
    std::vector<std::string> shown;
    for (const auto& item : result.items)
      if (item["kind"] == source.kind()) shown.push_back(item["id"]);
    if (shown.empty()) continue;
    std::map<std::string, CollectionSpec> spec{{source.collection, CollectionSpec{{}, nullptr, std::nullopt, source.sensitive}}};
    PluginRecordService(deps_, source.owner, spec).record_reads(ctx, source.collection, shown);
  }
  return result;
}

Json CustomerView::briefing(const CallContext& ctx, const std::string& account_id, int quiet_days) {
  RecordService records(deps_);
  Json account = records.get(ctx, "account", account_id);
  const std::int64_t now = ctx.now().micros;
  auto all = [&](const std::string& type, std::vector<std::pair<std::string, Json>> equals) {
    return records.list(ctx, type, {std::move(equals), "", 1000, false});
  };

  // Open deals, their stage and how long they have been there.
  Json stages_by_id = Json::object();
  Json open_deals = Json::array();
  Json risks = Json::array();
  for (const auto& deal : all("deal", {{"account_id", account_id}, {"status", "open"}})) {
    Json stage = stages_by_id.value(text(deal, "stage_id"), Json());
    if (stage.is_null())
      stage = stages_by_id[text(deal, "stage_id")] = records.get(ctx, "stage", text(deal, "stage_id"));
    std::int64_t days = (now - micros_of(deal["stage_entered_at"])) / micros_per_day;
    open_deals.push_back(
        {{"id", deal["id"]},
         {"name", deal["name"]},
         {"amount", deal["amount"]},
         {"currency", deal["currency"]},
         {"stage", {{"id", stage["id"]}, {"name", stage["name"]}, {"probability", stage["probability"]}}},
         {"days_in_stage", days},
         {"expected_close", deal["expected_close"]}});
    if (stage["rot_days"].is_number_integer() && days > stage["rot_days"].get<std::int64_t>())
      risks.push_back({{"kind", "stalled_stage"},
                       {"deal_id", deal["id"]},
                       {"reason", "deal \"" + text(deal, "name") + "\" has been in stage \"" + text(stage, "name") +
                                      "\" for " + std::to_string(days) + " days (limit " +
                                      std::to_string(stage["rot_days"].get<std::int64_t>()) + ")"}});
  }

  // The last interaction on each channel, and the last of all.
  Json last_by_channel = Json::object();
  std::int64_t last_activity = 0;
  for (const auto& i : all("interaction", {{"account_id", account_id}})) {
    std::string channel = text(i, "channel").empty() ? text(i, "type") : text(i, "channel");
    std::int64_t at = micros_of(i["occurred_at"]);
    last_activity = std::max(last_activity, at);
    if (!last_by_channel.contains(channel) || micros_of(last_by_channel[channel]["occurred_at"]) < at)
      last_by_channel[channel] = {{"id", i["id"]},
                                  {"type", i["type"]},
                                  {"direction", i["direction"]},
                                  {"occurred_at", i["occurred_at"]},
                                  {"subject", i["subject"]}};
  }
  if (last_activity == 0)
    risks.push_back({{"kind", "no_activity"}, {"reason", "no interaction has been recorded with this account"}});
  else if ((now - last_activity) / micros_per_day >= quiet_days)
    risks.push_back({{"kind", "no_activity"},
                     {"reason", "no interaction for " + std::to_string((now - last_activity) / micros_per_day) +
                                    " days (threshold " + std::to_string(quiet_days) + ")"}});

  // Open tasks; those past due are follow-ups already late.
  Json open_tasks = Json::array(), overdue = Json::array();
  for (const auto& task : all("task", {{"account_id", account_id}, {"status", "open"}})) {
    Json item = {
        {"id", task["id"]}, {"title", task["title"]}, {"due_at", task["due_at"]}, {"assignee_id", task["assignee_id"]}};
    open_tasks.push_back(item);
    if (!task["due_at"].is_null() && micros_of(task["due_at"]) < now) overdue.push_back(item);
  }
  if (!overdue.empty())
    risks.push_back(
        {{"kind", "overdue_follow_ups"}, {"reason", std::to_string(overdue.size()) + " follow-up task(s) past due"}});

  // Contacts of the account, with the roles they hold in its open deals.
  std::map<std::string, Json> roles;
  for (const auto& open : open_deals) {
    Json deal = records.get(ctx, "deal", open["id"]);  // kept alive: the loop reads into it
    for (const auto& c : deal["contacts"])
      if (c.is_object() && c.value("role", Json()).is_string())
        roles[c["contact_id"].get<std::string>()].push_back({{"deal_id", open["id"]}, {"role", c["role"]}});
  }
  Json contacts = Json::array();
  for (const auto& c : all("contact", {{"account_id", account_id}}))
    contacts.push_back({{"id", c["id"]},
                        {"name", c["name"]},
                        {"job_title", c["job_title"]},
                        {"email", c["email"]},
                        {"phone", c["phone"]},
                        {"deal_roles", roles.count(text(c, "id")) ? roles[text(c, "id")] : Json::array()}});

  return {{"account",
           {{"id", account["id"]},
            {"legal_name", account["legal_name"]},
            {"trade_name", account["trade_name"]},
            {"lifecycle", account["lifecycle"]},
            {"owner_id", account["owner_id"]}}},
          {"generated_at", format_rfc3339(Timestamp{now})},
          {"open_deals", open_deals},
          {"last_interaction_by_channel", last_by_channel},
          {"open_tasks", open_tasks},
          {"overdue_tasks", overdue},
          {"contacts", contacts},
          {"risk_flags", risks},
          {"sections", plugin_sections(ctx, account)}};
}

// Each plugin's section, as the caller: {"<plugin>.<name>": {"title", "data"}}, or
// {"title", "error"} when it failed — one broken plugin never costs the whole briefing.
Json CustomerView::plugin_sections(const CallContext& ctx, const Json& account) const {
  Json sections = Json::object();
  for (const auto& section : deps_.customer_extensions.briefing_sections()) {
    Json shown{{"title", section.title}};
    try {
      shown["data"] = section.build(ctx, account);
    } catch (const std::exception& e) {
      shown["error"] = e.what();
    }
    sections[section.key()] = std::move(shown);
  }
  return sections;
}

}  // namespace nucleo::services
