#pragma once

// The C++ side of a Nucleo plugin, header-only, over plugin_abi.h (ADR 0013):
//
//   class LeadCapture : public nucleo::sdk::Plugin {
//    public:
//     void init(nucleo::sdk::Host& host, const nucleo::sdk::Json& config) override {
//       host.route("POST", "/leads", nucleo::sdk::Auth::bearer, [&host](const nucleo::sdk::Request& r) {
//         auto contact = host.call(r.call, "records.create", {{"type", "contact"}, {"data", r.body}});
//         return nucleo::sdk::Response{201, contact};
//       });
//     }
//   };
//   NUCLEO_PLUGIN(LeadCapture, "com.example.lead-capture", "1.0.0")
//
// Exceptions never cross into the kernel: every trampoline below is noexcept and turns
// them into status codes — sdk::Error keeps its status, anything else is INTERNAL.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nucleo/plugin_abi.h"

namespace nucleo::sdk {

using Json = nlohmann::json;

// A failure with the ABI status it maps to. Throw it from handlers to choose the
// status; host calls throw it with the kernel's status and message.
class Error : public std::runtime_error {
 public:
  Error(nucleo_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  nucleo_status status() const noexcept { return status_; }

 private:
  nucleo_status status_;
};

enum class Auth : std::int32_t { bearer = NUCLEO_AUTH_BEARER, signed_ = NUCLEO_AUTH_SIGNED, public_ = NUCLEO_AUTH_PUBLIC };
enum class Level : std::int32_t {
  debug = NUCLEO_LOG_DEBUG,
  info = NUCLEO_LOG_INFO,
  warning = NUCLEO_LOG_WARNING,
  error = NUCLEO_LOG_ERROR
};

namespace detail {
// Standard base64 (RFC 4648 §4, padding optional); throws Error on anything else.
inline std::string from_base64(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  std::size_t end = text.find_last_not_of('=');
  end = end == std::string::npos ? 0 : end + 1;
  if (text.size() - end > 2) throw Error(NUCLEO_INVALID_ARGUMENT, "body is not base64");
  for (std::size_t i = 0; i < end; ++i) {
    int v = value(text[i]);
    if (v < 0) throw Error(NUCLEO_INVALID_ARGUMENT, "body is not base64");
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

// Standard base64 with padding (RFC 4648 §4).
inline std::string to_base64(std::string_view bytes) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned n = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(alphabet[(n >> shift) & 63]);
  }
  if (i < bytes.size()) {
    unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? alphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}
}  // namespace detail

// Who acts in a call (plugin_abi.h `caller`, ABI 1.2): a user through a key, a key of
// its own, or the plugin or kernel doing work of its own.
struct Caller {
  std::string tenant_id;
  std::string actor_type;  // key | plugin | system
  std::string actor_id;    // key_…, the plugin id, …
  std::string on_behalf_of;
  std::string user_id;     // empty: no user (an integration key, the plugin, the kernel)
  std::string role;        // admin | manager | sales | support | marketing | auditor | integration; empty: the kernel
  std::vector<std::string> teams;
  std::optional<std::vector<std::string>> scopes;  // nullopt: the role alone bounds the caller
  std::string request_id, causation_id;

  static Caller from_json(const Json& j) {
    auto text = [&](const Json& v) { return v.is_string() ? v.get<std::string>() : std::string(); };
    Caller c;
    c.tenant_id = text(j.value("tenant_id", Json()));
    Json actor = j.value("actor", Json::object());
    c.actor_type = text(actor.value("type", Json()));
    c.actor_id = text(actor.value("id", Json()));
    c.on_behalf_of = text(actor.value("on_behalf_of", Json()));
    c.user_id = text(j.value("user_id", Json()));
    c.role = text(j.value("role", Json()));
    for (const auto& t : j.value("teams", Json::array()))
      if (t.is_string()) c.teams.push_back(t);
    if (j.value("scopes", Json()).is_array()) c.scopes = j["scopes"].get<std::vector<std::string>>();
    c.request_id = text(j.value("request_id", Json()));
    c.causation_id = text(j.value("causation_id", Json()));
    return c;
  }
  // The kernel itself (CLI, system work) or a plugin's own work: no role restricts it.
  bool unrestricted() const { return role.empty(); }
  bool is(std::string_view r) const { return role == r; }
  bool in_team(std::string_view team) const {
    for (const auto& t : teams)
      if (t == team) return true;
    return false;
  }
  // Whether an integration key's scopes allow `scope` ("<plugin id>:write"); true when
  // scopes do not apply.
  bool has_scope(std::string_view scope) const {
    if (!scopes) return true;
    for (const auto& s : *scopes)
      if (s == scope || s == "*") return true;
    return false;
  }
};

struct Request {
  const nucleo_call* call = nullptr;  // pass to Host::call while handling this request
  Json json;                          // the whole request as the kernel sent it
  Json body;                          // json["body"]: parsed JSON (bearer) or base64 (signed, public)
  std::string header(const std::string& name) const {
    return json.contains("headers") && json["headers"].is_object() ? json["headers"].value(name, "") : "";
  }
  // The body's bytes exactly as received: signed and public routes (verify signatures
  // over these, then parse), and bearer routes that declare a raw body in plugin.json
  // ("routes": {"POST /import": {"raw_body": {…}}}).
  std::string raw_body() const {
    if (json.contains("body_base64") && json["body_base64"].is_string())
      return detail::from_base64(json["body_base64"].get<std::string>());
    return body.is_string() ? detail::from_base64(body.get<std::string>()) : "";
  }
  // Who calls (bearer routes; ABI 1.2): the same as Host::caller(call).
  Caller caller() const { return Caller::from_json(json.value("caller", Json::object())); }
  std::string param(const std::string& name) const {
    return json.contains("params") && json["params"].is_object() ? json["params"].value(name, "") : "";
  }
  std::string query(const std::string& name) const {
    return json.contains("query") && json["query"].is_object() ? json["query"].value(name, "") : "";
  }
};

struct Response {
  int status = 200;
  Json body = Json::object();
  Json headers = Json::object();
  std::optional<std::string> bytes;  // set by raw(): sent as they are, not as JSON

  // A body that is not JSON: HTML, CSV, a PDF.
  static Response raw(int status, const std::string& content_type, std::string bytes) {
    Response r;
    r.status = status;
    r.headers = {{"Content-Type", content_type}};
    r.bytes = std::move(bytes);
    return r;
  }
};

struct Event {
  const nucleo_call* call = nullptr;
  Json json;  // the envelope: id, name, tenant_id, occurred_at, actor, entity, data, causation_id, depth
};

struct Job {
  const nucleo_call* call = nullptr;
  Json json;  // job_id, name, tenant_id (null: global), scheduled_at, payload, attempt
  Json payload() const { return json.value("payload", Json::object()); }
};

enum class Scope { tenant, global };

// A message to send through the plugin's channel, on a job worker: {"message_id",
// "channel_account": {"id","external_id","config","secrets"}, "to", "content"}.
struct OutboundMessage {
  const nucleo_call* call = nullptr;  // in the account's tenant
  Json json;
};

// A validator's verdict: no reasons means the write may go on.
struct Reason {
  std::string field, message;
};

namespace detail {

inline nucleo_view view(std::string_view s) {
  return nucleo_view{s.data(), s.size()};
}

inline std::string text(nucleo_view v) {
  return v.data ? std::string(v.data, v.size) : std::string();
}

// Copies `s` into a malloc'ed buffer of either owner's type (both are {data, size});
// the receiving side releases it with the matching free function.
template <class Buffer>
Buffer malloc_copy(const std::string& s) {
  Buffer b{nullptr, 0};
  if (s.empty()) return b;
  b.data = static_cast<char*>(std::malloc(s.size()));
  if (!b.data) return b;
  std::memcpy(b.data, s.data(), s.size());
  b.size = s.size();
  return b;
}

// A buffer the host will release through the descriptor's free_buffer.
inline nucleo_plugin_buffer plugin_buffer(const std::string& s) {
  return malloc_copy<nucleo_plugin_buffer>(s);
}

inline void free_plugin_buffer(nucleo_plugin_buffer b) {
  std::free(b.data);
}

// Runs `work`, turning exceptions into a status and a message in `out`.
template <class Work>
nucleo_status guarded(nucleo_plugin_buffer* out, Work&& work) noexcept {
  try {
    return work();
  } catch (const Error& e) {
    if (out) *out = plugin_buffer(e.what());
    return e.status();
  } catch (const Json::exception& e) {
    if (out) *out = plugin_buffer(std::string("invalid JSON: ") + e.what());
    return NUCLEO_INVALID_ARGUMENT;
  } catch (const std::exception& e) {
    if (out) *out = plugin_buffer(e.what());
    return NUCLEO_INTERNAL;
  } catch (...) {
    if (out) *out = plugin_buffer("unknown exception");
    return NUCLEO_INTERNAL;
  }
}

}  // namespace detail

// The kernel as a plugin sees it. Valid from init until shutdown returns.
class Host {
 public:
  using RouteHandler = std::function<Response(const Request&)>;
  using EventHandler = std::function<void(const Event&)>;
  using Validator = std::function<std::vector<Reason>(const nucleo_call*, const Json& change)>;
  using JobHandler = std::function<void(const Job&)>;
  // Returns {"external_id", "delivery_status"}; throw Error(NUCLEO_UNAVAILABLE, …) to be
  // retried later, any other Error to fail the message.
  using SendHandler = std::function<Json(const OutboundMessage&)>;

  explicit Host(const nucleo_host_api* api) : api_(api) {}

  void log(Level level, std::string_view message) const {
    api_->log(api_->host, static_cast<std::int32_t>(level), detail::view(message));
  }

  // Metrics on the kernel's /metrics, as nucleo_plugin_<name>{plugin="<id>",…}. Names
  // and label keys are lower-case letters, digits and _; label values are strings.
  void count(std::string_view name, const Json& labels = Json::object(), double by = 1) const {
    std::string l = labels.dump();
    check(api_->counter_add(api_->host, detail::view(name), detail::view(l), by), "counter " + std::string(name));
  }
  void gauge(std::string_view name, double value, const Json& labels = Json::object()) const {
    std::string l = labels.dump();
    check(api_->gauge_set(api_->host, detail::view(name), detail::view(l), value), "gauge " + std::string(name));
  }

  // Calls a kernel service; returns its JSON result or throws Error with the kernel's
  // status and message.
  Json call(const nucleo_call* call, std::string_view service, const Json& request) const {
    std::string in = request.dump();
    nucleo_host_buffer out{nullptr, 0};
    nucleo_status status = api_->call_service(api_->host, call, detail::view(service), detail::view(in), &out);
    std::string text(out.data ? out.data : "", out.size);
    if (out.data) api_->free_buffer(api_->host, out);
    if (status != NUCLEO_OK) throw Error(status, text);
    return text.empty() ? Json() : Json::parse(text);
  }

  // Outbound HTTP through the kernel (timeouts, retries, private targets refused unless
  // the deployment allow-lists them): {"method","url","headers","body","timeout_ms"} →
  // {"status","headers","body_base64"}. Throws Error (FORBIDDEN, UNAVAILABLE, …).
  Json http(const nucleo_call* c, const Json& request) const {
    std::string in = request.dump();
    nucleo_host_buffer out{nullptr, 0};
    nucleo_status status = api_->http_request(api_->host, c, detail::view(in), &out);
    std::string text(out.data ? out.data : "", out.size);
    if (out.data) api_->free_buffer(api_->host, out);
    if (status != NUCLEO_OK) throw Error(status, text);
    return Json::parse(text);
  }

  // The record store: collections declared in plugin.json ("collections"), per tenant,
  // audited. put creates or replaces and returns {"collection","id","version",
  // "document","created_at","updated_at"}; get returns the same; query takes
  // {"where": {"field": {"gte": …}}, "limit", "cursor"} on indexed fields and returns
  // {"data": [...], "next_cursor"}. Failures throw Error (NOT_FOUND, INVALID_ARGUMENT, …).
  Json store_put(const nucleo_call* c, std::string_view collection, std::string_view id, const Json& document) const {
    std::string in = document.dump();
    nucleo_host_buffer out{nullptr, 0};
    return answer(api_->record_put(api_->host, c, detail::view(collection), detail::view(id), detail::view(in), &out), out);
  }
  // put with optimistic concurrency (ABI 1.2): expected_version 0 only creates, n only
  // replaces version n; throws Error(CONFLICT) when another writer got there first,
  // Error(NOT_FOUND) when replacing a record that is gone.
  Json store_put(const nucleo_call* c, std::string_view collection, std::string_view id, const Json& document,
                 std::int64_t expected_version) const {
    require(offers(offsetof(nucleo_host_api, record_put_version), sizeof api_->record_put_version),
            "record_put_version");
    std::string in = document.dump();
    nucleo_host_buffer out{nullptr, 0};
    return answer(api_->record_put_version(api_->host, c, detail::view(collection), detail::view(id), detail::view(in),
                                           expected_version, &out),
                  out);
  }
  Json store_get(const nucleo_call* c, std::string_view collection, std::string_view id) const {
    nucleo_host_buffer out{nullptr, 0};
    return answer(api_->record_get(api_->host, c, detail::view(collection), detail::view(id), &out), out);
  }
  void store_delete(const nucleo_call* c, std::string_view collection, std::string_view id) const {
    nucleo_status status = api_->record_delete(api_->host, c, detail::view(collection), detail::view(id));
    if (status != NUCLEO_OK) throw Error(status, "record_delete failed");
  }
  Json store_query(const nucleo_call* c, std::string_view collection, const Json& query) const {
    std::string in = query.dump();
    nucleo_host_buffer out{nullptr, 0};
    return answer(api_->record_query(api_->host, c, detail::view(collection), detail::view(in), &out), out);
  }

  // Who acts in `call` (ABI 1.2): route handlers, validators, event handlers and jobs
  // alike. Throws Error(UNSUPPORTED) on a kernel older than 1.2.
  Caller caller(const nucleo_call* c) const {
    require(offers(offsetof(nucleo_host_api, caller), sizeof api_->caller), "caller");
    nucleo_host_buffer out{nullptr, 0};
    return Caller::from_json(answer(api_->caller(api_->host, c, &out), out));
  }

  // The kernel's clock in microseconds since the Unix epoch (ABI 1.2): the time writes
  // are stamped with, which tests move. `c` may be null outside a call.
  std::int64_t now_micros(const nucleo_call* c = nullptr) const {
    require(offers(offsetof(nucleo_host_api, now_micros), sizeof api_->now_micros), "now_micros");
    return api_->now_micros(api_->host, c);
  }

  // The plugin's settings for the call's tenant (ABI 1.2): {"settings": {…}, "secrets":
  // {…}}, as the tenant's admin set them against plugin.json "tenant_settings", with
  // its defaults. Secrets reach the plugin only: never log them.
  Json tenant_settings(const nucleo_call* c) const {
    require(offers(offsetof(nucleo_host_api, tenant_settings), sizeof api_->tenant_settings), "tenant_settings");
    nucleo_host_buffer out{nullptr, 0};
    return answer(api_->tenant_settings(api_->host, c, &out), out);
  }

  // The call's tenant read whole from one snapshot (ABI 1.10): every row of the kinds
  // asked ({"kinds": [...], "chunk_rows"}; docs/plugin-authoring.md "Reading a snapshot")
  // handed to `row` one at a time, parsed, each with its "kind". Returns {"counts",
  // "as_of", "complete"}. Throws Error (FORBIDDEN for a caller who may not, UNSUPPORTED
  // on a kernel older than 1.10); an exception from `row` stops the read and is rethrown.
  Json read_snapshot(const nucleo_call* c, const Json& request, const std::function<void(const Json& row)>& row) const {
    require(offers(offsetof(nucleo_host_api, read_snapshot), sizeof api_->read_snapshot), "read_snapshot", "1.10");
    struct Reader {
      const std::function<void(const Json&)>* row;
      std::exception_ptr failure;
    } reader{&row, nullptr};
    auto on_chunk = [](void* user, nucleo_view jsonl) -> nucleo_status {
      auto& r = *static_cast<Reader*>(user);
      try {
        std::string_view text(jsonl.data, jsonl.size);
        for (std::size_t at = 0; at < text.size();) {
          std::size_t end = text.find('\n', at);
          if (end == std::string_view::npos) end = text.size();
          if (end > at) (*r.row)(Json::parse(text.substr(at, end - at)));
          at = end + 1;
        }
        return NUCLEO_OK;
      } catch (...) {
        r.failure = std::current_exception();
        return NUCLEO_INTERNAL;
      }
    };
    std::string in = request.dump();
    nucleo_host_buffer out{nullptr, 0};
    nucleo_status status = api_->read_snapshot(api_->host, c, detail::view(in), on_chunk, &reader, &out);
    if (reader.failure) {
      if (out.data) api_->free_buffer(api_->host, out);
      std::rethrow_exception(reader.failure);
    }
    return answer(status, out);
  }

  // A section of every account's briefing (ABI 1.2), shown as "<plugin id>.<name>":
  // `section` gets the account as the caller sees it and returns any JSON value. It
  // runs on the request's thread: keep it to a few reads.
  using BriefingSection = std::function<Json(const nucleo_call*, const Json& account)>;
  void briefing_section(std::string name, std::string title, BriefingSection section) {
    require(offers(offsetof(nucleo_host_api, register_briefing_section), sizeof api_->register_briefing_section),
            "register_briefing_section");
    auto& s = keep(briefing_sections_, std::move(section));
    std::string spec = Json{{"name", name}, {"title", title}}.dump();
    check(api_->register_briefing_section(api_->host, detail::view(spec), &briefing_trampoline, &s),
          "briefing section " + name);
  }

  // An import format (ABI 1.6): uploads naming spec["name"] as their format are read by
  // `parse` one chunk at a time, and the rows it returns are mapped, validated, written and
  // reported as a CSV file's rows are (docs/import.md, "Formats plugins provide").
  // spec: {"name", "title", "media_types": [...], "mapping": the mapping used when an
  // upload brings none}. Keep nothing between steps but `carry`.
  struct ImportStep {
    const nucleo_call* call;
    std::string_view bytes;  // the file's next bytes (empty when final)
    bool final;              // no bytes follow
    Json carry;              // what the previous step returned (null on the first)
    std::string import_id;   // (ABI 1.7) the import's id, the same in every run of it; empty before 1.7
    bool dry_run = false;    // (ABI 1.7) nothing the rows say will be written
  };
  struct ImportRows {
    Json rows = Json::array();  // each {"line", "fields": {…}} | {"line", "record": {"collection", "id", "document"}}
                                // | {"line", "error": "why"}
    Json carry;                 // handed to the next step
  };
  using ImportParser = std::function<ImportRows(const ImportStep&)>;
  void importer(const Json& spec, ImportParser parse) {
    require(offers(offsetof(nucleo_host_api, register_importer), sizeof api_->register_importer), "register_importer",
            "1.6");
    auto& p = keep(importers_, std::move(parse));
    std::string text = spec.dump();
    check(api_->register_importer(api_->host, detail::view(text), &import_trampoline, &p),
          "importer " + spec.value("name", std::string()));
  }

  // The same for a file read line by line (a registry's CSV or fixed-width export): the SDK
  // keeps the unfinished line between chunks and counts lines; `row` gets each line without
  // its line break (number from 1) and returns the row without "line" — {"fields": {…}},
  // {"record": {…}} or {"error": "…"} — an array of such rows (a producer and her farm),
  // or null to skip the line (a header, a blank). Throw Error to refuse the whole file.
  using LineParser = std::function<Json(std::string_view line, std::size_t number)>;
  void line_importer(const Json& spec, LineParser row) {
    line_importer(spec, [row = std::move(row)](const ImportLine& l) { return row(l.text, l.number); });
  }
  // (ABI 1.7) The same with the line's context: the call (to read through the host), the
  // import's id and whether it is a dry run, and `kept` — a JSON value the parser sets
  // from one line (the header's column positions) and finds again on the next ones, the
  // only state that crosses chunks.
  struct ImportLine {
    const nucleo_call* call;
    std::string_view text;  // without its line break
    std::size_t number;     // from 1
    const std::string& import_id;
    bool dry_run;
    Json& kept;
  };
  using ContextLineParser = std::function<Json(const ImportLine&)>;
  void line_importer(const Json& spec, ContextLineParser row) {
    importer(spec, [row = std::move(row)](const ImportStep& step) {
      // The unfinished line crosses as base64: a Latin-1 file's bytes are not JSON text.
      std::string text = step.carry.is_object() ? detail::from_base64(step.carry.value("rest", "")) : std::string();
      std::size_t number = step.carry.is_object() ? step.carry.value("line", std::size_t{0}) : 0;
      Json kept = step.carry.is_object() ? step.carry.value("kept", Json()) : Json();
      text.append(step.bytes);
      ImportRows out;
      std::size_t start = 0;
      auto emit = [&](std::string_view line) {
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        Json r = row(ImportLine{step.call, line, ++number, step.import_id, step.dry_run, kept});
        if (r.is_object()) r = Json::array({std::move(r)});
        for (auto& one : r.is_array() ? r : Json::array()) {
          one["line"] = number;
          out.rows.push_back(std::move(one));
        }
      };
      for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
        emit(std::string_view(text).substr(start, end - start));
      if (step.final && start < text.size()) emit(std::string_view(text).substr(start)), start = text.size();
      out.carry = {{"rest", detail::to_base64(std::string_view(text).substr(start))}, {"line", number}, {"kept", kept}};
      return out;
    });
  }

  // Whether the kernel's host table has a member (ABI minors only append).
  bool offers(std::size_t offset, std::size_t size) const { return api_->struct_size >= offset + size; }

  // Typed helpers over call() for the kernel's entities.
  Json create(const nucleo_call* c, std::string_view type, const Json& data) const {
    return call(c, "records.create", {{"type", type}, {"data", data}});
  }
  Json get(const nucleo_call* c, std::string_view type, std::string_view id) const {
    return call(c, "records.get", {{"type", type}, {"id", id}});
  }
  Json update(const nucleo_call* c, std::string_view type, std::string_view id, const Json& patch) const {
    return call(c, "records.update", {{"type", type}, {"id", id}, {"data", patch}});
  }

  void route(std::string method, std::string path, Auth auth, RouteHandler handler) {
    auto& h = keep(routes_, std::move(handler));
    check(api_->register_route(api_->host, detail::view(method), detail::view(path), static_cast<std::int32_t>(auth),
                               &route_trampoline, &h),
          "route " + method + " " + path);
  }
  void subscribe(std::string pattern, EventHandler handler) {
    auto& h = keep(events_, std::move(handler));
    check(api_->register_subscription(api_->host, detail::view(pattern), &event_trampoline, &h),
          "subscription " + pattern);
  }
  void validate(std::string entity_type, Validator validator) {
    auto& v = keep(validators_, std::move(validator));
    check(api_->register_validator(api_->host, detail::view(entity_type), &validator_trampoline, &v),
          "validator for " + entity_type);
  }

  // The plugin's channel (one per plugin): {"name", "kinds": ["whatsapp"]}. Messages
  // sent through its channel accounts (POST /v1/channels/accounts/{id}/messages) reach
  // `send` on a job worker, never on an HTTP thread.
  void channel(const Json& spec, SendHandler send) {
    auto& h = keep(senders_, std::move(send));
    std::string text = spec.dump();
    check(api_->register_channel(api_->host, detail::view(text), &send_trampoline, &h), "channel");
  }

  // A job: recurring when `schedule` is given ("every 5m", "cron 0 7 * * 1-5"; UTC),
  // otherwise run only when enqueued. Scope tenant runs it once per tenant.
  // `time_zone` (ABI 1.2 kernels): a cron schedule on "tenant" (each tenant's own zone;
  // Scope::tenant) or an IANA zone's wall clock ("America/Sao_Paulo"); empty: UTC.
  void job(std::string name, std::string schedule, Scope scope, JobHandler handler, std::string time_zone = "") {
    auto& h = keep(jobs_, std::move(handler));
    Json spec{{"name", name}, {"scope", scope == Scope::tenant ? "tenant" : "global"}};
    if (!schedule.empty()) spec["schedule"] = schedule;
    if (!time_zone.empty()) spec["time_zone"] = time_zone;
    std::string text = spec.dump();
    check(api_->register_job(api_->host, detail::view(text), &job_trampoline, &h), "job " + name);
  }
  // Queues one run of a registered job in the call's tenant; returns the job id.
  std::string enqueue(const nucleo_call* c, std::string_view name, const Json& payload = Json::object(),
                      std::int64_t delay_ms = 0) const {
    std::string in = payload.dump();
    nucleo_host_buffer out{nullptr, 0};
    nucleo_status status = api_->enqueue_job(api_->host, c, detail::view(name), detail::view(in), delay_ms, &out);
    std::string text(out.data ? out.data : "", out.size);
    if (out.data) api_->free_buffer(api_->host, out);
    if (status != NUCLEO_OK) throw Error(status, text);
    return text;
  }

  // Attributes on a core entity's `attributes`: {"<namespace>.<key>": {"type",
  // "required", "enum", "pattern", "minimum", "maximum", "format"}} — checked by the
  // kernel on every write of that entity, shown in its OpenAPI, searchable.
  void declare_attributes(std::string entity_type, const Json& schema) {
    std::string text = schema.dump();
    check(api_->register_attribute_schema(api_->host, detail::view(entity_type), detail::view(text)),
          "attribute schema for " + entity_type + " (the kernel's log says why)");
  }

  const nucleo_host_api* api() const { return api_; }

 private:
  template <class F>
  static F& keep(std::list<F>& store, F f) {
    store.push_back(std::move(f));  // std::list: addresses stay valid as it grows
    return store.back();
  }
  // A host function's JSON answer, or Error with its status and message.
  Json answer(nucleo_status status, nucleo_host_buffer out) const {
    std::string text(out.data ? out.data : "", out.size);
    if (out.data) api_->free_buffer(api_->host, out);
    if (status != NUCLEO_OK) throw Error(status, text);
    return text.empty() ? Json() : Json::parse(text);
  }
  static void require(bool offered, const std::string& what, const std::string& abi = "1.2") {
    if (!offered) throw Error(NUCLEO_UNSUPPORTED, "this kernel predates " + what + " (plugin ABI " + abi + ")");
  }
  static void check(nucleo_status status, const std::string& what) {
    if (status != NUCLEO_OK) throw Error(status, "the kernel refused the " + what);
  }

  static nucleo_status route_trampoline(void* user_data, const nucleo_call* call, nucleo_view request,
                                        nucleo_plugin_buffer* response) noexcept {
    return detail::guarded(response, [&] {
      Request r;
      r.call = call;
      r.json = Json::parse(detail::text(request));
      r.body = r.json.value("body", Json());
      Response out = (*static_cast<RouteHandler*>(user_data))(r);
      Json answer{{"status", out.status}, {"headers", out.headers}};
      if (out.bytes) answer["body_base64"] = detail::to_base64(*out.bytes);
      else answer["body"] = out.body;
      *response = detail::plugin_buffer(answer.dump());
      return NUCLEO_OK;
    });
  }
  static nucleo_status event_trampoline(void* user_data, const nucleo_call* call, nucleo_view event,
                                        nucleo_plugin_buffer* message) noexcept {
    return detail::guarded(message, [&] {
      (*static_cast<EventHandler*>(user_data))(Event{call, Json::parse(detail::text(event))});
      return NUCLEO_OK;
    });
  }
  static nucleo_status send_trampoline(void* user_data, const nucleo_call* call, nucleo_view message,
                                       nucleo_plugin_buffer* result) noexcept {
    return detail::guarded(result, [&] {
      Json out = (*static_cast<SendHandler*>(user_data))(OutboundMessage{call, Json::parse(detail::text(message))});
      *result = detail::plugin_buffer(out.dump());
      return NUCLEO_OK;
    });
  }
  static nucleo_status job_trampoline(void* user_data, const nucleo_call* call, nucleo_view job,
                                      nucleo_plugin_buffer* message) noexcept {
    return detail::guarded(message, [&] {
      (*static_cast<JobHandler*>(user_data))(Job{call, Json::parse(detail::text(job))});
      return NUCLEO_OK;
    });
  }
  static nucleo_status briefing_trampoline(void* user_data, const nucleo_call* call, nucleo_view request,
                                           nucleo_plugin_buffer* section) noexcept {
    return detail::guarded(section, [&] {
      Json r = Json::parse(detail::text(request));
      Json out = (*static_cast<BriefingSection*>(user_data))(call, r.value("account", Json::object()));
      *section = detail::plugin_buffer(out.dump());
      return NUCLEO_OK;
    });
  }
  static nucleo_status import_trampoline(void* user_data, const nucleo_call* call, nucleo_view step, nucleo_view bytes,
                                         nucleo_plugin_buffer* rows) noexcept {
    return detail::guarded(rows, [&] {
      Json s = Json::parse(detail::text(step));
      ImportRows out = (*static_cast<ImportParser*>(user_data))(
          ImportStep{call, std::string_view(bytes.data ? bytes.data : "", bytes.size), s.value("final", false),
                     s.value("carry", Json()), s.value("import_id", std::string()), s.value("dry_run", false)});
      *rows = detail::plugin_buffer(Json{{"rows", std::move(out.rows)}, {"carry", std::move(out.carry)}}.dump());
      return NUCLEO_OK;
    });
  }
  static nucleo_status validator_trampoline(void* user_data, const nucleo_call* call, nucleo_view change,
                                            nucleo_plugin_buffer* reasons) noexcept {
    return detail::guarded(reasons, [&] {
      auto found = (*static_cast<Validator*>(user_data))(call, Json::parse(detail::text(change)));
      if (found.empty()) return NUCLEO_OK;
      Json list = Json::array();
      for (const auto& r : found) list.push_back({{"field", r.field}, {"message", r.message}});
      *reasons = detail::plugin_buffer(list.dump());
      return NUCLEO_REJECTED;
    });
  }

  const nucleo_host_api* api_;
  std::list<RouteHandler> routes_;
  std::list<EventHandler> events_;
  std::list<Validator> validators_;
  std::list<JobHandler> jobs_;
  std::list<SendHandler> senders_;
  std::list<BriefingSection> briefing_sections_;
  std::list<ImportParser> importers_;
};

// What a plugin implements. One instance per load, created before init and destroyed
// after shutdown.
class Plugin {
 public:
  virtual ~Plugin() = default;
  // Register routes, subscriptions, validators; read the config. Throw to refuse to
  // start (the kernel reports the message and keeps serving without the plugin).
  virtual void init(Host& host, const Json& config) = 0;
  virtual void shutdown() {}
};

namespace detail {

// What the entry point's descriptor keeps between init and shutdown.
struct Instance {
  std::unique_ptr<Host> host;
  std::unique_ptr<Plugin> plugin;
};

template <class P>
nucleo_status init(const nucleo_host_api* api, nucleo_view config, void** state, nucleo_plugin_buffer* message) noexcept {
  return guarded(message, [&] {
    auto instance = std::make_unique<Instance>();
    instance->host = std::make_unique<Host>(api);
    instance->plugin = std::make_unique<P>();
    std::string text = detail::text(config);
    instance->plugin->init(*instance->host, text.empty() ? Json::object() : Json::parse(text));
    *state = instance.release();
    return NUCLEO_OK;
  });
}

inline void shutdown(void* state) noexcept {
  std::unique_ptr<Instance> instance(static_cast<Instance*>(state));
  if (!instance) return;
  try {
    instance->plugin->shutdown();
  } catch (...) {
    // shutdown has no way to report: the kernel is exiting anyway.
  }
}

}  // namespace detail
}  // namespace nucleo::sdk

// Exports the entry point of plugin class P (default-constructible) with its id and
// version, which must equal those of plugin.json.
#define NUCLEO_PLUGIN(P, ID, VERSION)                                                                     \
  NUCLEO_PLUGIN_ABI_TAG                                                                                  \
  extern "C" NUCLEO_PLUGIN_EXPORT const nucleo_plugin_descriptor* nucleo_plugin_entry(void) {            \
    static const nucleo_plugin_descriptor descriptor = {                                                 \
        sizeof(nucleo_plugin_descriptor), NUCLEO_ABI_MAJOR,          NUCLEO_ABI_MINOR,                 \
        ID,                               VERSION,                   &::nucleo::sdk::detail::init<P>,  \
        &::nucleo::sdk::detail::shutdown, &::nucleo::sdk::detail::free_plugin_buffer};                 \
    return &descriptor;                                                                                  \
  }
