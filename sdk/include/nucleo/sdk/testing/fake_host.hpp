#pragma once

// A kernel stand-in for unit-testing plugins without a kernel: it loads a plugin
// through its entry point exactly as the kernel does (versions checked, init called
// with a config), answers every host function of plugin ABI 1.6 from in-memory fakes,
// and drives what the plugin registered.
//
//   nucleo::sdk::testing::FakeHost host;
//   host.use_manifest(nucleo::sdk::testing::read_json("plugin.json"));  // collections, routes, settings
//   host.services["records.create"] = [](const Json& req) { return Json{{"id", "con_1"}}; };
//   host.load(&nucleo_plugin_entry, {{"default_owner", "usr_1"}});
//   auto reply = host.request("POST", "/leads", {{"name", "Maria"}});
//   EXPECT_EQ(reply.status, 201);
//
// What it fakes, and what it does not:
//   - call_service: the functions in `services` (by name); every call is in `service_calls`
//     (network.resolve too: answer {"addresses": ["127.0.0.1"], "ca_file": ""} for a
//     local test server; channels.list: {"data": [your accounts]});
//   - the record store: in memory (`records`), per collection, with versions, expected
//     versions and the kernel's query operators; undeclared collections are refused once
//     a manifest is given;
//   - http_request: `http` answers each request (record them, script replies); none set:
//     UNAVAILABLE, as an unreachable host;
//   - the caller, the clock (`now_micros`, `advance`), tenant settings (`settings`,
//     `secrets`), attribute schemas, a channel (`send`), jobs (`run_job`), briefing
//     sections (`briefing`), import formats (`import_file`, ABI 1.6; what its steps say
//     of the import, `import_id` and `dry_run`, ABI 1.7); what an erasure does to the
//     store (`erase_subject`); fact sets (ABI 1.8: `facts`, `write_facts` for an import's
//     "fact" rows, and facts.aggregate answered over them unless `services` says otherwise);
//     a snapshot read (ABI 1.10: `snapshot`, the rows read_snapshot streams, each with its
//     "kind", in chunks of the request's chunk_rows; `snapshot_reads` counts the reads);
//     deals.gate (ABI 1.11: `gates`, what a move misses; a move not listed passes);
//   - not faked: permissions, tenants other than `tenant_id`, the audit trail, the
//     schema checks of attributes and described routes — the end-to-end suite's job.

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "nucleo/sdk/plugin.hpp"

namespace nucleo::sdk::testing {

// A JSON file (plugin.json), for FakeHost::use_manifest. Throws Error when unreadable.
inline Json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(NUCLEO_NOT_FOUND, "cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return Json::parse(text.str());
}

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
  struct Enqueued {
    std::string name;
    Json payload;
    std::int64_t delay_ms;
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
    api_.call_service = [](nucleo_host* h, const nucleo_call*, nucleo_view service, nucleo_view request,
                           nucleo_host_buffer* response) {
      return answered(response, [&] { return self(h).call_service(detail::text(service), detail::text(request)); });
    };
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
    api_.register_channel = [](nucleo_host* h, nucleo_view spec, nucleo_send_fn send, void* user) {
      FakeHost& host = self(h);
      Json j = Json::parse(detail::text(spec), nullptr, false);
      if (!j.is_object() || !j.value("name", Json()).is_string() || host.channel_.send)
        return nucleo_status{NUCLEO_INVALID_ARGUMENT};
      host.channel_spec = j;
      host.channel_ = {send, user};
      return nucleo_status{NUCLEO_OK};
    };
    api_.register_job = [](nucleo_host* h, nucleo_view spec, nucleo_job_fn fn, void* user) {
      Json j = Json::parse(detail::text(spec), nullptr, false);
      if (!j.is_object() || !j.contains("name")) return nucleo_status{NUCLEO_INVALID_ARGUMENT};
      self(h).jobs_[j["name"].get<std::string>()] = {j, fn, user};
      return nucleo_status{NUCLEO_OK};
    };
    api_.register_attribute_schema = [](nucleo_host* h, nucleo_view type, nucleo_view schema) {
      Json j = Json::parse(detail::text(schema), nullptr, false);
      if (!j.is_object()) return nucleo_status{NUCLEO_INVALID_ARGUMENT};
      self(h).attribute_schemas[detail::text(type)] = j;
      return nucleo_status{NUCLEO_OK};
    };
    api_.record_put = [](nucleo_host* h, const nucleo_call*, nucleo_view collection, nucleo_view id,
                         nucleo_view document, nucleo_host_buffer* stored) {
      return answered(stored, [&] {
        return self(h).put(detail::text(collection), detail::text(id), Json::parse(detail::text(document)), -1).dump();
      });
    };
    api_.record_get = [](nucleo_host* h, const nucleo_call*, nucleo_view collection, nucleo_view id,
                         nucleo_host_buffer* document) {
      return answered(document, [&] { return self(h).stored(detail::text(collection), detail::text(id)).dump(); });
    };
    api_.record_delete = [](nucleo_host* h, const nucleo_call*, nucleo_view collection, nucleo_view id) {
      return answered(nullptr, [&] {
        FakeHost& host = self(h);
        host.stored(detail::text(collection), detail::text(id));  // NOT_FOUND when absent
        host.records[detail::text(collection)].erase(detail::text(id));
        return std::string();
      });
    };
    api_.record_query = [](nucleo_host* h, const nucleo_call*, nucleo_view collection, nucleo_view query,
                           nucleo_host_buffer* result) {
      return answered(result, [&] {
        std::string q = detail::text(query);
        return self(h).query(detail::text(collection), q.empty() ? Json::object() : Json::parse(q)).dump();
      });
    };
    api_.http_request = [](nucleo_host* h, const nucleo_call*, nucleo_view request, nucleo_host_buffer* response) {
      return answered(response, [&] {
        FakeHost& host = self(h);
        Json r = Json::parse(detail::text(request));
        host.http_requests.push_back(r);
        if (!host.http) throw Error(NUCLEO_UNAVAILABLE, "no http answers are scripted in this fake host");
        Json answer = host.http(r);
        if (answer.contains("body") && !answer.contains("body_base64")) {
          const Json& body = answer["body"];
          answer["body_base64"] = detail::to_base64(body.is_string() ? body.get<std::string>() : body.dump());
          answer.erase("body");
        }
        return answer.dump();
      });
    };
    api_.enqueue_job = [](nucleo_host* h, const nucleo_call*, nucleo_view name, nucleo_view payload,
                          std::int64_t delay_ms, nucleo_host_buffer* job_id) {
      return answered(job_id, [&] {
        FakeHost& host = self(h);
        std::string job = detail::text(name);
        if (!host.jobs_.count(job)) throw Error(NUCLEO_NOT_FOUND, "no job " + job + " is registered");
        std::string text = detail::text(payload);
        host.enqueued.push_back({job, text.empty() ? Json::object() : Json::parse(text), delay_ms});
        return "job_" + std::to_string(host.enqueued.size());
      });
    };
    api_.caller = [](nucleo_host* h, const nucleo_call*, nucleo_host_buffer* out) {
      return answered(out, [&] { return self(h).caller_json().dump(); });
    };
    api_.now_micros = [](nucleo_host* h, const nucleo_call*) { return self(h).now_micros; };
    api_.tenant_settings = [](nucleo_host* h, const nucleo_call*, nucleo_host_buffer* out) {
      return answered(out, [&] {
        FakeHost& host = self(h);
        return Json{{"settings", host.settings_with_defaults()}, {"secrets", host.secrets}}.dump();
      });
    };
    api_.register_briefing_section = [](nucleo_host* h, nucleo_view spec, nucleo_briefing_fn fn, void* user) {
      Json j = Json::parse(detail::text(spec), nullptr, false);
      if (!j.is_object() || !j.value("name", Json()).is_string() || !fn) return nucleo_status{NUCLEO_INVALID_ARGUMENT};
      self(h).briefing_sections_.push_back({j, fn, user});
      return nucleo_status{NUCLEO_OK};
    };
    api_.register_importer = [](nucleo_host* h, nucleo_view spec, nucleo_import_fn fn, void* user) {
      Json j = Json::parse(detail::text(spec), nullptr, false);
      if (!j.is_object() || !j.value("name", Json()).is_string() || !fn) return nucleo_status{NUCLEO_INVALID_ARGUMENT};
      self(h).importers_[j["name"].get<std::string>()] = {j, fn, user};
      return nucleo_status{NUCLEO_OK};
    };
    api_.record_put_version = [](nucleo_host* h, const nucleo_call*, nucleo_view collection, nucleo_view id,
                                 nucleo_view document, std::int64_t expected, nucleo_host_buffer* stored) {
      return answered(stored, [&] {
        return self(h)
            .put(detail::text(collection), detail::text(id), Json::parse(detail::text(document)), expected)
            .dump();
      });
    };
    api_.read_snapshot = [](nucleo_host* h, const nucleo_call*, nucleo_view request, nucleo_snapshot_chunk_fn chunk,
                            void* user, nucleo_host_buffer* summary) {
      return answered(summary, [&] { return self(h).stream_snapshot(detail::text(request), chunk, user).dump(); });
    };
  }
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;
  ~FakeHost() { unload(); }

  // Reads what the kernel would from plugin.json: the record store's collections, the
  // routes' raw bodies, the tenant settings' schema (for defaults). Call before load.
  void use_manifest(const Json& manifest) { manifest_ = manifest; }

  // Loads like the kernel: refuses another ABI major or a newer minor, then calls init.
  // Throws sdk::Error with the plugin's message when init fails.
  void load(nucleo_plugin_entry_fn entry, const Json& config = Json::object()) {
    descriptor_ = entry();
    if (!descriptor_ || descriptor_->abi_major != NUCLEO_ABI_MAJOR || descriptor_->abi_minor > NUCLEO_ABI_MINOR)
      throw Error(NUCLEO_UNSUPPORTED, "the plugin was built for another ABI version");
    if (manifest_.is_object() && manifest_.value("id", "") != descriptor_->id)
      throw Error(NUCLEO_INVALID_ARGUMENT, std::string("the library says it is ") + descriptor_->id +
                                               ", plugin.json says " + manifest_.value("id", ""));
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
      briefing_sections_.clear();
      importers_.clear();
      channel_ = {};
      throw Error(status, why);
    }
  }

  void unload() {
    if (descriptor_) descriptor_->shutdown(state_);
    descriptor_ = nullptr;
    state_ = nullptr;
  }

  // Calls the plugin's route as the kernel would — `path` is matched against the
  // registered templates ("/farms/{id}"), `query` becomes the request's query; throws
  // sdk::Error when no route matches or the plugin returns a failure status.
  Response request(const std::string& method, const std::string& path, const Json& body = Json::object(),
                   const Json& headers = Json::object(), const Json& query = Json::object()) {
    Json r = route_request(method, path, headers, query);
    r["body"] = body;
    return call_route(method, r);
  }
  // A signed or public route (a channel's webhook): the bytes and headers exactly as
  // they arrived — header names lower case, as the kernel passes them.
  Response request_signed(const std::string& method, const std::string& path, const std::string& bytes,
                          const Json& headers = Json::object(), const Json& query = Json::object()) {
    Json r = route_request(method, path, headers, query);
    r["body"] = detail::to_base64(bytes);
    return call_route(method, r);
  }
  // A bearer route declaring a raw body (plugin.json "raw_body"): the bytes as the
  // kernel passes them. Refused like the kernel would when the route declares none.
  Response request_raw(const std::string& method, const std::string& path, const std::string& bytes,
                       const std::string& content_type, const Json& query = Json::object()) {
    Json described = manifest_.is_object() ? manifest_.value("routes", Json::object()).value(method + " " + matched(method, path).first, Json())
                                           : Json();
    if (manifest_.is_object() && (!described.is_object() || !described.contains("raw_body")))
      throw Error(NUCLEO_INVALID_ARGUMENT, method + " " + path + " declares no raw_body in plugin.json: the kernel would answer 415");
    Json r = route_request(method, path, {{"content-type", content_type}}, query);
    r["body"] = nullptr;
    r["body_base64"] = detail::to_base64(bytes);
    return call_route(method, r);
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

  // Runs the validators of `entity_type` on a change ({"action","before","after"}; the
  // caller is added as the kernel adds it); returns their reasons (empty: accepted).
  Json validate(const std::string& entity_type, Json change) {
    if (!change.contains("entity_type")) change["entity_type"] = entity_type;
    if (!change.contains("caller")) change["caller"] = caller_json();
    Json reasons = Json::array();
    std::string in = change.dump();
    for (const auto& v : validators_) {
      if (v.entity_type != entity_type && v.entity_type != "*") continue;
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
  // The registration of a job ({"name","schedule","scope",…}), or null.
  Json job_spec(const std::string& name) const {
    auto it = jobs_.find(name);
    return it == jobs_.end() ? Json() : it->second.spec;
  }

  // Sends a message through the plugin's channel as the delivery worker would
  // ({"message_id","channel_account","to","content"}); returns its result or throws.
  Json send(const Json& message) {
    if (!channel_.send) throw Error(NUCLEO_NOT_FOUND, "the plugin registered no channel");
    std::string in = message.dump();
    nucleo_plugin_buffer out{nullptr, 0};
    nucleo_status status = channel_.send(channel_.user, call(), detail::view(in), &out);
    std::string text = take(out);
    if (status != NUCLEO_OK) throw Error(status, text);
    return Json::parse(text);
  }

  // The plugin's briefing sections for an account, keyed "<plugin id>.<name>" as the
  // kernel shows them; a failing section is {"error": message}.
  Json briefing(const Json& account) {
    Json sections = Json::object();
    std::string in = Json{{"account", account}}.dump();
    for (const auto& s : briefing_sections_) {
      nucleo_plugin_buffer out{nullptr, 0};
      nucleo_status status = s.fn(s.user, call(), detail::view(in), &out);
      std::string text = take(out);
      std::string key = std::string(descriptor_ ? descriptor_->id : "plugin") + "." + s.spec["name"].get<std::string>();
      sections[key] = status == NUCLEO_OK ? Json::parse(text) : Json{{"error", text}};
    }
    return sections;
  }

  // Reads `file` through the plugin's import format `format` as the kernel's import does:
  // `chunk` bytes at a time (small by default, so rows and lines cross chunks), then a
  // final step; returns every row the parser gave ({"line", "fields" | "record" | "error"}).
  // Throws sdk::Error with the parser's message when it refuses the file.
  Json import_file(const std::string& format, std::string_view file, std::size_t chunk = 7) {
    auto it = importers_.find(format);
    if (it == importers_.end()) throw Error(NUCLEO_NOT_FOUND, "the plugin registered no import format " + format);
    Json rows = Json::array(), carry;
    auto step = [&](std::string_view bytes, bool final) {
      std::string in =
          Json{{"format", format}, {"final", final}, {"carry", carry}, {"import_id", import_id}, {"dry_run", dry_run}}
              .dump();
      nucleo_plugin_buffer out{nullptr, 0};
      nucleo_status status = it->second.fn(it->second.user, call(), detail::view(in), detail::view(bytes), &out);
      std::string text = take(out);
      if (status != NUCLEO_OK) throw Error(status, text);
      Json answer = Json::parse(text);
      for (auto& r : answer.at("rows")) rows.push_back(std::move(r));
      carry = answer.value("carry", Json());
    };
    for (std::size_t at = 0; at < file.size(); at += chunk) step(file.substr(at, chunk), false);
    step({}, true);
    return rows;
  }
  // What the plugin said of its import format (register_importer's spec), null if none.
  Json import_format(const std::string& format) const {
    auto it = importers_.find(format);
    return it == importers_.end() ? Json() : it->second.spec;
  }

  // What the kernel's erasure of contact `subject_id` does to this plugin's store, as
  // plugin.json's collections declare it ("personal": subject_field, fields, on_erasure):
  // documents naming her are deleted, or lose their personal fields and gain a version.
  // Returns {"deleted": n, "redacted": n} — so a test can check the plugin copes with
  // what is left. Needs use_manifest.
  Json erase_subject(const std::string& subject_id) {
    if (!manifest_.is_object()) throw Error(NUCLEO_INVALID_ARGUMENT, "erase_subject reads plugin.json: use_manifest first");
    int deleted = 0, redacted = 0;
    const Json collections = manifest_.value("collections", Json::object());
    for (const auto& [name, spec] : collections.items()) {
      if (!spec.contains("personal")) continue;
      const Json& personal = spec["personal"];
      auto& documents = records[name];
      for (auto it = documents.begin(); it != documents.end();) {
        Json& document = it->second["document"];
        if (document.value(personal["subject_field"].get<std::string>(), Json()) != subject_id) {
          ++it;
          continue;
        }
        if (personal.value("on_erasure", "delete") == "delete") {
          it = documents.erase(it);
          ++deleted;
          continue;
        }
        for (const auto& field : personal["fields"]) document.erase(field.get<std::string>());
        it->second["version"] = it->second["version"].get<std::int64_t>() + 1;
        it->second["updated_at"] = rfc3339(now_micros);
        ++redacted;
        ++it;
      }
    }
    return {{"deleted", deleted}, {"redacted", redacted}};
  }

  bool has_route(const std::string& method, const std::string& path) const {
    return routes_.count(method + " " + path) > 0;
  }

  // ---- The fakes' state: set it before a call, read it after. ----
  std::map<std::string, Service> services;
  std::vector<ServiceCall> service_calls;  // every call_service, in order
  std::vector<Log> logs;
  std::vector<Enqueued> enqueued;  // every enqueue_job, in order
  std::map<std::string, double> counters, gauges;
  // The record store: collection → id → {"collection","id","version","document",…}.
  std::map<std::string, std::map<std::string, Json>> records;
  // What read_snapshot streams (ABI 1.10): rows with their "kind" (the kernel's kinds,
  // docs/plugin-authoring.md), sent kind by kind in the kernel's order.
  std::vector<Json> snapshot;
  int snapshot_reads = 0;
  // What deals.gate answers (ABI 1.11) unless `services` names it: deal id → stage id →
  // the criteria the move misses ([{"code", "criterion_index", "criterion", "missing"}]);
  // a move not listed passes.
  std::map<std::string, std::map<std::string, Json>> gates;
  // Outbound HTTP: answers {"method","url",…} with {"status","headers","body"|"body_base64"}.
  std::function<Json(const Json& request)> http;
  std::vector<Json> http_requests;
  std::map<std::string, Json> attribute_schemas;  // entity type → declared schema
  Json channel_spec;                              // what register_channel declared
  // This tenant's settings and secrets for the plugin (Host::tenant_settings); the
  // manifest's "tenant_settings" defaults fill what `settings` leaves out.
  Json settings = Json::object(), secrets = Json::object();

  std::string tenant_id = "ten_test";
  Json actor = {{"type", "key"}, {"id", "key_test"}};
  // Who the calls act as (Host::caller); tenant_id and actor above are folded in.
  std::string user_id = "usr_test", role = "sales";
  std::vector<std::string> teams;
  Json scopes;  // null: the role alone; an array: an integration key's scopes
  // The kernel's clock as the plugin sees it (Host::now_micros): set it, advance it.
  std::int64_t now_micros = 1767225600000000;  // 2026-01-01T00:00:00Z
  // What import_file's steps say of the import (ABI 1.7): its id, and whether it is a dry run.
  std::string import_id = "imp_test";
  bool dry_run = false;
  void advance(std::int64_t micros) { now_micros += micros; }

  Json caller_json() const {
    return {{"tenant_id", tenant_id},
            {"actor", actor},
            {"user_id", user_id.empty() ? Json() : Json(user_id)},
            {"role", role.empty() ? Json() : Json(role)},
            {"teams", teams},
            {"scopes", scopes},
            {"request_id", "req_test"},
            {"causation_id", nullptr}};
  }

 private:
  Json stream_snapshot(const std::string& request_text, nucleo_snapshot_chunk_fn chunk, void* user) {
    static const std::vector<std::string> order{"pipeline", "stage", "user", "account", "contact", "deal",
                                                "deal_stage_history", "deal_close_history", "interaction", "task"};
    Json request = request_text.empty() ? Json::object() : Json::parse(request_text);
    Json kinds = request.value("kinds", Json(order));
    std::size_t per_chunk = request.value("chunk_rows", 5000);
    ++snapshot_reads;
    // A read narrowed to some deals ("deal_ids") keeps what the kernel's does: their
    // accounts, those accounts' contacts, deals and stage and close history, the deals' own
    // interactions and tasks, and the small tables whole.
    std::set<std::string> deals, accounts, account_deals;
    bool narrowed = request.contains("deal_ids");
    for (const auto& id : request.value("deal_ids", Json::array())) deals.insert(id.get<std::string>());
    for (const auto& row : snapshot)
      if (row.value("kind", "") == "deal" && deals.count(row.value("id", ""))) accounts.insert(row.value("account_id", ""));
    for (const auto& row : snapshot)
      if (row.value("kind", "") == "deal" && accounts.count(row.value("account_id", ""))) account_deals.insert(row.value("id", ""));
    auto kept = [&](const Json& row) {
      std::string kind = row.value("kind", "");
      if (!narrowed || kind == "pipeline" || kind == "stage" || kind == "user") return true;
      if (kind == "account") return accounts.count(row.value("id", "")) > 0;
      if (kind == "contact" || kind == "deal") return accounts.count(row.value("account_id", "")) > 0;
      if (kind == "deal_stage_history" || kind == "deal_close_history")
        return account_deals.count(row.value("deal_id", "")) > 0;
      return row.value("deal_id", Json()).is_string() && deals.count(row["deal_id"].get<std::string>()) > 0;
    };
    Json counts = Json::object();
    std::string pending;
    std::size_t lines = 0;
    bool complete = true;
    auto flush = [&] {
      if (lines > 0 && chunk(user, detail::view(pending)) != NUCLEO_OK) complete = false;
      pending.clear();
      lines = 0;
    };
    for (const auto& kind : order) {
      if (std::find(kinds.begin(), kinds.end(), Json(kind)) == kinds.end()) continue;
      counts[kind] = 0;
      for (const auto& row : snapshot) {
        if (!complete || row.value("kind", "") != kind || !kept(row)) continue;
        pending += row.dump() + "\n";
        counts[kind] = counts[kind].get<int>() + 1;
        if (++lines == per_chunk) flush();
      }
    }
    if (complete) flush();
    return {{"counts", counts}, {"as_of", rfc3339(now_micros)}, {"complete", complete}};
  }

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
  struct Registered {
    std::string entity_type;
    nucleo_validator_fn fn;
    void* user;
  };
  struct Section {
    Json spec;
    nucleo_briefing_fn fn;
    void* user;
  };
  struct Importer {
    Json spec;
    nucleo_import_fn fn;
    void* user;
  };
  struct Channel {
    nucleo_send_fn send = nullptr;
    void* user = nullptr;
  };

  static FakeHost& self(nucleo_host* h) { return *reinterpret_cast<FakeHost*>(h); }
  // The fake hands out one call handle; real kernels give one per unit of work.
  const nucleo_call* call() const { return reinterpret_cast<const nucleo_call*>(&call_marker_); }

  static nucleo_host_buffer host_buffer(const std::string& s) { return detail::malloc_copy<nucleo_host_buffer>(s); }

  // Runs a host function's work: its text on OK, an Error's status and message otherwise.
  template <class Work>
  static nucleo_status answered(nucleo_host_buffer* out, Work&& work) noexcept {
    if (out) *out = nucleo_host_buffer{nullptr, 0};
    try {
      std::string text = work();
      if (out) *out = host_buffer(text);
      return NUCLEO_OK;
    } catch (const Error& e) {
      if (out) *out = host_buffer(e.what());
      return e.status();
    } catch (const std::exception& e) {
      if (out) *out = host_buffer(e.what());
      return NUCLEO_INVALID_ARGUMENT;
    }
  }

  std::string call_service(const std::string& name, const std::string& request) {
    Json in = Json::parse(request);
    service_calls.push_back({name, in});
    auto it = services.find(name);
    if (it == services.end() && name == "facts.aggregate") return aggregate_facts(in).dump();
    if (it == services.end() && name == "deals.gate") return gate_verdict(in).dump();
    if (it == services.end() && name == "facts.write") {
      Json rows = Json::array();
      for (const auto& f : in.at("facts")) rows.push_back({{"fact", {{"set", in.at("set")}, {"row", f}}}});
      write_facts(rows);
      return Json{{"written", rows.size()}}.dump();
    }
    if (it == services.end()) throw Error(NUCLEO_NOT_FOUND, "no service " + name + " in this fake host");
    return it->second(in).dump();
  }

  // deals.gate as the kernel answers it, from `gates`.
  Json gate_verdict(const Json& in) const {
    std::string deal = in.value("id", ""), stage = in.value("stage_id", "");
    if (deal.empty() || stage.empty()) throw Error(NUCLEO_INVALID_ARGUMENT, "deals.gate needs \"id\" and \"stage_id\"");
    Json unmet = Json::array();
    if (auto d = gates.find(deal); d != gates.end())
      if (auto s = d->second.find(stage); s != d->second.end()) unmet = s->second;
    return {{"deal_id", deal}, {"stage_id", stage}, {"passes", unmet.empty()}, {"unmet", unmet}};
  }

  // ---- Fact sets (ABI 1.8) ----
  const Json& fact_set(const std::string& set) const {
    auto sets = manifest_.is_object() ? manifest_.find("facts") : manifest_.end();
    if (sets == manifest_.end() || !sets->is_object() || !sets->contains(set))
      throw Error(NUCLEO_NOT_FOUND, "plugin.json declares no fact set '" + set + "'");
    return (*sets)[set];
  }
  // Whether `fact` passes `where` ({"<field>": {"eq"|"in"|"gt"|"gte"|"lt"|"lte": v}}):
  // dates compare as the ISO text they are, as the kernel's day numbers order them.
  static bool fact_matches(const Json& fact, const Json& where) {
    for (const auto& [field, ops] : where.items()) {
      const Json v = fact.value(field, Json());
      for (const auto& [op, x] : ops.items()) {
        bool ok = op == "eq"    ? v == x
                  : op == "in"  ? std::find(x.begin(), x.end(), v) != x.end()
                  : v.is_null() ? false
                  : op == "gt"  ? v > x
                  : op == "gte" ? v >= x
                  : op == "lt"  ? v < x
                  : op == "lte" ? v <= x
                                : throw Error(NUCLEO_INVALID_ARGUMENT, "unknown operator " + op);
        if (!ok) return false;
      }
    }
    return true;
  }

 public:
  // (ABI 1.8) The fact sets: set → the facts written, keyed by their dimensions.
  std::map<std::string, std::map<std::string, Json>> facts;

  // Applies import_file's "fact" rows as the kernel's import would: each replaces the fact
  // with the same dimensions. Needs use_manifest (the sets' dimensions).
  void write_facts(const Json& rows) {
    for (const auto& r : rows) {
      if (!r.contains("fact")) continue;
      const std::string set = r["fact"]["set"];
      const Json& row = r["fact"]["row"];
      Json key = Json::array();
      for (const auto& [dimension, type] : fact_set(set)["dimensions"].items()) key.push_back(row.value(dimension, Json()));
      facts[set][key.dump()] = row;
    }
  }

  // facts.aggregate as the kernel answers it (services/fact_service.hpp): where, group_by
  // or grouping_sets, values (sum, min, max, count, each with its own where), limit.
  Json aggregate_facts(const Json& q) const {
    const std::string set = q.at("set");
    const Json& spec = fact_set(set);
    Json groupings = q.contains("grouping_sets") ? q["grouping_sets"] : Json::array({q.value("group_by", Json::array())});
    Json values = q.value("values", Json());
    if (values.is_null()) {
      values = Json::object();
      for (const auto& m : spec["measures"]) values[m.get<std::string>()] = {{"sum", m}};
      values["count"] = {{"count", true}};
    }
    std::vector<std::string> dims;
    for (const auto& g : groupings)
      for (const auto& d : g)
        if (std::find(dims.begin(), dims.end(), d.get<std::string>()) == dims.end()) dims.push_back(d);
    Json columns(dims);
    for (const auto& [name, v] : values.items()) columns.push_back(name);
    Json rows = Json::array();
    const Json where = q.value("where", Json::object());
    auto it = facts.find(set);
    for (const auto& g : groupings) {
      std::map<std::string, std::vector<const Json*>> groups;  // group key → its facts
      if (g.empty()) groups["[]"];  // no grouping: one row, even over no facts
      if (it != facts.end())
        for (const auto& [key, fact] : it->second) {
          if (!fact_matches(fact, where)) continue;
          Json group = Json::array();
          for (const auto& d : g) group.push_back(fact.value(d.get<std::string>(), Json()));
          groups[group.dump()].push_back(&fact);
        }
      for (const auto& [key, members] : groups) {
        Json group = Json::parse(key), row = Json::array();
        for (const auto& d : dims) {
          auto at = std::find(g.begin(), g.end(), Json(d));
          row.push_back(at == g.end() ? Json() : group[static_cast<std::size_t>(at - g.begin())]);
        }
        for (const auto& [name, v] : values.items()) {
          Json result;
          for (const Json* f : members) {
            if (v.contains("where") && !fact_matches(*f, v["where"])) continue;
            if (v.contains("count")) {
              result = result.is_null() ? 1 : result.get<std::int64_t>() + 1;
              continue;
            }
            std::string fn = v.contains("sum") ? "sum" : v.contains("min") ? "min" : "max";
            Json x = f->value(v[fn].get<std::string>(), Json());
            if (!x.is_number_integer()) continue;
            std::int64_t n = x.get<std::int64_t>();
            if (result.is_null()) result = n;
            else if (fn == "sum") result = result.get<std::int64_t>() + n;
            else if (fn == "min") result = std::min(result.get<std::int64_t>(), n);
            else result = std::max(result.get<std::int64_t>(), n);
          }
          if (v.contains("count") && result.is_null()) result = 0;
          row.push_back(result);
        }
        rows.push_back(row);
      }
    }
    return {{"columns", columns}, {"rows", rows}};
  }

 private:

  // ---- The record store ----
  void check_collection(const std::string& collection) const {
    if (!manifest_.is_object()) return;  // without a manifest every collection exists
    if (!manifest_.value("collections", Json::object()).contains(collection))
      throw Error(NUCLEO_NOT_FOUND, "plugin.json declares no collection '" + collection + "'");
  }
  Json stored(const std::string& collection, const std::string& id) {
    check_collection(collection);
    auto& c = records[collection];
    auto it = c.find(id);
    if (it == c.end()) throw Error(NUCLEO_NOT_FOUND, "no record " + id + " in collection " + collection);
    return it->second;
  }
  Json put(const std::string& collection, const std::string& id, const Json& document, std::int64_t expected) {
    check_collection(collection);
    if (!document.is_object()) throw Error(NUCLEO_INVALID_ARGUMENT, "a document is a JSON object");
    auto& c = records[collection];
    auto it = c.find(id);
    std::int64_t version = it == c.end() ? 0 : it->second["version"].get<std::int64_t>();
    if (expected == 0 && it != c.end()) throw Error(NUCLEO_CONFLICT, "record " + id + " exists already");
    if (expected > 0 && it == c.end()) throw Error(NUCLEO_NOT_FOUND, "no record " + id + " in collection " + collection);
    if (expected > 0 && version != expected)
      throw Error(NUCLEO_CONFLICT, "record " + id + " is at version " + std::to_string(version));
    std::string at = rfc3339(now_micros);
    Json record{{"collection", collection},
                {"id", id},
                {"version", version + 1},
                {"document", document},
                {"created_at", it == c.end() ? Json(at) : it->second["created_at"]},
                {"updated_at", at}};
    c[id] = record;
    return record;
  }
  // The kernel's query (plugin_abi.h record_query): where, sort ("field" or "-field";
  // only documents with it), count, limit and cursor.
  Json query(const std::string& collection, const Json& q) {
    check_collection(collection);
    std::int64_t limit = q.value("limit", 50);
    Json where = q.value("where", Json::object());
    std::string sort = q.value("sort", "");
    bool descending = !sort.empty() && sort[0] == '-';
    std::string field = sort.substr(descending ? 1 : 0);
    std::vector<Json> matching;
    for (const auto& [id, record] : records[collection])
      if (satisfies(record["document"], where) && (field.empty() || record["document"].contains(field)))
        matching.push_back(record);
    if (!field.empty())
      std::stable_sort(matching.begin(), matching.end(), [&](const Json& a, const Json& b) {
        Json ka = Json::array({a["document"][field], a["id"]}), kb = Json::array({b["document"][field], b["id"]});
        return descending ? kb < ka : ka < kb;
      });
    std::size_t start = 0;
    if (q.contains("cursor")) {
      std::string cursor = q["cursor"];
      while (start < matching.size() &&
             (field.empty() ? matching[start]["id"].get<std::string>() <= cursor
                            : Json::array({matching[start]["document"][field], matching[start]["id"]}).dump() != cursor))
        ++start;
      if (!field.empty() && start < matching.size()) ++start;  // past the last one seen
    }
    Json data = Json::array();
    Json next = nullptr;
    for (std::size_t i = start; i < matching.size(); ++i) {
      if (static_cast<std::int64_t>(data.size()) == limit) {
        const Json& last = data.back();
        next = field.empty() ? last["id"] : Json(Json::array({last["document"][field], last["id"]}).dump());
        break;
      }
      data.push_back(matching[i]);
    }
    Json page{{"data", data}, {"next_cursor", next}};
    if (q.value("count", false)) page["count"] = matching.size();
    return page;
  }
  static std::string rfc3339(std::int64_t micros) {
    std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
    std::tm t{};
    gmtime_r(&seconds, &t);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &t);
    return text;
  }
  static bool satisfies(const Json& document, const Json& where) {
    for (const auto& [field, conditions] : where.items()) {
      const Json value = document.value(field, Json());
      if (value.is_null()) return false;
      for (const auto& [op, operand] : conditions.items()) {
        bool ok = op == "eq" ? value == operand : op == "gt" ? value > operand : op == "gte" ? value >= operand
                : op == "lt" ? value < operand : op == "lte" ? value <= operand : false;
        if (!ok) return false;
      }
    }
    return true;
  }

  Json settings_with_defaults() const {
    Json out = settings;
    Json schema = manifest_.is_object() ? manifest_.value("tenant_settings", Json::object()) : Json::object();
    for (const auto& [key, rule] : schema.items())
      if (!out.contains(key) && rule.is_object() && rule.contains("default") && !rule.value("secret", false))
        out[key] = rule["default"];
    return out;
  }

  // ---- Routes ----
  // The registered template `path` matches, and its parameters.
  std::pair<std::string, Json> matched(const std::string& method, const std::string& path) const {
    auto split = [](const std::string& p) {
      std::vector<std::string> parts;
      std::stringstream in(p);
      std::string part;
      while (std::getline(in, part, '/'))
        if (!part.empty()) parts.push_back(part);
      return parts;
    };
    auto wanted = split(path);
    for (const auto& [key, route] : routes_) {
      if (key.rfind(method + " ", 0) != 0) continue;
      std::string tmpl = key.substr(method.size() + 1);
      auto parts = split(tmpl);
      if (parts.size() != wanted.size()) continue;
      Json params = Json::object();
      bool same = true;
      for (std::size_t i = 0; i < parts.size() && same; ++i) {
        if (parts[i].size() > 2 && parts[i].front() == '{' && parts[i].back() == '}')
          params[parts[i].substr(1, parts[i].size() - 2)] = wanted[i];
        else
          same = parts[i] == wanted[i];
      }
      if (same) return {tmpl, params};
    }
    throw Error(NUCLEO_NOT_FOUND, "no route " + method + " " + path);
  }
  Json route_request(const std::string& method, const std::string& path, const Json& headers, const Json& query) {
    auto [tmpl, params] = matched(method, path);
    return {{"method", method},   {"path", path},       {"params", params},
            {"query", query},     {"headers", headers}, {"tenant_id", tenant_id},
            {"actor", actor},     {"caller", caller_json()}, {"request_id", "req_test"},
            {"template", tmpl}};
  }
  Response call_route(const std::string& method, Json request) {
    std::string tmpl = request["template"];
    request.erase("template");
    const Route& route = routes_.at(method + " " + tmpl);
    std::string in = request.dump();
    nucleo_plugin_buffer out{nullptr, 0};
    nucleo_status status = route.fn(route.user, call(), detail::view(in), &out);
    std::string text = take(out);
    if (status != NUCLEO_OK) throw Error(status, text);
    Json j = Json::parse(text);
    Response r{j.value("status", 200), j.value("body", Json()), j.value("headers", Json::object()), std::nullopt};
    if (j.contains("body_base64")) r.bytes = detail::from_base64(j["body_base64"].get<std::string>());
    return r;
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
  Json manifest_;
  std::map<std::string, Route> routes_;
  std::vector<Subscription> subscriptions_;
  std::vector<Registered> validators_;
  std::map<std::string, RegisteredJob> jobs_;
  std::vector<Section> briefing_sections_;
  std::map<std::string, Importer> importers_;
  Channel channel_;
  int call_marker_ = 0;
};

}  // namespace nucleo::sdk::testing
