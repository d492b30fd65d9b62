#pragma once

// Data-subject requests (LGPD art. 18; docs/compliance.md "Data-subject requests";
// ADR 0040): a request is a tracked record from intake to its outcome — kind, subject,
// deadline (art. 19 II), assignee with a task on their agenda, the identity check, the
// report of an access or portability request, and the outcome. Every step is audited
// on the request (privacy.request_*).
//
//   PrivacyRequestService requests(deps);
//   Json r = requests.open(ctx, {{"kind", "access"}, {"contact_id", id}, {"received_via", "e-mail"}});
//   requests.verify_identity(ctx, r["id"], {{"method", "document"}, {"reference", "RG checked"}});
//   requests.queue_report(ctx, r["id"]);             // the job kernel:privacy.report builds it
//   requests.download_link(ctx, r["id"]);            // a signed link that expires
//   requests.close(ctx, r["id"], "completed", {{"outcome", "report delivered"}});

#include <string>
#include <vector>

#include "kernel/events/jobs.hpp"
#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

inline constexpr const char* privacy_report_job_name = "kernel:privacy.report";

// access, portability, correction, anonymisation, erasure, consent_revocation,
// information_on_sharing (art. 18 II–IX).
const std::vector<std::string>& privacy_request_kinds();

// A report as stored: what the download and the officer's read return.
struct SubjectReportFile {
  std::string content_type;  // application/json or text/markdown
  std::string file_name;
  std::string body;
};

class PrivacyRequestService {
 public:
  explicit PrivacyRequestService(ServiceDependencies deps) : deps_(deps) {}

  // {kind, contact_id, received_via, details?, received_at? (RFC 3339, not in the future),
  // assignee_id? (an admin; default: the caller when a user)}. Due privacy.request_deadline_days
  // after it was received; a task due then goes on the assignee's agenda. A request about
  // an erased contact is accepted: its report says what remains and why.
  Json open(const CallContext& ctx, const Json& body);
  Json get(const CallContext& ctx, const std::string& id);
  // Newest first; `status` "open" means received or in progress.
  std::vector<Json> list(const CallContext& ctx, const std::string& status, const std::string& subject_id,
                         std::size_t limit);
  // Hands the request (and its task) to another admin: {assignee_id}.
  Json assign(const CallContext& ctx, const std::string& id, const Json& body);
  // Records how the requester was identified ({method, reference}); the request is then in progress.
  Json verify_identity(const CallContext& ctx, const std::string& id, const Json& body);
  // Queues the report of an access, portability or information-on-sharing request (its
  // identity checked first): the job builds it with progress. Again: a fresh report.
  Json queue_report(const CallContext& ctx, const std::string& id);
  // The ready report, as JSON (format "json") or Markdown ("markdown"); audited.
  SubjectReportFile report(const CallContext& ctx, const std::string& id, const std::string& format);
  // A link anyone holding it may download the ready report with, until it expires
  // (privacy.report_link_hours): {"url", "expires_at"}. Audited.
  Json download_link(const CallContext& ctx, const std::string& id);
  // The download through a link: no credential, the signature is the authority. Audited.
  SubjectReportFile download(const CallContext& ctx, const std::string& token, const std::string& format);
  // completed or rejected, with the outcome told to the requester. Completing needs the
  // identity checked, a ready report for access and portability, and the subject erased
  // for erasure and anonymisation. The task on the agenda is closed with it.
  Json close(const CallContext& ctx, const std::string& id, const std::string& status, const Json& body);

  // The job: builds the queued report of `request_id`, recording progress as it goes.
  void build_report(const CallContext& ctx, const std::string& request_id);

 private:
  ServiceDependencies deps_;
};

// kernel:privacy.report, a one-off job per report (serve registers it).
events::JobDefinition privacy_report_job(ServiceDependencies deps, const Clock& clock);

}  // namespace nucleo::services
