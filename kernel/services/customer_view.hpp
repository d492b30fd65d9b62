#pragma once

#include <string>

#include "kernel/services/record_service.hpp"

namespace nucleo::services {

// The customer 360 reads (issue #5): what happened with an account, and what a rep
// should know before visiting it.
class CustomerView {
 public:
  explicit CustomerView(ServiceDependencies deps) : deps_(deps) {}

  // Interactions, deal stage changes, tasks and plugins' timeline records (the caller
  // may read plugin records) of the account merged, newest first. Items: {"kind":
  // "interaction"|"stage_change"|"task"|"<plugin id>.<collection>", "at", "id", "data"}.
  // `after` is the previous page's `next` ([at µs, id]) or null.
  struct TimelinePage {
    std::vector<Json> items;
    Json next;
  };
  TimelinePage timeline(const CallContext& ctx, const std::string& account_id, const Json& after, std::size_t limit);

  // The visit-preparation view: open deals with stage and days in stage, the last
  // interaction per channel, open and overdue tasks, key contacts with their deal
  // roles, risk flags with reasons, and the plugins' sections ("sections").
  Json briefing(const CallContext& ctx, const std::string& account_id, int quiet_days = 30);

 private:
  Json plugin_sections(const CallContext& ctx, const Json& account) const;
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
