#pragma once

// The formats GET /v1/audit/export streams (docs/compliance.md#export). Each event is
// rendered from its stored leaf, so personal values appear only as commitments.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nucleo::audit {

enum class ExportFormat {
  jsonl,  // one canonical leaf per line: the bytes a verifier hashes
  csv,    // RFC 4180, one event per row, safe to open in a spreadsheet
  ocsf,   // OCSF API Activity (class 6003) JSON, one event per line
};

// The OCSF schema version the ocsf format follows.
inline constexpr std::string_view ocsf_schema_version = "1.1.0";

std::optional<ExportFormat> parse_export_format(std::string_view name);
std::string_view media_type(ExportFormat format);

// One logged event as stored: its seq, canonical leaf and base64 leaf hash.
struct LoggedEvent {
  std::int64_t seq = 0;
  std::string_view leaf;
  std::string_view leaf_hash;
};

// The first line of the export (the CSV header), or empty.
std::string export_header(ExportFormat format);
// Appends one event, newline-terminated.
void append_exported(std::string& out, ExportFormat format, const LoggedEvent& event);

// A CSV cell (RFC 4180 quoting). A cell a spreadsheet would read as a formula — one
// starting with =, +, -, @, tab or carriage return — is prefixed with ' (OWASP).
std::string csv_cell(std::string_view text);

}  // namespace nucleo::audit
