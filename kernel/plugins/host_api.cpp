// The host function table a plugin's init receives (plugin_abi.h nucleo_host_api):
// each function runs as the caller of the nucleo_call it is given, and answers with an
// ABI status and a message (docs/plugin-authoring.md).
#include <Poco/Logger.h>

#include <cstdlib>
#include <regex>

#include "kernel/domain/base64.hpp"
#include "kernel/domain/digest.hpp"
#include "kernel/domain/json_text.hpp"
#include "kernel/plugins/abi_status.hpp"
#include "kernel/plugins/internal/loaded_plugin.hpp"
#include "kernel/plugins/service_calls.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/channel_account_service.hpp"
#include "kernel/services/plugin_settings_service.hpp"
#include "kernel/services/snapshot_read.hpp"
#include "sdk/include/nucleo/sdk/plugin.hpp"

namespace nucleo::plugins {

Json PluginHost::Loaded::call_service(const nucleo_call* call, const std::string& name, const std::string& request) const {
  if (!owner->services_) throw Error(ErrorCode::unavailable, "this host runs no kernel services");
  if (!call) throw Error(ErrorCode::validation, name + " needs the nucleo_call of the request being handled");
  if (name == "channels.resolve") return resolve_channel(const_cast<nucleo_call&>(*call), Json::parse(request));
  if (name == "network.resolve") return resolve_network(Json::parse(request));
  if (call->ctx.tenant_id.empty())
    throw Error(ErrorCode::validation,
                "this call has no tenant: signed and public routes resolve it through a channel account");
  Json parsed = Json::parse(request);
  if (name == "channels.list") return list_channels(*call);
  // (ABI 1.8) The plugin's own fact sets, aggregated in SQL as the caller (a read: a
  // validator may ask too).
  if (name == "facts.aggregate") return services::FactService(*owner->services_, manifest.id, manifest.facts).aggregate(call->ctx, parsed);
  if (name == "facts.write") return write_facts(*call, parsed);
  if (!parsed.is_object() || !parsed.contains("idempotency_key"))
    return call_kernel_service(*owner->services_, call->ctx, name, parsed, call->read_only);
  // A write made once: the key is the plugin's own (per tenant), kept 24 hours.
  const Json key = parsed["idempotency_key"];
  static const std::regex visible("^[\\x21-\\x7e]{1,255}$");
  if (!key.is_string() || !std::regex_match(key.get<std::string>(), visible))
    throw Error(ErrorCode::validation, "idempotency_key must be 1-255 visible ASCII characters",
                {{"idempotency_key", "invalid"}});
  parsed.erase("idempotency_key");
  services::CallContext ctx = call->ctx;
  // The records' key column is global (API key ids are): the scope names the tenant too.
  ctx.write_once = services::CallContext::WriteOnce{"plugin:" + manifest.id + "@" + ctx.tenant_id, key.get<std::string>(),
                                                     sha256_hex(name + "\n" + to_json_text(parsed))};
  return call_kernel_service(*owner->services_, ctx, name, parsed, call->read_only);
}

Json PluginHost::Loaded::read_snapshot(const nucleo_call* call, const std::string& request,
                                       nucleo_snapshot_chunk_fn chunk, void* user) const {
  if (!owner->services_) throw Error(ErrorCode::unavailable, "this host runs no kernel services");
  if (!call || call->ctx.tenant_id.empty()) throw Error(ErrorCode::validation, "read_snapshot needs a call in a tenant");
  if (call->read_only) throw Error(ErrorCode::forbidden, "a validator may not read a whole snapshot");
  if (!chunk) throw Error(ErrorCode::validation, "read_snapshot needs a chunk function");
  Json parsed = request.empty() ? Json::object() : Json::parse(request);
  return services::SnapshotRead(*owner->services_).run(call->ctx, parsed, [&](const std::string& jsonl) {
    return chunk(user, nucleo_view{jsonl.data(), jsonl.size()}) == NUCLEO_OK;
  });
}

// facts.write {"set", "facts": [fact, …]} (ABI 1.8): 1 to 1,000 facts of one of the
// plugin's sets from its own code (a demo, an EDI message a route received), as the
// caller; an import writes its files' facts itself. → {"created", "updated", "unchanged"}.
Json PluginHost::Loaded::write_facts(const nucleo_call& call, const Json& request) const {
  if (call.read_only) throw Error(ErrorCode::forbidden, "a validator may read facts, not write them");
  if (!request.is_object() || !request.value("set", Json()).is_string() || !request.value("facts", Json()).is_array() ||
      request["facts"].empty() || request["facts"].size() > 1000)
    throw Error(ErrorCode::validation, "facts.write takes {\"set\", \"facts\": [1 to 1000 facts]}");
  std::vector<Json> facts(request["facts"].begin(), request["facts"].end());
  Json counts{{"created", 0}, {"updated", 0}, {"unchanged", 0}};
  for (const auto& action : services::FactService(*owner->services_, manifest.id, manifest.facts)
                                .write(call.ctx, request["set"].get<std::string>(), facts))
    counts[action] = counts[action].get<int>() + 1;
  return counts;
}

// channels.resolve {"external_id"}: this plugin's active channel account with that
// external id. The call then acts in the account's tenant, as the plugin on behalf of
// the account — how a signed route's inbound webhook finds its tenant. A call that
// started in a tenant (a bearer route, a job) may only resolve that tenant's accounts.
Json PluginHost::Loaded::resolve_channel(nucleo_call& call, const Json& request) const {
  if (!request.is_object() || !request.value("external_id", Json()).is_string())
    throw Error(ErrorCode::validation, "channels.resolve takes {\"external_id\": \"…\"}");
  std::string external = request["external_id"];
  auto account = services::ChannelAccountService(*owner->services_)
                     .resolve(manifest.id, external, &owner->resolved_accounts_, owner->clock().now());
  if (call.ctx.tenant_id.empty()) call.tenant_from_channel = true;  // a signed or public route's call
  if (!account || (!call.tenant_from_channel && call.ctx.tenant_id != account->tenant_id))
    throw Error(ErrorCode::not_found, "no active channel account of " + manifest.id + " has external id " + external);
  call.ctx.tenant_id = account->tenant_id;
  call.ctx.actor = {"plugin", manifest.id, account->id};
  return {{"id", account->id},           {"tenant_id", account->tenant_id}, {"external_id", external},
          {"config", account->config}, {"secrets", account->secrets}, {"problem", account->problem}};
}

// channels.list {} (ABI 1.4): this plugin's active channel accounts in the call's tenant,
// with their secrets — what a plugin that polls its channel (e-mail over IMAP) works through.
Json PluginHost::Loaded::list_channels(const nucleo_call& call) const {
  Json data = Json::array();
  for (const auto& a : services::ChannelAccountService(*owner->services_).active_accounts_of(call.ctx, manifest.id))
    data.push_back({{"id", a.id},         {"tenant_id", a.tenant_id}, {"external_id", a.external_id},
                    {"config", a.config}, {"secrets", a.secrets},     {"problem", a.problem}});
  return {{"data", data}};
}

// network.resolve {"host", "port"} (ABI 1.4): where a plugin that speaks a protocol of its
// own (SMTP, IMAP) may connect — the addresses the host resolves to, each checked by the
// rules http_request follows (ADR 0028) — and the CAs its TLS is to trust.
Json PluginHost::Loaded::resolve_network(const Json& request) const {
  if (!request.is_object() || !request.value("host", Json()).is_string() || !request.value("port", Json()).is_number_integer())
    throw Error(ErrorCode::validation, "network.resolve takes {\"host\": \"…\", \"port\": 1-65535}");
  int port = request["port"];
  if (port < 1 || port > 65535) throw Error(ErrorCode::validation, "network.resolve: port must be 1-65535", {{"port", "out of range"}});
  std::string host = request["host"];
  return {{"host", host}, {"port", port}, {"addresses", owner->outbound_.resolve_checked(host)},
          {"ca_file", owner->outbound_.ca_file()}};
}

// plugin_abi.h: {"method","url","headers","body" | "body_base64","timeout_ms"} →
// {"status","headers","body_base64"}.
Json PluginHost::Loaded::http_request(const std::string& request_text) const {
  Json r = Json::parse(request_text);
  if (!r.is_object()) throw Error(ErrorCode::validation, "http_request takes a JSON object");
  events::OutboundRequest out;
  out.method = r.value("method", "GET");
  out.url = r.value("url", "");
  // A local, not a temporary: items() of a temporary dangles inside the loop.
  const Json headers_in = r.value("headers", Json::object());
  for (const auto& [name, value] : headers_in.items())
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

std::string PluginHost::Loaded::enqueue_job(const nucleo_call* call, const std::string& name, const std::string& payload,
                        std::int64_t delay_ms) const {
  if (!owner->jobs_) throw Error(ErrorCode::unavailable, "this host runs no jobs");
  if (call && call->read_only) throw Error(ErrorCode::forbidden, "a validator may not enqueue jobs");
  // A job is work done later on the caller's behalf: an auditor's request starts none.
  if (call)
    services::require_role(call->ctx, {"admin", "manager", "sales", "support", "marketing", "integration"},
                           "auditors read; they do not start plugin jobs", "jobs:write");
  if (delay_ms < 0) throw Error(ErrorCode::validation, "delay_ms must not be negative");
  Json parsed = payload.empty() ? Json::object() : Json::parse(payload);
  refuse_nul(parsed, "payload");  // stored as text, which cannot hold one on PostgreSQL
  std::string tenant = call ? call->ctx.tenant_id : "";
  Timestamp at{owner->jobs_clock_->now().micros + delay_ms * 1000};
  return owner->jobs_->enqueue("plugin:" + manifest.id + ":" + name, tenant, parsed, at);
}

// The record store, as the call's caller; validators may read only.
services::PluginRecordService PluginHost::Loaded::records(const nucleo_call* call, bool writes) const {
  if (!owner->services_) throw Error(ErrorCode::unavailable, "this host runs no kernel services");
  if (!call) throw Error(ErrorCode::validation, "the record store needs the nucleo_call being handled");
  if (writes && call->read_only) throw Error(ErrorCode::forbidden, "a validator may read the record store, not write it");
  return services::PluginRecordService(*owner->services_, manifest.id, collections);
}

// plugin_abi.h caller: who acts in the call, as the permission checks see it.
Json caller_json(const services::CallContext& ctx) {
  const auto* p = ctx.principal.get();
  auto or_null = [](const std::string& s) { return s.empty() ? Json() : Json(s); };
  Json teams = p ? Json(p->team_ids) : Json::array();
  Json scopes = p && p->scopes_apply ? Json(p->scopes) : Json();
  return {{"tenant_id", or_null(ctx.tenant_id)},
          {"actor", ctx.actor.to_json()},
          {"user_id", p ? or_null(p->user_id) : Json()},
          {"role", p ? Json(p->role) : Json()},
          {"teams", teams},
          {"scopes", scopes},
          {"request_id", or_null(ctx.request_id)},
          {"causation_id", or_null(ctx.causation_id)}};
}

// The plugin's own settings for the call's tenant: the plugin reads them whoever its
// caller is (they configure the plugin, not the caller's data).
Json PluginHost::Loaded::tenant_settings(const nucleo_call* call) const {
  if (!owner->services_) throw Error(ErrorCode::unavailable, "this host runs no kernel services");
  if (!call) throw Error(ErrorCode::validation, "tenant_settings needs the nucleo_call being handled");
  return services::PluginSettingsService(*owner->services_, manifest.id, manifest.tenant_settings).for_plugin(call->ctx);
}

std::int64_t PluginHost::Loaded::now_micros(const nucleo_call* call) const {
  if (call && call->ctx.clock) return call->ctx.now().micros;
  return owner->clock().now().micros;
}

void PluginHost::Loaded::metric(const std::string& name, const std::string& labels, double value, bool is_counter) {
  Json parsed = labels.empty() ? Json::object() : Json::parse(labels);
  owner->metrics_.add(manifest.id, name, parsed, value, is_counter);
}

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

}  // namespace

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
    std::string m = text(method), p = text(path);
    auto described = self.manifest.routes.find(m + " " + (p.empty() || p[0] != '/' ? "/" : "") + p);
    std::optional<RouteDescription> description;
    if (described != self.manifest.routes.end()) description = described->second;
    self.routes.push_back({self.manifest.id, m, p, auth, fn, user, self.descriptor->free_buffer, description});
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
                 spec.value("kinds", Json::array()).is_array() &&
                 (!spec.contains("reply_window_hours") ||
                  (spec["reply_window_hours"].is_number_integer() && spec["reply_window_hours"].get<int>() >= 0 &&
                   spec["reply_window_hours"].get<int>() <= 720));
    // One channel per plugin: a channel account names the plugin, not the channel.
    if (!self.in_init || !send || !valid || !self.channels.empty()) {
      Poco::Logger::get("nucleo.plugins." + self.manifest.id)
          .error("register_channel refused: one {\"name\", \"kinds\": [...], \"reply_window_hours\"?: 0-720} per "
                 "plugin, during init");
      return nucleo_status{NUCLEO_INVALID_ARGUMENT};
    }
    // A config schema is JSON Schema (draft 7, ADR 0019) for the whole config object.
    std::shared_ptr<const ValueSchema> schema;
    if (spec.contains("config_schema")) {
      auto problems = ValueSchema::problems(spec["config_schema"], {});
      if (!problems.empty()) {
        Poco::Logger::get("nucleo.plugins." + self.manifest.id)
            .error("register_channel refused: config_schema: " + problems.front());
        return nucleo_status{NUCLEO_INVALID_ARGUMENT};
      }
      schema = std::make_shared<const ValueSchema>(spec["config_schema"], std::set<std::string>{});
    }
    self.channels.push_back({self.manifest.id, spec, schema, send, user, self.descriptor->free_buffer});
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
  api.caller = [](nucleo_host*, const nucleo_call* call, nucleo_host_buffer* out) {
    if (out) *out = nucleo_host_buffer{nullptr, 0};
    return answered(out, [&] {
      if (!call) throw Error(ErrorCode::validation, "caller needs the nucleo_call being handled");
      return to_json_text(caller_json(call->ctx));
    });
  };
  api.now_micros = [](nucleo_host* h, const nucleo_call* call) { return loaded(h).now_micros(call); };
  api.tenant_settings = [](nucleo_host* h, const nucleo_call* call, nucleo_host_buffer* out) {
    if (out) *out = nucleo_host_buffer{nullptr, 0};
    return answered(out, [&] { return to_json_text(loaded(h).tenant_settings(call)); });
  };
  api.register_briefing_section = [](nucleo_host* h, nucleo_view spec, nucleo_briefing_fn fn, void* user) {
    auto& self = loaded(h);
    Json j = Json::parse(text(spec), nullptr, false);
    std::string name = j.is_object() ? j.value("name", "") : "";
    bool valid = !name.empty() && name.size() <= 64 &&
                 name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos &&
                 j.value("title", Json("")).is_string();
    for (const auto& other : self.briefing_sections) valid = valid && other.name != name;
    if (!self.in_init || !fn || !valid) {
      Poco::Logger::get("nucleo.plugins." + self.manifest.id)
          .error("register_briefing_section refused: {\"name\": lower-case letters, digits, _ (once), \"title\"}, "
                 "during init");
      return nucleo_status{NUCLEO_INVALID_ARGUMENT};
    }
    self.briefing_sections.push_back(
        {self.manifest.id, name, j.value("title", name), fn, user, self.descriptor->free_buffer});
    return nucleo_status{NUCLEO_OK};
  };
  api.register_importer = [](nucleo_host* h, nucleo_view spec, nucleo_import_fn fn, void* user) {
    auto& self = loaded(h);
    Json j = Json::parse(text(spec), nullptr, false);
    std::string name = j.is_object() ? j.value("name", "") : "";
    bool valid = !name.empty() && name.size() <= 64 && name != "csv" && name != "jsonl" &&
                 name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos &&
                 j.value("title", Json("")).is_string() && j.value("media_types", Json::array()).is_array() &&
                 (j.value("mapping", Json()).is_null() || j["mapping"].is_object());
    std::vector<std::string> media_types;
    if (valid)
      for (const auto& t : j.value("media_types", Json::array())) {
        valid = valid && t.is_string();
        if (t.is_string()) media_types.push_back(t.get<std::string>());
      }
    for (const auto& other : self.importers) valid = valid && other.name != name;
    if (!self.in_init || !fn || !valid) {
      Poco::Logger::get("nucleo.plugins." + self.manifest.id)
          .error("register_importer refused: {\"name\": lower-case letters, digits, _ (once; not csv or jsonl), "
                 "\"title\", \"media_types\": [strings], \"mapping\": {...}}, during init");
      return nucleo_status{NUCLEO_INVALID_ARGUMENT};
    }
    self.importers.push_back({self.manifest.id, name, j.value("title", name), media_types, j.value("mapping", Json()), fn,
                              user, self.descriptor->free_buffer});
    return nucleo_status{NUCLEO_OK};
  };
  api.record_put_version = [](nucleo_host* h, const nucleo_call* call, nucleo_view collection, nucleo_view id,
                              nucleo_view document, std::int64_t expected, nucleo_host_buffer* stored) {
    if (stored) *stored = nucleo_host_buffer{nullptr, 0};
    return answered(stored, [&] {
      if (expected < -1) throw Error(ErrorCode::validation, "expected_version is -1 (any), 0 (create) or a version");
      std::optional<std::int64_t> version;
      if (expected >= 0) version = expected;
      return to_json_text(loaded(h).records(call, true).put(call->ctx, text(collection), text(id),
                                                            Json::parse(text(document)), version));
    });
  };
  api.read_snapshot = [](nucleo_host* h, const nucleo_call* call, nucleo_view request,
                         nucleo_snapshot_chunk_fn chunk, void* user, nucleo_host_buffer* summary) {
    if (summary) *summary = nucleo_host_buffer{nullptr, 0};
    return answered(summary, [&] { return to_json_text(loaded(h).read_snapshot(call, text(request), chunk, user)); });
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
    if (key != "name" && key != "schedule" && key != "scope" && key != "time_zone")
      throw Error(ErrorCode::validation, "unknown field " + key);
  std::string name = spec.value("name", "");
  if (name.empty() || name.size() > 64 ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") != std::string::npos)
    throw Error(ErrorCode::validation, "job name '" + name + "' must be 1-64 lower-case letters, digits, '.', '_', '-'");
  std::string scope = spec.value("scope", "tenant");
  if (scope != "tenant" && scope != "global")
    throw Error(ErrorCode::validation, "job " + name + ": scope must be tenant or global");
  std::optional<events::Schedule> schedule;
  if (spec.contains("schedule")) schedule = events::Schedule::parse(spec.value("schedule", ""));
  // "time_zone": "tenant" (each tenant's) or an IANA name; cron schedules read its clock.
  std::string zone = spec.value("time_zone", "");
  if (!zone.empty() && !schedule) throw Error(ErrorCode::validation, "job " + name + ": time_zone needs a schedule");
  if (zone == "tenant" && scope != "tenant")
    throw Error(ErrorCode::validation, "job " + name + ": time_zone tenant needs scope tenant");
  if (!zone.empty() && zone != "tenant") events::Schedule::check_zone(zone);
  return {plugin_id, name, schedule, scope == "tenant" ? events::JobScope::tenant : events::JobScope::global, fn,
          user, free_buffer, zone};
}

}  // namespace nucleo::plugins
