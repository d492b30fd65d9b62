#include "kernel/services/privacy_requests.hpp"

#include <algorithm>
#include <chrono>
#include <regex>

#include "kernel/audit/recorder.hpp"
#include "kernel/domain/digest.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/audited_reads.hpp"
#include "kernel/services/change.hpp"
#include "kernel/services/subject_report.hpp"
#include "kernel/store/record_table.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {

const std::vector<std::string>& privacy_request_kinds() {
  static const std::vector<std::string> kinds{"access",  "portability",        "correction",
                                              "anonymisation", "erasure", "consent_revocation",
                                              "information_on_sharing"};
  return kinds;
}

namespace {

constexpr const char* link_use = "privacy-report-download";
constexpr std::size_t link_signature_length = 32;  // hex: 128 bits
constexpr std::int64_t micros_per_day = 86'400'000'000;
// What the requester wrote and how they proved who they are may name them: sealed in the
// audit trail under the subject's key, cleared from the request by erasure.
const std::vector<std::string> personal_request_fields{"details", "identity_reference"};

void require_officer(const CallContext& ctx) {
  require_role(ctx, {"admin"}, "data-subject requests are handled by the admin role", "privacy:write");
}
void require_reader(const CallContext& ctx) {
  require_role(ctx, {"admin", "auditor"}, "data-subject requests are for the admin and auditor roles only",
               "privacy:read");
}

bool reportable(const std::string& kind) {
  return kind == "access" || kind == "portability" || kind == "information_on_sharing";
}

// A small action body: only `allowed` fields, `required` ones present, every value a
// non-blank string of at most `max` characters.
void check_body(const Json& body, const std::vector<std::string>& allowed, const std::vector<std::string>& required,
                const std::string& what, std::size_t max = 2000) {
  if (!body.is_object()) throw Error(ErrorCode::validation, what + " is a JSON object");
  std::vector<FieldError> errors;
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      errors.push_back({key, "is not a field of " + what});
    else if (!value.is_string())
      errors.push_back({key, "must be a string"});
    else if (value.get<std::string>().find_first_not_of(" \t\r\n") == std::string::npos)
      errors.push_back({key, "must not be blank"});
    else if (value.get<std::string>().size() > max)
      errors.push_back({key, "is longer than " + std::to_string(max) + " characters"});
  }
  for (const auto& name : required)
    if (!body.contains(name)) errors.push_back({name, "is required"});
  if (!errors.empty()) throw Error(ErrorCode::validation, "invalid " + what, errors);
}

constexpr const char* request_columns =
    "id, kind, subject_id, status, received_via, details, received_at, due_at, assignee_id, task_id, identity_method, "
    "identity_reference, identity_verified_by, identity_verified_at, outcome, closed_by, closed_at, created_by, "
    "version, updated_at";

// The request as stored (what the audit trail's changes compare).
Json stored_json(const store::Row& r) {
  auto text = [&](std::size_t i) { return store::text_at(r, i) ? Json(*store::text_at(r, i)) : Json(); };
  auto time = [&](std::size_t i) {
    auto t = store::integer_at(r, i);
    return t ? Json(format_rfc3339(Timestamp{*t})) : Json();
  };
  Json identity;
  if (store::integer_at(r, 13))
    identity = {{"method", text(10)}, {"reference", text(11)}, {"verified_by", text(12)}, {"verified_at", time(13)}};
  return Json{{"id", text(0)},          {"kind", text(1)},         {"contact_id", text(2)},   {"status", text(3)},
              {"received_via", text(4)}, {"details", text(5)},     {"received_at", time(6)},  {"due_at", time(7)},
              {"assignee_id", text(8)},  {"task_id", text(9)},     {"identity", identity},    {"outcome", text(14)},
              {"closed_by", text(15)},   {"closed_at", time(16)},  {"created_by", text(17)},  {"version", store::required_integer(r, 18)},
              {"updated_at", time(19)}};
}

std::optional<Json> load(store::Transaction& tx, const std::string& tenant_id, const std::string& id) {
  std::optional<Json> found;
  store::query(tx.session(),
               std::string("SELECT ") + request_columns + " FROM privacy_requests WHERE tenant_id = :p0 AND id = :p1",
               {tenant_id, id}, [&](const store::Row& r) { found = stored_json(r); });
  return found;
}

Json load_or_404(store::Transaction& tx, const std::string& tenant_id, const std::string& id) {
  auto found = load(tx, tenant_id, id);
  if (!found) throw Error(ErrorCode::not_found, "privacy request " + id + " not found");
  return *found;
}

// The report's state, without its bytes: null when none was asked for (or erasure took it).
Json report_state(store::Transaction& tx, const std::string& tenant_id, const std::string& id) {
  Json state;
  store::query(tx.session(),
               "SELECT status, done, total, digest, generated_at, error FROM privacy_reports"
               " WHERE tenant_id = :p0 AND request_id = :p1",
               {tenant_id, id}, [&](const store::Row& r) {
                 auto generated = store::integer_at(r, 4);
                 state = {{"status", store::required_text(r, 0)},
                          {"progress", {{"done", store::required_integer(r, 1)}, {"total", store::required_integer(r, 2)}}},
                          {"digest", store::text_at(r, 3) ? Json(*store::text_at(r, 3)) : Json()},
                          {"generated_at", generated ? Json(format_rfc3339(Timestamp{*generated})) : Json()},
                          {"error", store::text_at(r, 5) ? Json(*store::text_at(r, 5)) : Json()}};
               });
  return state;
}

// What callers see: the stored request, whether it is overdue now, and its report's state.
Json shown(store::Transaction& tx, const CallContext& ctx, Json request) {
  bool open = request["status"] == "received" || request["status"] == "in_progress";
  request["overdue"] = open && *parse_rfc3339(request["due_at"].get<std::string>()) < ctx.now();
  request["report"] = report_state(tx, ctx.tenant_id, request["id"]);
  return request;
}

// The audit change of one step: what changed on the request, its personal fields sealed
// under the subject's key.
Change request_change(const std::string& action, const Json& before, const Json& after) {
  Change change{action, "privacy_request", after["id"], audit::diff_changes(before, after), after};
  change.changes.erase("version");
  change.changes.erase("updated_at");
  for (const auto& field : personal_request_fields)
    if (change.changes.contains(field)) change.personal_fields.push_back(field);
  if (change.changes.contains("identity")) change.personal_fields.push_back("identity");
  change.subject_id = after["contact_id"];
  return change;
}

// One step of a request: `sets` (column → value) written with a new version, audited as
// `action`, in the transaction the caller's in_one_transaction opened.
Json apply_step(store::Transaction& tx, const CallContext& ctx, const Json& before, const std::string& action,
                const std::vector<std::pair<std::string, store::SqlValue>>& sets) {
  std::string sql = "UPDATE privacy_requests SET version = version + 1, updated_at = :p0";
  std::vector<store::SqlValue> values{ctx.now().micros};
  for (const auto& [column, value] : sets) {
    sql += ", " + column + " = " + store::placeholder(values.size());
    values.push_back(value);
  }
  sql += " WHERE tenant_id = " + store::placeholder(values.size()) + " AND id = " + store::placeholder(values.size() + 1) +
         " AND version = " + store::placeholder(values.size() + 2);
  values.insert(values.end(), {ctx.tenant_id, before["id"].get<std::string>(), before["version"].get<std::int64_t>()});
  if (store::execute(tx.session(), sql, values) != 1)
    throw Error(ErrorCode::aborted, "privacy request " + before["id"].get<std::string>() +
                                         " was changed by another request; reload it and retry");
  Json after = load_or_404(tx, ctx.tenant_id, before["id"]);
  commit_change(tx, ctx, request_change(action, before, after));
  return after;
}

// The assignee must be an active admin of the tenant: who may act on the request.
void require_admin_user(store::Transaction& tx, const std::string& tenant_id, const std::string& user_id) {
  std::optional<std::string> role;
  store::query(tx.session(),
               "SELECT role FROM users WHERE tenant_id = :p0 AND id = :p1 AND active = 1 AND archived_at IS NULL",
               {tenant_id, user_id}, [&](const store::Row& r) { role = store::required_text(r, 0); });
  if (!role)
    throw Error(ErrorCode::validation, "no active user " + user_id + " in this tenant", {{"assignee_id", "no such user"}});
  if (*role != "admin")
    throw Error(ErrorCode::validation, "user " + user_id + " is a " + *role + "; requests are handled by admins",
                {{"assignee_id", "must be an admin"}});
}

std::string task_title(const Json& request) {
  return "Data-subject request " + request["id"].get<std::string>() + " (" + request["kind"].get<std::string>() +
         "): answer by " + request["due_at"].get<std::string>();
}

std::string link_signature(const SecretBox& secrets, const std::string& tenant_id, const std::string& request_id,
                           std::int64_t expires) {
  return secrets.signature(link_use, tenant_id + "\n" + request_id + "\n" + std::to_string(expires))
      .substr(0, link_signature_length);
}

std::string report_file_name(const std::string& request_id, const std::string& format) {
  return "nucleo-report-" + request_id + (format == "markdown" ? ".md" : ".json");
}

void check_format(const std::string& format) {
  if (format != "json" && format != "markdown")
    throw Error(ErrorCode::validation, "format must be json or markdown, not '" + format + "'",
                {{"format", "must be json or markdown"}});
}

// The ready report of a request in this tenant; not_found naming why there is none.
SubjectReportFile ready_report(store::Transaction& tx, const std::string& tenant_id, const std::string& id,
                               const std::string& format) {
  std::optional<SubjectReportFile> file;
  std::string status;
  store::query(tx.session(),
               std::string("SELECT status, ") + (format == "markdown" ? "document" : "bundle") +
                   " FROM privacy_reports WHERE tenant_id = :p0 AND request_id = :p1",
               {tenant_id, id}, [&](const store::Row& r) {
                 status = store::required_text(r, 0);
                 if (status == "ready")
                   file = SubjectReportFile{format == "markdown" ? "text/markdown; charset=utf-8" : "application/json",
                                            report_file_name(id, format), store::required_text(r, 1)};
               });
  if (status.empty())
    throw Error(ErrorCode::not_found, "privacy request " + id + " has no report (none was asked for, or its subject "
                                      "was erased since)");
  if (!file) throw Error(ErrorCode::conflict, "the report of privacy request " + id + " is " + status + ", not ready");
  return *file;
}

audit::AuditEvent report_read_event(const CallContext& ctx, const std::string& action, const std::string& id,
                                    const Json& what) {
  audit::AuditEvent e = audit_event(ctx, action, "privacy_request", id, ctx.now());
  e.changes = {{"report", {{"from", nullptr}, {"to", what}}}};
  return e;
}

}  // namespace

Json PrivacyRequestService::open(const CallContext& ctx, const Json& body) {
  require_officer(ctx);
  check_body(body, {"kind", "contact_id", "received_via", "details", "received_at", "assignee_id"},
             {"kind", "contact_id", "received_via"}, "a privacy request", 20000);
  const std::string kind = body["kind"], contact_id = body["contact_id"];
  const auto& kinds = privacy_request_kinds();
  if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end())
    throw Error(ErrorCode::validation, "unknown request kind '" + kind + "'", {{"kind", "must be one of access, portability, "
                "correction, anonymisation, erasure, consent_revocation, information_on_sharing", "unknown_kind"}});
  Timestamp now = ctx.now(), received = now;
  if (body.contains("received_at")) {
    auto at = parse_rfc3339(body["received_at"].get<std::string>());
    if (!at) throw Error(ErrorCode::validation, "received_at is not an RFC 3339 time", {{"received_at", "must be RFC 3339"}});
    if (*at > now) throw Error(ErrorCode::validation, "received_at is in the future", {{"received_at", "must not be in the future"}});
    received = *at;
  }
  // By default the officer who records it: the user the caller's key acts for.
  std::string assignee = body.contains("assignee_id") ? body["assignee_id"].get<std::string>()
                         : ctx.principal ? ctx.principal->user_id : "";
  Timestamp due{received.micros + deps_.privacy.request_deadline_days * micros_per_day};
  const std::string id = generate_id(id_prefix::privacy_request, now);
  return deps_.database.in_one_transaction(ctx.tenant_id, [&] {
    std::string task_id;
    deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
      if (!store::RecordTable(entity_spec("contact")).find(tx, ctx.tenant_id, contact_id))
        throw Error(ErrorCode::validation, "no contact " + contact_id + " in this tenant", {{"contact_id", "no such contact"}});
      if (!assignee.empty()) require_admin_user(tx, ctx.tenant_id, assignee);
    });
    Json request = {{"id", id}, {"kind", kind}, {"due_at", format_rfc3339(due)}};
    if (!assignee.empty())
      task_id = RecordService(deps_)
                    .create(ctx, "task", {{"title", task_title(request)}, {"due_at", request["due_at"]},
                                          {"assignee_id", assignee}, {"contact_id", contact_id}})
                    .record["id"];
    return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
      auto or_null = [](const std::string& s) { return s.empty() ? store::SqlValue{} : store::SqlValue{s}; };
      store::execute(tx.session(),
                     "INSERT INTO privacy_requests (id, tenant_id, kind, subject_id, status, received_via, details,"
                     " received_at, due_at, assignee_id, task_id, created_by, updated_at)"
                     " VALUES (:p0, :p1, :p2, :p3, 'received', :p4, :p5, :p6, :p7, :p8, :p9, :p10, :p11)",
                     {id, ctx.tenant_id, kind, contact_id, body["received_via"].get<std::string>(),
                      body.contains("details") ? store::SqlValue{body["details"].get<std::string>()} : store::SqlValue{},
                      received.micros, due.micros, or_null(assignee), or_null(task_id), ctx.actor.id, now.micros});
      Json created = load_or_404(tx, ctx.tenant_id, id);
      Change change = request_change("privacy.request_received", Json::object(), created);
      commit_change(tx, ctx, change);
      return shown(tx, ctx, created);
    });
  });
}

Json PrivacyRequestService::get(const CallContext& ctx, const std::string& id) {
  require_reader(ctx);
  return deps_.database.read(ctx.tenant_id,
                             [&](store::Transaction& tx) { return shown(tx, ctx, load_or_404(tx, ctx.tenant_id, id)); });
}

std::vector<Json> PrivacyRequestService::list(const CallContext& ctx, const std::string& status,
                                              const std::string& subject_id, std::size_t limit) {
  require_reader(ctx);
  static const std::vector<std::string> statuses{"", "open", "received", "in_progress", "completed", "rejected"};
  if (std::find(statuses.begin(), statuses.end(), status) == statuses.end())
    throw Error(ErrorCode::validation, "status must be open, received, in_progress, completed or rejected",
                {{"status", "unknown status '" + status + "'"}});
  std::string sql = std::string("SELECT ") + request_columns + " FROM privacy_requests WHERE tenant_id = :p0";
  std::vector<store::SqlValue> values{ctx.tenant_id};
  if (status == "open") {
    sql += " AND status IN ('received', 'in_progress')";
  } else if (!status.empty()) {
    sql += " AND status = " + store::placeholder(values.size());
    values.push_back(status);
  }
  if (!subject_id.empty()) {
    sql += " AND subject_id = " + store::placeholder(values.size());
    values.push_back(subject_id);
  }
  sql += " ORDER BY received_at DESC, id DESC LIMIT " + store::placeholder(values.size());
  values.push_back(static_cast<std::int64_t>(limit));
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    std::vector<Json> stored, out;
    store::query(tx.session(), sql, values, [&](const store::Row& r) { stored.push_back(stored_json(r)); });
    for (auto& r : stored) out.push_back(shown(tx, ctx, std::move(r)));
    return out;
  });
}

Json PrivacyRequestService::assign(const CallContext& ctx, const std::string& id, const Json& body) {
  require_officer(ctx);
  return deps_.database.in_one_transaction(ctx.tenant_id, [&] {
    std::string assignee_id;
    Json before = deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
      Json found = load_or_404(tx, ctx.tenant_id, id);  // 404 before 422, as everywhere
      check_body(body, {"assignee_id"}, {"assignee_id"}, "an assignment");
      assignee_id = body["assignee_id"];
      require_admin_user(tx, ctx.tenant_id, assignee_id);
      return found;
    });
    if (before["status"] == "completed" || before["status"] == "rejected")
      throw Error(ErrorCode::conflict, "privacy request " + id + " is " + before["status"].get<std::string>());
    RecordService records(deps_);
    std::string task_id = before["task_id"].is_string() ? before["task_id"].get<std::string>() : "";
    if (task_id.empty())
      task_id = records.create(ctx, "task", {{"title", task_title(before)}, {"due_at", before["due_at"]},
                                             {"assignee_id", assignee_id}, {"contact_id", before["contact_id"]}})
                    .record["id"];
    else
      records.update(ctx, "task", task_id, {{"assignee_id", assignee_id}});
    return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
      return shown(tx, ctx, apply_step(tx, ctx, before, "privacy.request_assigned",
                                       {{"assignee_id", assignee_id}, {"task_id", task_id}}));
    });
  });
}

Json PrivacyRequestService::verify_identity(const CallContext& ctx, const std::string& id, const Json& body) {
  require_officer(ctx);
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    Json before = load_or_404(tx, ctx.tenant_id, id);
    check_body(body, {"method", "reference"}, {"method", "reference"}, "an identity check");
    if (before["status"] == "completed" || before["status"] == "rejected")
      throw Error(ErrorCode::conflict, "privacy request " + id + " is " + before["status"].get<std::string>());
    return shown(tx, ctx, apply_step(tx, ctx, before, "privacy.request_identity_verified",
                                     {{"identity_method", body["method"].get<std::string>()},
                                      {"identity_reference", body["reference"].get<std::string>()},
                                      {"identity_verified_by", ctx.actor.id},
                                      {"identity_verified_at", ctx.now().micros},
                                      {"status", std::string("in_progress")}}));
  });
}

Json PrivacyRequestService::queue_report(const CallContext& ctx, const std::string& id) {
  require_officer(ctx);
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    Json before = load_or_404(tx, ctx.tenant_id, id);
    if (!reportable(before["kind"]))
      throw Error(ErrorCode::conflict, "a " + before["kind"].get<std::string>() +
                                           " request has no report; access, portability and information_on_sharing do");
    if (before["status"] != "in_progress")
      throw Error(ErrorCode::conflict, "privacy request " + id + " is " + before["status"].get<std::string>() +
                                           (before["status"] == "received" ? ": record the identity check first" : ""));
    Json state = report_state(tx, ctx.tenant_id, id);
    if (state.is_object() && (state["status"] == "queued" || state["status"] == "running"))
      throw Error(ErrorCode::conflict, "the report of privacy request " + id + " is already " +
                                           state["status"].get<std::string>());
    Timestamp now = ctx.now();
    store::execute(tx.session(), "DELETE FROM privacy_reports WHERE tenant_id = :p0 AND request_id = :p1", {ctx.tenant_id, id});
    store::execute(tx.session(),
                   "INSERT INTO privacy_reports (request_id, tenant_id, subject_id, status, queued_at)"
                   " VALUES (:p0, :p1, :p2, 'queued', :p3)",
                   {id, ctx.tenant_id, before["contact_id"].get<std::string>(), now.micros});
    events::enqueue_job(tx, privacy_report_job_name, ctx.tenant_id, {{"request_id", id}}, now, now);
    Json after = apply_step(tx, ctx, before, "privacy.report_queued", {});
    return shown(tx, ctx, after);
  });
}

void PrivacyRequestService::build_report(const CallContext& ctx, const std::string& request_id) {
  // Claimed again after a crash: a report still running starts over.
  Json request;
  bool claimed = deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    auto found = load(tx, ctx.tenant_id, request_id);
    if (!found) return false;
    request = *found;
    return store::execute(tx.session(),
                          "UPDATE privacy_reports SET status = 'running', done = 0, total = 0, error = NULL"
                          " WHERE tenant_id = :p0 AND request_id = :p1 AND status IN ('queued', 'running')",
                          {ctx.tenant_id, request_id}) == 1;
  });
  if (!claimed) return;  // ready already, or erasure took it
  auto last_write = std::chrono::steady_clock::now() - std::chrono::seconds(10);
  auto progress = [&](std::size_t done, std::size_t total) {
    auto now = std::chrono::steady_clock::now();
    if (done != total && now - last_write < std::chrono::seconds(1)) return;
    last_write = now;
    deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
      store::execute(tx.session(),
                     "UPDATE privacy_reports SET done = :p0, total = :p1 WHERE tenant_id = :p2 AND request_id = :p3"
                     " AND status = 'running'",
                     {static_cast<std::int64_t>(done), static_cast<std::int64_t>(total), ctx.tenant_id, request_id});
    });
  };
  try {
    Json bundle = SubjectReport(deps_).build(ctx, request, progress);
    const std::string text = bundle.dump(), document = SubjectReport::markdown(bundle), digest = sha256_hex(text);
    deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
      Timestamp now = ctx.now();
      if (store::execute(tx.session(),
                         "UPDATE privacy_reports SET status = 'ready', bundle = :p0, document = :p1, digest = :p2,"
                         " generated_at = :p3, done = total WHERE tenant_id = :p4 AND request_id = :p5 AND status = 'running'",
                         {text, document, digest, now.micros, ctx.tenant_id, request_id}) != 1)
        return;  // erased meanwhile: her data is not kept
      Json before = load_or_404(tx, ctx.tenant_id, request_id);
      store::execute(tx.session(),
                     "UPDATE privacy_requests SET version = version + 1, updated_at = :p0 WHERE tenant_id = :p1 AND id = :p2",
                     {now.micros, ctx.tenant_id, request_id});
      Json after = load_or_404(tx, ctx.tenant_id, request_id);
      Change change{"privacy.report_generated", "privacy_request", request_id,
                    {{"report", {{"from", nullptr},
                                 {"to", {{"digest", digest}, {"bytes", text.size()},
                                         {"records", bundle["history"].size()}}}}}},
                    after};
      commit_change(tx, ctx, change);
    });
  } catch (const std::exception& e) {
    deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
      store::execute(tx.session(),
                     "UPDATE privacy_reports SET status = 'failed', error = :p0 WHERE tenant_id = :p1 AND request_id = :p2"
                     " AND status = 'running'",
                     {std::string(e.what()).substr(0, 1000), ctx.tenant_id, request_id});
    });
    throw;
  }
}

SubjectReportFile PrivacyRequestService::report(const CallContext& ctx, const std::string& id, const std::string& format) {
  require_reader(ctx);
  check_format(format);
  auto file = deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    load_or_404(tx, ctx.tenant_id, id);
    return ready_report(tx, ctx.tenant_id, id, format);
  });
  record_read_events(deps_, ctx.tenant_id, {report_read_event(ctx, "privacy.report_read", id, {{"format", format}})});
  return file;
}

Json PrivacyRequestService::download_link(const CallContext& ctx, const std::string& id) {
  require_officer(ctx);
  deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    Json request = load_or_404(tx, ctx.tenant_id, id);
    if (request["identity"].is_null())
      throw Error(ErrorCode::conflict, "privacy request " + id + " has no identity check: record it first");
    Json state = report_state(tx, ctx.tenant_id, id);  // its state only: the bundle may be tens of MB
    if (!state.is_object() || state["status"] != "ready")
      throw Error(ErrorCode::conflict, "privacy request " + id + " has no ready report: generate it first");
  });
  Timestamp expires{ctx.now().micros + std::int64_t{deps_.privacy.report_link_hours} * 3'600'000'000};
  std::string token = ctx.tenant_id + "." + id + "." + std::to_string(expires.micros) + "." +
                      link_signature(deps_.secrets, ctx.tenant_id, id, expires.micros);
  std::string path = "/v1/privacy/reports/" + token;
  Json link = {{"url", deps_.public_url + path}, {"path", path}, {"expires_at", format_rfc3339(expires)}};
  record_read_events(deps_, ctx.tenant_id,
                     {report_read_event(ctx, "privacy.report_link_issued", id, {{"expires_at", link["expires_at"]}})});
  return link;
}

SubjectReportFile PrivacyRequestService::download(const CallContext& ctx, const std::string& token,
                                                  const std::string& format) {
  check_format(format);
  static const std::regex shape("^(ten_[a-z0-9]{1,64})\\.(dsr_[a-z0-9]{1,64})\\.([0-9]{1,19})\\.([0-9a-f]{32})$");
  std::smatch m;
  const Error invalid(ErrorCode::not_found, "this download link is not valid");
  if (token.size() > 300 || !std::regex_match(token, m, shape)) throw invalid;
  const std::string tenant = m[1], id = m[2];
  const std::int64_t expires = std::stoll(m[3]);
  if (!constant_time_equal(link_signature(deps_.secrets, tenant, id, expires), m[4].str())) throw invalid;
  if (ctx.now().micros >= expires)
    throw Error(ErrorCode::not_found, "this download link expired at " + format_rfc3339(Timestamp{expires}) +
                                          "; ask for a new one");
  CallContext call = ctx;  // acting as the link: the signature is the authority
  call.tenant_id = tenant;
  call.actor = {"system", "report-link", ""};
  call.principal = nullptr;
  auto file = deps_.database.read(tenant, [&](store::Transaction& tx) { return ready_report(tx, tenant, id, format); });
  record_read_events(deps_, tenant, {report_read_event(call, "privacy.report_downloaded", id, {{"format", format}})});
  return file;
}

Json PrivacyRequestService::close(const CallContext& ctx, const std::string& id, const std::string& status,
                                  const Json& body) {
  require_officer(ctx);
  return deps_.database.in_one_transaction(ctx.tenant_id, [&] {
    Json before = deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
      Json request = load_or_404(tx, ctx.tenant_id, id);
      check_body(body, {"outcome"}, {"outcome"}, status == "completed" ? "a completion" : "a rejection", 5000);
      if (request["status"] == "completed" || request["status"] == "rejected")
        throw Error(ErrorCode::conflict, "privacy request " + id + " is already " + request["status"].get<std::string>());
      if (status == "completed") {
        const std::string kind = request["kind"];
        if (request["identity"].is_null())
          throw Error(ErrorCode::conflict, "privacy request " + id + " has no identity check: record it first");
        Json report = report_state(tx, ctx.tenant_id, id);
        if ((kind == "access" || kind == "portability") && !(report.is_object() && report["status"] == "ready"))
          throw Error(ErrorCode::conflict, "the report of privacy request " + id + " is not ready: generate it first");
        auto contact = store::RecordTable(entity_spec("contact")).find(tx, ctx.tenant_id, request["contact_id"]);
        if ((kind == "erasure" || kind == "anonymisation") && contact && (*contact)["erased_at"].is_null())
          throw Error(ErrorCode::conflict, "contact " + request["contact_id"].get<std::string>() +
                                               " still holds personal data: erase it first (POST /v1/privacy/erasures)");
      }
      return request;
    });
    // The task on the agenda ends with the request.
    if (before["task_id"].is_string()) {
      RecordService records(deps_);
      Json task = records.get(ctx, "task", before["task_id"]);
      if (task["status"] == "open") {
        if (status == "completed")
          records.complete_task(ctx, task["id"]);
        else
          records.update(ctx, "task", task["id"], {{"status", "cancelled"}});
      }
    }
    return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
      return shown(tx, ctx, apply_step(tx, ctx, before, "privacy.request_" + status,
                                       {{"status", status},
                                        {"outcome", body["outcome"].get<std::string>()},
                                        {"closed_by", ctx.actor.id},
                                        {"closed_at", ctx.now().micros}}));
    });
  });
}

events::JobDefinition privacy_report_job(ServiceDependencies deps, const Clock& clock) {
  events::JobDefinition job;
  job.name = privacy_report_job_name;
  job.run = [deps, &clock](const Json& row) -> std::string {
    CallContext ctx;
    ctx.tenant_id = row.at("tenant_id").get<std::string>();
    ctx.actor = {"system", privacy_report_job_name, ""};
    ctx.request_id = row.value("job_id", "");
    ctx.clock = &clock;
    PrivacyRequestService(deps).build_report(ctx, row.at("payload").at("request_id").get<std::string>());
    return "";
  };
  return job;
}

}  // namespace nucleo::services
