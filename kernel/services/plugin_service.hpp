#pragma once

#include <string>
#include <vector>

#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

// A configured plugin that did not load, as the host reported it.
struct PluginLoadFailure {
  std::string alias, file, id, version, problem;
};

// What the kernel records about its plugins (docs/architecture.md §6). A plugin that fails to load
// changes what every tenant's data goes through (a missing compliance pack, a channel
// that is down), so each tenant's audit log says so.
class PluginService {
 public:
  explicit PluginService(ServiceDependencies deps) : deps_(deps) {}

  // Appends "plugin.load_failed" to the audit log of every tenant, one transaction per
  // tenant, as the system actor. Returns how many events were recorded.
  std::size_t record_load_failures(const CallContext& ctx, const std::vector<PluginLoadFailure>& failures);

  // The plugin list shows file paths and load errors: admins and auditors only.
  static void require_reader(const CallContext& ctx);

 private:
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
