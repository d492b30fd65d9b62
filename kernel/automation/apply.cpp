#include "kernel/automation/apply.hpp"

namespace nucleo::automation {

Json apply_or_roll_back(services::ServiceDependencies deps, const services::CallContext& ctx, bool dry_run,
                        const std::function<Json()>& work) {
  Json result;
  bool rolling_back = false;
  try {
    deps.database.in_one_transaction(ctx.tenant_id, [&] {
      result = work();
      result["dry_run"] = dry_run;
      result["changed"] = !result["changes"].empty();
      if (dry_run) {
        rolling_back = true;
        throw Error(ErrorCode::aborted, "dry run: rolled back");
      }
    });
  } catch (const Error&) {
    if (!rolling_back) throw;
  }
  return result;
}

}  // namespace nucleo::automation
