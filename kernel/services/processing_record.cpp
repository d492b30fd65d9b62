#include "kernel/services/processing_record.hpp"

#include <map>

#include "kernel/services/access_policy.hpp"
#include "kernel/services/consent_service.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

// Counts of contacts per purpose, from each contact's latest entry: granted by basis,
// and revoked.
struct PurposeCounts {
  std::map<std::string, std::int64_t> granted_by_basis;
  std::int64_t revoked = 0;
};

std::map<std::string, PurposeCounts> purpose_counts(store::Transaction& tx, const std::string& tenant_id) {
  std::map<std::string, PurposeCounts> out;
  std::string contact, purpose, action, basis;
  auto settle = [&] {
    if (contact.empty()) return;
    if (action == "grant") ++out[purpose].granted_by_basis[basis];
    else ++out[purpose].revoked;
  };
  store::query(tx.session(),
               "SELECT contact_id, purpose, action, legal_basis FROM consent_entries WHERE tenant_id = :p0"
               " ORDER BY contact_id, purpose, recorded_at, id",
               {tenant_id}, [&](const store::Row& r) {
                 std::string c = store::required_text(r, 0), p = store::required_text(r, 1);
                 if (c != contact || p != purpose) settle();  // the previous pair's latest entry is known
                 contact = c;
                 purpose = p;
                 action = store::required_text(r, 2);
                 basis = store::required_text(r, 3);
               });
  settle();
  return out;
}

Json data_categories(store::Transaction& tx, const AttributeSchemas& attributes) {
  Json out = Json::array();
  for (const EntitySpec* spec : all_entity_specs()) {
    Json fields = Json::array();
    for (const auto& f : spec->fields)
      if (f.personal && !f.hidden) fields.push_back(f.name);
    for (const auto& key : attributes.personal_keys(spec->type)) fields.push_back("attributes." + key);
    if (fields.empty()) continue;
    out.push_back({{"declared_by", "kernel"},
                   {"entity", spec->type},
                   {"fields", fields},
                   {"data_subject", spec->data_subject_field.empty() ? Json("the record itself")
                                                                     : Json("the " + spec->data_subject_field + " it names")}});
  }
  // What channels carried: erased with the person (docs/compliance.md, "Erasure").
  out.push_back({{"declared_by", "kernel"},
                 {"entity", "channel_message"},
                 {"fields", {"recipient", "content"}},
                 {"data_subject", "the contact it was sent to"}});
  store::query(tx.session(),
               "SELECT plugin_id, collection, personal FROM plugin_collections WHERE personal IS NOT NULL"
               " ORDER BY plugin_id, collection",
               {}, [&](const store::Row& r) {
                 Json personal = Json::parse(store::required_text(r, 2), nullptr, false);
                 if (!personal.is_object()) return;
                 out.push_back({{"declared_by", store::required_text(r, 0)},
                                {"entity", "plugin_record"},
                                {"collection", store::required_text(r, 1)},
                                {"fields", personal.value("fields", Json::array())},
                                {"data_subject", "the contact its " + personal.value("subject_field", std::string("")) +
                                                     " names"},
                                {"on_erasure", personal.value("on_erasure", "")}});
               });
  return out;
}

// The scheme and host of a URL: where data goes, without paths or queries that may hold
// a receiver's tokens.
std::string origin_of(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto end = url.find_first_of("/?#", scheme + 3);
  std::string origin = url.substr(0, end);
  if (auto at = origin.find('@', scheme + 3); at != std::string::npos) origin.erase(scheme + 3, at - scheme - 2);
  return origin;
}

Json recipients(store::Transaction& tx, const std::string& tenant_id) {
  Json out = Json::array();
  store::query(tx.session(), "SELECT url, events, status FROM webhooks WHERE tenant_id = :p0 ORDER BY created_at, id",
               {tenant_id}, [&](const store::Row& r) {
                 out.push_back({{"kind", "webhook"},
                                {"receiver", origin_of(store::required_text(r, 0))},
                                {"events", Json::parse(store::required_text(r, 1), nullptr, false)},
                                {"status", store::required_text(r, 2)}});
               });
  store::query(tx.session(),
               "SELECT plugin_id, count(*) FROM channel_accounts WHERE tenant_id = :p0 GROUP BY plugin_id ORDER BY plugin_id",
               {tenant_id}, [&](const store::Row& r) {
                 out.push_back({{"kind", "channel"},
                                {"receiver", "the provider of channel plugin " + store::required_text(r, 0)},
                                {"plugin_id", store::required_text(r, 0)},
                                {"channel_accounts", store::integer_at(r, 1).value_or(0)}});
               });
  return out;
}

// The tenant's retention policies, one sentence each (docs/compliance.md "Retention").
Json retention(store::Transaction& tx, const std::string& tenant_id) {
  Json policies = Json::array();
  store::query(tx.session(), "SELECT key, definition, enabled FROM retention_policies WHERE tenant_id = :p0 ORDER BY key",
               {tenant_id}, [&](const store::Row& r) {
                 Json d = Json::parse(store::required_text(r, 1));
                 std::string what = d["entity"] == "contact"       ? "contacts erased"
                                    : d["entity"] == "interaction" ? "interaction contents erased"
                                                                   : "documents of " + d.value("plugin_id", "") + "/" +
                                                                         d.value("collection", "") + " erased";
                 std::string since = d["entity"] == "contact"         ? " after their last activity"
                                     : d["entity"] == "plugin_record" ? " after their " + d.value("date_field", "")
                                                                      : " after the interaction";
                 if (d.contains("types")) {
                   since += " (";
                   for (const auto& t : d["types"]) since += (since.back() == '(' ? "" : ", ") + t.get<std::string>();
                   since += ")";
                 }
                 policies.push_back(store::required_text(r, 0) + ": " + d.value("description", "") + " — " + what + " " +
                                    std::to_string(d.value("after_days", 0)) + " days" + since +
                                    (d.contains("purpose_not_granted") ? ", unless " + d["purpose_not_granted"].get<std::string>() + " is granted" : "") +
                                    (store::required_integer(r, 2) ? "" : " (disabled)"));
               });
  return {{"policies", policies},
          {"note", policies.empty() ? "no retention policy is configured: personal data is kept until it is erased"
                                    : "policies run daily (privacy.retention_schedule), skipping data under a legal hold"}};
}

Json security_measures() {
  return Json::array({
      "every change and every read of sensitive data recorded in a tamper-evident log (Merkle tree, signed "
      "checkpoints, verifiable offline)",
      "personal values in the log committed, not stored; kept sealed (AES-256-GCM) under a key per person, "
      "destroyed on erasure",
      "tenants isolated: every query is filtered by tenant, and on PostgreSQL the database enforces it (row-level "
      "security)",
      "API keys stored as SHA-256 hashes, roles and scopes checked on every route",
      "channel and webhook secrets sealed at rest under a deployment key kept outside the database",
      "outbound connections to private addresses refused unless allow-listed; TLS verified",
      "legal holds that block erasure; erasure that reaches plugins' declared data",
  });
}

}  // namespace

Json ProcessingRecord::generate(const CallContext& ctx) {
  require_role(ctx, {"admin", "auditor"}, "the record of processing is for the admin and auditor roles only",
               "privacy:read");
  std::vector<Json> purposes = ConsentService(deps_).purposes(ctx);
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    Json controller = {{"tenant_id", ctx.tenant_id}, {"name", nullptr}};
    store::query(tx.session(), "SELECT name FROM tenants WHERE id = :p0", {ctx.tenant_id},
                 [&](const store::Row& r) { controller["name"] = store::required_text(r, 0); });
    auto counts = purpose_counts(tx, ctx.tenant_id);
    Json listed = Json::array();
    for (auto& purpose : purposes) {
      const PurposeCounts& c = counts[purpose["key"].get<std::string>()];
      std::int64_t granted = 0;
      for (const auto& [_, n] : c.granted_by_basis) granted += n;
      purpose["contacts_granted"] = granted;
      purpose["contacts_revoked"] = c.revoked;
      purpose["legal_bases"] = c.granted_by_basis;
      listed.push_back(std::move(purpose));
    }
    return Json{{"controller", controller},
                {"generated_at", format_rfc3339(ctx.now())},
                {"purposes", listed},
                {"data_categories", data_categories(tx, deps_.attribute_schemas)},
                {"recipients", recipients(tx, ctx.tenant_id)},
                {"retention", retention(tx, ctx.tenant_id)},
                {"security_measures", security_measures()}};
  });
}

namespace {

// A table cell: one line, no column separator.
std::string cell(const Json& v) {
  std::string text = v.is_string() ? v.get<std::string>() : v.dump();
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : c == '\n' || c == '\r' ? std::string(" ") : std::string(1, c);
  return out;
}

std::string joined(const Json& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + cell(item);
  return out;
}

}  // namespace

std::string ProcessingRecord::markdown(const Json& r) {
  std::string out = "# Registro das operações de tratamento / Record of processing operations\n\n";
  out += "LGPD art. 37. Controlador / controller: **" + cell(r["controller"]["name"]) + "** (`" +
         cell(r["controller"]["tenant_id"]) + "`). Gerado em / generated at " + cell(r["generated_at"]) +
         " by Nucleo, from the system's own configuration and data.\n\n";
  out += "## Finalidades e bases legais / Purposes and legal bases\n\n";
  out += "| purpose | description | declared by | contacts granted | by legal basis | revoked |\n|---|---|---|---|---|---|\n";
  for (const auto& p : r["purposes"]) {
    std::string bases;
    for (const auto& [basis, n] : p["legal_bases"].items()) bases += (bases.empty() ? "" : ", ") + basis + ": " + n.dump();
    out += "| `" + cell(p["key"]) + "` | " + cell(p["description"]) + " | " + cell(p["declared_by"]) + " | " +
           p["contacts_granted"].dump() + " | " + (bases.empty() ? "–" : bases) + " | " + p["contacts_revoked"].dump() + " |\n";
  }
  out += "\n## Categorias de dados pessoais / Categories of personal data\n\n";
  out += "| declared by | where | fields | whose |\n|---|---|---|---|\n";
  for (const auto& c : r["data_categories"]) {
    std::string where = cell(c["entity"]) + (c.contains("collection") ? " `" + cell(c["collection"]) + "`" : "");
    out += "| " + cell(c["declared_by"]) + " | " + where + " | " + joined(c["fields"]) + " | " + cell(c["data_subject"]) + " |\n";
  }
  out += "\n## Destinatários / Recipients\n\n";
  if (r["recipients"].empty()) out += "None: no webhook and no channel account.\n";
  for (const auto& x : r["recipients"])
    out += "- " + cell(x["kind"]) + ": " + cell(x["receiver"]) +
           (x.contains("events") ? " (events " + joined(x["events"]) + ", " + cell(x["status"]) + ")" : "") +
           (x.contains("channel_accounts") ? " (" + x["channel_accounts"].dump() + " account(s))" : "") + "\n";
  out += "\n## Retenção / Retention\n\n";
  for (const auto& p : r["retention"]["policies"]) out += "- " + cell(p) + "\n";
  if (r["retention"]["policies"].empty()) out += cell(r["retention"]["note"]) + ".\n";
  out += "\n## Medidas de segurança / Security measures\n\n";
  for (const auto& m : r["security_measures"]) out += "- " + cell(m) + "\n";
  return out;
}

}  // namespace nucleo::services
