// Test plugins for the host (issue #8), one library per configuration of the macros
// below: a good plugin, and the ways a plugin can be wrong at load.
#include <cstdlib>
#include <cstring>

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

nucleo_status ping(void*, const nucleo_call*, nucleo_view, nucleo_plugin_buffer* response) {
  *response = copy(R"({"status":200,"headers":{},"body":{"pong":true}})");
  return NUCLEO_OK;
}

nucleo_status init(const nucleo_host_api* host, nucleo_view, void** state, nucleo_plugin_buffer* message) {
  *state = nullptr;
  host->register_route(host->host, {"GET", 3}, {"/ping", 5}, NUCLEO_AUTH_BEARER, ping, nullptr);
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

#ifndef FIXTURE_NO_ENTRY
extern "C" NUCLEO_PLUGIN_EXPORT const nucleo_plugin_descriptor* nucleo_plugin_entry(void) {
  return &descriptor;
}
#else
extern "C" NUCLEO_PLUGIN_EXPORT const nucleo_plugin_descriptor* some_other_name(void) {
  return &descriptor;
}
#endif
