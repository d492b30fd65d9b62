#pragma once

// What plugins add to the customer 360 (docs/plugin-authoring.md, "The customer 360"):
// their records in an account's timeline and their sections in its briefing. Plugins
// fill it at load (plugins/loader.cpp), as they do AttributeSchemas; CustomerView reads
// it on every call, so services never depend on plugins.

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "kernel/domain/entity.hpp"
#include "kernel/services/call_context.hpp"

namespace nucleo::services {

// A plugin collection whose documents appear in the timeline of the account they name:
// `account_field` (indexed as string) holds the account id, `time_field` (indexed as
// integer) the moment in µs since the epoch. Items are {"kind": "<owner>.<collection>",
// "at", "id", "data": the document}.
struct TimelineSource {
  std::string owner, collection, account_field, time_field;
  std::string sensitive;  // the collection's data class: showing its items is audited
  std::string kind() const { return owner + "." + collection; }
};

// A section of the briefing, built as the caller (a plugin's callback). Throws Error to
// leave the section out with {"error"}.
struct BriefingSection {
  std::string owner, name, title;
  std::function<Json(const CallContext& ctx, const Json& account)> build;
  std::string key() const { return owner + "." + name; }
};

class CustomerExtensions {
 public:
  void add(TimelineSource source);
  void add(BriefingSection section);
  void remove_owner(const std::string& owner);  // a plugin whose init failed
  std::vector<TimelineSource> timeline_sources() const;
  std::vector<BriefingSection> briefing_sections() const;

 private:
  mutable std::mutex mutex_;
  std::vector<TimelineSource> sources_;
  std::vector<BriefingSection> sections_;
};

}  // namespace nucleo::services
