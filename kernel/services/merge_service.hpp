#pragma once

// Merging duplicates (docs/api.md, "Merging duplicates"): one contact (or account)
// survives, the others are folded into it.
//
//   merge(ctx, "contact", "con_survivor", {"from": ["con_dup"], "fields": {"email": "con_dup"}})
//
// In one transaction, each step a write through the one door (audited, with the call's
// request id):
//   1. every record of `from` is archived with `merged_into` naming the survivor
//      (action "<type>.merged" — plugins holding references follow that event);
//   2. what pointed at them points at the survivor: deals (an account's, or a contact's
//      place on a deal's committee), interactions, tasks, an account's contacts, and a
//      contact's conversations (services/conversation_service.hpp);
//   3. the survivor takes the values `fields` names from the record it names, fills each
//      field it lacks from the first merged record that has it, joins lists (an account's
//      e-mails and phones) and takes attribute keys it lacks ("<type>.updated").
// The survivor must be live; the others live and visible, of the same tenant (else 404).
// Merging is for admins and managers (and integrations with the `<type>s:write` scope):
// it moves records of every owner.

#include <optional>
#include <string>
#include <string_view>

#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"
#include "kernel/store/transaction.hpp"

namespace nucleo::services {

class MergeService {
 public:
  explicit MergeService(ServiceDependencies deps) : deps_(deps) {}

  static constexpr std::size_t max_merged = 20;  // records folded into one per call

  // `type` is "contact" or "account"; `expected_version` is the survivor's (If-Match).
  // Returns the survivor as it now is.
  WriteResult merge(const CallContext& ctx, std::string_view type, const std::string& survivor_id, const Json& body,
                    std::optional<std::int64_t> expected_version = std::nullopt);

 private:
  ServiceDependencies deps_;
};

// The ids of the tenant's deals whose committee (`contacts`) names the contact, in `tx`.
std::vector<std::string> deals_naming(store::Transaction& tx, const std::string& tenant_id, const std::string& contact_id);

}  // namespace nucleo::services
