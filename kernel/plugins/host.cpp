// The plugin host's facade (host.hpp) and its callback adapters: a plugin's
// subscriptions, jobs, validators and channel sends as the kernel's dispatcher, job
// queue, validator registry and channel delivery run them.
#include "kernel/plugins/host.hpp"

#include <algorithm>
#include <map>

#include "kernel/domain/json_text.hpp"
#include "kernel/plugins/abi_status.hpp"
#include "kernel/plugins/internal/loaded_plugin.hpp"
#include "kernel/plugins/plugin_call.hpp"

namespace nucleo::plugins {

// A plugin's job as the queue runs it: in the job's tenant, as the plugin.
events::RunJob job_runner(const RegisteredJob& job, const Clock& clock) {
  return [job, &clock](const Json& input) -> std::string {
    nucleo_call call;
    call.ctx.tenant_id = input["tenant_id"].is_string() ? input["tenant_id"].get<std::string>() : "";
    call.ctx.actor = {"plugin", job.plugin_id, ""};
    call.ctx.request_id = input.at("job_id").get<std::string>();
    call.ctx.clock = &clock;
    PluginAnswer answer = call_registered(job, job.handler, &call, to_json_text(input));
    return answer.ok() ? "" : answer.explained();
  };
}

// A plugin's validator as the services' registry runs it: inside the writer's
// transaction, with a read-only call. NUCLEO_REJECTED brings reasons; any other failure
// vetoes too — a validator that cannot answer cannot vouch for the write.
services::Validator validator_for(const RegisteredValidator& v) {
  return [v](const services::ValidationRequest& r) -> std::vector<FieldError> {
    nucleo_call call{r.context, true};
    std::string change = to_json_text(
        Json{{"action", r.action}, {"entity_type", r.entity_type}, {"before", r.before}, {"after", r.after},
             {"caller", caller_json(r.context)}});
    PluginAnswer answer = call_registered(v, v.handler, &call, change);
    if (answer.ok()) return {};
    std::vector<FieldError> reasons;
    Json list = Json::parse(answer.text, nullptr, false);
    if (answer.status == NUCLEO_REJECTED && list.is_array())
      for (const auto& item : list)
        if (item.is_object())
          reasons.push_back({item.value("field", ""), item.value("message", "rejected by " + v.plugin_id)});
    if (reasons.empty())
      reasons.push_back({"", v.plugin_id + " could not validate the change (" + status_name(answer.status) + ")" +
                                 (answer.text.empty() || list.is_array() ? "" : ": " + answer.text)});
    return reasons;
  };
}

// A plugin's briefing section as CustomerView runs it: as the caller, on the request's
// thread; a failure is the section's error, never the briefing's.
services::BriefingSection briefing_section_for(const RegisteredBriefingSection& s) {
  auto build = [s](const services::CallContext& ctx, const Json& account) -> Json {
    nucleo_call call{ctx, true};  // a read: the briefing is a GET
    PluginAnswer answer = call_registered(s, s.handler, &call, to_json_text(Json{{"account", account}}));
    if (!answer.ok()) throw Error(ErrorCode::unavailable, answer.explained());
    Json section = Json::parse(answer.text, nullptr, false);
    if (section.is_discarded()) throw Error(ErrorCode::internal, "the section is not JSON");
    return section;
  };
  return {s.plugin_id, s.name, s.title, build};
}

// A plugin's import format as ImportService runs it (services/import_formats.hpp): each
// step a read-only call as the importing admin; documents go to the plugin's own store.
services::PluginImportFormat import_format_for(const RegisteredImporter& r, services::PluginRecordService store,
                                               services::FactService facts) {
  auto parse = [r](const services::CallContext& ctx, const Json& step, std::string_view bytes) {
    nucleo_call call{ctx, true};  // a parser reads; the import writes what it returns
    std::string step_text = to_json_text(step);
    PluginAnswer answer = call_plugin(r.handler, r.free_buffer, r.user_data, &call,
                                      nucleo_view{step_text.data(), step_text.size()},
                                      nucleo_view{bytes.data(), bytes.size()});
    if (!answer.ok())
      throw Error(ErrorCode::validation, "the " + r.name + " format could not read the file: " + answer.explained(),
                  {{"file", answer.explained()}});
    Json out = Json::parse(answer.text, nullptr, false);
    if (!out.is_object() || !out.value("rows", Json::array()).is_array())
      throw Error(ErrorCode::internal, "the " + r.name + " parser of " + r.plugin_id + " answered no {\"rows\": [...]}");
    services::ImportParseStep parsed;
    for (auto& row : out["rows"]) parsed.rows.push_back(std::move(row));
    parsed.carry = out.value("carry", Json());
    return parsed;
  };
  auto keep = [store](const services::CallContext& ctx, const Json& record) mutable -> std::string {
    const std::string& collection = record["collection"].get_ref<const std::string&>();
    const std::string& id = record["id"].get_ref<const std::string&>();
    std::optional<Json> before;
    try {
      before = store.get(ctx, collection, id);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::not_found) throw;
    }
    if (before && before->value("document", Json()) == record["document"]) return "unchanged";
    store.put(ctx, collection, id, record["document"]);
    return before ? "updated" : "created";
  };
  auto measure = [facts](const services::CallContext& ctx, const std::string& set, const std::vector<Json>& rows) mutable {
    return facts.write(ctx, set, rows);
  };
  return {r.plugin_id, r.name, r.title, r.media_types, r.mapping, parse, keep, measure};
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
                     PluginAnswer answer = call_registered(sub, sub.handler, &call, to_json_text(envelope));
                     return answer.ok() ? "" : answer.explained();
                   }});
  }
  return out;
}

const Manifest* PluginHost::loaded_manifest(const std::string& plugin_id) const {
  for (const auto& l : loaded_)
    if (l->manifest.id == plugin_id) return &l->manifest;
  return nullptr;
}

std::string PluginHost::run_job_now(const std::string& plugin_id, const std::string& name, const std::string& tenant_id,
                                    const Json& payload) const {
  for (const auto& l : loaded_) {
    if (l->manifest.id != plugin_id) continue;
    for (const auto& job : l->jobs)
      if (job.name == name)
        return job_runner(job, clock())({{"job_id", "now:" + name}, {"name", name}, {"tenant_id", tenant_id},
                                         {"scheduled_at", format_rfc3339(clock().now())}, {"payload", payload},
                                         {"attempt", 1}});
    return plugin_id + " registers no job named " + name;
  }
  return plugin_id + " is not loaded";
}

std::optional<services::PluginRecordService> PluginHost::record_store(const std::string& plugin_id) const {
  if (!services_) return std::nullopt;
  for (const auto& l : loaded_)
    if (l->manifest.id == plugin_id) return services::PluginRecordService(*services_, plugin_id, l->collections);
  return std::nullopt;
}

const Clock& PluginHost::clock() const {
  static const SystemClock system;
  return jobs_clock_ ? *jobs_clock_ : system;
}

void PluginHost::attach_jobs(events::JobQueue& queue, const Clock& clock) {
  jobs_ = &queue;
  jobs_clock_ = &clock;
  add_channel_delivery(queue);
}

void PluginHost::add_channel_delivery(events::JobQueue& queue) {
  if (services_)
    queue.add(services::channel_delivery_job(
        *services_,
        [this](const std::string& plugin_id, const services::CallContext& ctx, const Json& request) {
          return send_on_channel(plugin_id, ctx, request);
        },
        queue.settings().max_attempts, *jobs_clock_));
}

void PluginHost::run_jobs_on(events::JobQueue& queue) {
  if (!jobs_clock_) return;
  add_channel_delivery(queue);
  for (const auto& plugin : loaded_)
    for (const auto& j : plugin->jobs) queue.add({j.queue_name(), j.schedule, j.scope, job_runner(j, *jobs_clock_), j.time_zone});
}

const ValueSchema* PluginHost::channel_config_schema(const std::string& plugin_id) const {
  for (const auto& c : channels_)
    if (c.plugin_id == plugin_id) return c.config_schema.get();
  return nullptr;
}

services::ChannelTraits PluginHost::channel_traits(const std::string& plugin_id) const {
  for (const auto& c : channels_)
    if (c.plugin_id == plugin_id) {
      const Json& kinds = c.spec.value("kinds", Json::array());
      const Json& window = c.spec.value("reply_window_hours", Json(0));
      return {!kinds.empty() && kinds[0].is_string() ? kinds[0].get<std::string>() : "",
              window.is_number_integer() ? window.get<int>() : 0};
    }
  return {};
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
  PluginAnswer answer = call_registered(*channel, channel->send, &call, to_json_text(request));
  if (!answer.ok())
    return Result{answer.status == NUCLEO_UNAVAILABLE ? Result::Kind::retry : Result::Kind::failed, Json::object(),
                  answer.explained()};
  Json outcome = Json::parse(answer.text, nullptr, false);
  if (!outcome.is_object())
    return Result{Result::Kind::failed, Json::object(),
                  plugin_id + " answered send with something other than a JSON object"};
  return Result{Result::Kind::sent, outcome, ""};
}

}  // namespace nucleo::plugins
