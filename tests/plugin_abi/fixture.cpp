// Test plugins for the host (issue #8), one library per configuration of the macros
// below: a good plugin, and the ways a plugin can be wrong at load. The good one's
// routes answer in each way a route can, for the server tests.
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "nucleo/plugin_abi.h"

#ifndef FIXTURE_ID
#define FIXTURE_ID "org.nucleo.fixtures.good"
#endif
#ifndef FIXTURE_MAJOR
#define FIXTURE_MAJOR NUCLEO_ABI_MAJOR
#endif
#ifndef FIXTURE_MINOR
#define FIXTURE_MINOR NUCLEO_ABI_MINOR
#endif

namespace {

nucleo_plugin_buffer copy(const char* text) {
  nucleo_plugin_buffer b{static_cast<char*>(std::malloc(std::strlen(text))), std::strlen(text)};
  std::memcpy(b.data, text, b.size);
  return b;
}

const nucleo_host_api* kernel = nullptr;

nucleo_status ping(void*, const nucleo_call*, nucleo_view, nucleo_plugin_buffer* response) {
  *response = copy(R"({"status":200,"headers":{},"body":{"pong":true}})");
  return NUCLEO_OK;
}

// Answers with the request it was given, so tests see what crosses the ABI.
nucleo_status echo(void*, const nucleo_call*, nucleo_view request, nucleo_plugin_buffer* response) {
  *response = copy(("{\"status\":200,\"body\":" + std::string(request.data, request.size) + "}").c_str());
  return NUCLEO_OK;
}

nucleo_status garbage(void*, const nucleo_call*, nucleo_view, nucleo_plugin_buffer* response) {
  *response = copy("this is not JSON");
  return NUCLEO_OK;
}

nucleo_status conflict(void*, const nucleo_call*, nucleo_view, nucleo_plugin_buffer* message) {
  *message = copy("this lead was captured already");
  return NUCLEO_CONFLICT;
}

nucleo_status crash(void*, const nucleo_call*, nucleo_view, nucleo_plugin_buffer* message) {
  *message = copy("connection to db:5432 failed, password hunter2");  // must stay in the log
  return NUCLEO_INTERNAL;
}

nucleo_status bytes(void*, const nucleo_call*, nucleo_view, nucleo_plugin_buffer* response) {
  *response = copy(R"({"status":200,"headers":{"Content-Type":"text/plain"},"body_base64":"b2zDoQ=="})");
  return NUCLEO_OK;
}

// A public route: no tenant, so the kernel's services refuse to run for it.
nucleo_status hook(void*, const nucleo_call* call, nucleo_view request, nucleo_plugin_buffer* response) {
  const char get[] = R"({"type":"contact","id":"con_1"})";
  nucleo_host_buffer out{nullptr, 0};
  nucleo_status status = kernel->call_service(kernel->host, call, {"records.get", 11}, {get, sizeof get - 1}, &out);
  if (out.data) kernel->free_buffer(kernel->host, out);
  *response = copy(("{\"status\":202,\"body\":{\"service_status\":" + std::to_string(status) +
                    ",\"request\":" + std::string(request.data, request.size) + "}}")
                       .c_str());
  return NUCLEO_OK;
}

// Reads a contact through the kernel as the caller, passing the kernel's refusal on.
nucleo_status contact(void*, const nucleo_call* call, nucleo_view request, nucleo_plugin_buffer* response) {
  auto r = nlohmann::json::parse(std::string(request.data, request.size));
  std::string get = nlohmann::json{{"type", "contact"}, {"id", r["params"]["id"]}}.dump();
  nucleo_host_buffer out{nullptr, 0};
  nucleo_status status =
      kernel->call_service(kernel->host, call, {"records.get", 11}, {get.data(), get.size()}, &out);
  std::string text = out.data ? std::string(out.data, out.size) : "";
  if (out.data) kernel->free_buffer(kernel->host, out);
  *response = copy((status == NUCLEO_OK ? "{\"status\":200,\"body\":" + text + "}" : text).c_str());
  return status;
}

// Fetches body.url through the kernel's outbound HTTP, passing its refusal on.
nucleo_status fetch(void*, const nucleo_call* call, nucleo_view request, nucleo_plugin_buffer* response) {
  auto r = nlohmann::json::parse(std::string(request.data, request.size));
  std::string out_request = nlohmann::json{{"method", "GET"}, {"url", r["body"]["url"]}}.dump();
  nucleo_host_buffer out{nullptr, 0};
  nucleo_status status = kernel->http_request(kernel->host, call, {out_request.data(), out_request.size()}, &out);
  std::string text = out.data ? std::string(out.data, out.size) : "";
  if (out.data) kernel->free_buffer(kernel->host, out);
  *response = copy((status == NUCLEO_OK ? "{\"status\":200,\"body\":" + text + "}" : text).c_str());
  return status;
}

// Asks the kernel where body.host:body.port may be reached (network.resolve, ABI 1.4).
nucleo_status resolve(void*, const nucleo_call* call, nucleo_view request, nucleo_plugin_buffer* response) {
  auto r = nlohmann::json::parse(std::string(request.data, request.size));
  std::string ask = r["body"].dump();
  nucleo_host_buffer out{nullptr, 0};
  nucleo_status status =
      kernel->call_service(kernel->host, call, {"network.resolve", 15}, {ask.data(), ask.size()}, &out);
  std::string text = out.data ? std::string(out.data, out.size) : "";
  if (out.data) kernel->free_buffer(kernel->host, out);
  *response = copy((status == NUCLEO_OK ? "{\"status\":200,\"body\":" + text + "}" : text).c_str());
  return status;
}

void route(const nucleo_host_api* host, const char* method, const char* path, int32_t auth, nucleo_route_fn fn) {
  host->register_route(host->host, {method, std::strlen(method)}, {path, std::strlen(path)}, auth, fn, nullptr);
}

nucleo_status init(const nucleo_host_api* host, nucleo_view, void** state, nucleo_plugin_buffer* message) {
  *state = nullptr;
  kernel = host;
  route(host, "GET", "/ping", NUCLEO_AUTH_BEARER, ping);
  route(host, "GET", "/echo/{name}", NUCLEO_AUTH_BEARER, echo);
  route(host, "GET", "/garbage", NUCLEO_AUTH_BEARER, garbage);
  route(host, "POST", "/conflict", NUCLEO_AUTH_BEARER, conflict);
  route(host, "GET", "/crash", NUCLEO_AUTH_BEARER, crash);
  route(host, "GET", "/bytes", NUCLEO_AUTH_BEARER, bytes);
  route(host, "POST", "/hook", NUCLEO_AUTH_PUBLIC, hook);
  route(host, "GET", "/contacts/{id}", NUCLEO_AUTH_BEARER, contact);
  route(host, "POST", "/fetch", NUCLEO_AUTH_BEARER, fetch);
  route(host, "POST", "/resolve", NUCLEO_AUTH_BEARER, resolve);
#ifdef FIXTURE_INIT_FAILS
  *message = copy("the API token is missing");
  return NUCLEO_INVALID_ARGUMENT;
#else
  (void)message;
  return NUCLEO_OK;
#endif
}

void shutdown(void*) {}

void release(nucleo_plugin_buffer b) {
  std::free(b.data);
}

const nucleo_plugin_descriptor descriptor = {sizeof(nucleo_plugin_descriptor), FIXTURE_MAJOR, FIXTURE_MINOR,
                                             FIXTURE_ID, "1.0.0", init, shutdown, release};

}  // namespace

// The tag `plugins inspect` reads; FIXTURE_TAG_MINOR makes it disagree with the descriptor.
#ifndef FIXTURE_TAG_MINOR
#define FIXTURE_TAG_MINOR FIXTURE_MINOR
#endif
#ifndef FIXTURE_NO_TAG
NUCLEO_PLUGIN_ABI_TAG_OF(FIXTURE_MAJOR, FIXTURE_TAG_MINOR)
#endif

#ifndef FIXTURE_NO_ENTRY
extern "C" NUCLEO_PLUGIN_EXPORT const nucleo_plugin_descriptor* nucleo_plugin_entry(void) {
  return &descriptor;
}
#else
extern "C" NUCLEO_PLUGIN_EXPORT const nucleo_plugin_descriptor* some_other_name(void) {
  return &descriptor;
}
#endif
