#pragma once

// Internal to services/: many creates of one entity in one transaction, asking the
// database once for what each of them would ask on its own (docs/architecture.md, "One
// door for writes"; ADR 0030). A bulk import of 500 contacts asks for the live records
// their references name and for who else holds their e-mails and phones in two queries,
// not 1,000; with their own rows appended (store::Transaction::append), the batch's writes
// then send nothing until it ends.
//
//   WriteBatch batch(tx, ctx, entity_spec("contact"), inputs);  // the raw create inputs
//   for (auto& input : inputs) records.create(ctx, "contact", input);  // consult `batch`
//
// It is a cache with a record of what it asked: a question it did not ask (a value the
// write normalised differently, a caller who sees only some records) goes to the
// database as before, so a batch changes how many statements run, never an answer. The
// batch's own writes are added to it as they are made. One per thread at a time.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kernel/domain/entity.hpp"
#include "kernel/domain/record_validation.hpp"
#include "kernel/services/call_context.hpp"
#include "kernel/store/transaction.hpp"

namespace nucleo::services {

class WriteBatch {
 public:
  struct Holder {
    std::string entity_type, entity_id;
  };

  WriteBatch(store::Transaction& tx, const CallContext& ctx, const EntitySpec& spec,
             const NormalisationSettings& normalisation, const std::vector<Json>& inputs);
  ~WriteBatch();
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  // The batch of the transaction `tx` on this thread, if one is open.
  static WriteBatch* of(const store::Transaction& tx);

  // Whether `id` is a live `type` record of the tenant (nullopt: not asked).
  std::optional<bool> is_live(const std::string& type, const std::string& id) const;
  // Who holds the contact point, as of the batch's start plus its own writes (nullptr: not asked).
  const std::vector<Holder>* holders(const std::string& kind, const std::string& value) const;
  // The interaction holding the channel's message id, as of the batch's start plus its own
  // writes: its id, "" for none (nullopt: not asked).
  std::optional<std::string> interaction_with(const std::string& channel, const std::string& external_id) const;

  // A write of the batch: the record it created, a contact point it stored.
  void created(const std::string& type, const std::string& id);
  void holds(const std::string& kind, const std::string& value, Holder holder);
  void received(const std::string& channel, const std::string& external_id, const std::string& interaction_id);
  // What another statement of the transaction found out: whether `id` is a live `type`
  // record (a conversation's sender look-up joins the contact it finds).
  void learned_live(const std::string& type, const std::string& id, bool live);

 private:
  void ask_live(const CallContext& ctx, const std::string& type, const std::set<std::string>& ids);
  void ask_holders(const CallContext& ctx, const std::string& kind, const std::set<std::string>& values);
  void ask_external_ids(const CallContext& ctx, const std::string& channel, const std::set<std::string>& ids);

  store::Transaction& tx_;
  WriteBatch* outer_;
  std::map<std::string, std::set<std::string>> asked_ids_, live_ids_;  // by entity type
  std::map<std::pair<std::string, std::string>, std::vector<Holder>> holders_;  // (kind, value): asked ones only
  std::map<std::pair<std::string, std::string>, std::string> interactions_;  // (channel, external id): asked ones only
};

}  // namespace nucleo::services
