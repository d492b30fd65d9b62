#include "kernel/services/import_jobs.hpp"

#include <algorithm>
#include <istream>
#include <optional>
#include <streambuf>

#include "kernel/audit/recorder.hpp"
#include "kernel/domain/base64.hpp"
#include "kernel/domain/digest.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/domain/json_text.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/change.hpp"
#include "kernel/services/import_service.hpp"
#include "kernel/services/principal.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

using store::integer_at;
using store::SqlValue;
using store::text_at;

constexpr std::size_t chunk_bytes = 1 << 20;      // the stored file's pieces
constexpr std::size_t errors_kept_in_memory = 100'000;  // an atomic run's or a dry run's failures

const char* const columns =
    "id, status, entity_type, mapping, options, file_name, file_bytes, actor, rows_done, created, updated,"
    " unchanged, failed, bytes_read, error, cancel_requested, runner, heartbeat_at, created_at, started_at,"
    " finished_at, updated_at, tenant_id, runs";

struct ImportRecord {
  std::string id, status, entity_type, file_name, error, runner, tenant_id;
  Json mapping, options, actor;
  std::int64_t file_bytes = 0, rows_done = 0, created = 0, updated = 0, unchanged = 0, failed = 0, bytes_read = 0;
  bool cancel_requested = false;
  std::optional<std::int64_t> heartbeat_at, started_at, finished_at;
  std::int64_t created_at = 0, updated_at = 0;
  std::int64_t runs = 0;  // times a runner claimed it
};

ImportRecord record_of(const store::Row& r) {
  ImportRecord i;
  i.id = store::required_text(r, 0);
  i.status = store::required_text(r, 1);
  i.entity_type = store::required_text(r, 2);
  i.mapping = Json::parse(store::required_text(r, 3));
  i.options = Json::parse(store::required_text(r, 4));
  i.file_name = text_at(r, 5).value_or("");
  i.file_bytes = store::required_integer(r, 6);
  i.actor = Json::parse(store::required_text(r, 7));
  i.rows_done = store::required_integer(r, 8);
  i.created = store::required_integer(r, 9);
  i.updated = store::required_integer(r, 10);
  i.unchanged = store::required_integer(r, 11);
  i.failed = store::required_integer(r, 12);
  i.bytes_read = store::required_integer(r, 13);
  i.error = text_at(r, 14).value_or("");
  i.cancel_requested = integer_at(r, 15).value_or(0) != 0;
  i.runner = text_at(r, 16).value_or("");
  i.heartbeat_at = integer_at(r, 17);
  i.created_at = store::required_integer(r, 18);
  i.started_at = integer_at(r, 19);
  i.finished_at = integer_at(r, 20);
  i.updated_at = store::required_integer(r, 21);
  i.tenant_id = store::required_text(r, 22);
  i.runs = integer_at(r, 23).value_or(0);
  return i;
}

Json time_or_null(const std::optional<std::int64_t>& micros) {
  return micros ? Json(format_rfc3339(Timestamp{*micros})) : Json();
}

// The import as the API answers it. The rate and the time left are estimated from the
// bytes read since the run started (the row count is unknown until the file ends).
Json import_json(const ImportRecord& i) {
  Json progress = {{"rows_done", i.rows_done}, {"created", i.created}, {"updated", i.updated},
                   {"unchanged", i.unchanged}, {"failed", i.failed},   {"bytes_read", i.bytes_read},
                   {"percent", i.file_bytes > 0 ? std::min<std::int64_t>(100, i.bytes_read * 100 / i.file_bytes) : 0},
                   {"rows_per_second", nullptr}, {"eta_seconds", nullptr}};
  if (i.status == "done") progress["percent"] = 100;
  if (i.started_at && i.heartbeat_at && *i.heartbeat_at > *i.started_at && i.status == "running") {
    double seconds = static_cast<double>(*i.heartbeat_at - *i.started_at) / 1e6;
    progress["rows_per_second"] = static_cast<std::int64_t>(static_cast<double>(i.rows_done) / seconds);
    if (i.bytes_read > 0)
      progress["eta_seconds"] = static_cast<std::int64_t>(static_cast<double>(i.file_bytes - i.bytes_read) /
                                                          (static_cast<double>(i.bytes_read) / seconds));
  }
  return {{"id", i.id},
          {"tenant_id", i.tenant_id},
          {"status", i.status},
          {"entity_type", i.entity_type},
          {"file_name", i.file_name.empty() ? Json() : Json(i.file_name)},
          {"file_bytes", i.file_bytes},
          {"options", i.options},
          {"mapping", i.mapping},
          {"progress", progress},
          {"error", i.error.empty() ? Json() : Json(i.error)},
          {"cancel_requested", i.cancel_requested},
          {"created_by", i.actor},
          {"created_at", format_rfc3339(Timestamp{i.created_at})},
          {"started_at", time_or_null(i.started_at)},
          {"finished_at", time_or_null(i.finished_at)},
          {"updated_at", format_rfc3339(Timestamp{i.updated_at})}};
}

// {"format", "encoding", "delimiter", "dry_run", "atomic"}, every one optional; anything else
// refused. A format is csv, jsonl or one a loaded plugin provides.
ImportOptions options_of(const Json& given, const ImportFormats& formats) {
  if (!given.is_object())
    throw Error(ErrorCode::validation, "the options must be an object", {{"options", "must be an object"}});
  ImportOptions o;
  std::vector<FieldError> problems;
  for (auto it = given.begin(); it != given.end(); ++it) {
    const std::string& name = it.key();
    const Json& v = it.value();
    if (name == "format") {
      if (v == "csv" || v == "jsonl") o.format = v == "csv" ? ImportFormat::csv : ImportFormat::jsonl;
      else if (v.is_string() && formats.find(v.get<std::string>())) o.format_name = v.get<std::string>();
      else {
        std::string known = "csv, jsonl";
        for (const auto& n : formats.names()) known += ", " + n;
        problems.push_back({name, "must be one of " + known});
      }
    } else if (name == "encoding") {
      auto e = v.is_string() ? text_encoding_named(v.get<std::string>()) : std::nullopt;
      if (e) o.csv.encoding = *e;
      else problems.push_back({name, "must be utf-8, iso-8859-1 or windows-1252"});
    } else if (name == "delimiter") {
      std::string d = v.is_string() ? v.get<std::string>() : "";
      if (d == "tab" || d == "\\t") d = "\t";
      if (d.size() == 1) o.csv.delimiter = d[0];
      else if (!v.is_null() && !d.empty()) problems.push_back({name, "must be one character (or tab)"});
      else if (!v.is_null() && !v.is_string()) problems.push_back({name, "must be a string: one character (or tab)"});
    } else if (name == "dry_run" || name == "atomic") {
      if (!v.is_boolean()) problems.push_back({name, "must be true or false"});
      else (name == "dry_run" ? o.dry_run : o.atomic) = v.get<bool>();
    } else {
      problems.push_back({name, "is not an import option (format, encoding, delimiter, dry_run, atomic)"});
    }
  }
  if (!problems.empty()) throw Error(ErrorCode::validation, "invalid import options", std::move(problems));
  return o;
}

std::optional<ImportRecord> find_import(store::Transaction& tx, const std::string& tenant_id, const std::string& id) {
  std::optional<ImportRecord> found;
  store::query(tx.session(), std::string("SELECT ") + columns + " FROM imports WHERE tenant_id = :p0 AND id = :p1",
               {tenant_id, id}, [&](const store::Row& r) { found = record_of(r); });
  return found;
}

ImportRecord require_import(store::Transaction& tx, const std::string& tenant_id, const std::string& id) {
  auto found = find_import(tx, tenant_id, id);
  if (!found) throw Error(ErrorCode::not_found, "import " + id + " not found");
  return *found;
}

// The stored file, one piece at a time: memory stays flat whatever its size.
class StoredFile : public std::streambuf {
 public:
  StoredFile(store::Database& database, std::string tenant_id, std::string import_id)
      : database_(database), tenant_id_(std::move(tenant_id)), import_id_(std::move(import_id)) {}
  std::int64_t bytes_read() const { return before_ + (gptr() - eback()); }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    before_ += static_cast<std::int64_t>(piece_.size());
    piece_.clear();
    database_.read(tenant_id_, [&](store::Transaction& tx) {
      store::query(tx.session(),
                   "SELECT data FROM import_chunks WHERE tenant_id = :p0 AND import_id = :p1 AND seq = :p2",
                   {tenant_id_, import_id_, next_}, [&](const store::Row& r) {
                     auto bytes = from_base64(store::required_text(r, 0));
                     if (!bytes) throw Error(ErrorCode::internal, "import " + import_id_ + ": a stored piece is corrupt");
                     piece_ = std::move(*bytes);
                   });
    });
    ++next_;
    if (piece_.empty()) return traits_type::eof();
    setg(piece_.data(), piece_.data(), piece_.data() + piece_.size());
    return traits_type::to_int_type(*gptr());
  }

 private:
  store::Database& database_;
  std::string tenant_id_, import_id_;
  std::string piece_;
  std::int64_t next_ = 0, before_ = 0;
};

void append_errors(store::Transaction& tx, const std::string& tenant_id, const std::string& import_id,
                   const ImportRow& row) {
  std::int64_t seq = 0;
  for (const auto& e : row.errors)
    tx.append("import_errors", "(tenant_id, import_id, row_number, line, seq, field, message)",
              {tenant_id, import_id, static_cast<std::int64_t>(row.row), static_cast<std::int64_t>(row.line), seq++,
               e.field, e.message});
}

// Who runs an import: its creator, as an admin (only admins create them).
CallContext runner_context(const ImportRecord& i, const Clock& clock) {
  CallContext ctx;
  ctx.tenant_id = i.tenant_id;
  ctx.actor = {i.actor.value("type", "system"), i.actor.value("id", "import"),
               i.actor.value("on_behalf_of", Json()).is_string() ? i.actor["on_behalf_of"].get<std::string>() : ""};
  ctx.request_id = i.id;
  ctx.clock = &clock;
  auto admin = std::make_shared<Principal>();
  admin->role = "admin";
  admin->user_id = !ctx.actor.on_behalf_of.empty() ? ctx.actor.on_behalf_of : ctx.actor.type == "user" ? ctx.actor.id : "";
  ctx.principal = admin;
  return ctx;
}

}  // namespace

Json ImportJobService::create(const CallContext& ctx, const Json& mapping, const Json& options,
                              const std::string& file_name, std::string_view file) {
  require_role(ctx, {"admin"}, "imports are for the admin role only", "imports:write");
  // A plugin's format may bring its own mapping: the import keeps the one it will use.
  const Json used = ImportService(deps_).mapping_for(mapping, options_of(options, deps_.import_formats));
  std::string entity_type = ImportService::check_mapping(used);
  if (file.empty()) throw Error(ErrorCode::validation, "the file is empty", {{"file", "is empty"}});
  if (file_name.size() > 255 || !is_valid_utf8(file_name))
    throw Error(ErrorCode::validation, "the file name is too long or not UTF-8", {{"file_name", "must be UTF-8, at most 255 bytes"}});
  Timestamp now = ctx.now();
  std::string id = generate_id(id_prefix::bulk_import, now);
  Json created = deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    tx.announce(store::Work::imports);
    store::execute(tx.session(),
                   "INSERT INTO imports (id, tenant_id, status, entity_type, mapping, options, file_name, file_bytes,"
                   " actor, created_at, updated_at) VALUES (:p0, :p1, 'queued', :p2, :p3, :p4, :p5, :p6, :p7, :p8, :p9)",
                   {id, ctx.tenant_id, entity_type, used.dump(), options.dump(),
                    file_name.empty() ? SqlValue{} : SqlValue{file_name}, static_cast<std::int64_t>(file.size()),
                    ctx.actor.to_json().dump(), now.micros, now.micros});
    for (std::size_t at = 0, seq = 0; at < file.size(); at += chunk_bytes, ++seq)
      store::execute(tx.session(),
                     "INSERT INTO import_chunks (tenant_id, import_id, seq, data) VALUES (:p0, :p1, :p2, :p3)",
                     {ctx.tenant_id, id, static_cast<std::int64_t>(seq), to_base64(file.substr(at, chunk_bytes))});
    Json shown = import_json(require_import(tx, ctx.tenant_id, id));
    Json summary = {{"entity_type", entity_type}, {"file_name", shown["file_name"]}, {"file_bytes", file.size()},
                    {"options", options}};
    commit_change(tx, ctx, {"import.created", "import", id, audit::diff_changes(Json(), summary), shown});
    return shown;
  });
  return created;
}

Json ImportJobService::get(const CallContext& ctx, const std::string& id) {
  require_role(ctx, {"admin"}, "imports are for the admin role only", "imports:read");
  return deps_.database.read(ctx.tenant_id,
                             [&](store::Transaction& tx) { return import_json(require_import(tx, ctx.tenant_id, id)); });
}

std::vector<Json> ImportJobService::list(const CallContext& ctx, std::size_t limit) {
  require_role(ctx, {"admin"}, "imports are for the admin role only", "imports:read");
  std::vector<Json> out;
  deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    store::query(tx.session(),
                 std::string("SELECT ") + columns +
                     " FROM imports WHERE tenant_id = :p0 ORDER BY created_at DESC, id DESC LIMIT " + std::to_string(limit),
                 {ctx.tenant_id}, [&](const store::Row& r) { out.push_back(import_json(record_of(r))); });
  });
  return out;
}

Json ImportJobService::cancel(const CallContext& ctx, const std::string& id) {
  require_role(ctx, {"admin"}, "imports are for the admin role only", "imports:write");
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    ImportRecord i = require_import(tx, ctx.tenant_id, id);
    if (i.status != "queued" && i.status != "running")
      throw Error(ErrorCode::conflict, "import " + id + " is already " + i.status);
    std::int64_t now = ctx.now().micros;
    bool queued = i.status == "queued";
    store::execute(tx.session(),
                   queued ? "UPDATE imports SET status = 'cancelled', cancel_requested = 1, finished_at = :p0,"
                            " updated_at = :p1 WHERE tenant_id = :p2 AND id = :p3"
                          : "UPDATE imports SET cancel_requested = 1, finished_at = NULL, updated_at = :p0"
                            " WHERE tenant_id = :p1 AND id = :p2",
                   queued ? std::vector<SqlValue>{now, now, ctx.tenant_id, id} : std::vector<SqlValue>{now, ctx.tenant_id, id});
    Json shown = import_json(require_import(tx, ctx.tenant_id, id));
    commit_change(tx, ctx,
                  {queued ? "import.cancelled" : "import.cancel_requested", "import", id,
                   audit::diff_changes({{"cancel_requested", false}}, {{"cancel_requested", true}}), shown});
    return shown;
  });
}

void ImportJobService::write_errors_csv(const CallContext& ctx, const std::string& id,
                                        const std::function<bool(std::string_view)>& write) {
  require_role(ctx, {"admin"}, "imports are for the admin role only", "imports:read");
  deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) { require_import(tx, ctx.tenant_id, id); });
  if (!write("row,line,column,message\r\n")) return;
  std::int64_t after_row = -1, after_seq = -1;
  for (bool more = true; more;) {  // pages of 1,000 reasons in (row, seq) order
    std::string page;
    std::size_t n = 0;
    deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
      store::query(tx.session(),
                   "SELECT row_number, line, seq, field, message FROM import_errors WHERE tenant_id = :p0"
                   " AND import_id = :p1 AND (row_number > :p2 OR (row_number = :p3 AND seq > :p4))"
                   " ORDER BY row_number, seq LIMIT 1000",
                   {ctx.tenant_id, id, after_row, after_row, after_seq}, [&](const store::Row& r) {
                     after_row = store::required_integer(r, 0);
                     after_seq = store::required_integer(r, 2);
                     page += std::to_string(after_row) + "," + std::to_string(store::required_integer(r, 1)) + "," +
                             csv_report_cell(store::required_text(r, 3)) + "," + csv_report_cell(store::required_text(r, 4)) + "\r\n";
                     ++n;
                   });
    });
    more = n == 1000;
    if (!page.empty() && !write(page)) return;
  }
}

std::size_t ImportJobService::run_one(const Clock& clock, const std::string& node_id,
                                      std::chrono::milliseconds stale_after, const std::atomic<bool>& stopping,
                                      std::optional<std::chrono::milliseconds>* due_in) {
  // Claim: the oldest import nobody holds, or whose runner fell silent.
  std::string token = node_id + "/" + random_hex(8);
  std::int64_t now = clock.now().micros;
  std::int64_t silent_since = now - std::chrono::duration_cast<std::chrono::microseconds>(stale_after).count();
  std::optional<ImportRecord> claimed;
  store::Database& worker = deps_.worker_database;
  // First a look in one statement outside a transaction (an idle runner's whole cost):
  // the earliest heartbeat of an import that is not over, 0 for one nobody runs.
  std::optional<std::int64_t> oldest_heartbeat;
  worker.read_one_statement([&](soci::session& session) {
    store::query(session,
                 "SELECT MIN(COALESCE(heartbeat_at, 0)) FROM imports WHERE status IN ('queued', 'running')", {},
                 [&](const store::Row& r) { oldest_heartbeat = store::integer_at(r, 0); });
  });
  if (!oldest_heartbeat || *oldest_heartbeat >= silent_since) {
    if (due_in && oldest_heartbeat)
      *due_in = std::chrono::milliseconds((*oldest_heartbeat - silent_since) / 1000 + 1);
    return 0;
  }
  worker.write("", [&](store::Transaction& tx) {
    std::string sql = std::string("SELECT ") + columns +
                      " FROM imports WHERE status IN ('queued', 'running') AND (heartbeat_at IS NULL OR heartbeat_at < :p0)"
                      " ORDER BY created_at LIMIT 1";
    if (worker.backend() == store::Backend::postgresql) sql += " FOR UPDATE SKIP LOCKED";
    store::query(tx.session(), sql, {silent_since}, [&](const store::Row& r) { claimed = record_of(r); });
    if (!claimed) return;
    if (claimed->cancel_requested) {  // its runner died after the request: nothing more to do
      store::execute(tx.session(),
                     "UPDATE imports SET status = 'cancelled', runner = NULL, heartbeat_at = NULL, finished_at = :p0,"
                     " updated_at = :p1 WHERE id = :p2",
                     {now, now, claimed->id});
      claimed.reset();
      return;
    }
    if (claimed->runs >= ImportJobService::max_runs) {  // it failed, or killed its node, every time
      std::string why = "given up after " + std::to_string(claimed->runs) + " runs that did not finish" +
                        (claimed->error.empty() ? "" : "; the last: " + claimed->error);
      store::execute(tx.session(),
                     "UPDATE imports SET status = 'failed', error = :p0, runner = NULL, heartbeat_at = NULL,"
                     " finished_at = :p1, updated_at = :p2 WHERE id = :p3",
                     {why, now, now, claimed->id});
      claimed.reset();
      return;
    }
    // An atomic import or a dry run kept nothing of an earlier run: it starts again.
    bool one_transaction = claimed->options.value("atomic", false) || claimed->options.value("dry_run", false);
    if (one_transaction) {
      store::execute(tx.session(), "DELETE FROM import_errors WHERE import_id = :p0", {claimed->id});
      claimed->rows_done = claimed->created = claimed->updated = claimed->unchanged = claimed->failed = 0;
    }
    store::execute(tx.session(),
                   "UPDATE imports SET status = 'running', runs = runs + 1, runner = :p0, heartbeat_at = :p1,"
                   " started_at = COALESCE(started_at, :p2), rows_done = :p3, created = :p4, updated = :p5,"
                   " unchanged = :p6, failed = :p7, updated_at = :p8 WHERE id = :p9",
                   {token, now, now, claimed->rows_done, claimed->created, claimed->updated, claimed->unchanged,
                    claimed->failed, now, claimed->id});
  });
  if (!claimed) return 0;
  const ImportRecord& i = *claimed;

  ImportOptions options = options_of(i.options, deps_.import_formats);
  options.import_id = i.id;
  bool one_transaction = options.atomic || options.dry_run;
  if (!one_transaction) {
    options.resume.rows = static_cast<std::size_t>(i.rows_done);
    options.resume.created = static_cast<std::size_t>(i.created);
    options.resume.updated = static_cast<std::size_t>(i.updated);
    options.resume.unchanged = static_cast<std::size_t>(i.unchanged);
    options.resume.failed = static_cast<std::size_t>(i.failed);
  }
  StoredFile stored(deps_.database, i.tenant_id, i.id);
  std::istream file(&stored);
  CallContext ctx = runner_context(i, clock);
  std::string cancelled_error = "cancelled or taken over";
  // Each batch: its progress and failures commit with its rows, if this runner still holds
  // the import and nobody asked to cancel it.
  options.on_batch = [&](const std::vector<ImportRow>& rows, const ImportReport& totals) {
    deps_.database.write(i.tenant_id, [&](store::Transaction& tx) {
      std::int64_t at = clock.now().micros;
      auto held = store::execute(
          tx.session(),
          "UPDATE imports SET rows_done = :p0, created = :p1, updated = :p2, unchanged = :p3, failed = :p4,"
          " bytes_read = :p5, heartbeat_at = :p6, updated_at = :p7 WHERE tenant_id = :p8 AND id = :p9 AND runner = :p10"
          " AND cancel_requested = 0",
          {static_cast<std::int64_t>(totals.rows), static_cast<std::int64_t>(totals.created),
           static_cast<std::int64_t>(totals.updated), static_cast<std::int64_t>(totals.unchanged),
           static_cast<std::int64_t>(totals.failed), stored.bytes_read(), at, at, i.tenant_id, i.id, token});
      if (held != 1) throw ImportStopped{};
      for (const auto& r : rows)
        if (r.action == "failed") append_errors(tx, i.tenant_id, i.id, r);
    });
  };
  // One transaction (atomic, dry run): the progress is only a heartbeat, in a transaction
  // of its own; the failures are kept to be stored at the end.
  std::vector<ImportRow> failures;
  std::size_t failures_dropped = 0;
  auto still_held = [&] {
    bool held = false;  // read in the import's transaction: each statement sees what others committed
    deps_.database.read(i.tenant_id, [&](store::Transaction& tx) {
      store::query(tx.session(),
                   "SELECT cancel_requested FROM imports WHERE tenant_id = :p0 AND id = :p1 AND runner = :p2",
                   {i.tenant_id, i.id, token}, [&](const store::Row& r) { held = integer_at(r, 0).value_or(1) == 0; });
    });
    return held;
  };
  options.stop_requested = [&] { return stopping.load() || (one_transaction && !still_held()); };
  std::function<void(const ImportReport&)> on_progress;
  if (one_transaction && &worker != &deps_.database)
    on_progress = [&](const ImportReport& totals) {
      worker.write("", [&](store::Transaction& tx) {
        std::int64_t at = clock.now().micros;
        store::execute(tx.session(),
                       "UPDATE imports SET rows_done = :p0, bytes_read = :p1, heartbeat_at = :p2, updated_at = :p3"
                       " WHERE id = :p4 AND runner = :p5",
                       {static_cast<std::int64_t>(totals.rows), stored.bytes_read(), at, at, i.id, token});
      });
    };
  auto on_row = [&](const ImportRow& r) {
    if (!one_transaction || r.action != "failed") return;
    if (failures.size() < errors_kept_in_memory) failures.push_back(r);
    else ++failures_dropped;
  };

  // How the run ended, recorded if this runner still holds the import.
  auto finish = [&](const std::string& status, const std::string& error, const ImportReport* report) {
    worker.write("", [&](store::Transaction& tx) {
      std::int64_t at = clock.now().micros;
      std::vector<SqlValue> values;
      std::string sql = "UPDATE imports SET runner = NULL, heartbeat_at = NULL";
      auto set = [&](const std::string& column, SqlValue v) {
        sql += ", " + column + " = " + store::placeholder(values.size());
        values.push_back(std::move(v));
      };
      set("status", status);
      set("error", error.empty() ? SqlValue{} : SqlValue{error});
      set("finished_at", at);
      set("updated_at", at);
      if (report) {
        set("rows_done", static_cast<std::int64_t>(report->rows));
        set("created", static_cast<std::int64_t>(report->created));
        set("updated", static_cast<std::int64_t>(report->updated));
        set("unchanged", static_cast<std::int64_t>(report->unchanged));
        set("failed", static_cast<std::int64_t>(report->failed));
        set("bytes_read", i.file_bytes);
      }
      sql += " WHERE id = " + store::placeholder(values.size());
      values.push_back(i.id);
      sql += " AND runner = " + store::placeholder(values.size());
      values.push_back(token);
      auto held = store::execute(tx.session(), sql, values);
      if (held == 1 && one_transaction)
        for (const auto& r : failures) append_errors(tx, i.tenant_id, i.id, r);
    });
  };
  // The next runner takes it at once. A node that stops cleanly does not spend one of the
  // import's runs; a failure does, and says why.
  auto hand_back = [&](const std::string& failure) {
    worker.write("", [&](store::Transaction& tx) {
      tx.announce(store::Work::imports);  // another runner takes it at once
      if (failure.empty())
        store::execute(tx.session(),
                       "UPDATE imports SET runner = NULL, heartbeat_at = NULL, runs = runs - 1 WHERE id = :p0 AND runner = :p1",
                       {i.id, token});
      else
        store::execute(tx.session(),
                       "UPDATE imports SET runner = NULL, heartbeat_at = NULL, error = :p0 WHERE id = :p1 AND runner = :p2",
                       {failure, i.id, token});
    });
  };

  try {
    ImportReport report = ImportService(deps_).run(ctx, i.mapping, file, options, on_row, on_progress);
    std::string error;
    if (options.atomic && !report.written && !options.dry_run)
      error = std::to_string(report.failed) + " rows failed: nothing was written (atomic)";
    if (failures_dropped > 0)
      error += (error.empty() ? "" : "; ") + std::to_string(failures_dropped) + " failed rows are not in the error report";
    finish(options.atomic && !report.written && !options.dry_run ? "failed" : "done", error, &report);
    return report.rows;
  } catch (const ImportStopped&) {
    if (stopping.load()) hand_back("");
    else finish("cancelled", "", nullptr);  // asked to cancel (or taken over: then this changes nothing)
    return 1;
  } catch (const Error& e) {
    if (e.code() != ErrorCode::validation) {
      hand_back(e.what());  // the database, not the file: another run tries again (up to max_runs)
      throw;
    }
    finish("failed", e.what(), nullptr);  // the file cannot be read as its mapping says
    return 1;
  }
}

}  // namespace nucleo::services
