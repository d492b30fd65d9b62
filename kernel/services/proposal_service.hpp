#pragma once

// Proposals (docs/proposals.md): priced on a deal, frozen when sent, opened by the
// customer through a signed public link, and accepted or declined with a record that
// the audit trail proves offline (docs/adr/0043-proposals-rendered-and-accepted-with-proof.md).
//
// The draft is an ordinary record (entity "proposal", its rules in proposal_rules.cpp):
// created, changed and archived through the generic protocol. What this service adds:
//   send     — freezes the current revision (document, HTML, PDF, the PDF's SHA-256)
//              into proposal_versions, issues a public link, records the sending on the
//              deal; a change after that makes revision n+1, the frozen one stays.
//   approve  — a second person's approval of a discount above the sender's limit.
//   the public link — the page (each view counted and recorded), the PDF, the decision.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kernel/events/jobs.hpp"
#include "kernel/services/conversation_service.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

// A file the API answers: a version's PDF or HTML, a preview.
struct ProposalFile {
  std::string content_type;
  std::string body;
  std::string filename;  // for Content-Disposition
};

// The public page (HTML, for a browser): its status is 200, or 404 with a page saying
// why the link does not open (invalid, expired, revoked) — `refusal` says it in English
// for a client that does not ask for HTML.
struct PublicPage {
  int status = 200;
  std::string html;
  std::string refusal;
};

// Where a proposal's message goes out: the job queue the channel message is queued on
// and what channel each plugin offers (ConversationService::send's). No queue: a sending
// through a channel account is refused (503).
struct ProposalChannels {
  events::JobQueue* jobs = nullptr;
  ConversationService::ChannelKinds traits_of;
};

class ProposalService {
 public:
  explicit ProposalService(ServiceDependencies deps) : deps_(deps) {}

  using Channels = ProposalChannels;

  // Freezes the current revision and issues a public link to it. Body: {"link_days"?,
  // "channel_account_id"?, "contact_id"?, "message"?, "purpose"?}. With a channel
  // account, the message goes to the contact (or `contact_id`) in the same transaction —
  // e-mail: a subject and the PDF attached; any other channel: the text and the link —
  // for `purpose` as a message's: all of it happens, or none of it. Sending a revision
  // already sent freezes nothing again. Answer: {"proposal", "version": {"revision",
  // "pdf_sha256", "frozen_at"}, "link": {"id", "url", "path", "expires_at"}, "message":
  // interaction | null}.
  Json send(const CallContext& ctx, const std::string& id, const Json& body, std::optional<std::int64_t> expected_version,
            const Channels& channels = {});
  // The deal's newest live proposal not yet accepted or declined ("" when none): what
  // an automation rule or a cadence step sends when the deal is all it names.
  std::string open_proposal_of(const CallContext& ctx, const std::string& deal_id);

  // A discount approval of the current revision by the caller (a user whose own limit
  // covers the proposal's largest line discount, not its owner). Body {"note"?}.
  WriteResult approve(const CallContext& ctx, const std::string& id, const Json& body,
                      std::optional<std::int64_t> expected_version);

  // The drafts whose discount waits for `user_id`'s approval (her agenda): above their
  // owner's limit, within hers, not hers, not approved by her for this revision.
  // [{"proposal_id", "title", "deal_id", "owner_id", "revision", "discount_percent"}],
  // oldest first, at most `limit`.
  std::vector<Json> approvals_waiting_for(const CallContext& ctx, const std::string& user_id, std::size_t limit);

  // The frozen revisions, oldest first: {"revision", "pdf_sha256", "frozen_at", "frozen_by"}.
  std::vector<Json> versions(const CallContext& ctx, const std::string& id);
  // One frozen revision as "pdf", "html" or "json" (the document and its hash).
  ProposalFile version_file(const CallContext& ctx, const std::string& id, std::int64_t revision,
                            const std::string& format);
  // The current draft rendered ("pdf" or "html"), frozen nowhere.
  ProposalFile preview(const CallContext& ctx, const std::string& id, const std::string& format);

  // Public links to the latest sent revision: issue one ({"days"?}), list them (with
  // their views), revoke one.
  Json issue_link(const CallContext& ctx, const std::string& id, const Json& body);
  std::vector<Json> links(const CallContext& ctx, const std::string& id);
  Json revoke_link(const CallContext& ctx, const std::string& id, const std::string& link_id);

  // The proposal's audit trail with inclusion proofs, in the party-bundle shape `nucleo
  // audit verify FILE --vkey log.vkey` checks offline (AuditService::entity_proofs).
  Json proof(const CallContext& ctx, const std::string& id);

  // Through a public link: no credential, the link's signature is the authority. A
  // page view is counted on the link, recorded as the link's interaction on the deal
  // and announced as proposal.viewed.
  PublicPage page(const CallContext& ctx, const std::string& token);
  ProposalFile public_pdf(const CallContext& ctx, const std::string& token);
  // {"decision": "accept" | "decline", "name", "cpf"?, "role"?, "reason"?}: recorded
  // with the revision and its PDF's SHA-256 (proposal.accepted / proposal.declined).
  // Refused for a superseded, expired or already decided revision. An acceptance then
  // moves the deal to its pipeline's won stage when the proposal says so
  // (`accept_moves_deal`), through the stage gates; a refused move leaves the
  // acceptance in place and is reported. Answers {"status", "decided_revision",
  // "decided_sha256", "deal_move"?}.
  Json decide(const CallContext& ctx, const std::string& token, const Json& form);

 private:
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
