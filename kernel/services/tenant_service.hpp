#pragma once

#include <string>
#include <vector>

#include "kernel/services/record_service.hpp"

namespace nucleo::services {

// Tenants are created and listed across tenants, so these run on the worker role.
class TenantService {
 public:
  explicit TenantService(ServiceDependencies deps) : deps_(deps) {}

  // The new tenant's id is in the result; ctx.tenant_id is ignored. `time_zone`: an IANA
  // name whose clock the tenant's recurring plugin jobs may read (empty: UTC).
  Json create(const CallContext& ctx, const std::string& name, const std::string& time_zone = "");
  // Moves a tenant's clock to `time_zone` (an IANA name): its tenant-zoned jobs follow
  // from their next schedule sync. Audited as tenant.updated; the tenant as it now is.
  Json set_time_zone(const CallContext& ctx, const std::string& tenant_id, const std::string& time_zone);
  std::vector<Json> list();
  bool exists(const std::string& tenant_id);
  // The tenant's IANA time zone ("" when it has none: UTC).
  std::string time_zone_of(const std::string& tenant_id);

 private:
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
