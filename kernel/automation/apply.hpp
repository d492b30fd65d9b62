#pragma once

// Applying documents (pipeline definitions, rule files) with a dry run that is the real
// apply, rolled back: what it answers is what applying would do, checks included.

#include <functional>

#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::automation {

// Runs `work` in one transaction of the caller's tenant and answers its result with
// "dry_run" and "changed" (whether result["changes"] is non-empty) set; a dry run rolls
// the transaction back. A failure leaves nothing written either way.
Json apply_or_roll_back(services::ServiceDependencies deps, const services::CallContext& ctx, bool dry_run,
                        const std::function<Json()>& work);

}  // namespace nucleo::automation
