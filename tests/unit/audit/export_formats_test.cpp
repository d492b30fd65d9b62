// Export formats: CSV that a spreadsheet cannot turn into formulas, OCSF API Activity
// events, JSONL lines that are exactly the leaves.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kernel/audit/canonical_json.hpp"
#include "kernel/audit/export_formats.hpp"

namespace nucleo::audit {
namespace {

using Json = nlohmann::json;

// RFC 4180 cells of one CSV line (quotes doubled inside quoted cells).
std::vector<std::string> cells_of(const std::string& line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      cells.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      cells.emplace_back();
    } else {
      cells.back() += c;
    }
  }
  return cells;
}

std::string leaf_with(const std::string& reason, const std::string& action = "contact.updated") {
  return canonical_json(Json{{"v", 1},
                             {"tenant_id", "ten_1"},
                             {"seq", 7},
                             {"id", "aud_1"},
                             {"recorded_at", "2026-11-22T10:00:00.123456Z"},
                             {"actor", {{"type", "key"}, {"id", "key_1"}, {"on_behalf_of", "usr_1"}}},
                             {"action", action},
                             {"entity", {{"type", "contact"}, {"id", "con_1"}}},
                             {"request_id", "req_1"},
                             {"source_ip", "203.0.113.9"},
                             {"reason", reason},
                             {"changes", {{"job_title", {{"from", nullptr}, {"to", "-2+3"}}}}}});
}

TEST(ExportFormats, CsvCellsThatASpreadsheetWouldEvaluateAreEscaped) {
  EXPECT_EQ(csv_cell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
  EXPECT_EQ(csv_cell("+55 11 98765-4321"), "'+55 11 98765-4321");
  EXPECT_EQ(csv_cell("-2+3"), "'-2+3");
  EXPECT_EQ(csv_cell("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(csv_cell("\tcmd"), "'\tcmd");
  EXPECT_EQ(csv_cell("\r=1"), "\"'\r=1\"");
  EXPECT_EQ(csv_cell("plain"), "plain");
  EXPECT_EQ(csv_cell("a, \"b\"\nc"), "\"a, \"\"b\"\"\nc\"");
  EXPECT_EQ(csv_cell(""), "");
}

TEST(ExportFormats, NoCsvCellStartsWithAFormulaCharacter) {
  std::string out = export_header(ExportFormat::csv);
  for (const std::string reason : {"=1+1", "+cmd|' /C calc'!A0", "-1", "@x", "ok"})
    append_exported(out, ExportFormat::csv, {7, leaf_with(reason), "aGFzaA=="});
  std::size_t rows = 0;
  for (std::size_t start = 0, end; (end = out.find("\r\n", start)) != std::string::npos; start = end + 2) {
    auto cells = cells_of(out.substr(start, end - start));
    ASSERT_EQ(cells.size(), 14u) << out.substr(start, end - start);
    for (const auto& cell : cells)
      EXPECT_TRUE(cell.empty() || std::string("=+-@\t\r").find(cell.front()) == std::string::npos) << cell;
    ++rows;
  }
  EXPECT_EQ(rows, 6u);  // header + 5
  EXPECT_NE(out.find("'=1+1"), std::string::npos);
}

TEST(ExportFormats, CsvRowsCarryEveryLeafField) {
  std::string out;
  append_exported(out, ExportFormat::csv, {7, leaf_with("customer asked"), "aGFzaA=="});
  auto cells = cells_of(out.substr(0, out.size() - 2));
  EXPECT_EQ(cells, (std::vector<std::string>{"7", "aud_1", "2026-11-22T10:00:00.123456Z", "key", "key_1", "usr_1",
                                             "contact.updated", "contact", "con_1", "req_1", "203.0.113.9",
                                             "customer asked", R"({"job_title":{"from":null,"to":"-2+3"}})",
                                             "aGFzaA=="}));
}

TEST(ExportFormats, OcsfEventsAreApiActivityWithTheSchemaVersionStated) {
  std::string out;
  append_exported(out, ExportFormat::ocsf, {7, leaf_with("r", "contact.created"), "aGFzaA=="});
  append_exported(out, ExportFormat::ocsf, {8, leaf_with("r", "audit.events_read"), "aGFzaA=="});
  append_exported(out, ExportFormat::ocsf, {9, leaf_with("r", "deal.stage_changed"), "aGFzaA=="});
  auto first = Json::parse(out.substr(0, out.find('\n')));
  EXPECT_EQ(first["class_uid"], 6003);
  EXPECT_EQ(first["category_uid"], 6);
  EXPECT_EQ(first["activity_id"], 1);
  EXPECT_EQ(first["type_uid"], 600301);
  EXPECT_EQ(first["metadata"]["version"], "1.1.0");
  EXPECT_EQ(first["metadata"]["uid"], "aud_1");
  EXPECT_EQ(first["metadata"]["sequence"], 7);
  EXPECT_EQ(first["time"], 1795341600123);  // ms since the epoch
  EXPECT_EQ(first["actor"]["user"]["uid"], "key_1");
  EXPECT_EQ(first["api"]["operation"], "contact.created");
  EXPECT_EQ(first["src_endpoint"]["ip"], "203.0.113.9");
  EXPECT_EQ(first["resources"][0]["uid"], "con_1");
  EXPECT_EQ(first["unmapped"]["leaf_hash"], "aGFzaA==");
  std::vector<int> activities;
  for (std::size_t start = 0, end; (end = out.find('\n', start)) != std::string::npos; start = end + 1)
    activities.push_back(Json::parse(out.substr(start, end - start))["activity_id"]);
  EXPECT_EQ(activities, (std::vector<int>{1, 2, 3}));
}

TEST(ExportFormats, JsonlLinesAreTheLeavesAndFormatsParse) {
  std::string out;
  std::string leaf = leaf_with("r");
  append_exported(out, ExportFormat::jsonl, {7, leaf, "aGFzaA=="});
  EXPECT_EQ(out, leaf + "\n");
  EXPECT_EQ(export_header(ExportFormat::jsonl), "");
  EXPECT_EQ(parse_export_format("csv"), ExportFormat::csv);
  EXPECT_FALSE(parse_export_format("xlsx"));
}

}  // namespace
}  // namespace nucleo::audit
