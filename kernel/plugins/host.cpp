#include "kernel/plugins/host.hpp"

#define BOOST_DLL_USE_STD_FS
#include <Poco/Logger.h>

#include <boost/dll/shared_library.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "kernel/domain/base64.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/domain/json_text.hpp"
#include "kernel/plugins/abi_status.hpp"
#include "kernel/plugins/call.hpp"
#include "kernel/plugins/service_calls.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/channel_account_service.hpp"
#include "kernel/services/plugin_record_service.hpp"
#include "sdk/include/nucleo/sdk/plugin.hpp"

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
  std::map<std::string, services::CollectionIndexes> collections;  // the manifest's record store
  std::vector<std::pair<std::string, Json>> attribute_schemas;     // (entity type, schema), kept if init succeeds

  Json call_service(const nucleo_call* call, const std::string& name, const std::string& request) const {
    if (!owner->services_) throw Error(ErrorCode::unavailable, "this host runs no kernel services");
    if (!call) throw Error(ErrorCode::validation, name + " needs the nucleo_call of the request being handled");
    if (name == "channels.resolve") return resolve_channel(const_cast<nucleo_call&>(*call), Json::parse(request));
    if (call->ctx.tenant_id.empty())
      throw Error(ErrorCode::validation,
                  "this call has no tenant: signed and public routes resolve it through a channel account");
    return call_kernel_service(*owner->services_, call->ctx, name, Json::parse(request), call->read_only);
  }
  // channels.resolve {"external_id"}: this plugin's active channel account with that
  // external id. The call then acts in the account's tenant, as the plugin on behalf of
  // the account — how a signed route's inbound webhook finds its tenant. A call that
  // already has a tenant may only resolve that tenant's accounts.
  Json resolve_channel(nucleo_call& call, const Json& request) const {
    if (!request.is_object() || !request.value("external_id", Json()).is_string())
      throw Error(ErrorCode::validation, "channels.resolve takes {\"external_id\": \"…\"}");
    std::string external = request["external_id"];
    auto account = services::ChannelAccountService(*owner->services_).resolve(manifest.id, external);
    if (!account || (!call.ctx.tenant_id.empty() && call.ctx.tenant_id != account->tenant_id))
      throw Error(ErrorCode::not_found, "no active channel account of " + manifest.id + " has external id " + external);
    call.ctx.tenant_id = account->tenant_id;
    call.ctx.actor = {"plugin", manifest.id, account->id};
    return {{"id", account->id},           {"tenant_id", account->tenant_id}, {"external_id", external},
            {"config", account->config}, {"secrets", account->secrets}};
  }
  // plugin_abi.h: {"method","url","headers","body" | "body_base64","timeout_ms"} →
  // {"status","headers","body_base64"}.
  Json http_request(const std::string& request_text) const {
    Json r = Json::parse(request_text);
    if (!r.is_object()) throw Error(ErrorCode::validation, "http_request takes a JSON object");
    events::OutboundRequest out;
    out.method = r.value("method", "GET");
    out.url = r.value("url", "");
    for (const auto& [name, value] : r.value("headers", Json::object()).items())
      if (value.is_string()) out.headers[name] = value.get<std::string>();
    if (r.contains("body_base64")) {
      auto bytes = from_base64(r["body_base64"].get<std::string>());
      if (!bytes) throw Error(ErrorCode::validation, "body_base64 is not base64");
      out.body = *bytes;
    } else if (r.contains("body")) {
      out.body = r["body"].is_string() ? r["body"].get<std::string>() : r["body"].dump();
    }
    if (r.contains("timeout_ms")) out.timeout = std::chrono::milliseconds(r["timeout_ms"].get<long>());
    auto response = owner->outbound_.send(out);
    Json headers(response.headers);
    return {{"status", response.status}, {"headers", headers}, {"body_base64", to_base64(response.body)}};
  }
  std::string enqueue_job(const nucleo_call* call, const std::string& name, const std::string& payload,
                          std::int64_t delay_ms) const {
    if (!owner->jobs_) throw Error(ErrorCode::unavailable, "this host runs no jobs");
    if (call && call->read_only) throw Error(ErrorCode::forbidden, "a validator may not enqueue jobs");
    // A job is work done later on the caller's behalf: an auditor's request starts none.
    if (call)
      services::require_role(call->ctx, {"admin", "manager", "sales", "support", "marketing", "integration"},
                             "auditors read; they do not start plugin jobs", "jobs:write");
    if (delay_ms < 0) throw Error(ErrorCode::validation, "delay_ms must not be negative");
    Json parsed = payload.empty() ? Json::object() : Json::parse(payload);
    std::string tenant = call ? call->ctx.tenant_id : "";
    Timestamp at{owner->jobs_clock_->now().micros + delay_ms * 1000};
    return owner->jobs_->enqueue("plugin:" + manifest.id + ":" + name, tenant, parsed, at);
  }
  // The record store, as the call's caller; validators may read only.
  services::PluginRecordService records(const nucleo_call* call, bool writes) const {
    if (!owner->services_) throw Error(ErrorCode::unavailable, "this host runs no kernel services");
    if (!call) throw Error(ErrorCode::validation, "the record store needs the nucleo_call being handled");
    if (writes && call->read_only) throw Error(ErrorCode::forbidden, "a validator may read the record store, not write it");
    return services::PluginRecordService(*owner->services_, manifest.id, collections);
  }
  void metric(const std::string& name, const std::string& labels, double value, bool is_counter) {
    Json parsed = labels.empty() ? Json::object() : Json::parse(labels);
    owner->metrics_.add(manifest.id, name, parsed, value, is_counter);
  }
};

struct PluginHost::Candidate {
  PluginSetting setting;
  std::string folder;
  std::optional<Manifest> manifest;
  std::size_t status;  // index into statuses_
};

namespace {

std::string text(nucleo_view v) {
  return v.data ? std::string(v.data, v.size) : std::string();
}

PluginHost::Loaded& loaded(nucleo_host* h) {
  return *reinterpret_cast<PluginHost::Loaded*>(h);
}

// Runs a host function for a plugin: an Error becomes its ABI status with the message
// in `out`; anything else is the kernel's fault, logged and reported as INTERNAL.
template <class Work>
nucleo_status answered(nucleo_host_buffer* out, Work&& work) noexcept {
  auto say = [out](const std::string& text) {
    if (out) *out = sdk::detail::malloc_copy<nucleo_host_buffer>(text);
  };
  try {
    say(work());
    return NUCLEO_OK;
  } catch (const Error& e) {
    say(e.what());
    return abi_status(e.code());
  } catch (const Json::exception& e) {
    say(std::string("the request is not valid JSON: ") + e.what());
    return NUCLEO_INVALID_ARGUMENT;
  } catch (const std::exception& e) {
    Poco::Logger::get("nucleo.plugins").error(std::string("host function failed: ") + e.what());
    say("internal error in the kernel; see its log");
    return NUCLEO_INTERNAL;
  } catch (...) {
    say("internal error in the kernel");
    return NUCLEO_INTERNAL;
  }
}

// Libraries are never unloaded (docs/architecture.md §6): code a plugin left running — a thread, an
// atexit hook — must stay mapped until the process ends.
void keep_mapped(boost::dll::shared_library library) {
  static auto* kept = new std::vector<boost::dll::shared_library>();
  kept->push_back(std::move(library));
}

RegisteredJob job_registration(const std::string& plugin_id, const std::string& spec_text, nucleo_job_fn fn,
                               void* user, void (*free_buffer)(nucleo_plugin_buffer));

void fill_host_table(nucleo_host_api& api, PluginHost::Loaded& self) {
  api.struct_size = sizeof(nucleo_host_api);
  api.abi_major = NUCLEO_ABI_MAJOR;
  api.abi_minor = NUCLEO_ABI_MINOR;
  api.host = reinterpret_cast<nucleo_host*>(&self);
  api.free_buffer = [](nucleo_host*, nucleo_host_buffer b) { std::free(b.data); };
  api.log = [](nucleo_host* h, std::int32_t level, nucleo_view message) {
    Poco::Logger& log = Poco::Logger::get("nucleo.plugins." + loaded(h).manifest.id);
    std::string line = text(message);
    if (level >= NUCLEO_LOG_ERROR) log.error(line);
    else if (level == NUCLEO_LOG_WARNING) log.warning(line);
    else if (level == NUCLEO_LOG_INFO) log.information(line);
    else log.debug(line);
  };
  api.counter_add = [](nucleo_host* h, nucleo_view name, nucleo_view labels, double value) {
    return answered(nullptr, [&] {
      loaded(h).metric(text(name), text(labels), value, true);
      return std::string();
    });
  };
  api.gauge_set = [](nucleo_host* h, nucleo_view name, nucleo_view labels, double value) {
    return answered(nullptr, [&] {
      loaded(h).metric(text(name), text(labels), value, false);
      return std::string();
    });
  };
  api.call_service = [](nucleo_host* h, const nucleo_call* call, nucleo_view service, nucleo_view request,
                        nucleo_host_buffer* response) {
    if (response) *response = nucleo_host_buffer{nullptr, 0};
    return answered(response, [&] { return to_json_text(loaded(h).call_service(call, text(service), text(request))); });
  };
  api.register_route = [](nucleo_host* h, nucleo_view method, nucleo_view path, std::int32_t auth,
                          nucleo_route_fn fn, void* user) {
    auto& self = loaded(h);
    if (!self.in_init || !fn) return nucleo_status{NUCLEO_INVALID_ARGUMENT};
    self.routes.push_back({self.manifest.id, text(method), text(path), auth, fn, user, self.descriptor->free_buffer});
    return nucleo_status{NUCLEO_OK};
  };
  api.register_subscription = [](nucleo_host* h, nucleo_view pattern, nucleo_event_fn fn, void* user) {
    auto& self = loaded(h);
    std::string p = text(pattern);
    bool valid = p == "*" || (!p.empty() && p.find('*') == std::string::npos) ||
                 (p.size() > 2 && p.compare(p.size() - 2, 2, ".*") == 0 && p.find('*') == p.size() - 1);
    if (!self.in_init || !fn || !valid) return nucleo_status{NUCLEO_INVALID_ARGUMENT};
    self.subscriptions.push_back({self.manifest.id, p, fn, user, self.descriptor->free_buffer});
    return nucleo_status{NUCLEO_OK};
  };
  api.register_validator = [](nucleo_host* h, nucleo_view entity_type, nucleo_validator_fn fn, void* user) {
    auto& self = loaded(h);
    std::string type = text(entity_type);
    const auto& specs = all_entity_specs();
    bool known = type == "*" || std::any_of(specs.begin(), specs.end(), [&](const auto* s) { return s->type == type; });
    if (!self.in_init || !fn || !known) return nucleo_status{NUCLEO_INVALID_ARGUMENT};
    self.validators.push_back({self.manifest.id, type, fn, user, self.descriptor->free_buffer});
    return nucleo_status{NUCLEO_OK};
  };
  api.register_channel = [](nucleo_host* h, nucleo_view channel, nucleo_send_fn send, void* user) {
    auto& self = loaded(h);
    Json spec = Json::parse(text(channel), nullptr, false);
    bool valid = spec.is_object() && spec.value("name", Json()).is_string() && !spec["name"].get<std::string>().empty() &&
                 spec.value("kinds", Json::array()).is_array();
    // One channel per plugin: a channel account names the plugin, not the channel.
    if (!self.in_init || !send || !valid || !self.channels.empty()) {
      Poco::Logger::get("nucleo.plugins." + self.manifest.id)
          .error("register_channel refused: one {\"name\", \"kinds\": [...]} per plugin, during init");
      return nucleo_status{NUCLEO_INVALID_ARGUMENT};
    }
    self.channels.push_back({self.manifest.id, spec, send, user, self.descriptor->free_buffer});
    return nucleo_status{NUCLEO_OK};
  };
  api.register_job = [](nucleo_host* h, nucleo_view spec, nucleo_job_fn fn, void* user) {
    auto& self = loaded(h);
    if (!self.in_init || !fn) return nucleo_status{NUCLEO_INVALID_ARGUMENT};
    try {
      auto job = job_registration(self.manifest.id, text(spec), fn, user, self.descriptor->free_buffer);
      for (const auto& other : self.jobs)
        if (other.name == job.name) throw Error(ErrorCode::conflict, "job " + job.name + " is registered twice");
      self.jobs.push_back(std::move(job));
      return nucleo_status{NUCLEO_OK};
    } catch (const std::exception& e) {
      // register_job has no message buffer: the author reads why in the log.
      Poco::Logger::get("nucleo.plugins." + self.manifest.id).error(std::string("register_job refused: ") + e.what());
      return nucleo_status{NUCLEO_INVALID_ARGUMENT};
    }
  };
  api.register_attribute_schema = [](nucleo_host* h, nucleo_view entity_type, nucleo_view schema) {
    auto& self = loaded(h);
    if (!self.in_init) return nucleo_status{NUCLEO_INVALID_ARGUMENT};
    try {
      std::string type = text(entity_type);
      const EntitySpec* spec = find_entity_spec(type);
      if (!spec || !spec->has_attributes)
        throw Error(ErrorCode::validation, "entity type '" + type + "' has no attributes (accounts, contacts, deals, …)");
      Json parsed = Json::parse(text(schema));
      services::AttributeSchemas().add(self.manifest.id, type, parsed);  // the rules alone; clashes at load
      self.attribute_schemas.emplace_back(type, parsed);
      return nucleo_status{NUCLEO_OK};
    } catch (const std::exception& e) {
      Poco::Logger::get("nucleo.plugins." + self.manifest.id)
          .error(std::string("register_attribute_schema refused: ") + e.what());
      return nucleo_status{NUCLEO_INVALID_ARGUMENT};
    }
  };
  api.record_put = [](nucleo_host* h, const nucleo_call* call, nucleo_view collection, nucleo_view id,
                       nucleo_view document, nucleo_host_buffer* stored) {
    if (stored) *stored = nucleo_host_buffer{nullptr, 0};
    return answered(stored, [&] {
      return to_json_text(loaded(h).records(call, true).put(call->ctx, text(collection), text(id), Json::parse(text(document))));
    });
  };
  api.record_get = [](nucleo_host* h, const nucleo_call* call, nucleo_view collection, nucleo_view id,
                       nucleo_host_buffer* document) {
    if (document) *document = nucleo_host_buffer{nullptr, 0};
    return answered(document, [&] {
      return to_json_text(loaded(h).records(call, false).get(call->ctx, text(collection), text(id)));
    });
  };
  api.record_delete = [](nucleo_host* h, const nucleo_call* call, nucleo_view collection, nucleo_view id) {
    return answered(nullptr, [&] {
      loaded(h).records(call, true).remove(call->ctx, text(collection), text(id));
      return std::string();
    });
  };
  api.record_query = [](nucleo_host* h, const nucleo_call* call, nucleo_view collection, nucleo_view query,
                        nucleo_host_buffer* result) {
    if (result) *result = nucleo_host_buffer{nullptr, 0};
    return answered(result, [&] {
      std::string q = text(query);
      return to_json_text(
          loaded(h).records(call, false).query(call->ctx, text(collection), q.empty() ? Json::object() : Json::parse(q)));
    });
  };
  api.http_request = [](nucleo_host* h, const nucleo_call*, nucleo_view request, nucleo_host_buffer* response) {
    if (response) *response = nucleo_host_buffer{nullptr, 0};
    return answered(response, [&] { return to_json_text(loaded(h).http_request(text(request))); });
  };
  api.enqueue_job = [](nucleo_host* h, const nucleo_call* call, nucleo_view name, nucleo_view payload,
                       std::int64_t delay_ms, nucleo_host_buffer* job_id) {
    if (job_id) *job_id = nucleo_host_buffer{nullptr, 0};
    return answered(job_id, [&] { return loaded(h).enqueue_job(call, text(name), text(payload), delay_ms); });
  };
}

// plugin_abi.h register_job: {"name","schedule","scope"}. Throws naming what is wrong.
RegisteredJob job_registration(const std::string& plugin_id, const std::string& spec_text, nucleo_job_fn fn,
                               void* user, void (*free_buffer)(nucleo_plugin_buffer)) {
  Json spec = Json::parse(spec_text);
  if (!spec.is_object()) throw Error(ErrorCode::validation, "a job is a JSON object");
  for (const auto& [key, value] : spec.items())
    if (key != "name" && key != "schedule" && key != "scope") throw Error(ErrorCode::validation, "unknown field " + key);
  std::string name = spec.value("name", "");
  if (name.empty() || name.size() > 64 ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") != std::string::npos)
    throw Error(ErrorCode::validation, "job name '" + name + "' must be 1-64 lower-case letters, digits, '.', '_', '-'");
  std::string scope = spec.value("scope", "tenant");
  if (scope != "tenant" && scope != "global")
    throw Error(ErrorCode::validation, "job " + name + ": scope must be tenant or global");
  std::optional<events::Schedule> schedule;
  if (spec.contains("schedule")) schedule = events::Schedule::parse(spec.value("schedule", ""));
  return {plugin_id, name, schedule, scope == "tenant" ? events::JobScope::tenant : events::JobScope::global, fn,
          user, free_buffer};
}

// A plugin's job as the queue runs it: in the job's tenant, as the plugin.
events::RunJob job_runner(const RegisteredJob& job, const Clock& clock) {
  return [job, &clock](const Json& input) -> std::string {
    nucleo_call call;
    call.ctx.tenant_id = input["tenant_id"].is_string() ? input["tenant_id"].get<std::string>() : "";
    call.ctx.actor = {"plugin", job.plugin_id, ""};
    call.ctx.request_id = input.at("job_id").get<std::string>();
    call.ctx.clock = &clock;
    std::string in = to_json_text(input);
    nucleo_plugin_buffer message{nullptr, 0};
    nucleo_status status = job.handler(job.user_data, &call, nucleo_view{in.data(), in.size()}, &message);
    std::string why = message.data ? std::string(message.data, message.size) : "";
    if (message.data) job.free_buffer(message);
    if (status == NUCLEO_OK) return "";
    return status_name(status) + (why.empty() ? "" : ": " + why);
  };
}

// A plugin's validator as the services' registry runs it: inside the writer's
// transaction, with a read-only call. NUCLEO_REJECTED brings reasons; any other failure
// vetoes too — a validator that cannot answer cannot vouch for the write.
services::Validator validator_for(const RegisteredValidator& v) {
  return [v](const services::ValidationRequest& r) -> std::vector<FieldError> {
    nucleo_call call{r.context, true};
    std::string change = to_json_text(
        Json{{"action", r.action}, {"entity_type", r.entity_type}, {"before", r.before}, {"after", r.after}});
    nucleo_plugin_buffer out{nullptr, 0};
    nucleo_status status = v.handler(v.user_data, &call, nucleo_view{change.data(), change.size()}, &out);
    std::string text = out.data ? std::string(out.data, out.size) : "";
    if (out.data) v.free_buffer(out);
    if (status == NUCLEO_OK) return {};
    std::vector<FieldError> reasons;
    Json list = Json::parse(text, nullptr, false);
    if (status == NUCLEO_REJECTED && list.is_array())
      for (const auto& item : list)
        if (item.is_object())
          reasons.push_back({item.value("field", ""), item.value("message", "rejected by " + v.plugin_id)});
    if (reasons.empty())
      reasons.push_back({"", v.plugin_id + " could not validate the change (" + status_name(status) + ")" +
                                 (text.empty() || list.is_array() ? "" : ": " + text)});
    return reasons;
  };
}

bool is_metric_name(const std::string& s) {
  if (s.empty() || s.size() > 100 || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_'))
      return false;
  return true;
}

}  // namespace

void PluginMetrics::add(const std::string& plugin_id, const std::string& name, const Json& labels, double value,
                        bool is_counter) {
  if (!is_metric_name(name))
    throw Error(ErrorCode::validation, "metric name '" + name + "' must be lower-case letters, digits and _");
  if (!std::isfinite(value) || (is_counter && value < 0))
    throw Error(ErrorCode::validation, "metric " + name + ": " + (is_counter ? "a counter only grows" : "not a number"));
  if (!labels.is_object() || labels.size() > 10)
    throw Error(ErrorCode::validation, "metric " + name + ": labels must be an object of at most 10 strings");
  MetricLabels key{{"plugin", plugin_id}};
  for (const auto& [k, v] : labels.items()) {
    if (!is_metric_name(k) || k == "plugin" || !v.is_string())
      throw Error(ErrorCode::validation, "metric " + name + ": label '" + k + "' must be a lower-case name other than "
                                                                              "'plugin' with a string value");
    key.emplace_back(k, v.get<std::string>());
  }
  std::lock_guard lock(mutex_);
  auto& by_labels = series_[name];
  auto found = by_labels.find(key);
  if (found == by_labels.end()) {
    if (!by_labels.empty() && by_labels.begin()->second.is_counter != is_counter)
      throw Error(ErrorCode::validation, "metric " + name + " is already a " + (is_counter ? "gauge" : "counter"));
    if (series_count_[plugin_id] >= max_series_per_plugin)
      throw Error(ErrorCode::validation, "plugin " + plugin_id + " has reached " +
                                             std::to_string(max_series_per_plugin) + " metric series");
    ++series_count_[plugin_id];
    found = by_labels.emplace(key, Series{is_counter, 0}).first;
  } else if (found->second.is_counter != is_counter) {
    throw Error(ErrorCode::validation, "metric " + name + " is already a " + (is_counter ? "gauge" : "counter"));
  }
  found->second.value = is_counter ? found->second.value + value : value;
}

std::string PluginMetrics::render() const {
  std::lock_guard lock(mutex_);
  PrometheusText out;
  for (const auto& [name, by_labels] : series_) {
    if (by_labels.empty()) continue;
    out.family("nucleo_plugin_" + name, by_labels.begin()->second.is_counter ? "counter" : "gauge");
    for (const auto& [labels, series] : by_labels) out.sample("nucleo_plugin_" + name, labels, series.value);
  }
  return out.str();
}

PluginHost::PluginHost(Version kernel, std::optional<services::ServiceDependencies> services,
                       events::OutboundSettings outbound)
    : kernel_(kernel), services_(std::move(services)), outbound_(std::move(outbound)) {}

PluginHost::~PluginHost() {
  for (auto it = loaded_.rbegin(); it != loaded_.rend(); ++it) {
    try {
      (*it)->descriptor->shutdown((*it)->state);
    } catch (...) {
      // A C function should not throw; one that does must not stop the others' shutdown.
    }
  }
}

std::vector<events::Subscriber> PluginHost::event_subscribers(const Clock& clock) const {
  std::vector<events::Subscriber> out;
  std::map<std::string, int> seen;
  for (const auto& sub : subscriptions_) {
    std::string name = "plugin:" + sub.plugin_id + ":" + sub.pattern;
    if (int n = seen[name]++; n > 0) name += "#" + std::to_string(n + 1);
    out.push_back({name, sub.pattern, [sub, &clock](const Json& envelope) -> std::string {
                     nucleo_call call;
                     call.ctx.tenant_id = envelope.at("tenant_id").get<std::string>();
                     call.ctx.actor = {"plugin", sub.plugin_id, ""};
                     call.ctx.request_id = envelope.at("id").get<std::string>();
                     call.ctx.clock = &clock;
                     call.ctx.causation_id = envelope.at("id").get<std::string>();
                     call.ctx.depth = envelope.at("depth").get<int>() + 1;
                     std::string in = to_json_text(envelope);
                     nucleo_plugin_buffer message{nullptr, 0};
                     nucleo_status status = sub.handler(sub.user_data, &call, nucleo_view{in.data(), in.size()}, &message);
                     std::string why = message.data ? std::string(message.data, message.size) : "";
                     if (message.data) sub.free_buffer(message);
                     if (status == NUCLEO_OK) return "";
                     return status_name(status) + (why.empty() ? "" : ": " + why);
                   }});
  }
  return out;
}

void PluginHost::attach_jobs(events::JobQueue& queue, const Clock& clock) {
  jobs_ = &queue;
  jobs_clock_ = &clock;
  if (services_)
    queue.add(services::channel_delivery_job(
        *services_,
        [this](const std::string& plugin_id, const services::CallContext& ctx, const Json& request) {
          return send_on_channel(plugin_id, ctx, request);
        },
        queue.settings().max_attempts, clock));
}

// A channel plugin's send, called on a job worker (docs/plugin-authoring.md,
// "Channels"); services/channel_delivery.cpp decides what the answer means.
std::optional<services::ChannelSendResult> PluginHost::send_on_channel(const std::string& plugin_id,
                                                                       const services::CallContext& ctx,
                                                                       const Json& request) const {
  using Result = services::ChannelSendResult;
  auto channel = std::find_if(channels_.begin(), channels_.end(), [&](const auto& c) { return c.plugin_id == plugin_id; });
  if (channel == channels_.end()) return std::nullopt;
  nucleo_call call;
  call.ctx = ctx;
  std::string in = to_json_text(request);
  nucleo_plugin_buffer answer{nullptr, 0};
  nucleo_status status = channel->send(channel->user_data, &call, nucleo_view{in.data(), in.size()}, &answer);
  std::string text = answer.data ? std::string(answer.data, answer.size) : "";
  if (answer.data) channel->free_buffer(answer);
  if (status != NUCLEO_OK)
    return Result{status == NUCLEO_UNAVAILABLE ? Result::Kind::retry : Result::Kind::failed, Json::object(),
                  status_name(status) + (text.empty() ? "" : ": " + text)};
  Json outcome = Json::parse(text, nullptr, false);
  if (!outcome.is_object())
    return Result{Result::Kind::failed, Json::object(),
                  plugin_id + " answered send with something other than a JSON object"};
  return Result{Result::Kind::sent, outcome, ""};
}

void PluginHost::skip(const std::vector<PluginSetting>& settings, const std::string& why) {
  safe_mode_ = true;
  for (const auto& s : settings) statuses_.push_back({s.alias, s.file, s.id, "", false, why});
  Poco::Logger::get("nucleo.plugins").warning("safe mode: none of the " + std::to_string(settings.size()) +
                                              " configured plugins is loaded");
}

void PluginHost::load(const std::vector<PluginSetting>& settings) {
  std::vector<Candidate> candidates;
  std::map<std::string, std::string> alias_of_id;
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
      auto [first, inserted] = alias_of_id.emplace(c.manifest->id, s.alias);
      if (!inserted)
        throw Error(ErrorCode::validation,
                    "duplicate id " + c.manifest->id + ": plugins." + first->second + " loads it already");
      candidates.push_back(std::move(c));
    } catch (const Error& e) {
      statuses_.back().problem = e.what();
    }
  }
  // Dependency order: load whatever has its requirements loaded, until nothing moves.
  std::map<std::string, Version> up;
  for (bool progress = true; progress;) {
    progress = false;
    for (auto& c : candidates) {
      if (!c.manifest || up.count(c.manifest->id) || !statuses_[c.status].problem.empty()) continue;
      bool ready = true;
      for (const auto& r : c.manifest->requires_plugins) ready = ready && up.count(r.id) && r.versions.contains(up[r.id]);
      if (!ready) continue;
      load_one(c);
      progress = true;
      if (statuses_[c.status].loaded) up[c.manifest->id] = c.manifest->version;
    }
  }
  for (auto& c : candidates) {
    PluginStatus& s = statuses_[c.status];
    if (s.loaded || !s.problem.empty()) continue;
    for (const auto& r : c.manifest->requires_plugins)
      if (!up.count(r.id) || !r.versions.contains(up[r.id]))
        s.problem += (s.problem.empty() ? "" : "; ") + std::string("requires ") + r.id + " " + r.versions.text() +
                     ", which is not loaded";
  }
  for (const auto& s : statuses_) {
    if (s.loaded) Poco::Logger::get("nucleo.plugins").information("loaded plugin " + s.id + " " + s.version + " (" + s.alias + ")");
    else Poco::Logger::get("nucleo.plugins").error("plugin " + s.alias + " not loaded: " + s.problem);
  }
}

void PluginHost::load_one(Candidate& c) {
  PluginStatus& status = statuses_[c.status];
  const Manifest& m = *c.manifest;
  try {
    Json config = checked_config(m, c.setting.config);
    auto path = std::filesystem::path(c.folder) / m.library;
    boost::dll::shared_library library;
    try {
      library.load(path, boost::dll::load_mode::rtld_local | boost::dll::load_mode::rtld_now);
    } catch (const std::exception& e) {
      throw Error(ErrorCode::validation, "cannot load " + path.string() + ": " + e.what());
    }
    if (!library.has("nucleo_plugin_entry"))
      throw Error(ErrorCode::validation, path.string() + " exports no nucleo_plugin_entry (use NUCLEO_PLUGIN)");
    auto entry = library.get<const nucleo_plugin_descriptor*()>("nucleo_plugin_entry");
    const nucleo_plugin_descriptor* d = entry();
    if (!d || d->struct_size < sizeof(nucleo_plugin_descriptor))
      throw Error(ErrorCode::validation, "its descriptor is missing or too short");
    if (d->abi_major != NUCLEO_ABI_MAJOR)
      throw Error(ErrorCode::validation, "built for plugin ABI " + std::to_string(d->abi_major) + "." +
                                             std::to_string(d->abi_minor) + "; this kernel speaks " +
                                             std::to_string(NUCLEO_ABI_MAJOR) + ".x");
    if (d->abi_minor > NUCLEO_ABI_MINOR)
      throw Error(ErrorCode::validation, "built for plugin ABI " + std::to_string(d->abi_major) + "." +
                                             std::to_string(d->abi_minor) + ", newer than this kernel's " +
                                             std::to_string(NUCLEO_ABI_MAJOR) + "." + std::to_string(NUCLEO_ABI_MINOR));
    if (!d->id || m.id != d->id || !d->version || m.version.text() != d->version)
      throw Error(ErrorCode::validation, std::string("the library says it is ") + (d->id ? d->id : "?") + " " +
                                             (d->version ? d->version : "?") + ", plugin.json says " + m.id + " " +
                                             m.version.text());
    auto self = std::make_unique<Loaded>();
    self->owner = this;
    self->manifest = m;
    self->descriptor = d;
    for (const auto& [name, c] : m.collections) self->collections[name] = c.indexes;
    fill_host_table(self->api, *self);
    std::string config_text = config.dump();
    nucleo_plugin_buffer message{nullptr, 0};
    self->in_init = true;
    nucleo_status result = NUCLEO_INTERNAL;
    try {
      result = d->init(&self->api, nucleo_view{config_text.data(), config_text.size()}, &self->state, &message);
    } catch (...) {
      // Only a C++ plugin bypassing the SDK can get here; the SDK's trampolines catch.
      throw Error(ErrorCode::validation, "init threw an exception instead of returning a status");
    }
    self->in_init = false;
    std::string why = message.data ? std::string(message.data, message.size) : "";
    if (message.data) d->free_buffer(message);
    if (result != NUCLEO_OK)
      throw Error(ErrorCode::validation, "init failed (" + status_name(result) + ")" + (why.empty() ? "" : ": " + why));
    if (services_) {
      try {
        for (const auto& [type, schema] : self->attribute_schemas)
          services_->attribute_schemas.add(m.id, type, schema);
      } catch (const Error&) {
        services_->attribute_schemas.remove_owner(m.id);  // all of the plugin's schemas, or none
        d->shutdown(self->state);  // nothing else of it is registered yet: it must not keep running
        throw;
      }
    }
    for (auto& r : self->routes) routes_.push_back(r);
    for (auto& c : self->channels) channels_.push_back(c);
    for (auto& sub : self->subscriptions) subscriptions_.push_back(sub);
    if (jobs_)
      for (const auto& j : self->jobs) jobs_->add({j.queue_name(), j.schedule, j.scope, job_runner(j, *jobs_clock_)});
    if (services_)
      for (const auto& v : self->validators) services_->validators.add("plugin " + v.plugin_id, v.entity_type, validator_for(v));
    keep_mapped(std::move(library));
    loaded_.push_back(std::move(self));
    status.loaded = true;
  } catch (const Error& e) {
    status.problem = e.what();
  }
}

}  // namespace nucleo::plugins
