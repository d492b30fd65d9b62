#include "kernel/audit/export_formats.hpp"

#include <nlohmann/json.hpp>

#include "kernel/domain/json_text.hpp"
#include "kernel/domain/time.hpp"
#include "kernel/domain/version.hpp"

namespace nucleo::audit {
namespace {

using Json = nlohmann::json;

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string text_of(const Json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return to_json_text(v);
}

// OCSF API Activity's activity_id from the action's verb ("contact.created" → Create).
std::pair<int, const char*> ocsf_activity(std::string_view action) {
  if (action.find("read") != std::string_view::npos || ends_with(action, "exported")) return {2, "Read"};
  if (ends_with(action, "created") || ends_with(action, "placed")) return {1, "Create"};
  if (ends_with(action, "deleted")) return {4, "Delete"};
  return {3, "Update"};
}

Json ocsf_event(const LoggedEvent& e, const Json& leaf) {
  constexpr int class_uid = 6003;
  auto [activity_id, activity_name] = ocsf_activity(leaf.value("action", ""));
  auto recorded = parse_rfc3339(leaf.value("recorded_at", ""));
  Json event = {
      {"activity_id", activity_id},
      {"activity_name", activity_name},
      {"category_uid", 6},
      {"category_name", "Application Activity"},
      {"class_uid", class_uid},
      {"class_name", "API Activity"},
      {"type_uid", class_uid * 100 + activity_id},
      {"type_name", std::string("API Activity: ") + activity_name},
      {"severity_id", 1},
      {"severity", "Informational"},
      {"status_id", 1},
      {"status", "Success"},
      {"time", recorded ? recorded->micros / 1000 : 0},
      {"metadata",
       {{"version", ocsf_schema_version},
        {"uid", leaf["id"]},
        {"sequence", e.seq},
        {"original_time", leaf["recorded_at"]},
        {"tenant_uid", leaf["tenant_id"]},
        {"log_name", "nucleo-audit"},
        {"product", {{"name", "Nucleo"}, {"vendor_name", "Nucleo"}, {"version", nucleo_version}}}}},
      {"actor", {{"user", {{"uid", leaf["actor"]["id"]}, {"type", leaf["actor"]["type"]}}}}},
      {"api", {{"operation", leaf["action"]}, {"request", {{"uid", leaf["request_id"]}}}}},
      {"resources", Json::array({{{"uid", leaf["entity"]["id"]}, {"type", leaf["entity"]["type"]}}})},
      // API Activity requires `cloud`; a self-hosted kernel names itself the provider.
      {"cloud", {{"provider", "self-hosted"}}},
      {"src_endpoint", {{"ip", leaf["source_ip"]}}},
      {"unmapped",
       {{"leaf_hash", e.leaf_hash},
        {"on_behalf_of", leaf["actor"]["on_behalf_of"]},
        {"reason", leaf["reason"]},
        {"changes", leaf["changes"]}}}};
  if (!leaf["actor"]["on_behalf_of"].is_null())
    event["actor"]["invoked_by"] = leaf["actor"]["on_behalf_of"];  // OCSF: the user a call acts for
  return event;
}

}  // namespace

std::optional<ExportFormat> parse_export_format(std::string_view name) {
  if (name == "jsonl") return ExportFormat::jsonl;
  if (name == "csv") return ExportFormat::csv;
  if (name == "ocsf") return ExportFormat::ocsf;
  return std::nullopt;
}

std::string_view media_type(ExportFormat format) {
  switch (format) {
    case ExportFormat::csv:
      return "text/csv; charset=utf-8; header=present";
    default:
      return "application/x-ndjson";
  }
}

std::string csv_cell(std::string_view text) {
  std::string cell;
  if (!text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos) cell = "'";
  cell += text;
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string quoted = "\"";
  for (char c : cell) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string export_header(ExportFormat format) {
  if (format != ExportFormat::csv) return "";
  return "seq,id,recorded_at,actor_type,actor_id,on_behalf_of,action,entity_type,entity_id,request_id,source_ip,"
         "reason,changes,leaf_hash\r\n";
}

void append_exported(std::string& out, ExportFormat format, const LoggedEvent& e) {
  if (format == ExportFormat::jsonl) {
    out.append(e.leaf);
    out += '\n';
    return;
  }
  Json leaf = Json::parse(e.leaf);
  if (format == ExportFormat::ocsf) {
    append_json_text(out, ocsf_event(e, leaf));
    out += '\n';
    return;
  }
  const Json cells[] = {e.seq,
                        leaf["id"],
                        leaf["recorded_at"],
                        leaf["actor"]["type"],
                        leaf["actor"]["id"],
                        leaf["actor"]["on_behalf_of"],
                        leaf["action"],
                        leaf["entity"]["type"],
                        leaf["entity"]["id"],
                        leaf["request_id"],
                        leaf["source_ip"],
                        leaf["reason"],
                        leaf["changes"],
                        std::string(e.leaf_hash)};
  bool first = true;
  for (const auto& cell : cells) {
    if (!first) out += ',';
    first = false;
    out += csv_cell(text_of(cell));
  }
  out += "\r\n";
}

}  // namespace nucleo::audit
