#pragma once

// Candidate duplicates (GET /v1/duplicates, docs/api.md "Finding duplicates"): pairs of
// live contacts or accounts of a tenant that may be one customer, each with why:
//   email, phone     the same normalised e-mail or phone (the contact points writes keep);
//   tax_id_root      accounts: CNPJs of one company (the same 8-character root: a head
//                    office and its branches, or a branch registered twice);
//   name             contacts: names alike (name_similarity ≥ min_score) within one account;
//                    accounts: the same legal name but for case, accents and legal form.
// A pair found for several reasons is listed once with all of them. Pairs holding an
// identifier (e-mail, phone, tax id) come first, then by name score. Deciding is a
// person's job: nothing is merged here (services/merge_service.hpp does that).
//
// The search reads the tenant's live records of the type (one account's, with
// `account_id`): a data-quality review, not a per-request check.

#include <string>
#include <vector>

#include "kernel/services/record_service.hpp"

namespace nucleo::services {

struct DuplicateQuery {
  std::string entity_type;  // contact | account
  std::string account_id;   // contacts of this account only (empty: all)
  double min_score = 0.5;   // the least name similarity reported
  std::string after;        // the cursor: where the previous page ended
  std::size_t limit = 50;
};

struct DuplicatePage {
  std::vector<Json> items;  // {"entity_type", "ids": [a, b], "score", "reasons": [{"kind", "value" | "score"}]}
  std::string next;         // the position after the last item ("" on the last page)
};

class DuplicateFinder {
 public:
  explicit DuplicateFinder(ServiceDependencies deps) : deps_(deps) {}

  // Admins, managers and auditors (integrations: the `duplicates:read` scope), and only
  // with the right to read the entity.
  DuplicatePage find(const CallContext& ctx, const DuplicateQuery& query);

 private:
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
