#pragma once

// Import formats plugins provide (plugin ABI 1.6 register_importer; docs/import.md,
// "Formats plugins provide"): a parser turning a file's bytes into rows, which the import
// then maps, validates, writes and reports as it does a CSV file's — same job, progress,
// dry run and error report. Plugins fill this at load (plugins/loader.cpp), as they do
// AttributeSchemas; ImportService reads it, so services never depend on plugins.

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/domain/entity.hpp"
#include "kernel/services/call_context.hpp"

namespace nucleo::services {

// What one step of a parser returned: rows ({"line", "fields" | "record" | "fact" | "error"}) and
// what the next step gets back.
struct ImportParseStep {
  std::vector<Json> rows;
  Json carry;
};

struct PluginImportFormat {
  std::string owner, name, title;
  std::vector<std::string> media_types;
  Json mapping;  // what an import of this format brings when it brings none
  // The next bytes (`step`: {"format", "final", "carry"}), as the caller. Throws
  // Error(validation) when the plugin finds the file unreadable.
  std::function<ImportParseStep(const CallContext& ctx, const Json& step, std::string_view bytes)> parse;
  // Writes {"collection", "id", "document"} to the owner's record store in the running
  // transaction; returns created | updated | unchanged. Throws Error when refused.
  std::function<std::string(const CallContext& ctx, const Json& record)> store;
  // (ABI 1.8) Writes facts of one of the owner's fact sets in the running transaction;
  // returns created | updated | unchanged per fact (FactService::write).
  std::function<std::vector<std::string>(const CallContext& ctx, const std::string& set, const std::vector<Json>& facts)> facts;
};

class ImportFormats {
 public:
  // False when the name is taken (by another plugin, or csv/jsonl).
  bool add(PluginImportFormat format);
  void remove_owner(const std::string& owner);  // a plugin whose init failed
  std::optional<PluginImportFormat> find(const std::string& name) const;
  std::vector<std::string> names() const;

 private:
  mutable std::mutex mutex_;
  std::vector<PluginImportFormat> formats_;
};

}  // namespace nucleo::services
