#include "kernel/services/snapshot_read.hpp"

#include <set>

#include "kernel/audit/recorder.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/change.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

constexpr std::int64_t default_chunk_rows = 5'000;
constexpr std::int64_t max_chunk_rows = 50'000;
// Rows per statement: a page, keyed by id, so memory stays flat however large the
// tenant is; every page reads the same snapshot, so pages agree with each other.
constexpr std::size_t page_rows = 5'000;

Json text_or_null(const store::Row& r, std::size_t column) {
  auto v = store::text_at(r, column);
  return v ? Json(*v) : Json();
}
Json integer_or_null(const store::Row& r, std::size_t column) {
  auto v = store::integer_at(r, column);
  return v ? Json(*v) : Json();
}
Json json_array_at(const store::Row& r, std::size_t column) {
  Json v = Json::parse(store::text_at(r, column).value_or("[]"), nullptr, false);
  return v.is_array() ? v : Json::array();
}

// The purposes a contact's consent is granted for (the consent ledger's state), names
// only: whether a message had a legal basis, not who gave it or when.
Json granted_purposes(const store::Row& r, std::size_t column) {
  Json out = Json::array();
  Json all = Json::parse(store::text_at(r, column).value_or("{}"), nullptr, false);
  if (all.is_object())
    for (const auto& [purpose, state] : all.items())
      if (state == "granted") out.push_back(purpose);
  return out;
}

// The attributes no plugin declared personal or sensitive, scalars only (a nested
// object may hold anything).
class KeptAttributes {
 public:
  KeptAttributes(const AttributeSchemas& schemas, const std::string& entity_type) {
    for (const auto& key : schemas.personal_keys(entity_type)) left_out_.insert(key);
    for (const auto& [key, data_class] : schemas.sensitive_keys(entity_type)) left_out_.insert(key);
  }
  Json of(const store::Row& r, std::size_t column) const {
    Json out = Json::object();
    Json all = Json::parse(store::text_at(r, column).value_or("{}"), nullptr, false);
    if (!all.is_object()) return out;
    for (const auto& [key, value] : all.items())
      if ((value.is_number() || value.is_boolean() || value.is_string()) && !left_out_.count(key)) out[key] = value;
    return out;
  }

 private:
  std::set<std::string> left_out_;
};

// How a read narrowed to some deals (request "deal_ids") narrows each kind: to the deals'
// accounts, to those accounts' deals (an account's record is its other deals), or to the
// deals themselves; the tenant's small tables (pipelines, stages, users) stay whole.
enum class Narrowed { whole, accounts, account_deals, deal_history, deals };

struct Kind {
  std::string name;
  std::string columns;  // "id" first: the page key
  std::string table;
  std::function<Json(const store::Row&)> line;
  Narrowed narrowed = Narrowed::whole;
  std::string account_column = "account_id";
};

// The condition a narrowed read adds to a kind's statement, its values appended to
// `values` (every placeholder is bound once: sql.hpp).
std::string narrowing(const Kind& kind, const std::string& tenant, const std::string& tenant_term,
                      const std::vector<std::string>& deal_ids, std::vector<store::SqlValue>& values) {
  auto deals = [&] { return store::bound_list(deal_ids, values); };
  auto accounts = [&] {
    std::string t = store::placeholder(values.size());
    values.push_back(tenant);
    return "(SELECT account_id FROM deals WHERE " + tenant_term + " = " + t + " AND id IN " + deals() + ")";
  };
  switch (kind.narrowed) {
    case Narrowed::whole: return "";
    case Narrowed::accounts: return " AND " + kind.account_column + " IN " + accounts();
    case Narrowed::account_deals: return " AND account_id IN " + accounts();
    case Narrowed::deal_history: {
      std::string t = store::placeholder(values.size());
      values.push_back(tenant);
      return " AND deal_id IN (SELECT id FROM deals WHERE " + tenant_term + " = " + t + " AND account_id IN " + accounts() +
             ")";
    }
    case Narrowed::deals: return " AND deal_id IN " + deals();
  }
  return "";
}

std::vector<Kind> kind_table(const AttributeSchemas& schemas) {
  auto archived = [](const store::Row& r, std::size_t c) { return store::integer_at(r, c).has_value(); };
  KeptAttributes account_attributes(schemas, "account"), deal_attributes(schemas, "deal");
  return {
      {"pipeline", "id, archived_at", "pipelines",
       [=](const store::Row& r) { return Json{{"id", store::required_text(r, 0)}, {"archived", archived(r, 1)}}; }},
      {"stage", "id, pipeline_id, position, probability, kind, rot_days, entry_criteria, archived_at", "stages",
       [=](const store::Row& r) {
         return Json{{"id", store::required_text(r, 0)},     {"pipeline_id", store::required_text(r, 1)},
                     {"position", store::required_integer(r, 2)}, {"probability", store::required_integer(r, 3)},
                     {"stage_kind", store::required_text(r, 4)},  {"rot_days", integer_or_null(r, 5)},
                     {"criteria", json_array_at(r, 6).size()},    {"archived", archived(r, 7)}};
       }},
      {"user", "id, role, team_ids, active", "users",
       [=](const store::Row& r) {
         return Json{{"id", store::required_text(r, 0)},
                     {"role", store::required_text(r, 1)},
                     {"team_ids", json_array_at(r, 2)},
                     {"active", store::integer_at(r, 3).value_or(1) != 0}};
       }},
      {"account", "id, owner_id, lifecycle, created_at, attributes, archived_at", "accounts",
       [=](const store::Row& r) {
         return Json{{"id", store::required_text(r, 0)},         {"owner_id", text_or_null(r, 1)},
                     {"lifecycle", text_or_null(r, 2)},          {"created_at", store::required_integer(r, 3)},
                     {"attributes", account_attributes.of(r, 4)}, {"archived", archived(r, 5)}};
       },
       Narrowed::accounts, "id"},
      {"contact",
       "id, account_id, owner_id, CASE WHEN erased_at IS NULL THEN job_title END, created_at, archived_at, consent",
       "contacts",
       [=](const store::Row& r) {
         return Json{{"id", store::required_text(r, 0)},  {"account_id", text_or_null(r, 1)},
                     {"owner_id", text_or_null(r, 2)},    {"job_title", text_or_null(r, 3)},
                     {"created_at", store::required_integer(r, 4)}, {"archived", archived(r, 5)},
                     {"consent_granted", granted_purposes(r, 6)}};
       },
       Narrowed::accounts},
      {"deal",
       "id, account_id, pipeline_id, stage_id, owner_id, amount, currency, expected_close, status, lost_reason,"
       " stage_entered_at, contacts, attributes, created_at, updated_at, archived_at",
       "deals",
       [=](const store::Row& r) {
         return Json{{"id", store::required_text(r, 0)},
                     {"account_id", store::required_text(r, 1)},
                     {"pipeline_id", store::required_text(r, 2)},
                     {"stage_id", store::required_text(r, 3)},
                     {"owner_id", text_or_null(r, 4)},
                     {"amount", integer_or_null(r, 5)},
                     {"currency", text_or_null(r, 6)},
                     {"expected_close", text_or_null(r, 7)},
                     {"status", store::required_text(r, 8)},
                     {"lost_reason", text_or_null(r, 9)},
                     {"stage_entered_at", store::required_integer(r, 10)},
                     {"contacts", json_array_at(r, 11)},
                     {"attributes", deal_attributes.of(r, 12)},
                     {"created_at", store::required_integer(r, 13)},
                     {"updated_at", store::required_integer(r, 14)},
                     {"archived", archived(r, 15)}};
       },
       Narrowed::account_deals},
      {"deal_stage_history", "id, deal_id, stage_id, entered_at, left_at", "deal_stage_history",
       [=](const store::Row& r) {
         return Json{{"deal_id", store::required_text(r, 1)},
                     {"stage_id", store::required_text(r, 2)},
                     {"entered_at", store::required_integer(r, 3)},
                     {"left_at", integer_or_null(r, 4)}};
       },
       Narrowed::deal_history},
      {"deal_close_history", "id, deal_id, expected_close, changed_at", "deal_close_history",
       [=](const store::Row& r) {
         return Json{{"deal_id", store::required_text(r, 1)},
                     {"expected_close", text_or_null(r, 2)},
                     {"changed_at", store::required_integer(r, 3)}};
       },
       Narrowed::deal_history},
      {"interaction",
       "id, type, direction, channel, COALESCE(occurred_at, created_at), delivery_status, account_id, contact_id,"
       " deal_id, archived_at",
       "interactions",
       [=](const store::Row& r) {
         return Json{{"id", store::required_text(r, 0)},    {"type", store::required_text(r, 1)},
                     {"direction", store::required_text(r, 2)}, {"channel", text_or_null(r, 3)},
                     {"occurred_at", store::required_integer(r, 4)}, {"delivery_status", text_or_null(r, 5)},
                     {"account_id", text_or_null(r, 6)},    {"contact_id", text_or_null(r, 7)},
                     {"deal_id", text_or_null(r, 8)},       {"archived", archived(r, 9)}};
       },
       Narrowed::deals},
      {"task",
       "id, kind, status, due_at, completed_at, created_at, assignee_id, account_id, contact_id, deal_id, archived_at",
       "tasks",
       [=](const store::Row& r) {
         return Json{{"id", store::required_text(r, 0)},          {"kind_of_task", store::required_text(r, 1)},
                     {"status", store::required_text(r, 2)},      {"due_at", integer_or_null(r, 3)},
                     {"completed_at", integer_or_null(r, 4)},     {"created_at", store::required_integer(r, 5)},
                     {"assignee_id", text_or_null(r, 6)},         {"account_id", text_or_null(r, 7)},
                     {"contact_id", text_or_null(r, 8)},          {"deal_id", text_or_null(r, 9)},
                     {"archived", archived(r, 10)}};
       },
       Narrowed::deals},
  };
}

std::set<std::string> requested_kinds(const Json& request) {
  const auto& known = SnapshotRead::kinds();
  std::set<std::string> out;
  Json kinds = request.value("kinds", Json());
  if (kinds.is_null()) return {known.begin(), known.end()};
  if (!kinds.is_array() || kinds.empty())
    throw Error(ErrorCode::validation, "snapshot: \"kinds\" must be a non-empty list", {{"kinds", "a non-empty list"}});
  for (const auto& k : kinds) {
    if (!k.is_string() || std::find(known.begin(), known.end(), k.get<std::string>()) == known.end()) {
      std::string names;
      for (const auto& n : known) names += (names.empty() ? "" : ", ") + n;
      throw Error(ErrorCode::validation, "snapshot: unknown kind " + k.dump() + " (known: " + names + ")",
                  {{"kinds", "unknown kind"}});
    }
    out.insert(k.get<std::string>());
  }
  return out;
}

constexpr std::size_t max_narrowed_deals = 100;

// The deals a narrowed read is about (request "deal_ids"), empty for the whole tenant.
std::vector<std::string> deal_ids_of(const Json& request) {
  Json ids = request.value("deal_ids", Json());
  if (ids.is_null()) return {};
  if (!ids.is_array() || ids.empty() || ids.size() > max_narrowed_deals)
    throw Error(ErrorCode::validation, "snapshot: \"deal_ids\" must list 1 to 100 deal ids", {{"deal_ids", "1-100 ids"}});
  std::vector<std::string> out;
  for (const auto& id : ids) {
    if (!id.is_string()) throw Error(ErrorCode::validation, "snapshot: deal ids are strings", {{"deal_ids", "strings"}});
    out.push_back(id.get<std::string>());
  }
  return out;
}

std::int64_t chunk_rows_of(const Json& request) {
  Json n = request.value("chunk_rows", Json(default_chunk_rows));
  if (!n.is_number_integer() || n.get<std::int64_t>() < 1 || n.get<std::int64_t>() > max_chunk_rows)
    throw Error(ErrorCode::validation, "snapshot: \"chunk_rows\" must be an integer from 1 to 50000",
                {{"chunk_rows", "1-50000"}});
  return n.get<std::int64_t>();
}

}  // namespace

const std::vector<std::string>& SnapshotRead::kinds() {
  static const std::vector<std::string> names{"pipeline",           "stage",       "user", "account",
                                              "contact",            "deal",        "deal_stage_history",
                                              "deal_close_history", "interaction", "task"};
  return names;
}

Json SnapshotRead::run(const CallContext& ctx, const Json& request,
                       const std::function<bool(const std::string& jsonl)>& chunk) {
  require_role(ctx, {"admin", "manager", "auditor"},
               "a snapshot of the tenant's sales process is for the admin, manager and auditor roles", "snapshot:read");
  if (!request.is_object()) throw Error(ErrorCode::validation, "snapshot: the request must be a JSON object");
  std::set<std::string> wanted = requested_kinds(request);
  const auto per_chunk = static_cast<std::size_t>(chunk_rows_of(request));
  const std::vector<std::string> deal_ids = deal_ids_of(request);
  std::string kinds_read;
  for (const auto& k : kinds())
    if (wanted.count(k)) kinds_read += (kinds_read.empty() ? "" : ", ") + k;

  // A whole read is audited before anything is read: a compliance officer sees every
  // bulk read, even one its reader stopped halfway. A read narrowed to a few deals is
  // what records.get of them would show, and is not (a rescoring per change would
  // otherwise double the trail).
  if (deal_ids.empty())
    deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
      auto event = audit_event(ctx, "snapshot.read", "tenant", ctx.tenant_id, ctx.now());
      event.reason = "kinds: " + kinds_read;
      audit::record_audit_event(tx, event);
    });

  Json counts = Json::object();
  bool complete = true;
  std::string pending;
  std::size_t pending_lines = 0;
  auto flush = [&] {
    if (pending_lines == 0) return true;
    bool go_on = chunk(pending);
    pending.clear();
    pending_lines = 0;
    return go_on;
  };
  deps_.database.snapshot_read(ctx.tenant_id, [&](store::Transaction& tx) {
    for (const auto& kind : kind_table(deps_.attribute_schemas)) {
      if (!wanted.count(kind.name) || !complete) continue;
      std::int64_t lines = 0;
      std::string after;
      // PostgreSQL hands a statement's whole result over at once, so a whole read comes a
      // page at a time, keyed by id; SQLite steps through one statement row by row, and a
      // scan in table order is many times faster there than walking the id index.
      // A read narrowed to a few deals holds few rows: one statement, planned on the
      // narrowing's indexes (a page key would tempt the planner to walk the id index).
      const bool paged = tx.backend() == store::Backend::postgresql && deal_ids.empty();
      // SQLite without statistics prefers any index on tenant_id — a walk over the whole
      // tenant for a narrowed read, random reads for a whole one. "+tenant_id" keeps the
      // condition and takes the index away (SQLite's documented way); PostgreSQL plans on
      // statistics and reads the plain column.
      const std::string tenant_term = tx.backend() == store::Backend::sqlite ? "+tenant_id" : "tenant_id";
      for (std::size_t got = page_rows; got == page_rows && complete;) {
        got = 0;
        std::vector<store::SqlValue> values{ctx.tenant_id};
        std::string page_key;
        if (paged) {
          page_key = " AND id > " + store::placeholder(values.size());
          values.push_back(after);
        }
        std::string narrowed = deal_ids.empty() ? "" : narrowing(kind, ctx.tenant_id, tenant_term, deal_ids, values);
        store::query(tx.session(),
                     "SELECT " + kind.columns + " FROM " + kind.table + " WHERE " + tenant_term + " = :p0" + page_key + narrowed +
                         (paged ? " ORDER BY id LIMIT " + std::to_string(page_rows) : ""),
                     values, [&](const store::Row& r) {
                       if (paged) {
                         ++got;
                         after = store::required_text(r, 0);
                       }
                       if (!complete) return;
                       Json line = kind.line(r);
                       line["kind"] = kind.name;
                       pending += line.dump();
                       pending += '\n';
                       ++lines;
                       if (++pending_lines == per_chunk && !flush()) complete = false;
                     });
      }
      counts[kind.name] = lines;
    }
    if (complete && !flush()) complete = false;
  });
  return Json{{"counts", counts}, {"as_of", format_rfc3339(ctx.now())}, {"complete", complete}};
}

}  // namespace nucleo::services
