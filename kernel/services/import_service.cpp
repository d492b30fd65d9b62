#include "kernel/services/import_service.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <set>

#include "kernel/domain/id.hpp"
#include "kernel/domain/import_mapping.hpp"
#include "kernel/domain/jsonl.hpp"
#include "kernel/domain/normalise.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/write_batch.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

// The field a row's record is found by, per entity (none: every row creates).
const std::map<std::string, std::string> upsert_keys = {
    {"contact", "email"}, {"account", "tax_id"}, {"interaction", "external_id"}};

// A value as the entity's table stores it, so a look-up finds what a write stored.
std::optional<std::string> stored_form(const std::string& by, const std::string& value) {
  if (by == "email") return normalise_email(value);
  if (by == "tax_id") {
    auto t = normalise_tax_id(value, "BR");
    if (!t) t = normalise_tax_id(value, "XX");
    return t ? std::optional(t->value) : std::nullopt;
  }
  return value;
}

// The mapping's "key", checked against the entity's (empty: none, every row creates).
std::string upsert_key_of(const ImportMapping& mapping, const Json& document) {
  if (!document.contains("key")) return "";
  auto it = upsert_keys.find(mapping.entity().type);
  if (it == upsert_keys.end() || document["key"] != it->second)
    throw Error(ErrorCode::validation, "a " + mapping.entity().type + " import's key can only be " +
                                           (it == upsert_keys.end() ? std::string("absent (every row creates)") : it->second),
                {{"key", "is not the key of " + mapping.entity().type + " records"}});
  return it->second;
}

void read_chunks(std::istream& file, const std::function<void(std::string_view)>& feed) {
  std::string chunk(64 * 1024, '\0');
  while (file) {
    file.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    feed(std::string_view(chunk.data(), static_cast<std::size_t>(file.gcount())));
  }
}

// A JSON Lines object as the cells of the mapping's columns: text as it is, numbers and
// booleans as JSON writes them, a missing key or null as an empty cell, an array or
// object as its JSON text.
std::vector<std::string> cells_of(const Json& object, const std::vector<std::string>& columns) {
  std::vector<std::string> cells;
  for (const auto& name : columns) {
    auto it = object.find(name);
    if (it == object.end() || it->is_null()) cells.emplace_back();
    else if (it->is_string()) cells.push_back(it->get<std::string>());
    else cells.push_back(it->dump());
  }
  return cells;
}

// Thrown out of a transaction to roll it back (a dry run, an atomic import that failed).
struct RollBack {};

struct PendingRow {
  ImportRow outcome;
  MappedRow mapped;
  std::string existing_id;  // the record the key found: an update
  Json document;            // instead: {"collection", "id", "document"} for a plugin's record store
  Json fact;                // or (ABI 1.8): {"set", "row": {…}} for one of the plugin's fact sets
  Json history;             // another system's dates for a created record (ADR 0045)
};

class Importer {
 public:
  Importer(ServiceDependencies deps, const CallContext& ctx, ImportMapping mapping, std::string key,
           const ImportOptions& options, const std::function<void(const ImportRow&)>& on_row,
           const std::function<void(const ImportReport&)>& on_progress, ImportReport& report)
      : deps_(deps), ctx_(ctx), mapping_(std::move(mapping)), key_(std::move(key)), options_(options), on_row_(on_row),
        on_progress_(on_progress), report_(report) {}

  void record(CsvRecord&& r) {
    if (!bound_) {
      mapping_.bind(r.fields);
      bound_ = true;
      return;
    }
    PendingRow p;
    p.outcome.row = ++report_.rows;
    if (p.outcome.row <= options_.resume.rows) return;  // an earlier run committed it
    p.outcome.line = r.line;
    p.mapped = mapping_.map(r.fields);
    if (auto h = p.mapped.input.find("history"); h != p.mapped.input.end()) {
      p.history = std::move(*h);
      p.mapped.input.erase(h);
    }
    // A key the batch already holds: the rows before go first, so this one updates the
    // record the earlier row made instead of making a second.
    if (auto key = key_of(p.mapped.input); key && !batch_keys_.insert(*key).second) {
      flush();
      batch_keys_.insert(*key);
    }
    batch_.push_back(std::move(p));
    if (batch_.size() >= options_.batch_rows) flush();
  }

  // A document a plugin's parser made for its own record store (ImportFormats), written
  // with the batch by `store`.
  void document(std::size_t line, Json record, const std::function<std::string(const CallContext&, const Json&)>& store) {
    PendingRow p;
    p.outcome.row = ++report_.rows;
    if (p.outcome.row <= options_.resume.rows) return;
    p.outcome.line = line;
    const Json& d = record.value("document", Json());
    if (!record.value("collection", Json()).is_string() || !record.value("id", Json()).is_string() || !d.is_object())
      p.mapped.errors.push_back({"", "line " + std::to_string(line) + ": a record is {\"collection\", \"id\", \"document\": {…}}"});
    p.document = std::move(record);
    store_ = store;
    batch_.push_back(std::move(p));
    if (batch_.size() >= options_.batch_rows) flush();
  }

  // (ABI 1.8) A fact for one of the format's owner's fact sets: written with the batch's
  // other facts of its set in one statement run, audited once for them.
  void fact(std::size_t line, Json fact, const PluginImportFormat& format) {
    PendingRow p;
    p.outcome.row = ++report_.rows;
    if (p.outcome.row <= options_.resume.rows) return;
    p.outcome.line = line;
    if (!fact.value("set", Json()).is_string() || !fact.value("row", Json()).is_object())
      p.mapped.errors.push_back({"", "line " + std::to_string(line) + ": a fact is {\"set\", \"row\": {…}}"});
    p.fact = std::move(fact);
    facts_ = format.facts;
    batch_.push_back(std::move(p));
    if (batch_.size() >= options_.batch_rows) flush();
  }

  // A row that could not be read at all (a JSON Lines line that is not an object).
  void unreadable(std::size_t line, const std::string& problem) {
    PendingRow p;
    p.outcome.row = ++report_.rows;
    if (p.outcome.row <= options_.resume.rows) return;
    p.outcome.line = line;
    p.mapped.errors.push_back({"", problem});
    batch_.push_back(std::move(p));
    if (batch_.size() >= options_.batch_rows) flush();
  }

  void flush() {
    if (batch_.empty()) return;
    if (options_.stop_requested && options_.stop_requested()) throw ImportStopped{};
    resolve_lookups();
    find_existing();
    write_batch();
    if (on_row_)
      for (auto& p : batch_) on_row_(p.outcome);
    batch_.clear();
    batch_keys_.clear();
    if (on_progress_) on_progress_(report_);
  }

 private:
  static void fail(PendingRow& p, std::string column, std::string message) {
    p.outcome.action = "failed";
    p.outcome.errors.push_back({std::move(column), std::move(message)});
  }
  std::optional<std::string> key_of(const Json& input) const {
    Json v = key_.empty() ? Json() : input.value(key_, Json());
    return v.is_string() ? stored_form(key_, v.get<std::string>()) : std::nullopt;
  }
  static bool failed(const PendingRow& p) { return !p.mapped.errors.empty() || p.outcome.action == "failed"; }

  // Ids of `spec`'s live records whose `column` holds each of `values` (several: ambiguous),
  // through an index: a contact's e-mail by its contact point, a Brazilian tax id with its
  // country (accounts_tenant_tax_id). Others (an interaction's external id without its
  // channel, a foreign tax id) read the tenant's rows of that table.
  std::map<std::string, std::vector<std::string>> ids_by(const EntitySpec& spec, const std::string& column,
                                                        const std::set<std::string>& values) {
    std::map<std::string, std::vector<std::string>> found;
    auto row_found = [&](const store::Row& r) { found[store::required_text(r, 1)].push_back(store::required_text(r, 0)); };
    // One statement for all of `wanted`: the tenant's rows of `table` meeting `condition`
    // whose `value_column` is one of them.
    auto ask = [&](const std::string& id, const std::string& table, const std::string& condition,
                   const std::string& value_column, const std::vector<std::string>& wanted) {
      if (wanted.empty()) return;
      std::vector<store::SqlValue> params{ctx_.tenant_id};
      std::string list = store::bound_list(wanted, params);
      deps_.database.read(ctx_.tenant_id, [&](store::Transaction& tx) {
        store::query(tx.session(),
                     "SELECT " + id + ", " + value_column + " FROM " + table + " WHERE tenant_id = :p0" + condition +
                         " AND " + value_column + " IN " + list,
                     params, row_found);
      });
    };
    // The same through an index that the condition and `value_column = value` fit. On
    // PostgreSQL one probe a value (a LATERAL subquery the planner cannot flatten): the
    // `IN (…)` of a batch's 500 values was planned, once the import had grown the table past
    // its statistics, as a filter over the tenant's every row — 500 comparisons a row, 171
    // ms a batch (EXPLAIN ANALYZE as nucleo_app: "Rows Removed by Filter: 20000").
    auto probe = [&](const std::string& id, const std::string& table, const std::string& condition,
                     const std::string& value_column, const std::vector<std::string>& wanted) {
      if (wanted.empty()) return;
      if (deps_.database.backend() != store::Backend::postgresql) return ask(id, table, condition, value_column, wanted);
      deps_.database.read(ctx_.tenant_id, [&](store::Transaction& tx) {
        store::query(tx.session(),
                     "SELECT x.id, w.value FROM unnest(CAST(:p0 AS text[])) AS w(value) CROSS JOIN LATERAL (SELECT " + id +
                         " AS id FROM " + table + " WHERE tenant_id = :p1" + condition + " AND " + value_column +
                         " = w.value OFFSET 0) AS x",
                     {store::text_array(wanted), ctx_.tenant_id}, row_found);
      });
    };
    if (column == "email" && spec.type == "contact") {
      probe("entity_id", "contact_points", " AND entity_type = 'contact' AND kind = 'email'", "value",
            {values.begin(), values.end()});
      return found;
    }
    std::vector<std::string> brazilian, others;
    for (const auto& v : values) (column == "tax_id" && normalise_tax_id(v, "BR") ? brazilian : others).push_back(v);
    probe("id", spec.table, " AND archived_at IS NULL AND tax_id_country = 'BR'", "tax_id", brazilian);
    ask("id", spec.table, " AND archived_at IS NULL", column, others);
    return found;
  }

  // References by tax id, e-mail or external id: one query per kind for the whole batch.
  void resolve_lookups() {
    std::map<std::pair<std::string, std::string>, std::set<std::string>> wanted;
    for (auto& p : batch_)
      for (auto& l : p.mapped.lookups) {
        const EntitySpec* target = find_entity_spec(l.entity);
        auto stored = target && target->field(l.by) ? stored_form(l.by, l.value) : std::nullopt;
        if (!stored) continue;  // reported below
        l.value = *stored;
        wanted[{l.entity, l.by}].insert(*stored);
      }
    std::map<std::pair<std::string, std::string>, std::map<std::string, std::vector<std::string>>> found;
    for (const auto& [what, values] : wanted) found[what] = ids_by(entity_spec(what.first), what.second, values);
    for (auto& p : batch_)
      for (const auto& l : p.mapped.lookups) {
        const auto& ids = found[{l.entity, l.by}][l.value];
        if (ids.size() == 1) {
          p.mapped.input[l.field] = ids[0];
        } else {
          std::string column = l.field;
          fail(p, column, ids.empty() ? "no " + l.entity + " has " + l.by + " " + l.value
                                      : std::to_string(ids.size()) + " " + l.entity + "s have " + l.by + " " + l.value +
                                            ": merge them first");
        }
      }
  }

  // With a key, the records the batch's rows name: updates, not creates.
  void find_existing() {
    if (key_.empty()) return;
    auto found = ids_by(mapping_.entity(), key_, batch_keys_);
    for (auto& p : batch_) {
      auto stored = key_of(p.mapped.input);
      if (!stored || !found.count(*stored)) continue;
      const auto& ids = found[*stored];
      if (ids.size() > 1)
        fail(p, key_, std::to_string(ids.size()) + " records have " + key_ + " " + *stored + ": merge them first");
      else
        p.existing_id = ids[0];
    }
  }

  // Every row at once: what the creates would each ask the database is asked once for all
  // (services/write_batch.hpp), and their rows go out together.
  void write_all(store::Transaction& tx) {
    std::vector<Json> creates;
    for (const auto& p : batch_)
      if (!failed(p) && p.existing_id.empty() && p.document.is_null() && p.fact.is_null()) creates.push_back(p.mapped.input);
    WriteBatch lookups(tx, ctx_, mapping_.entity(), deps_.normalisation, creates);
    write_facts();
    for (auto& p : batch_)
      if (!failed(p) && p.fact.is_null()) write_row(p);
  }

  // The batch's facts, set by set, each set in one call (one audit event).
  void write_facts() {
    std::map<std::string, std::vector<PendingRow*>> by_set;
    for (auto& p : batch_)
      if (!failed(p) && !p.fact.is_null()) by_set[p.fact["set"].get<std::string>()].push_back(&p);
    for (auto& [set, rows] : by_set) {
      std::vector<Json> facts;
      for (auto* p : rows) facts.push_back(p->fact["row"]);
      std::vector<std::string> actions = facts_(ctx_, set, facts);
      for (std::size_t i = 0; i < rows.size(); ++i) rows[i]->outcome.action = actions[i];
    }
  }

  void write_row(PendingRow& p) {
    if (!p.fact.is_null()) {
      p.outcome.action = facts_(ctx_, p.fact["set"].get<std::string>(), {p.fact["row"]}).at(0);
      return;
    }
    if (!p.document.is_null()) {
      p.outcome.action = store_(ctx_, p.document);
      p.outcome.id = p.document["id"];
      return;
    }
    RecordService records(deps_);
    const std::string& type = mapping_.entity().type;
    if (p.existing_id.empty()) {
      WriteResult made = p.history.is_null() ? records.create(ctx_, type, p.mapped.input)
                                             : records.create(with_history(p.history), type, p.mapped.input);
      p.outcome.id = made.record["id"];
      p.outcome.action = "created";
      p.outcome.duplicates = std::move(made.duplicates);
    } else {
      WriteResult result = records.update(ctx_, type, p.existing_id, p.mapped.input, std::nullopt);
      p.outcome.id = p.existing_id;
      p.outcome.action = result.unchanged ? "unchanged" : "updated";
      p.outcome.duplicates = std::move(result.duplicates);
    }
  }

  // The import's context carrying a row's history: its record was created, and a deal
  // entered its stages, when the source system says (an update leaves them be).
  CallContext with_history(const Json& history) const {
    CallContext row = ctx_;
    row.source_history = history;
    return row;
  }

  // The batch in the running transaction (an import's or its own): all rows at once under
  // one savepoint; if one fails, back to it and each row under its own, so the rest stay.
  void write_batch() {
    for (auto& p : batch_)
      for (auto& e : p.mapped.errors) fail(p, e.field, e.message);
    // Joined, so the services' own writes inside run in this transaction.
    ImportReport totals;
    deps_.database.in_one_transaction(ctx_.tenant_id, [&] {
      deps_.database.write(ctx_.tenant_id, [&](store::Transaction& tx) { write_rows(tx); });
      totals = report_;
      std::vector<ImportRow> outcomes;
      for (const auto& p : batch_) totals.count(p.outcome), outcomes.push_back(p.outcome);
      if (options_.on_batch && !options_.dry_run && !options_.atomic) options_.on_batch(outcomes, totals);
    });
    report_ = totals;
    if (options_.atomic && !options_.dry_run)
      for (const auto& p : batch_)
        if (p.outcome.action == "failed") atomic_failed_ = true;
  }

  void write_rows(store::Transaction& tx) {
    std::size_t whole = tx.savepoint();
    try {
      write_all(tx);
      tx.release(whole);  // sends the batch's rows: one the database refuses fails here
      return;
    } catch (const Error&) {
      tx.rollback_to(whole);  // what the rows before wrote is undone too: they go again below
    }
    for (auto& p : batch_) {
      if (failed(p)) continue;
      std::size_t one = tx.savepoint();
      try {
        write_row(p);
        tx.release(one);
      } catch (const Error& e) {
        tx.rollback_to(one);
        p.outcome.id.clear();
        p.outcome.action = "failed";
        if (e.fields().empty()) p.outcome.errors.push_back({"", e.what()});
        for (const auto& f : e.fields()) p.outcome.errors.push_back({f.field, f.message});
      }
    }
  }


 public:
  bool atomic_failed_ = false;

 private:
  ServiceDependencies deps_;
  const CallContext& ctx_;
  ImportMapping mapping_;
  std::string key_;
  const ImportOptions& options_;
  const std::function<void(const ImportRow&)>& on_row_;
  const std::function<void(const ImportReport&)>& on_progress_;
  ImportReport& report_;
  bool bound_ = false;
  std::vector<PendingRow> batch_;
  std::set<std::string> batch_keys_;  // the stored form of each key in batch_
  std::function<std::string(const CallContext&, const Json&)> store_;  // documents' writer
  decltype(PluginImportFormat::facts) facts_;                        // facts' writer
};

}  // namespace

void ImportReport::count(const ImportRow& r) {
  if (r.action == "created") ++created;
  else if (r.action == "updated") ++updated;
  else if (r.action == "unchanged") ++unchanged;
  else ++failed;
}

Json ImportReport::to_json() const {
  return {{"import_id", import_id}, {"dry_run", dry_run}, {"atomic", atomic},   {"written", written},
          {"rows", rows},           {"created", created}, {"updated", updated}, {"unchanged", unchanged},
          {"failed", failed},       {"seconds", seconds}};
}

std::optional<PluginImportFormat> ImportService::plugin_format(const ImportOptions& options) const {
  if (options.format_name.empty() || options.format_name == "csv" || options.format_name == "jsonl") return std::nullopt;
  auto found = deps_.import_formats.find(options.format_name);
  if (!found) throw unknown_format(options.format_name);
  return found;
}

Error ImportService::unknown_format(const std::string& name) const {
  std::string known = "csv, jsonl";
  for (const auto& n : deps_.import_formats.names()) known += ", " + n;
  return Error(ErrorCode::validation, "unknown import format " + name + " (this server reads " + known + ")",
               {{"format", "must be one of " + known}});
}

Json ImportService::mapping_for(const Json& given, const ImportOptions& options) const {
  if (!given.is_null()) return given;
  if (auto plugin = plugin_format(options)) return plugin->mapping;
  throw Error(ErrorCode::validation, "the mapping is required (docs/import.md)", {{"mapping", "is required"}});
}

std::string ImportService::check_mapping(const Json& mapping_document) {
  ImportMapping mapping = ImportMapping::parse(mapping_document);
  upsert_key_of(mapping, mapping_document);
  return mapping.entity().type;
}

ImportReport ImportService::run(const CallContext& caller, const Json& mapping_document, std::istream& file,
                                const ImportOptions& options, const std::function<void(const ImportRow&)>& on_row,
                                const std::function<void(const ImportReport&)>& on_progress) {
  require_role(caller, {"admin"}, "imports are for the admin role only", "imports:write");
  const Json effective_mapping = mapping_for(mapping_document, options);
  ImportMapping mapping = ImportMapping::parse(effective_mapping);
  std::string key = upsert_key_of(mapping, effective_mapping);
  std::vector<std::string> mapping_columns = mapping.column_names();
  auto started = std::chrono::steady_clock::now();
  ImportReport report = options.resume;
  report.rows = 0;  // counted again as the file is read
  report.import_id = options.import_id.empty() ? generate_id(id_prefix::bulk_import, caller.now()) : options.import_id;
  report.dry_run = options.dry_run;
  report.atomic = options.atomic;
  CallContext ctx = caller;
  ctx.request_id = report.import_id;  // every audit event of the import names it
  Importer importer(deps_, ctx, std::move(mapping), key, options, on_row, on_progress, report);
  std::optional<PluginImportFormat> plugin = plugin_format(options);

  std::vector<std::string> jsonl_columns = mapping_columns;
  auto read_all = [&] {
    if (plugin) {
      importer.record({jsonl_columns, 0, 0});  // as JSON Lines: rows' fields carry the mapping's columns
      Json carry;
      auto step = [&](std::string_view bytes, bool final) {
        ImportParseStep parsed = plugin->parse(ctx,
                                               {{"format", plugin->name},
                                                {"final", final},
                                                {"carry", carry},
                                                {"import_id", report.import_id},
                                                {"dry_run", options.dry_run}},
                                               bytes);
        carry = std::move(parsed.carry);
        for (auto& row : parsed.rows) {
          std::size_t line = row.value("line", Json(0)).is_number_unsigned() ? row["line"].get<std::size_t>() : 0;
          if (row.value("fields", Json()).is_object()) importer.record({cells_of(row["fields"], jsonl_columns), line, line});
          else if (row.contains("record")) importer.document(line, std::move(row["record"]), plugin->store);
          else if (row.contains("fact")) importer.fact(line, std::move(row["fact"]), *plugin);
          else if (row.value("error", Json()).is_string()) importer.unreadable(line, row["error"].get<std::string>());
          else importer.unreadable(line, "the " + plugin->name + " parser gave a row without fields, record, fact or error");
        }
      };
      read_chunks(file, [&](std::string_view bytes) {
        if (!bytes.empty()) step(bytes, false);
      });
      step({}, true);
    } else if (options.format == ImportFormat::jsonl) {
      importer.record({jsonl_columns, 0, 0});  // the "header": the mapping's own column names
      JsonlReader reader(options.csv.max_field_bytes, [&](Json&& value, std::size_t line, const std::string& problem) {
        if (!problem.empty()) return importer.unreadable(line, "line " + std::to_string(line) + ": " + problem);
        if (!value.is_object()) return importer.unreadable(line, "line " + std::to_string(line) + " is not a JSON object");
        importer.record({cells_of(value, jsonl_columns), line, line});
      });
      read_chunks(file, [&](std::string_view bytes) { reader.feed(bytes); });
      reader.finish();
    } else {
      CsvReader reader(options.csv, [&](CsvRecord&& r) { importer.record(std::move(r)); });
      read_chunks(file, [&](std::string_view bytes) { reader.feed(bytes); });
      reader.finish();
    }
    importer.flush();
  };
  // One transaction for the whole file when it must all go or none (atomic), or must not
  // stay (a dry run); else a transaction per batch.
  if (options.dry_run || options.atomic) {
    try {
      deps_.database.in_one_transaction(ctx.tenant_id, [&] {
        read_all();
        if (options.dry_run || importer.atomic_failed_) throw RollBack{};
      });
      report.written = true;
    } catch (const RollBack&) {
    }
  } else {
    read_all();
    report.written = true;
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace nucleo::services
