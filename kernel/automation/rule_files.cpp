#include "kernel/automation/rule_files.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kernel/automation/apply.hpp"
#include "kernel/domain/id.hpp"

namespace nucleo::automation {
namespace {

namespace fs = std::filesystem;

// The fields of a rule document applying compares and writes.
const std::vector<std::string>& document_fields() {
  static const std::vector<std::string> fields{"name", "description", "enabled", "trigger", "conditions", "actions"};
  return fields;
}

std::optional<Json> rule_with_key(services::RecordService& records, const services::CallContext& ctx,
                                  const std::string& key) {
  store::RecordQuery q;
  q.equals = {{"key", key}};
  q.limit = 1;
  auto found = records.list(ctx, "automation_rule", q);
  if (found.empty()) return std::nullopt;
  return found.front();
}

// A refusal of one file's document, its fields named "<file>#<pointer>".
Error naming_file(const Error& e, const std::string& file) {
  std::vector<FieldError> fields;
  for (const auto& f : e.fields())
    fields.push_back({file + "#" + (f.field.empty() || f.field[0] == '/' ? f.field : "/" + f.field), f.message, f.code});
  return Error(e.code(), file + ": " + e.what(), std::move(fields));
}

}  // namespace

std::vector<std::pair<std::string, Json>> read_rule_files(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(ErrorCode::validation, "no rules directory " + dir, {{"dir", "is not a directory"}});
  std::vector<std::pair<std::string, Json>> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    const std::string name = entry.path().filename().string();
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    Json document = Json::parse(text.str(), nullptr, false);
    if (!in || document.is_discarded() || !document.is_object())
      throw Error(ErrorCode::validation, name + " is not a JSON object (a rule document)", {{name, "is not a JSON object"}});
    out.emplace_back(name, std::move(document));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

Json apply_rule_files(services::ServiceDependencies deps, const services::CallContext& ctx,
                      const std::vector<std::pair<std::string, Json>>& files, bool dry_run) {
  std::map<std::string, std::string> file_of_key;
  for (const auto& [file, document] : files) {
    const Json& key = document.value("key", Json());
    if (!key.is_string() || key.get<std::string>().empty())
      throw Error(ErrorCode::validation, file + ": a rule applied from a file needs a key", {{file + "#/key", "is required"}});
    if (!file_of_key.emplace(key.get<std::string>(), file).second)
      throw Error(ErrorCode::validation, file + ": key " + key.get<std::string>() + " is " + file_of_key[key] + "'s too",
                  {{file + "#/key", "repeats another file's key"}});
  }
  return apply_or_roll_back(deps, ctx, dry_run, [&] {
    services::RecordService records(deps);
    Json result = {{"changes", Json::array()}, {"unchanged", Json::array()}};
    for (const auto& [file, document] : files) {
      const std::string key = document["key"];
      try {
        auto existing = rule_with_key(records, ctx, key);
        if (!existing) {
          Json created = records.create(ctx, "automation_rule", document).record;
          result["changes"].push_back({{"op", "create"}, {"file", file}, {"key", key}, {"id", created["id"]}});
          continue;
        }
        Json patch = Json::object();
        for (const auto& field : document_fields()) {
          Json wanted = document.contains(field) ? document[field] : Json();
          if (field == "enabled" && wanted.is_null()) wanted = false;
          if (field == "conditions" && wanted.is_null()) wanted = Json::array();
          if ((*existing).value(field, Json()) != wanted) patch[field] = wanted;
        }
        for (const auto& [field, _] : document.items())
          if (field != "key" && std::find(document_fields().begin(), document_fields().end(), field) == document_fields().end())
            patch[field] = document[field];  // refused by the write, naming it
        if (patch.empty()) {
          result["unchanged"].push_back(key);
          continue;
        }
        records.update(ctx, "automation_rule", (*existing)["id"], patch);
        Json fields = Json::array();
        for (const auto& [field, _] : patch.items()) fields.push_back(field);
        result["changes"].push_back(
            {{"op", "update"}, {"file", file}, {"key", key}, {"id", (*existing)["id"]}, {"fields", fields}});
      } catch (const Error& e) {
        if (e.code() != ErrorCode::validation) throw;
        throw naming_file(e, file);
      }
    }
    return result;
  });
}

std::vector<std::string> apply_rules_dir(services::ServiceDependencies deps, const Clock& clock, const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(ErrorCode::validation, "automation.rules_dir " + dir + " is not a directory", {{"automation.rules_dir", "is not a directory"}});
  std::vector<std::string> lines;
  std::vector<fs::path> tenants;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_directory()) tenants.push_back(entry.path());
  std::sort(tenants.begin(), tenants.end());
  for (const auto& path : tenants) {
    const std::string tenant = path.filename().string();
    if (!is_valid_id(tenant, id_prefix::tenant))
      throw Error(ErrorCode::validation, "automation.rules_dir: " + tenant + " is not a tenant id (ten_…)",
                  {{"automation.rules_dir", "holds one directory per tenant id"}});
    services::CallContext ctx;
    ctx.tenant_id = tenant;
    ctx.actor = {"system", "automation.rules_dir", ""};
    ctx.request_id = generate_id("req", clock.now());
    ctx.clock = &clock;
    Json result = apply_rule_files(deps, ctx, read_rule_files(path.string()), false);
    lines.push_back("automation rules of " + tenant + ": " + std::to_string(result["changes"].size()) + " changed, " +
                    std::to_string(result["unchanged"].size()) + " unchanged");
  }
  return lines;
}

}  // namespace nucleo::automation
