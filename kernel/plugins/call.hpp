#pragma once

// The kernel's side of the ABI's opaque `nucleo_call` (plugin_abi.h): one unit of
// work — an HTTP request to a plugin route, for now — with the caller's tenant, actor
// and permissions. Host functions that receive it act as that caller.
#include "kernel/services/call_context.hpp"
#include "nucleo/plugin_abi.h"

struct nucleo_call {
  nucleo::services::CallContext ctx;
  // A validator's call: the write it judges is not committed yet, so it may read
  // through the host but never write (docs/architecture.md §6).
  bool read_only = false;
  // A signed or public route's call, which starts in no tenant: channels.resolve may move
  // it to any of the plugin's channel accounts, one after another (a WhatsApp webhook
  // batches several numbers). A call that started in a tenant stays in it.
  bool tenant_from_channel = false;
};

namespace nucleo::plugins {

// plugin_abi.h caller: {"tenant_id","actor","user_id","role","teams","scopes",…} — who
// acts, as the permission checks see it. Also in a bearer route's request and a
// validator's change, as "caller".
Json caller_json(const services::CallContext& ctx);

}  // namespace nucleo::plugins
