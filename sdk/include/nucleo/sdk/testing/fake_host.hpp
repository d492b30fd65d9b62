#pragma once

// A kernel stand-in for unit-testing plugins without a kernel: it loads a plugin
// through its entry point exactly as the kernel does (versions checked, init called
// with a config), answers the host functions from in-memory fakes, and drives what the
// plugin registered.
//
//   nucleo::sdk::testing::FakeHost host;
//   host.services["records.create"] = [](const Json& req) { return Json{{"id", "con_1"}}; };
//   host.load(&nucleo_plugin_entry, {{"default_owner", "usr_1"}});
//   auto reply = host.request("POST", "/leads", {{"name", "Maria"}});
//   EXPECT_EQ(reply.status, 201);

#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "nucleo/sdk/plugin.hpp"

namespace nucleo::sdk::testing {

class FakeHost {
 public:
  using Service = std::function<Json(const Json& request)>;  // throw sdk::Error to fail

  struct Log {
    Level level;
    std::string message;
  };
  struct ServiceCall {
    std::string service;
    Json request;
  };

  FakeHost() {
    api_.struct_size = sizeof(nucleo_host_api);
    api_.abi_major = NUCLEO_ABI_MAJOR;
    api_.abi_minor = NUCLEO_ABI_MINOR;
    api_.host = reinterpret_cast<nucleo_host*>(this);
    api_.free_buffer = [](nucleo_host*, nucleo_host_buffer b) { std::free(b.data); };
    api_.log = [](nucleo_host* h, std::int32_t level, nucleo_view message) {
      self(h).logs.push_back({static_cast<Level>(level), detail::text(message)});
    };
    api_.counter_add = [](nucleo_host* h, nucleo_view name, nucleo_view, double value) {
      self(h).counters[detail::text(name)] += value;
      return nucleo_status{NUCLEO_OK};
    };
    api_.gauge_set = [](nucleo_host* h, nucleo_view name, nucleo_view, double value) {
      self(h).gauges[detail::text(name)] = value;
      return nucleo_status{NUCLEO_OK};
    };
    api_.call_service = &call_service;
    api_.register_route = [](nucleo_host* h, nucleo_view method, nucleo_view path, std::int32_t auth,
                             nucleo_route_fn fn, void* user) {
      self(h).routes_[detail::text(method) + " " + detail::text(path)] = {fn, user, auth};
      return nucleo_status{NUCLEO_OK};
    };
    api_.register_subscription = [](nucleo_host* h, nucleo_view pattern, nucleo_event_fn fn, void* user) {
      self(h).subscriptions_.push_back({detail::text(pattern), fn, user});
      return nucleo_status{NUCLEO_OK};
    };
    api_.register_validator = [](nucleo_host* h, nucleo_view type, nucleo_validator_fn fn, void* user) {
      self(h).validators_.push_back({detail::text(type), fn, user});
      return nucleo_status{NUCLEO_OK};
    };
    api_.register_channel = [](nucleo_host*, nucleo_view, nucleo_send_fn, void*) { return unsupported(); };
    api_.register_job = [](nucleo_host* h, nucleo_view spec, nucleo_job_fn fn, void* user) {
      Json j = Json::parse(detail::text(spec), nullptr, false);
      if (!j.is_object() || !j.contains("name")) return nucleo_status{NUCLEO_INVALID_ARGUMENT};
      self(h).jobs_[j["name"].get<std::string>()] = {j, fn, user};
      return nucleo_status{NUCLEO_OK};
    };
    api_.register_attribute_schema = [](nucleo_host*, nucleo_view, nucleo_view) { return unsupported(); };
    api_.record_put = [](nucleo_host*, const nucleo_call*, nucleo_view, nucleo_view, nucleo_view,
                         nucleo_host_buffer*) { return unsupported(); };
    api_.record_get = [](nucleo_host*, const nucleo_call*, nucleo_view, nucleo_view, nucleo_host_buffer*) {
      return unsupported();
    };
    api_.record_delete = [](nucleo_host*, const nucleo_call*, nucleo_view, nucleo_view) { return unsupported(); };
    api_.record_query = [](nucleo_host*, const nucleo_call*, nucleo_view, nucleo_view, nucleo_host_buffer*) {
      return unsupported();
    };
    api_.http_request = [](nucleo_host*, const nucleo_call*, nucleo_view, nucleo_host_buffer*) {
      return unsupported();
    };
    api_.enqueue_job = [](nucleo_host* h, const nucleo_call*, nucleo_view name, nucleo_view payload, std::int64_t delay_ms,
                          nucleo_host_buffer* job_id) {
      FakeHost& host = self(h);
      std::string job = detail::text(name);
      if (!host.jobs_.count(job)) {
        *job_id = host_buffer("no job " + job + " is registered");
        return nucleo_status{NUCLEO_NOT_FOUND};
      }
      host.enqueued.push_back({job, Json::parse(detail::text(payload)), delay_ms});
      *job_id = host_buffer("job_" + std::to_string(host.enqueued.size()));
      return nucleo_status{NUCLEO_OK};
    };
  }
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;
  ~FakeHost() { unload(); }

  // Loads like the kernel: refuses another ABI major or a newer minor, then calls init.
  // Throws sdk::Error with the plugin's message when init fails.
  void load(nucleo_plugin_entry_fn entry, const Json& config = Json::object()) {
    descriptor_ = entry();
    if (!descriptor_ || descriptor_->abi_major != NUCLEO_ABI_MAJOR || descriptor_->abi_minor > NUCLEO_ABI_MINOR)
      throw Error(NUCLEO_UNSUPPORTED, "the plugin was built for another ABI version");
    std::string text = config.dump();
    nucleo_plugin_buffer message{nullptr, 0};
    nucleo_status status = descriptor_->init(&api_, detail::view(text), &state_, &message);
    std::string why = take(message);
    if (status != NUCLEO_OK) {
      // As the kernel does: nothing a failed init registered stays reachable.
      descriptor_ = nullptr;
      routes_.clear();
      subscriptions_.clear();
      validators_.clear();
      jobs_.clear();
      throw Error(status, why);
    }
  }

  void unload() {
    if (descriptor_) descriptor_->shutdown(state_);
    descriptor_ = nullptr;
    state_ = nullptr;
  }

  // Calls the plugin's route as the kernel would; throws sdk::Error when the route is
  // missing or the plugin returns a failure status.
  Response request(const std::string& method, const std::string& path, const Json& body = Json::object(),
                   const Json& headers = Json::object()) {
    auto it = routes_.find(method + " " + path);
    if (it == routes_.end()) throw Error(NUCLEO_NOT_FOUND, "no route " + method + " " + path);
    std::string in = Json{{"method", method}, {"path", path}, {"params", Json::object()}, {"query", Json::object()},
                          {"headers", headers},  {"body", body}, {"tenant_id", tenant_id}, {"actor", actor}}
                         .dump();
    nucleo_plugin_buffer out{nullptr, 0};
    nucleo_status status = it->second.fn(it->second.user, call(), detail::view(in), &out);
    std::string text = take(out);
    if (status != NUCLEO_OK) throw Error(status, text);
    Json j = Json::parse(text);
    return Response{j.value("status", 200), j.value("body", Json()), j.value("headers", Json::object())};
  }

  // Delivers an event to every matching subscription; returns the failures' messages.
  std::vector<std::string> publish(const Json& event) {
    std::vector<std::string> failures;
    std::string in = event.dump(), name = event.value("name", "");
    for (const auto& s : subscriptions_) {
      if (!matches(s.pattern, name)) continue;
      nucleo_plugin_buffer out{nullptr, 0};
      nucleo_status status = s.fn(s.user, call(), detail::view(in), &out);
      std::string text = take(out);
      if (status != NUCLEO_OK) failures.push_back(text);
    }
    return failures;
  }

  // Runs the validators of `entity_type` on a change; returns their reasons (empty: accepted).
  Json validate(const std::string& entity_type, const Json& change) {
    Json reasons = Json::array();
    std::string in = change.dump();
    for (const auto& v : validators_) {
      if (v.entity_type != entity_type) continue;
      nucleo_plugin_buffer out{nullptr, 0};
      nucleo_status status = v.fn(v.user, call(), detail::view(in), &out);
      std::string text = take(out);
      if (status == NUCLEO_REJECTED)
        for (const auto& r : Json::parse(text)) reasons.push_back(r);
      else if (status != NUCLEO_OK)
        throw Error(status, text);
    }
    return reasons;
  }

  // Runs a registered job once, as a job worker would; throws sdk::Error on failure.
  void run_job(const std::string& name, const Json& payload = Json::object()) {
    auto it = jobs_.find(name);
    if (it == jobs_.end()) throw Error(NUCLEO_NOT_FOUND, "no job " + name);
    std::string in = Json{{"job_id", "job_test"}, {"name", name}, {"tenant_id", tenant_id},
                          {"scheduled_at", "2026-01-01T00:00:00Z"}, {"payload", payload}, {"attempt", 1}}
                         .dump();
    nucleo_plugin_buffer out{nullptr, 0};
    nucleo_status status = it->second.fn(it->second.user, call(), detail::view(in), &out);
    std::string text = take(out);
    if (status != NUCLEO_OK) throw Error(status, text);
  }
  // The registration of a job ({"name","schedule","scope"}), or null.
  Json job_spec(const std::string& name) const {
    auto it = jobs_.find(name);
    return it == jobs_.end() ? Json() : it->second.spec;
  }

  bool has_route(const std::string& method, const std::string& path) const {
    return routes_.count(method + " " + path) > 0;
  }

  std::map<std::string, Service> services;
  std::vector<ServiceCall> service_calls;  // every call_service, in order
  std::vector<Log> logs;
  struct Enqueued {
    std::string name;
    Json payload;
    std::int64_t delay_ms;
  };
  std::vector<Enqueued> enqueued;  // every enqueue_job, in order
  std::map<std::string, double> counters, gauges;
  std::string tenant_id = "ten_test";
  Json actor = {{"type", "key"}, {"id", "key_test"}};

 private:
  struct Route {
    nucleo_route_fn fn;
    void* user;
    std::int32_t auth;
  };
  struct Subscription {
    std::string pattern;
    nucleo_event_fn fn;
    void* user;
  };
  struct RegisteredJob {
    Json spec;
    nucleo_job_fn fn;
    void* user;
  };
  std::map<std::string, RegisteredJob> jobs_;
  struct Registered {
    std::string entity_type;
    nucleo_validator_fn fn;
    void* user;
  };

  static FakeHost& self(nucleo_host* h) { return *reinterpret_cast<FakeHost*>(h); }
  static nucleo_status unsupported() { return NUCLEO_UNSUPPORTED; }
  // The fake hands out one call handle; real kernels give one per unit of work.
  const nucleo_call* call() const { return reinterpret_cast<const nucleo_call*>(&call_marker_); }

  static nucleo_host_buffer host_buffer(const std::string& s) { return detail::malloc_copy<nucleo_host_buffer>(s); }

  static nucleo_status call_service(nucleo_host* h, const nucleo_call*, nucleo_view service, nucleo_view request,
                                    nucleo_host_buffer* response) {
    FakeHost& host = self(h);
    std::string name = detail::text(service);
    try {
      Json in = Json::parse(detail::text(request));
      host.service_calls.push_back({name, in});
      auto it = host.services.find(name);
      if (it == host.services.end()) {
        *response = host_buffer("no service " + name + " in this fake host");
        return NUCLEO_NOT_FOUND;
      }
      *response = host_buffer(it->second(in).dump());
      return NUCLEO_OK;
    } catch (const Error& e) {
      *response = host_buffer(e.what());
      return e.status();
    } catch (const std::exception& e) {
      *response = host_buffer(e.what());
      return NUCLEO_INVALID_ARGUMENT;
    }
  }

  std::string take(nucleo_plugin_buffer b) {
    std::string s(b.data ? b.data : "", b.size);
    if (b.data && descriptor_) descriptor_->free_buffer(b);
    return s;
  }

  static bool matches(const std::string& pattern, const std::string& name) {
    if (pattern == "*" || pattern == name) return true;
    return pattern.size() > 2 && pattern.compare(pattern.size() - 2, 2, ".*") == 0 &&
           name.rfind(pattern.substr(0, pattern.size() - 1), 0) == 0;
  }

  nucleo_host_api api_{};
  const nucleo_plugin_descriptor* descriptor_ = nullptr;
  void* state_ = nullptr;
  std::map<std::string, Route> routes_;
  std::vector<Subscription> subscriptions_;
  std::vector<Registered> validators_;
  int call_marker_ = 0;
};

}  // namespace nucleo::sdk::testing
