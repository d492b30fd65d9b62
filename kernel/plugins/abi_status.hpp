#pragma once

// The one place where ErrorCode and the ABI's nucleo_status meet (plugin_abi.h):
// errors the kernel answers a plugin with, and statuses a plugin answers the kernel
// with. The ABI has fewer words than the kernel: a retryable refusal and a
// concurrent change are both NUCLEO_CONFLICT, unlike NUCLEO_UNAVAILABLE (retry later).

#include <optional>
#include <string>

#include "kernel/domain/error.hpp"
#include "nucleo/plugin_abi.h"

namespace nucleo::plugins {

nucleo_status abi_status(ErrorCode code);

// What a plugin's status means for its caller: nothing for NUCLEO_OK, and internal for
// a failure of the plugin's own (INTERNAL, UNSUPPORTED, an unknown status).
std::optional<ErrorCode> error_code_of(nucleo_status status);

// "INVALID_ARGUMENT", "UNAVAILABLE", … ("status 42" when unknown), for messages and logs.
std::string status_name(nucleo_status status);

}  // namespace nucleo::plugins
