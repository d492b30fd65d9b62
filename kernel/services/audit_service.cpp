#include "kernel/services/audit_service.hpp"

#include <algorithm>
#include <map>

#include "kernel/services/access_policy.hpp"
#include "kernel/services/audited_reads.hpp"

#include "kernel/audit/personal_data.hpp"
#include "kernel/audit/recorder.hpp"
#include "kernel/services/write.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

void require_audit_reader(const CallContext& ctx) {
  require_role(ctx, {"auditor", "admin"}, "the audit log is readable by the auditor and admin roles only",
               "audit:read");
}

// The audit event of a read: what was asked is in `changes`.
audit::AuditEvent read_event(const CallContext& ctx, const std::string& action, const Json& asked) {
  audit::AuditEvent e = audit_event(ctx, action, "audit_log", ctx.tenant_id, ctx.now());
  e.changes = Json{{"request", Json{{"from", nullptr}, {"to", asked}}}};
  return e;
}

// A read of the log: `read` runs in a read transaction and names what it was asked
// (`asked`); its audit event is then recorded by group commit (AuditedReads), and the
// answer is returned only once that is durable.
template <class Read>
auto audited_read(ServiceDependencies& deps, const CallContext& ctx, const std::string& action, Read&& read) {
  store::OnPrimary audited;
  Json asked;
  auto answer = deps.database.read(ctx.tenant_id, [&](store::Transaction& tx) { return read(tx, asked); });
  record_read_events(deps, ctx.tenant_id, {read_event(ctx, action, asked)});
  return answer;
}

Json query_as_json(const AuditQuery& q) {
  Json j = Json::object();
  if (!q.actor_id.empty()) j["actor"] = q.actor_id;
  if (!q.entity_type.empty()) j["entity_type"] = q.entity_type;
  if (!q.entity_id.empty()) j["entity_id"] = q.entity_id;
  if (!q.action.empty()) j["action"] = q.action;
  if (q.from) j["from"] = format_rfc3339(Timestamp{*q.from});
  if (q.to) j["to"] = format_rfc3339(Timestamp{*q.to});
  if (q.after_seq) j["after_seq"] = *q.after_seq;
  return j;
}

// Applies one version's changes to the record being rebuilt. `version` and
// `updated_at` are not in the leaf (every write changes them); they follow from the
// number of versions and the last version's time.
void apply_version(Json& record, const Json& version) {
  const std::string& action = version["action"].get_ref<const std::string&>();
  if (version["changes"].empty() || action.ends_with("_read")) return;  // an audited read, not a write
  for (const auto& [field, change] : version["changes"].items()) record[field] = change.value("to", Json());
  record["version"] = record.value("version", 0) + 1;
  record["updated_at"] = version["recorded_at"];
}

// Fields the record had null all along never appear in a change: show them as null.
void fill_absent_fields(Json& record, const std::string& entity_type) {
  const EntitySpec* spec = find_entity_spec(entity_type);
  if (!spec) return;
  for (const auto& name : system_fields())
    if (!record.contains(name)) record[name] = nullptr;
  for (const auto& f : spec->fields)
    if (!f.hidden && !record.contains(f.name)) record[f.name] = nullptr;
  if (spec->has_attributes && !record.contains("attributes")) record["attributes"] = Json::object();
}

bool has_history(store::Transaction& tx, const std::string& tenant_id, const std::string& entity_type,
                 const std::string& entity_id) {
  bool found = false;
  store::query(tx.session(),
               "SELECT 1 FROM audit_log WHERE tenant_id = :p0 AND entity_type = :p1 AND entity_id = :p2 LIMIT 1",
               {tenant_id, entity_type, entity_id}, [&](const store::Row&) { found = true; });
  return found;
}

// The tenant's logged events matching `q`, after q.after_seq, oldest first, at most
// `limit`; the leaf hash in base64 as the API shows it.
void read_events(store::Transaction& tx, const std::string& tenant_id, const AuditQuery& q, std::size_t limit,
                 const std::function<void(std::int64_t, const std::string&, const std::string&)>& each) {
  std::string sql = "SELECT seq, leaf, leaf_hash FROM audit_log WHERE tenant_id = :p0";
  std::vector<store::SqlValue> values{tenant_id};
  auto where = [&](const std::string& condition, store::SqlValue v) {
    sql += " AND " + condition + " " + store::placeholder(values.size());
    values.push_back(std::move(v));
  };
  if (!q.actor_id.empty()) where("actor_id =", q.actor_id);
  if (!q.entity_type.empty()) where("entity_type =", q.entity_type);
  if (!q.entity_id.empty()) where("entity_id =", q.entity_id);
  if (!q.action.empty()) where("action =", q.action);
  if (q.from) where("recorded_at >=", *q.from);
  if (q.to) where("recorded_at <", *q.to);
  if (q.after_seq) where("seq >", *q.after_seq);
  sql += " ORDER BY seq LIMIT " + store::placeholder(values.size());
  values.push_back(static_cast<std::int64_t>(limit));
  store::query(tx.session(), sql, values, [&](const store::Row& r) {
    auto hash = audit::hash_from_hex(store::required_text(r, 2));
    each(store::required_integer(r, 0), store::required_text(r, 1), hash ? audit::to_base64(*hash) : "");
  });
}

}  // namespace

Json AuditService::history(const CallContext& ctx, const std::string& entity_type, const std::string& entity_id,
                           std::optional<std::int64_t> as_of) {
  require_audit_reader(ctx);
  return audited_read(deps_, ctx, "audit.history_read", [&](store::Transaction& tx, Json& asked_for) {
    std::string condition = "l.entity_type = :p1 AND l.entity_id = :p2";
    std::vector<store::SqlValue> values{entity_type, entity_id};
    if (as_of) {
      condition += " AND l.recorded_at <= :p3";
      values.push_back(*as_of);
    }
    audit::PersonalValueOpener opener(tx, ctx.tenant_id, condition, values);
    std::uint64_t tree_size = audit::read_tree_head(tx, ctx.tenant_id).size;
    std::vector<store::SqlValue> all{ctx.tenant_id};
    all.insert(all.end(), values.begin(), values.end());
    Json versions = Json::array();
    store::query(tx.session(), "SELECT l.seq, l.leaf, l.leaf_hash FROM audit_log l WHERE l.tenant_id = :p0 AND " + condition +
                                   " ORDER BY l.seq",
                 all, [&](const store::Row& r) {
                   std::int64_t seq = store::required_integer(r, 0);
                   Json leaf = Json::parse(store::required_text(r, 1));
                   auto hash = audit::hash_from_hex(store::required_text(r, 2));
                   std::string id = leaf["id"];
                   versions.push_back(
                       Json{{"seq", seq}, {"id", id}, {"recorded_at", leaf["recorded_at"]}, {"actor", leaf["actor"]},
                            {"action", leaf["action"]}, {"reason", leaf["reason"]}, {"request_id", leaf["request_id"]},
                            {"changes", opener.open(id, leaf["changes"])},
                            {"leaf_hash", hash ? audit::to_base64(*hash) : ""},
                            {"proof", "/v1/audit/proof/inclusion?seq=" + std::to_string(seq) +
                                          "&tree_size=" + std::to_string(tree_size)}});
                 });
    if (versions.empty() && !has_history(tx, ctx.tenant_id, entity_type, entity_id))
      throw Error(ErrorCode::not_found, "the audit log holds nothing about " + entity_type + " " + entity_id);
    Json out{{"entity", Json{{"type", entity_type}, {"id", entity_id}}}, {"tree_size", tree_size}};
    Json asked{{"entity", out["entity"]}};
    if (as_of) {
      Json record = Json::object();
      for (const auto& v : versions) apply_version(record, v);
      if (record.empty()) {
        record = nullptr;
      } else {
        fill_absent_fields(record, entity_type);
      }
      out["as_of"] = asked["as_of"] = format_rfc3339(Timestamp{*as_of});
      out["record"] = std::move(record);
    }
    out["versions"] = std::move(versions);
    asked_for = asked;
    return out;
  });
}

AuditPage AuditService::events(const CallContext& ctx, const AuditQuery& q) {
  require_audit_reader(ctx);
  return audited_read(deps_, ctx, "audit.events_read", [&](store::Transaction& tx, Json& asked_for) {
    AuditPage page;
    read_events(tx, ctx.tenant_id, q, q.limit + 1, [&](std::int64_t seq, const std::string& leaf, const std::string& hash) {
      page.events.push_back(Json{{"seq", seq}, {"leaf_hash", hash}, {"leaf", Json::parse(leaf)}});
    });
    if (page.events.size() > q.limit) {
      page.events.pop_back();
      page.last_seq = page.events.back()["seq"].get<std::int64_t>();
    }
    asked_for = query_as_json(q);
    return page;
  });
}

void AuditService::for_each_event(const CallContext& ctx, AuditQuery q,
                                  const std::function<bool(const audit::LoggedEvent&)>& each) {
  require_audit_reader(ctx);
  constexpr std::size_t page = 1000;
  for (bool more = true; more;) {
    std::size_t read = 0;
    bool stopped = false;
    deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
      read_events(tx, ctx.tenant_id, q, page, [&](std::int64_t seq, const std::string& leaf, const std::string& hash) {
        ++read;
        q.after_seq = seq;
        if (!stopped && !each({seq, leaf, hash})) stopped = true;
      });
    });
    more = read == page && !stopped;
  }
}

audit::InclusionProof AuditService::inclusion(const CallContext& ctx, std::uint64_t seq, std::uint64_t tree_size) {
  require_audit_reader(ctx);
  return audited_read(deps_, ctx, "audit.proof_read", [&](store::Transaction& tx, Json& asked_for) {
    auto proof = audit::prove_inclusion(tx, ctx.tenant_id, seq, tree_size);
    asked_for = Json{{"inclusion", Json{{"seq", seq}, {"tree_size", tree_size}}}};
    return proof;
  });
}

audit::ConsistencyProof AuditService::consistency(const CallContext& ctx, std::uint64_t first, std::uint64_t second) {
  require_audit_reader(ctx);
  return audited_read(deps_, ctx, "audit.proof_read", [&](store::Transaction& tx, Json& asked_for) {
    auto proof = audit::prove_consistency(tx, ctx.tenant_id, first, second);
    asked_for = Json{{"consistency", Json{{"first", first}, {"second", second}}}};
    return proof;
  });
}

std::string AuditService::checkpoint(const CallContext& ctx) {
  require_audit_reader(ctx);
  return audited_read(deps_, ctx, "audit.checkpoint_read", [&](store::Transaction& tx, Json& asked_for) {
    auto note = audit::latest_checkpoint_note(tx, ctx.tenant_id);
    if (!note) throw Error(ErrorCode::not_found, "no checkpoint has been signed for this tenant yet");
    asked_for = Json::object();
    return *note;
  });
}

Json AuditService::entity_proofs(const CallContext& ctx, const std::vector<std::pair<std::string, std::string>>& entities,
                                 std::optional<std::int64_t> as_of) {
  require_audit_reader(ctx);
  if (entities.empty() || entities.size() > 500)
    throw Error(ErrorCode::validation, "a party's trail names 1 to 500 entities", {{"entities", "1-500"}});
  Json records = Json::object();
  for (const auto& [type, id] : entities) {
    try {
      records[type + "/" + id] = history(ctx, type, id, as_of.value_or(ctx.now().micros)).value("record", Json());
    } catch (const Error& e) {
      if (e.code() != ErrorCode::not_found) throw;
      records[type + "/" + id] = nullptr;  // nothing logged about it (yet)
    }
  }
  return audited_read(deps_, ctx, "audit.proof_read", [&](store::Transaction& tx, Json& asked_for) {
    auto note = audit::latest_checkpoint_note(tx, ctx.tenant_id);
    if (!note) throw Error(ErrorCode::unavailable, "no checkpoint has been signed for this tenant yet: try again shortly");
    // The note's second line is the tree size it signs (checkpoint.hpp).
    std::uint64_t size = std::stoull(note->substr(note->find('\n') + 1));
    Json events = Json::array();
    for (const auto& entity : entities) {
      // Named, not bound: Clang 14 cannot capture structured bindings in a lambda.
      const auto& type = entity.first;
      const auto& id = entity.second;
      AuditQuery q;
      q.entity_type = type;
      q.entity_id = id;
      if (as_of) q.to = *as_of + 1;
      read_events(tx, ctx.tenant_id, q, 100000, [&](std::int64_t seq, const std::string& leaf, const std::string& hash) {
        Json proof;
        if (static_cast<std::uint64_t>(seq) < size) {
          proof = Json::array();
          for (const auto& h : audit::prove_inclusion(tx, ctx.tenant_id, seq, size).proof) proof.push_back(audit::to_base64(h));
        }
        events.push_back({{"seq", seq}, {"entity_type", type}, {"entity_id", id}, {"leaf", leaf}, {"leaf_hash", hash},
                          {"proof", proof}});
      });
    }
    std::sort(events.begin(), events.end(), [](const Json& a, const Json& b) { return a["seq"] < b["seq"]; });
    asked_for = Json{{"entities", entities.size()}, {"tree_size", size}};
    return Json{{"checkpoint", *note}, {"tree_size", size}, {"events", events}, {"records", records}};
  });
}

Json AuditService::subject_trail(const CallContext& ctx, const std::vector<std::pair<std::string, std::string>>& entities,
                                 const std::function<void(std::size_t)>& progress) {
  require_audit_reader(ctx);
  std::map<std::string, std::vector<std::string>> ids_by_type;
  for (const auto& [type, id] : entities) ids_by_type[type].push_back(id);
  return audited_read(deps_, ctx, "audit.subject_trail_read", [&](store::Transaction& tx, Json& asked_for) {
    auto note = audit::latest_checkpoint_note(tx, ctx.tenant_id);
    // The note's second line is the tree size it signs (checkpoint.hpp).
    std::uint64_t size = note ? std::stoull(note->substr(note->find('\n') + 1)) : 0;
    Json history = Json::object(), events = Json::array();
    constexpr std::size_t chunk = 200;  // entities per query: bounded statements, few round trips
    for (const auto& [type, ids] : ids_by_type) {
      for (std::size_t first = 0; first < ids.size(); first += chunk) {
        std::vector<std::string> some(ids.begin() + first, ids.begin() + std::min(ids.size(), first + chunk));
        std::vector<store::SqlValue> values{ctx.tenant_id, type};
        std::string condition = "l.entity_type = :p1 AND l.entity_id IN " + store::bound_list(some, values);
        audit::PersonalValueOpener opener(tx, ctx.tenant_id, condition,
                                          std::vector<store::SqlValue>(values.begin() + 1, values.end()));
        std::map<std::string, Json> newest;  // entity id → its newest event, with its leaf
        store::query(tx.session(),
                     "SELECT l.seq, l.entity_id, l.leaf, l.leaf_hash FROM audit_log l WHERE l.tenant_id = :p0 AND " +
                         condition + " ORDER BY l.seq",
                     values, [&](const store::Row& r) {
                       std::int64_t seq = store::required_integer(r, 0);
                       std::string id = store::required_text(r, 1), leaf_text = store::required_text(r, 2);
                       Json leaf = Json::parse(leaf_text);
                       history[type + "/" + id].push_back(
                           Json{{"seq", seq}, {"recorded_at", leaf["recorded_at"]}, {"actor", leaf["actor"]},
                                {"action", leaf["action"]}, {"changes", opener.open(leaf["id"], leaf["changes"])}});
                       auto hash = audit::hash_from_hex(store::required_text(r, 3));
                       newest[id] = Json{{"seq", seq}, {"entity_type", type}, {"entity_id", id}, {"leaf", leaf_text},
                                         {"leaf_hash", hash ? audit::to_base64(*hash) : ""}, {"proof", nullptr}};
                     });
        std::vector<std::uint64_t> covered;  // the newest events the checkpoint covers, proven together
        for (const auto& [id, event] : newest)
          if (event["seq"].get<std::uint64_t>() < size) covered.push_back(event["seq"].get<std::uint64_t>());
        auto proofs = audit::prove_inclusions(tx, ctx.tenant_id, covered, size);
        std::size_t next = 0;
        for (auto& [id, event] : newest) {
          if (event["seq"].get<std::uint64_t>() < size) {
            event["proof"] = Json::array();
            for (const auto& h : proofs[next++]) event["proof"].push_back(audit::to_base64(h));
          }
          events.push_back(std::move(event));
        }
        if (progress) progress(some.size());
      }
    }
    std::sort(events.begin(), events.end(), [](const Json& a, const Json& b) { return a["seq"] < b["seq"]; });
    asked_for = Json{{"entities", entities.size()}, {"tree_size", size}};
    return Json{{"checkpoint", note ? Json(*note) : Json()}, {"tree_size", size}, {"history", history},
                {"events", events}};
  });
}

void AuditService::record_export(const CallContext& ctx, const Json& what) {
  require_audit_reader(ctx);
  record_read_events(deps_, ctx.tenant_id, {read_event(ctx, "audit.exported", what)});
}

audit::TreeHead AuditService::head(const CallContext& ctx) {
  require_audit_reader(ctx);
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) { return audit::read_tree_head(tx, ctx.tenant_id); });
}

}  // namespace nucleo::services
