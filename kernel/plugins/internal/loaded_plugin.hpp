#pragma once

// Internal to plugins/: a loaded plugin as the host function table sees it, shared by
// the loader (loader.cpp), the host API (host_api.cpp) and the callback adapters
// (host.cpp). Nothing outside plugins/ includes it.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kernel/plugins/call.hpp"
#include "kernel/plugins/host.hpp"
#include "kernel/services/plugin_record_service.hpp"
#include "kernel/services/fact_service.hpp"
#include "kernel/services/validator_registry.hpp"

namespace nucleo::plugins {

// A plugin past its manifest checks: what the host table hands back to it.
struct PluginHost::Loaded {
  PluginHost* owner = nullptr;
  Manifest manifest;
  nucleo_host_api api{};
  const nucleo_plugin_descriptor* descriptor = nullptr;
  void* state = nullptr;
  bool in_init = false;
  std::vector<RegisteredRoute> routes;  // kept only if init succeeds
  std::vector<RegisteredSubscription> subscriptions;
  std::vector<RegisteredValidator> validators;
  std::vector<RegisteredJob> jobs;
  std::vector<RegisteredChannel> channels;
  std::map<std::string, services::CollectionSpec> collections;  // the manifest's record store
  std::vector<std::pair<std::string, Json>> attribute_schemas;     // (entity type, schema), kept if init succeeds
  std::vector<RegisteredBriefingSection> briefing_sections;
  std::vector<RegisteredImporter> importers;


  // The host functions' work, as the caller of `call` (host_api.cpp).
  Json call_service(const nucleo_call* call, const std::string& name, const std::string& request) const;
  Json resolve_channel(nucleo_call& call, const Json& request) const;
  Json resolve_network(const Json& request) const;
  Json list_channels(const nucleo_call& call) const;
  Json write_facts(const nucleo_call& call, const Json& request) const;
  // (ABI 1.10) read_snapshot: the call's tenant read from one snapshot, chunk by chunk.
  Json read_snapshot(const nucleo_call* call, const std::string& request, nucleo_snapshot_chunk_fn chunk, void* user) const;
  Json http_request(const std::string& request_text) const;
  std::string enqueue_job(const nucleo_call* call, const std::string& name, const std::string& payload,
                          std::int64_t delay_ms) const;
  services::PluginRecordService records(const nucleo_call* call, bool writes) const;
  std::int64_t now_micros(const nucleo_call* call) const;
  Json tenant_settings(const nucleo_call* call) const;
  void metric(const std::string& name, const std::string& labels, double value, bool is_counter);
};

// Fills the table `init` receives; its functions act for `self` (host_api.cpp).
void fill_host_table(nucleo_host_api& api, PluginHost::Loaded& self);

// plugin_abi.h register_job: {"name","schedule","scope"}. Throws naming what is wrong.
RegisteredJob job_registration(const std::string& plugin_id, const std::string& spec_text, nucleo_job_fn fn,
                               void* user, void (*free_buffer)(nucleo_plugin_buffer));

// The callback adapters (host.cpp): a plugin's registrations as the kernel runs them.
events::RunJob job_runner(const RegisteredJob& job, const Clock& clock);
services::Validator validator_for(const RegisteredValidator& v);
services::BriefingSection briefing_section_for(const RegisteredBriefingSection& s);
// `store` writes the owner's record-store documents (PluginHost::record_store), `facts`
// its fact sets' rows (ABI 1.8).
services::PluginImportFormat import_format_for(const RegisteredImporter& r, services::PluginRecordService store,
                                               services::FactService facts);

}  // namespace nucleo::plugins
