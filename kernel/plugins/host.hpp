#pragma once

// The plugin host (DESIGN §6, issue #8 — work in progress on this branch): reads each
// configured plugin's manifest before loading any code, loads the library with
// Boost.DLL (RTLD_LOCAL | RTLD_NOW), checks the ABI and the descriptor against the
// manifest, loads in dependency order and calls init with the host table. A plugin
// that fails at any step is reported and skipped; the kernel keeps serving. Plugins are
// never unloaded while the kernel runs.

#include <memory>
#include <string>
#include <vector>

#include "kernel/plugins/manifest.hpp"
#include "nucleo/plugin_abi.h"

namespace nucleo::plugins {

// One plugins.<alias>.* block of the configuration.
struct PluginSetting {
  std::string alias;
  std::string file;                // plugin.json or its folder
  Json config = Json::object();    // plugins.<alias>.config.*
};

// What became of one configured plugin (log, GET /v1/plugins, audit event).
struct PluginStatus {
  std::string alias, file, id, version;
  bool loaded = false;
  std::string problem;  // why it is not loaded
};

struct RegisteredRoute {
  std::string plugin_id, method, path;
  std::int32_t auth;
  nucleo_route_fn handler;
  void* user_data;
};

class PluginHost {
 public:
  explicit PluginHost(Version kernel);
  ~PluginHost();  // shuts loaded plugins down, last loaded first
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Loads every setting it can; never throws for a plugin's fault.
  void load(const std::vector<PluginSetting>& settings);

  const std::vector<PluginStatus>& statuses() const { return statuses_; }
  const std::vector<RegisteredRoute>& routes() const { return routes_; }

  struct Loaded;  // a loaded plugin, as its host table sees it (host.cpp)

 private:
  struct Candidate;
  void load_one(Candidate& c);

  Version kernel_;
  std::vector<PluginStatus> statuses_;
  std::vector<RegisteredRoute> routes_;
  std::vector<std::unique_ptr<Loaded>> loaded_;
};

}  // namespace nucleo::plugins
