#pragma once

// The record of processing operations a controller keeps (LGPD art. 37;
// docs/compliance.md "Records of processing"), generated from what the deployment and
// the tenant actually hold: purposes and the legal bases recorded for them, the
// personal data of each entity and of each plugin, recipients (webhook targets,
// channel providers), retention, and the measures that protect the data. Nothing in
// it is typed by hand, so it cannot drift from the system it describes.

#include <string>

#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

class ProcessingRecord {
 public:
  explicit ProcessingRecord(ServiceDependencies deps) : deps_(deps) {}

  // {"controller", "generated_at", "purposes", "data_categories", "recipients",
  //  "retention", "security_measures"}. Admin and auditor.
  Json generate(const CallContext& ctx);

  // The same register as a document an auditor files: Markdown, Portuguese headings
  // with English beside them.
  static std::string markdown(const Json& record);

 private:
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
