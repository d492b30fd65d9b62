// Loading plugins (docs/architecture.md §6): manifests first, then Boost.DLL with
// RTLD_LOCAL | RTLD_NOW, the entry symbol, the ABI and descriptor checks, dependency
// order, and init with the host table. A plugin that fails at any step is reported and
// skipped; libraries are never unloaded.
#define BOOST_DLL_USE_STD_FS
#include <Poco/Logger.h>

#include <boost/dll/shared_library.hpp>
#include <filesystem>
#include <map>

#include "kernel/plugins/abi_status.hpp"
#include "kernel/plugins/abi_tag.hpp"
#include "kernel/plugins/internal/loaded_plugin.hpp"
#include "kernel/plugins/plugin_call.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::plugins {

struct PluginHost::Candidate {
  PluginSetting setting;
  std::string folder;
  std::optional<Manifest> manifest;
  std::size_t status;  // index into statuses_
};

namespace {

// Libraries are never unloaded (docs/architecture.md §6): code a plugin left running — a thread, an
// atexit hook — must stay mapped until the process ends.
void keep_mapped(boost::dll::shared_library library) {
  static auto* kept = new std::vector<boost::dll::shared_library>();
  kept->push_back(std::move(library));
}

}  // namespace

void PluginHost::skip(const std::vector<PluginSetting>& settings, const std::string& why) {
  safe_mode_ = true;
  for (const auto& s : settings) {
    std::string id = s.id;
    try {
      id = read_manifest(s.file).id;  // a manifest is data: reading it runs no plugin code
    } catch (const Error&) {
      // Unreadable: the configured id, if any, is all there is to go by.
    }
    statuses_.push_back({s.alias, s.file, id, "", false, why});
  }
  Poco::Logger::get("nucleo.plugins").warning("safe mode: none of the " + std::to_string(settings.size()) +
                                              " configured plugins is loaded");
  enforce_schemas_of_unloaded();
}

void PluginHost::remember_schemas(const Manifest& m, const std::vector<std::pair<std::string, Json>>& schemas) {
  try {
    std::int64_t now = clock().now().micros;
    services_->worker_database.write("", [&](store::Transaction& tx) {
      store::execute(tx.session(), "DELETE FROM plugin_schemas WHERE plugin_id = :p0", {m.id});
      for (const auto& [type, schema] : schemas)
        store::execute(tx.session(),
                       "INSERT INTO plugin_schemas (plugin_id, entity_type, schema, plugin_version, recorded_at)"
                       " VALUES (:p0, :p1, :p2, :p3, :p4)",
                       {m.id, type, schema.dump(), m.version.text(), now});
    });
  } catch (const std::exception& e) {
    Poco::Logger::get("nucleo.plugins")
        .warning("could not record the attribute schemas of " + m.id + " (they will not be enforced if it stops "
                 "loading): " + e.what());
  }
}

void PluginHost::remember_purposes(const Manifest& m) {
  try {
    std::int64_t now = clock().now().micros;
    services_->worker_database.write("", [&](store::Transaction& tx) {
      store::execute(tx.session(), "DELETE FROM plugin_purposes WHERE plugin_id = :p0", {m.id});
      for (const auto& [key, description] : m.consent_purposes)
        store::execute(tx.session(),
                       "INSERT INTO plugin_purposes (plugin_id, key, description, plugin_version, recorded_at)"
                       " VALUES (:p0, :p1, :p2, :p3, :p4)",
                       {m.id, key, description, m.version.text(), now});
    });
  } catch (const std::exception& e) {
    Poco::Logger::get("nucleo.plugins")
        .warning("could not record the consent purposes of " + m.id + " (consent cannot be recorded for them): " +
                 e.what());
  }
}

void PluginHost::record_collections(const Manifest& m, const std::map<std::string, services::CollectionSpec>& specs) {
  auto& log = Poco::Logger::get("nucleo.plugins");
  auto& worker = services_->worker_database;
  std::map<std::string, std::string> recorded;  // collection → its indexes, as JSON text
  worker.read("", [&](store::Transaction& tx) {
    store::query(tx.session(), "SELECT collection, indexes FROM plugin_collections WHERE plugin_id = :p0", {m.id},
                 [&](const store::Row& r) { recorded[store::required_text(r, 0)] = store::required_text(r, 1); });
  });
  services::PluginRecordService store(*services_, m.id, specs);
  for (const auto& collection : m.collections) {
    // Named, not bound: Clang 14 cannot capture structured bindings in a lambda.
    const auto& name = collection.first;
    const auto& c = collection.second;
    std::string indexes = Json(c.indexes).dump();
    auto was = recorded.find(name);
    // Unrecorded: a new collection, or one a kernel from before migration 0018 kept
    // indexed as it was declared then — assumed to be now; re-indexing every document
    // of a deployment at its upgrade would hold the start for minutes.
    if (was == recorded.end() || was->second == indexes) continue;
    std::vector<std::string> tenants;
    worker.read("", [&](store::Transaction& tx) {
      store::query(tx.session(),
                   "SELECT DISTINCT tenant_id FROM plugin_records WHERE plugin_id = :p0 AND collection = :p1"
                   " ORDER BY tenant_id",
                   {m.id, name}, [&](const store::Row& r) { tenants.push_back(store::required_text(r, 0)); });
    });
    if (tenants.empty()) continue;
    log.information("plugin " + m.id + " " + m.version.text() + ": collection " + name + " is indexed by " + indexes +
                    " (was " + was->second + "); re-indexing " +
                    std::to_string(tenants.size()) + " tenant(s)");
    for (std::size_t i = 0; i < tenants.size(); ++i) {
      services::CallContext ctx;
      ctx.tenant_id = tenants[i];
      ctx.actor = {"system", "plugin-host", ""};
      ctx.clock = &clock();
      ctx.reason = m.id + " " + m.version.text() + " declares other indexes for " + name;
      std::size_t documents = store.reindex(ctx, name);
      log.information("re-indexed " + name + " of " + m.id + " in tenant " + tenants[i] + ": " +
                      std::to_string(documents) + " document(s) (" + std::to_string(i + 1) + "/" +
                      std::to_string(tenants.size()) + ")");
    }
  }
  std::int64_t now = clock().now().micros;
  worker.write("", [&](store::Transaction& tx) {
    store::execute(tx.session(), "DELETE FROM plugin_collections WHERE plugin_id = :p0", {m.id});
    for (const auto& [name, c] : m.collections)
      store::execute(tx.session(),
                     "INSERT INTO plugin_collections (plugin_id, collection, indexes, personal, plugin_version,"
                     " recorded_at) VALUES (:p0, :p1, :p2, :p3, :p4, :p5)",
                     {m.id, name, Json(c.indexes).dump(),
                      c.personal ? store::SqlValue{c.personal->to_json().dump()} : store::SqlValue{},
                      m.version.text(), now});
  });
}

// A configured plugin that is not loaded keeps the attributes it declared checked: a
// record written meanwhile must not become one the plugin cannot read when it is back.
void PluginHost::enforce_schemas_of_unloaded() {
  if (!services_) return;
  auto& log = Poco::Logger::get("nucleo.plugins");
  for (const auto& status : statuses_) {
    if (status.loaded || status.id.empty() || loaded_manifest(status.id)) continue;
    try {
      std::vector<std::tuple<std::string, std::string, std::string>> rows;  // type, schema, version
      services_->worker_database.read("", [&](store::Transaction& tx) {
        store::query(tx.session(), "SELECT entity_type, schema, plugin_version FROM plugin_schemas WHERE plugin_id = :p0",
                     {status.id}, [&](const store::Row& r) {
                       rows.emplace_back(store::required_text(r, 0), store::required_text(r, 1), store::required_text(r, 2));
                     });
      });
      for (const auto& [type, schema, version] : rows) {
        services_->attribute_schemas.add(status.id, type, Json::parse(schema));
        log.warning("plugin " + status.id + " is not loaded: the " + type + " attributes it declared (version " +
                    version + ") stay enforced");
      }
    } catch (const std::exception& e) {
      log.error("plugin " + status.id + " is not loaded and its attribute schemas cannot be enforced: " + e.what());
    }
  }
}

void PluginHost::load(const std::vector<PluginSetting>& settings) {
  std::vector<Candidate> candidates;
  for (const auto& s : settings) {
    statuses_.push_back({s.alias, s.file, "", "", false, ""});
    Candidate c{s, "", std::nullopt, statuses_.size() - 1};
    try {
      c.manifest = read_manifest(s.file, &c.folder);
      statuses_.back().id = c.manifest->id;
      statuses_.back().version = c.manifest->version.text();
      if (!c.manifest->kernel.contains(kernel_))
        throw Error(ErrorCode::validation, "needs kernel " + c.manifest->kernel.text() + ", this is " + kernel_.text());
      if (!s.id.empty() && s.id != c.manifest->id)
        throw Error(ErrorCode::validation, "plugins." + s.alias + ".id is " + s.id + " but " + s.file + " is " +
                                               c.manifest->id);
      candidates.push_back(std::move(c));
    } catch (const Error& e) {
      statuses_.back().problem = e.what();
    }
  }
  // Dependency order: load whatever has its requirements loaded, until nothing moves.
  // Two aliases may name one id: the first that loads wins, and only then is the other
  // a duplicate — an alias that failed does not hide the next one's own problem.
  std::map<std::string, Version> up;
  std::map<std::string, std::string> loaded_by;  // id → alias
  for (bool progress = true; progress;) {
    progress = false;
    for (auto& c : candidates) {
      if (!c.manifest || up.count(c.manifest->id) || !statuses_[c.status].problem.empty()) continue;
      bool ready = true;
      for (const auto& r : c.manifest->requires_plugins) ready = ready && up.count(r.id) && r.versions.contains(up[r.id]);
      if (!ready) continue;
      load_one(c);
      progress = true;
      if (statuses_[c.status].loaded) {
        up[c.manifest->id] = c.manifest->version;
        loaded_by[c.manifest->id] = c.setting.alias;
      }
    }
  }
  for (auto& c : candidates) {
    PluginStatus& s = statuses_[c.status];
    if (s.loaded || !s.problem.empty()) continue;
    if (loaded_by.count(c.manifest->id)) {
      s.problem = "duplicate id " + c.manifest->id + ": plugins." + loaded_by[c.manifest->id] + " loads it already";
      continue;
    }
    for (const auto& r : c.manifest->requires_plugins)
      if (!up.count(r.id) || !r.versions.contains(up[r.id]))
        s.problem += (s.problem.empty() ? "" : "; ") + std::string("requires ") + r.id + " " + r.versions.text() +
                     ", which is not loaded";
  }
  for (const auto& s : statuses_) {
    if (s.loaded) Poco::Logger::get("nucleo.plugins").information("loaded plugin " + s.id + " " + s.version + " (" + s.alias + ")");
    else Poco::Logger::get("nucleo.plugins").error("plugin " + s.alias + " not loaded: " + s.problem);
  }
  enforce_schemas_of_unloaded();
}

namespace {

// A route the plugin registered where the kernel serves one of its resources (plugin.json
// "resource"): the same method on /<collection> or /<collection>/{…}.
std::optional<std::string> resource_clash(const Manifest& m, const std::vector<RegisteredRoute>& routes) {
  auto shape = [](std::string path) {
    if (path.empty() || path[0] != '/') path = "/" + path;
    std::string out;
    for (std::size_t i = 0; i < path.size(); ++i) {
      if (path[i] != '{') {
        out += path[i];
        continue;
      }
      out += "{}";
      i = path.find('}', i);
      if (i == std::string::npos) break;
    }
    return out;
  };
  for (const auto& [name, c] : m.collections) {
    if (!c.resource) continue;
    for (const auto& r : routes) {
      std::string path = shape(r.path);
      bool base = path == "/" + name && (r.method == "GET" || r.method == "POST");
      bool one = path == "/" + name + "/{}" && (r.method == "GET" || r.method == "PATCH" || r.method == "DELETE");
      if (base || one)
        return "route " + r.method + " " + r.path + " clashes with the kernel's routes of resource " + name +
               " (plugin.json collections." + name + ".resource)";
    }
  }
  return std::nullopt;
}

}  // namespace

void PluginHost::load_one(Candidate& c) {
  PluginStatus& status = statuses_[c.status];
  const Manifest& m = *c.manifest;
  try {
    Json config = checked_config(m, c.setting.config);
    auto path = std::filesystem::path(c.folder) / m.library;
    // A tag saying the library cannot run here refuses it before dlopen runs any of its code.
    std::optional<AbiVersion> tag;
    try {
      tag = read_abi_tag(path.string());
    } catch (const Error&) {
      // Missing or not ELF: dlopen below says why in its own words.
    }
    if (tag)
      if (auto why = abi_incompatibility(*tag)) throw Error(ErrorCode::validation, *why);
    boost::dll::shared_library library;
    try {
      library.load(path, boost::dll::load_mode::rtld_local | boost::dll::load_mode::rtld_now);
    } catch (const std::exception& e) {
      throw Error(ErrorCode::validation, "cannot load " + path.string() + ": " + e.what());
    }
    if (!library.has(NUCLEO_PLUGIN_ENTRY_SYMBOL))
      throw Error(ErrorCode::validation,
                  path.string() + " exports no " NUCLEO_PLUGIN_ENTRY_SYMBOL " (use NUCLEO_PLUGIN)");
    auto entry = library.get<const nucleo_plugin_descriptor*()>(NUCLEO_PLUGIN_ENTRY_SYMBOL);
    const nucleo_plugin_descriptor* d = entry();
    if (!d || d->struct_size < sizeof(nucleo_plugin_descriptor))
      throw Error(ErrorCode::validation, "its descriptor is missing or too short");
    AbiVersion built{d->abi_major, d->abi_minor};
    if (auto why = abi_incompatibility(built)) throw Error(ErrorCode::validation, *why);
    // The tag is what `plugins inspect` reports: a library whose tag says otherwise
    // would be reported as running here while it does not (or the reverse).
    if (tag && (tag->major != built.major || tag->minor != built.minor))
      throw Error(ErrorCode::validation, "its ABI tag says " + tag->text() + " but its descriptor says " + built.text());
    if (!d->id || m.id != d->id || !d->version || m.version.text() != d->version)
      throw Error(ErrorCode::validation, std::string("the library says it is ") + (d->id ? d->id : "?") + " " +
                                             (d->version ? d->version : "?") + ", plugin.json says " + m.id + " " +
                                             m.version.text());
    auto self = std::make_unique<Loaded>();
    self->owner = this;
    self->manifest = m;
    self->descriptor = d;
    for (const auto& [name, c] : m.collections)
      self->collections[name] = {c.indexes,
                                 c.schema.is_null() ? nullptr
                                                    : std::make_shared<const ValueSchema>(c.schema, std::set<std::string>{}),
                                 c.personal, c.sensitive};
    fill_host_table(self->api, *self);
    std::string config_text = config.dump();
    self->in_init = true;
    PluginAnswer init;
    try {
      init = call_plugin(d->init, d->free_buffer, &self->api, nucleo_view{config_text.data(), config_text.size()},
                         &self->state);
    } catch (...) {
      // Only a C++ plugin bypassing the SDK can get here; the SDK's trampolines catch.
      throw Error(ErrorCode::validation, "init threw an exception instead of returning a status");
    }
    self->in_init = false;
    if (!init.ok())
      throw Error(ErrorCode::validation, "init failed (" + status_name(init.status) + ")" +
                                             (init.text.empty() ? "" : ": " + init.text));
    if (auto clash = resource_clash(m, self->routes)) {
      d->shutdown(self->state);
      throw Error(ErrorCode::validation, *clash);
    }
    if (services_)
      for (const auto& i : self->importers)
        if (auto taken = services_->import_formats.find(i.name); taken || i.name == "csv" || i.name == "jsonl") {
          d->shutdown(self->state);
          throw Error(ErrorCode::validation, "import format " + i.name + " is already provided by " +
                                                 (taken ? taken->owner : std::string("the kernel")));
        }
    if (services_) {
      try {
        for (const auto& [type, schema] : self->attribute_schemas)
          services_->attribute_schemas.add(m.id, type, schema);
      } catch (const Error&) {
        services_->attribute_schemas.remove_owner(m.id);  // all of the plugin's schemas, or none
        d->shutdown(self->state);  // nothing else of it is registered yet: it must not keep running
        throw;
      }
      remember_schemas(m, self->attribute_schemas);
      remember_purposes(m);
      try {
        record_collections(m, self->collections);
      } catch (const std::exception& e) {
        // Serving queries on indexes that miss documents would answer wrong: not at all, then.
        services_->attribute_schemas.remove_owner(m.id);
        d->shutdown(self->state);
        throw Error(ErrorCode::validation, std::string("could not re-index its collections: ") + e.what());
      }
    }
    for (auto& r : self->routes) routes_.push_back(r);
    for (auto& c : self->channels) channels_.push_back(c);
    for (auto& sub : self->subscriptions) subscriptions_.push_back(sub);
    if (jobs_)
      for (const auto& j : self->jobs) jobs_->add({j.queue_name(), j.schedule, j.scope, job_runner(j, *jobs_clock_), j.time_zone});
    if (services_) {
      for (const auto& v : self->validators) services_->validators.add("plugin " + v.plugin_id, v.entity_type, validator_for(v));
      for (const auto& s : self->briefing_sections) services_->customer_extensions.add(briefing_section_for(s));
      for (const auto& i : self->importers)
        services_->import_formats.add(import_format_for(i, services::PluginRecordService(*services_, m.id, self->collections),
                                                        services::FactService(*services_, m.id, self->manifest.facts)));
      for (const auto& [name, c] : m.collections)
        if (!c.timeline_account_field.empty())
          services_->customer_extensions.add(
              services::TimelineSource{m.id, name, c.timeline_account_field, c.timeline_time_field, c.sensitive});
    }
    keep_mapped(std::move(library));
    loaded_.push_back(std::move(self));
    status.loaded = true;
  } catch (const Error& e) {
    status.problem = e.what();
  }
}

}  // namespace nucleo::plugins
