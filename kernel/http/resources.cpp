#include "kernel/http/resources.hpp"

namespace nucleo::http {

void add_resource_routes(Router& router, services::ServiceDependencies deps, ApiSettings settings) {
  add_record_routes(router, deps, settings);
  add_customer_view_routes(router, deps, settings);
  add_audit_routes(router, deps, settings);
  add_privacy_routes(router, deps);
  add_event_routes(router, deps, settings);
  add_job_routes(router, deps, settings);
  add_sales_routes(router, deps);
  add_duplicate_routes(router, deps, settings);
  add_automation_routes(router, deps, settings);
  add_session_routes(router, deps, settings);
  add_key_routes(router, deps);
}

}  // namespace nucleo::http
