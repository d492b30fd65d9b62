// `nucleo import`: a CSV file into a tenant through the import service (docs/import.md),
// with progress on the terminal and a per-row report a spreadsheet opens.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "kernel/app/admin_call.hpp"
#include "kernel/app/commands.hpp"
#include "kernel/app/settings.hpp"
#include "kernel/domain/version.hpp"
#include "kernel/plugins/host.hpp"
#include "kernel/services/import_service.hpp"

namespace nucleo::app {
namespace {

class ReportFile {
 public:
  explicit ReportFile(const std::string& path) : out_(path) {
    if (!out_) throw Error(ErrorCode::validation, "cannot write the report " + path, {{"report", "cannot be written"}});
    out_ << "row,line,action,id,column,message\r\n";
  }
  void write(const services::ImportRow& r) {
    std::string start = std::to_string(r.row) + "," + std::to_string(r.line) + "," + r.action + "," + r.id + ",";
    if (r.errors.empty()) out_ << start << ",\r\n";
    for (const auto& e : r.errors) out_ << start << csv_report_cell(e.field) << "," << csv_report_cell(e.message) << "\r\n";
  }

 private:
  std::ofstream out_;
};

// Progress on stderr: a bar redrawn in place on a terminal, a line every few seconds otherwise.
class Progress {
 public:
  Progress(std::ostream& err, std::uintmax_t file_bytes, std::ifstream& file)
      : err_(err), bytes_(file_bytes), file_(file), terminal_(isatty(STDERR_FILENO) == 1) {}

  void update(const services::ImportReport& r, bool last = false) {
    auto now = std::chrono::steady_clock::now();
    if (!last && !terminal_ && now - shown_ < std::chrono::seconds(5)) return;
    shown_ = now;
    double seconds = std::chrono::duration<double>(now - started_).count();
    double done = last ? 1.0 : fraction();
    double rate = seconds > 0 ? static_cast<double>(r.rows) / seconds : 0;
    std::ostringstream line;
    line << std::fixed << std::setprecision(0) << r.rows << " rows (" << r.created << " created, " << r.updated
         << " updated, " << r.unchanged << " unchanged, " << r.failed << " failed), " << rate << " rows/s";
    if (done > 0 && done < 1) line << ", " << seconds * (1 - done) / done << " s left";
    if (terminal_) {
      int filled = static_cast<int>(done * 30);
      err_ << "\r[" << std::string(filled, '#') << std::string(30 - filled, ' ') << "] " << std::setw(3)
           << static_cast<int>(done * 100) << "% " << line.str() << "\x1b[K" << (last ? "\n" : "") << std::flush;
    } else {
      err_ << "import: " << static_cast<int>(done * 100) << "% " << line.str() << "\n";
    }
  }

 private:
  double fraction() {
    auto at = file_.tellg();
    if (at < 0) return file_.eof() ? 1.0 : 0.0;  // read to its end
    if (bytes_ == 0) return 0;
    return std::min(1.0, static_cast<double>(at) / static_cast<double>(bytes_));
  }
  std::ostream& err_;
  std::uintmax_t bytes_;
  std::ifstream& file_;
  bool terminal_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now(), shown_ = started_;
};

services::ImportOptions options_of(const ParsedArgs& args) {
  services::ImportOptions o;
  o.dry_run = args.has("dry-run");
  o.atomic = args.has("atomic");
  std::string path = args.has("file") ? args.value("file") : "";
  std::string format = args.has("format") ? args.value("format")
                       : path.size() > 6 && (path.rfind(".jsonl") == path.size() - 6 || path.rfind(".ndjson") == path.size() - 7)
                           ? "jsonl"
                           : "csv";
  o.format = format == "jsonl" ? services::ImportFormat::jsonl : services::ImportFormat::csv;
  o.format_name = format;  // anything but csv or jsonl: a loaded plugin's, or refused by the service
  if (args.has("encoding")) {
    auto e = text_encoding_named(args.value("encoding"));
    if (!e) throw Error(ErrorCode::validation, "unknown --encoding " + args.value("encoding") +
                                                   ": utf-8, iso-8859-1 or windows-1252", {{"encoding", "unknown"}});
    o.csv.encoding = *e;
  }
  if (args.has("delimiter")) {
    std::string d = args.value("delimiter");
    if (d == "tab" || d == "\\t") d = "\t";
    if (d.size() != 1) throw Error(ErrorCode::validation, "--delimiter is one character (or tab)", {{"delimiter", "one character"}});
    o.csv.delimiter = d[0];
  }
  return o;
}

int run_import(const ParsedArgs& args, std::ostream& out, std::ostream& err) {
  services::ImportOptions options = options_of(args);
  // A plugin's format may bring its own mapping; csv and jsonl need one (the service says so).
  Json mapping = args.has("mapping") ? read_json_file(AdminCall::require(args, "mapping")) : Json();
  std::string path = AdminCall::require(args, "file");
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(ErrorCode::validation, "cannot read " + path, {{"file", "cannot be read"}});
  std::error_code size_error;
  std::uintmax_t bytes = std::filesystem::file_size(path, size_error);
  AdminCall call(args);
  call.enter_tenant(args);
  // The configured plugins take part as under `serve`: their validators and attribute
  // schemas check every row, and --format may name an import format one of them provides.
  plugins::PluginHost plugin_host(*plugins::parse_version(nucleo_version), call.runtime.dependencies(),
                                  read_outbound_settings(call.config));
  plugin_host.load(read_plugin_settings(call.config));
  for (const auto& s : plugin_host.statuses())
    if (!s.loaded) err << "plugin " << s.alias << " was not loaded: " << s.problem << "\n";
  std::optional<ReportFile> report_file;
  if (args.has("report")) report_file.emplace(AdminCall::require(args, "report"));
  Progress progress(err, size_error ? 0 : bytes, file);
  services::ImportReport report = services::ImportService(call.runtime.dependencies())
                                      .run(call.ctx, mapping, file, options,
                                           [&](const services::ImportRow& r) {
                                             if (report_file) report_file->write(r);
                                           },
                                           [&](const services::ImportReport& r) { progress.update(r); });
  progress.update(report, true);
  Json shown = report.to_json();
  if (args.has("json")) {
    out << shown.dump() << "\n";
  } else {
    for (const char* f : {"import_id", "rows", "created", "updated", "unchanged", "failed", "dry_run", "written"})
      out << f << "=" << (shown[f].is_string() ? shown[f].get<std::string>() : shown[f].dump()) << "\n";
    out << "store=" << call.runtime.database().url().display << "\n";
  }
  if (options.atomic && !options.dry_run && !report.written) {
    err << "the atomic import wrote nothing: " << report.failed << " row(s) failed"
        << (report_file ? " (see the report)" : " (run with --report F to see them)") << "\n";
    return exit_failure;
  }
  return exit_ok;
}

}  // namespace

CommandSpec import_command() {
  CommandSpec c;
  c.name = "import";
  c.summary = "import a CSV file's rows as records of a tenant";
  c.description =
      "nucleo import --tenant ID --file F.csv --mapping M.json [--format T] [--encoding E] [--delimiter C]\n"
      "              [--dry-run] [--atomic] [--report R.csv]\n"
      "    Each row of F (CSV, JSON Lines: one object per line, keyed by the mapping's columns, or a\n"
      "    format a configured plugin provides, which may bring its own mapping)\n"
      "    becomes a record (accounts, contacts, deals, interactions or tasks) through\n"
      "    the same services as an API write: validated, normalised, one audit event each with the\n"
      "    import's id. M maps the file's columns to fields (docs/import.md); with a \"key\", a row\n"
      "    updates the record that has it. A bad row is reported and the rest are written, unless\n"
      "    --atomic (then one bad row writes nothing, exit 1). --dry-run does it all and rolls it\n"
      "    back: its report is what the real run does. --report writes every row's outcome as CSV.\n"
      "    Progress goes to stderr; the totals to stdout.";
  c.options = {config_option(),
               tenant_option,
               {"file", "F", "the CSV or JSON Lines file"},
               {"format", "T", "csv, jsonl or a plugin's format (default: jsonl for a .jsonl or .ndjson file, else csv)"},
               {"mapping", "M", "the column mapping (JSON); optional for a plugin's format that brings one"},
               {"encoding", "E", "utf-8 (default), iso-8859-1 or windows-1252"},
               {"delimiter", "C", "the field delimiter (default: read off the header line: , ; tab |)"},
               {"dry-run", "", "report what would happen; write nothing"},
               {"atomic", "", "all rows or none"},
               {"report", "R", "write each row's outcome (row, line, action, id, column, message) to R as CSV"},
               json_option,
               reason_option};
  c.run = [](const ParsedArgs& args, std::ostream& out, std::ostream& err) { return run_import(args, out, err); };
  return c;
}

}  // namespace nucleo::app
