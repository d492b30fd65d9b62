#include "kernel/services/anonymised_export.hpp"

#include <map>
#include <set>

#include "kernel/services/access_policy.hpp"
#include "kernel/services/change.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

constexpr std::size_t page_size = 1000;

// Keys that stand for ids in one export only: d1, d2, … in the order first met.
class Keys {
 public:
  explicit Keys(std::string prefix) : prefix_(std::move(prefix)) {}
  Json of(const std::optional<std::string>& id) {
    if (!id || id->empty()) return nullptr;
    auto [it, added] = keys_.emplace(*id, "");
    if (added) it->second = prefix_ + std::to_string(keys_.size());
    return it->second;
  }
  Json known(const std::optional<std::string>& id) const {  // null for an id not exported
    auto it = id ? keys_.find(*id) : keys_.end();
    return it == keys_.end() ? Json() : Json(it->second);
  }

 private:
  std::string prefix_;
  std::map<std::string, std::string> keys_;
};

std::string day_of(std::int64_t micros) { return format_rfc3339(Timestamp{micros}).substr(0, 10); }

// What a stage is in every tenant's words: its place, kind and probability — not its name.
struct StageShape {
  Json position, kind, probability;
};

// Everything an export needs beside the rows: the tenant's stages, the accounts that are
// people, and the deal attributes plugins declared personal.
struct Context {
  std::map<std::string, StageShape> stages;
  std::set<std::string> people;  // accounts whose tax id is a CPF
  std::set<std::string> personal_attributes;
};

Context read_context(store::Transaction& tx, const std::string& tenant, const AttributeSchemas& schemas) {
  Context c;
  store::query(tx.session(), "SELECT id, position, kind, probability FROM stages WHERE tenant_id = :p0", {tenant},
               [&](const store::Row& r) {
                 c.stages[store::required_text(r, 0)] = {store::integer_at(r, 1).value_or(0), store::required_text(r, 2),
                                                         store::integer_at(r, 3).value_or(0)};
               });
  store::query(tx.session(), "SELECT id FROM accounts WHERE tenant_id = :p0 AND tax_id_kind = 'cpf'", {tenant},
               [&](const store::Row& r) { c.people.insert(store::required_text(r, 0)); });
  for (const auto& key : schemas.personal_keys("deal")) c.personal_attributes.insert(key);
  return c;
}

Json stage_json(const Context& c, const std::optional<std::string>& stage_id) {
  auto it = stage_id ? c.stages.find(*stage_id) : c.stages.end();
  if (it == c.stages.end()) return nullptr;
  return {{"position", it->second.position}, {"kind", it->second.kind}, {"probability", it->second.probability}};
}

// Numbers and flags of attributes no plugin declared personal: text may say anything.
Json kept_attributes(const Context& c, const std::optional<std::string>& text) {
  Json out = Json::object();
  Json all = text ? Json::parse(*text, nullptr, false) : Json();
  if (!all.is_object()) return out;
  for (const auto& [key, value] : all.items())
    if ((value.is_number() || value.is_boolean()) && !c.personal_attributes.count(key)) out[key] = value;
  return out;
}

// Each deal's stays in its stages, in days, oldest first.
std::map<std::string, Json> stage_histories(store::Transaction& tx, const std::string& tenant, const Context& c,
                                            const std::vector<std::string>& deal_ids, std::int64_t now) {
  std::map<std::string, Json> out;
  if (deal_ids.empty()) return out;
  std::vector<store::SqlValue> values{tenant};
  std::string list = store::bound_list(deal_ids, values);
  store::query(tx.session(),
               "SELECT deal_id, stage_id, entered_at, left_at FROM deal_stage_history WHERE tenant_id = :p0"
               " AND deal_id IN " + list + " ORDER BY deal_id, entered_at, id",
               values, [&](const store::Row& r) {
                 std::int64_t entered = store::integer_at(r, 2).value_or(0);
                 std::int64_t left = store::integer_at(r, 3).value_or(now);
                 Json& stays = out[store::required_text(r, 0)];
                 if (stays.is_null()) stays = Json::array();
                 stays.push_back({{"stage", stage_json(c, store::text_at(r, 1))},
                                  {"days", (left - entered) / 86'400'000'000},
                                  {"current", !store::integer_at(r, 3).has_value()}});
               });
  return out;
}

}  // namespace

void AnonymisedExport::begin(const CallContext& ctx) {
  require_role(ctx, {"admin", "manager", "auditor"}, "the anonymised export is for the admin, manager and auditor roles",
               "privacy:read");
  deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    audit::record_audit_event(tx, audit_event(ctx, "privacy.anonymised_exported", "tenant", ctx.tenant_id, ctx.now()));
  });
}

std::size_t AnonymisedExport::run(const CallContext& ctx, const std::function<bool(const Json&)>& write) {
  const std::string& tenant = ctx.tenant_id;
  const std::int64_t now = ctx.now().micros;
  Keys deals("d"), accounts("a"), pipelines("p");
  Context c = deps_.database.read(tenant, [&](store::Transaction& tx) {
    return read_context(tx, tenant, deps_.attribute_schemas);
  });
  auto account_key = [&](const std::optional<std::string>& id) {
    return id && c.people.count(*id) ? Json() : accounts.of(id);  // a person is nobody's key
  };
  std::size_t written = 0;
  std::string after;
  for (bool more = true; more;) {
    std::vector<Json> lines;
    deps_.database.read(tenant, [&](store::Transaction& tx) {
      std::vector<std::string> ids;
      std::vector<Json> page;
      store::query(tx.session(),
                   "SELECT id, account_id, pipeline_id, stage_id, amount, currency, expected_close, status, created_at,"
                   " contacts, attributes, archived_at FROM deals WHERE tenant_id = :p0 AND id > :p1 ORDER BY id"
                   " LIMIT " + std::to_string(page_size),
                   {tenant, after}, [&](const store::Row& r) {
                     std::string id = store::required_text(r, 0);
                     ids.push_back(id);
                     Json contacts = Json::parse(store::text_at(r, 9).value_or("[]"), nullptr, false);
                     auto close = store::text_at(r, 6);
                     page.push_back({{"record", "deal"},
                                     {"key", deals.of(id)},
                                     {"account", account_key(store::text_at(r, 1))},
                                     {"pipeline", pipelines.of(store::text_at(r, 2))},
                                     {"stage", stage_json(c, store::text_at(r, 3))},
                                     {"status", store::text_at(r, 7).value_or("open")},
                                     {"amount", store::integer_at(r, 4) ? Json(*store::integer_at(r, 4)) : Json()},
                                     {"currency", store::text_at(r, 5).value_or("BRL")},
                                     {"created_on", day_of(store::integer_at(r, 8).value_or(0))},
                                     {"expected_close_month", close && close->size() >= 7 ? Json(close->substr(0, 7)) : Json()},
                                     {"contacts", contacts.is_array() ? contacts.size() : 0},
                                     {"attributes", kept_attributes(c, store::text_at(r, 10))},
                                     {"archived", store::integer_at(r, 11).has_value()}});
                   });
      auto histories = stage_histories(tx, tenant, c, ids, now);
      for (std::size_t i = 0; i < page.size(); ++i)
        page[i]["stage_history"] = histories.count(ids[i]) ? histories[ids[i]] : Json::array();
      lines = std::move(page);
      more = ids.size() == page_size;
      if (!ids.empty()) after = ids.back();
    });
    for (const auto& line : lines) {
      if (!write(line)) return written;
      ++written;
    }
  }
  after.clear();
  for (bool more = true; more;) {
    std::vector<Json> lines;
    deps_.database.read(tenant, [&](store::Transaction& tx) {
      std::string last;
      store::query(tx.session(),
                   "SELECT id, type, direction, occurred_at, created_at, delivery_status, deal_id, account_id"
                   " FROM interactions WHERE tenant_id = :p0 AND id > :p1 ORDER BY id LIMIT " + std::to_string(page_size),
                   {tenant, after}, [&](const store::Row& r) {
                     last = store::required_text(r, 0);
                     std::int64_t at = store::integer_at(r, 3).value_or(store::integer_at(r, 4).value_or(0));
                     std::string when = format_rfc3339(Timestamp{at});
                     lines.push_back({{"record", "interaction"},
                                      {"type", store::required_text(r, 1)},
                                      {"direction", store::required_text(r, 2)},
                                      {"occurred_on", when.substr(0, 10)},
                                      {"hour", std::stoi(when.substr(11, 2))},
                                      {"delivery_status", store::text_at(r, 5) ? Json(*store::text_at(r, 5)) : Json()},
                                      {"deal", deals.known(store::text_at(r, 6))},
                                      {"account", account_key(store::text_at(r, 7))}});
                   });
      more = lines.size() == page_size;
      if (!last.empty()) after = last;
    });
    for (const auto& line : lines) {
      if (!write(line)) return written;
      ++written;
    }
  }
  return written;
}

}  // namespace nucleo::services
