#pragma once

// A plugin's record store (docs/architecture.md §6): tenant-scoped collections of JSON documents,
// declared in the plugin's manifest with the fields they may be queried by. Every
// write is audited (plugin_record.created | updated | deleted, entity
// "<plugin id>/<collection>/<id>", the changed top-level fields) in the caller's
// transaction, like any other write.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernel/domain/value_schema.hpp"
#include "kernel/services/call_context.hpp"
#include "kernel/services/plugin_personal_data.hpp"
#include "kernel/services/record_service.hpp"
#include "kernel/store/transaction.hpp"

namespace nucleo::services {

// Indexed fields of one collection: name → "integer" | "string" | "date".
using CollectionIndexes = std::map<std::string, std::string>;

// One collection as the manifest declares it: its indexes, the schema every document is
// held to (null: any JSON object), and whose personal data it holds (none: nobody's).
struct CollectionSpec {
  CollectionIndexes indexes;
  std::shared_ptr<const ValueSchema> schema;
  std::optional<PersonalData> personal;
  std::string sensitive;  // a data class (phi, pii, financial): showing a document is audited
};

// A plugin acts for its caller (docs/plugin-authoring.md, "Routes"): an auditor's request
// reads the plugin's data and writes nothing; an integration key needs the plugin_records
// scope, or the plugin's own ("<plugin id>:read|write", what its routes and resources ask
// for). The record store's rule, and the fact sets' (fact_service.hpp).
void require_store_access(const CallContext& ctx, const std::string& plugin_id, bool write);

class PluginRecordService {
 public:
  PluginRecordService(ServiceDependencies deps, std::string plugin_id,
                      const std::map<std::string, CollectionSpec>& collections)
      : deps_(deps), plugin_id_(std::move(plugin_id)), collections_(collections) {}

  // Creates or replaces a document: {"collection","id","version","document","created_at","updated_at"}.
  // With `expected_version`: 0 only creates (conflict when the id exists), n only
  // replaces version n (not_found when absent, conflict when at another version) —
  // of two writers expecting the same version, one wins.
  Json put(const CallContext& ctx, const std::string& collection, const std::string& id, const Json& document,
           std::optional<std::int64_t> expected_version = std::nullopt);
  Json get(const CallContext& ctx, const std::string& collection, const std::string& id);
  // With `expected_version`: only version n is deleted (precondition_failed otherwise).
  void remove(const CallContext& ctx, const std::string& collection, const std::string& id,
              std::optional<std::int64_t> expected_version = std::nullopt);
  // query: {"where": {"<indexed field>": {"eq"|"gt"|"gte"|"lt"|"lte": value, …}, …},
  //         "sort": "<indexed field>" | "-<indexed field>", "count": true,
  //         "limit": 1-200 (50), "cursor": <next_cursor>} → {"data": [...], "next_cursor"}
  // (and "count": the documents matching `where`, when asked). Documents in id order,
  // or by the sort field then id — sorting lists only documents that have the field.
  // Conditions on several fields all hold.
  Json query(const CallContext& ctx, const std::string& collection, const Json& query);

  // The same page with each document as the stored JSON text — for an answer rendered
  // without parsing every document (the resource list routes).
  struct StoredText {
    std::string id, document;  // document: compact JSON object text
    std::int64_t version, created_at, updated_at;  // times in µs
  };
  struct TextPage {
    std::vector<StoredText> data;
    Json next_cursor;  // null: the last page
    std::optional<std::int64_t> count;
  };
  TextPage query_text(const CallContext& ctx, const std::string& collection, const Json& query);

  // Records that the caller was shown documents of `collection` through the kernel's
  // routes, before they are answered: plugin_record.sensitive_read per document of a
  // sensitive collection ({"disclosed": ["*:<class>"]}), and — with a `reason` —
  // plugin_record.break_glass_read, a read past the resource's read roles. Nothing to
  // record: no write at all.
  void record_reads(const CallContext& ctx, const std::string& collection, const std::vector<std::string>& ids,
                    const std::string& break_glass_reason = "");

  // Rebuilds the index rows of the call's tenant's documents in `collection` from the
  // declared indexes (after a plugin version changed them), audited as
  // plugin_collection.reindexed. Returns how many documents it indexed.
  std::size_t reindex(const CallContext& ctx, const std::string& collection);

 private:
  const CollectionSpec& collection_of(const std::string& collection) const;
  std::string record_key(const std::string& collection, const std::string& id) const;
  ServiceDependencies deps_;
  std::string plugin_id_;
  const std::map<std::string, CollectionSpec>& collections_;
};

// A data subject's document in a plugin's personal collection, found through what each
// plugin declared when it last loaded (plugin_collections), so the data of a plugin
// that is not loaded now is found too.
struct SubjectDocument {
  std::string plugin_id, collection, id;
  std::int64_t version = 0;
  Json document;
  CollectionIndexes indexes;
  PersonalData personal;

  std::string key() const { return plugin_id + "/" + collection + "/" + id; }  // as the audit trail names it
};

// Every plugin document naming `subject_id` in a declared subject field, in the tenant.
std::vector<SubjectDocument> subject_documents(store::Transaction& tx, const std::string& tenant_id,
                                               const std::string& subject_id);

// One document of a collection declared personal, by its key; none when it does not
// exist or its collection declares no personal data.
std::optional<SubjectDocument> subject_document(store::Transaction& tx, const std::string& tenant_id,
                                                const std::string& plugin_id, const std::string& collection,
                                                const std::string& id);

// Erases one inside an erasure's transaction: deletes it, or removes its personal fields
// (on_erasure), audited as plugin_record.erased with the old values sealed under the
// subject's key. Returns true when the document was deleted.
bool erase_subject_document(store::Transaction& tx, const CallContext& ctx, const SubjectDocument& d, Timestamp now);

}  // namespace nucleo::services
