#include "kernel/audit/bundle.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "kernel/audit/canonical_json.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::audit {
namespace fs = std::filesystem;
namespace {

constexpr const char* bundle_format = "nucleo-audit-bundle";
constexpr std::int64_t page_rows = 10000;

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw Error(ErrorCode::unavailable, "cannot write " + path.string());
}

void prepare_output_directory(const fs::path& dir) {
  if (fs::exists(dir) && !fs::is_empty(dir))
    throw Error(ErrorCode::validation, dir.string() + " is not empty: export into a new directory");
  fs::create_directories(dir / "checkpoints");
}

}  // namespace

ExportSummary export_bundle(store::Database& worker, const std::string& tenant_id, std::uint64_t from_seq,
                            const std::string& origin, const std::optional<SigningKey>& key, const std::string& out_dir,
                            Timestamp now) {
  fs::path dir(out_dir);
  return worker.read("", [&](store::Transaction& tx) {
    TreeHead head = read_tree_head(tx, tenant_id);
    if (from_seq > head.size)
      throw Error(ErrorCode::validation, "--from-seq " + std::to_string(from_seq) + " is beyond the log's " +
                                             std::to_string(head.size) + " events");
    prepare_output_directory(dir);
    ExportSummary summary{from_seq, head.size, 0};

    Json prefix = Json::array();
    auto ids = range_nodes({0, from_seq});
    auto found = read_nodes(tx, tenant_id, ids);
    for (const auto& id : ids) prefix.push_back(to_base64(found.at(id)));

    std::ofstream events(dir / "events.jsonl", std::ios::binary | std::ios::trunc);
    for (std::uint64_t next = from_seq; next < head.size;) {
      store::query(tx.session(),
                   "SELECT seq, leaf FROM audit_log WHERE tenant_id = :p0 AND seq >= :p1 AND seq < :p2"
                   " ORDER BY seq LIMIT :p3",
                   {tenant_id, static_cast<std::int64_t>(next), static_cast<std::int64_t>(head.size), page_rows},
                   [&](const store::Row& r) {
                     events << store::required_text(r, 1) << '\n';
                     next = static_cast<std::uint64_t>(store::required_integer(r, 0)) + 1;
                   });
    }
    events.close();
    if (!events) throw Error(ErrorCode::unavailable, "cannot write " + (dir / "events.jsonl").string());

    store::query(tx.session(), "SELECT size, note FROM audit_checkpoints WHERE tenant_id = :p0 AND size <= :p1",
                 {tenant_id, static_cast<std::int64_t>(head.size)}, [&](const store::Row& r) {
                   write_text(dir / "checkpoints" / (std::to_string(store::required_integer(r, 0)) + ".note"),
                              store::required_text(r, 1));
                   ++summary.checkpoints;
                 });
    if (key) write_text(dir / "log.vkey", vkey(origin, key->public_key()) + "\n");
    store::query(tx.session(), "SELECT COUNT(*) FROM audit_pending WHERE tenant_id = :p0", {tenant_id},
                 [&](const store::Row& r) { summary.pending_events = static_cast<std::uint64_t>(store::required_integer(r, 0)); });
    // The manifest comes last: a bundle without one is an interrupted export.
    Json manifest = {{"format", bundle_format},          {"version", 1},
                     {"origin", origin},                 {"tenant_id", tenant_id},
                     {"first_seq", from_seq},            {"size", head.size},
                     {"prefix", prefix},                 {"exported_at", format_rfc3339(now)},
                     {"pending_events", summary.pending_events}};
    write_text(dir / "manifest.json", manifest.dump(2) + "\n");
    return summary;
  });
}

}  // namespace nucleo::audit
