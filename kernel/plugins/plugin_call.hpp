#pragma once

// The one way the kernel calls into a plugin (plugin_abi.h): call → copy the answer →
// free it with the plugin's own free_buffer (the plugin allocated it) → explain a
// failure. Routes, subscriptions, jobs, validators, channel sends and init all go
// through call_plugin.

#include <string>
#include <utility>

#include "kernel/plugins/abi_status.hpp"
#include "nucleo/plugin_abi.h"

namespace nucleo::plugins {

struct PluginAnswer {
  nucleo_status status = NUCLEO_INTERNAL;
  std::string text;  // the answer on NUCLEO_OK, the plugin's explanation otherwise

  bool ok() const { return status == NUCLEO_OK; }
  // "UNAVAILABLE: the downstream system is down" — for logs, job errors, messages.
  std::string explained() const { return status_name(status) + (text.empty() ? "" : ": " + text); }
};

// Calls `fn(args…, &answer)` and takes the answer's bytes before handing the buffer back.
template <class Fn, class... Args>
PluginAnswer call_plugin(Fn&& fn, void (*free_buffer)(nucleo_plugin_buffer), Args&&... args) {
  nucleo_plugin_buffer out{nullptr, 0};
  PluginAnswer answer;
  answer.status = fn(std::forward<Args>(args)..., &out);
  if (out.data) {
    answer.text.assign(out.data, out.size);
    if (free_buffer) free_buffer(out);
  }
  return answer;
}

// A registered callback (route, subscription, job, validator, channel send) called with
// one JSON text as `call`.
template <class Registered, class Fn>
PluginAnswer call_registered(const Registered& r, Fn fn, nucleo_call* call, const std::string& input) {
  return call_plugin(fn, r.free_buffer, r.user_data, call, nucleo_view{input.data(), input.size()});
}

}  // namespace nucleo::plugins
