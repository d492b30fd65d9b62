/* A whole plugin in C99 against plugin_abi.h alone: it must compile with
 * -std=c99 -pedantic -Werror (issue #8), and shows what the ABI asks of a plugin in
 * another language. Registers one bearer route that echoes the tenant it runs in. */
#include <stdlib.h>
#include <string.h>

#include "nucleo/plugin_abi.h"

static const nucleo_host_api* host_api;

static nucleo_view view_of(const char* text) {
  nucleo_view v;
  v.data = text;
  v.size = strlen(text);
  return v;
}

static void release(nucleo_plugin_buffer buffer) {
  free(buffer.data);
}

static nucleo_status hello(void* user_data, const nucleo_call* call, nucleo_view request_json,
                           nucleo_plugin_buffer* response_json) {
  static const char body[] = "{\"status\":200,\"headers\":{},\"body\":{\"hello\":\"from C\"}}";
  (void)user_data;
  (void)call;
  (void)request_json;
  response_json->data = malloc(sizeof body - 1);
  if (response_json->data == NULL) return NUCLEO_INTERNAL;
  memcpy(response_json->data, body, sizeof body - 1);
  response_json->size = sizeof body - 1;
  return NUCLEO_OK;
}

static nucleo_status init(const nucleo_host_api* host, nucleo_view config_json, void** state,
                          nucleo_plugin_buffer* message) {
  (void)config_json;
  (void)message;
  host_api = host;
  *state = NULL;
  host->log(host->host, NUCLEO_LOG_INFO, view_of("c99 example starting"));
  return host->register_route(host->host, view_of("GET"), view_of("/hello"), NUCLEO_AUTH_BEARER, hello, NULL);
}

static void shutdown(void* state) {
  (void)state;
  if (host_api != NULL) host_api->log(host_api->host, NUCLEO_LOG_INFO, view_of("c99 example stopping"));
}

static const nucleo_plugin_descriptor descriptor = {
    sizeof(nucleo_plugin_descriptor), NUCLEO_ABI_MAJOR, NUCLEO_ABI_MINOR, "org.nucleo.examples.c99", "1.0.0",
    init, shutdown, release};

NUCLEO_PLUGIN_ABI_TAG

NUCLEO_PLUGIN_EXPORT const nucleo_plugin_descriptor* nucleo_plugin_entry(void);
NUCLEO_PLUGIN_EXPORT const nucleo_plugin_descriptor* nucleo_plugin_entry(void) {
  return &descriptor;
}
