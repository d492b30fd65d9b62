#include "kernel/services/subject_report.hpp"

#include "kernel/services/audit_service.hpp"
#include "kernel/services/consent_service.hpp"
#include "kernel/services/merge_service.hpp"
#include "kernel/services/privacy_service.hpp"
#include "kernel/services/processing_record.hpp"
#include "kernel/store/record_table.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

constexpr std::size_t page_size = 200;

// Every record of `type` whose `field` names the contact, archived ones too, by id.
Json records_naming(RecordService& records, const CallContext& ctx, const std::string& type, const std::string& field,
                    const std::string& contact_id) {
  Json all = Json::array();
  store::RecordQuery q;
  q.equals = {{field, contact_id}};
  q.include_archived = true;
  q.limit = page_size;
  for (;;) {
    auto page = records.list(ctx, type, q);
    for (auto& r : page) all.push_back(std::move(r));
    if (page.size() < page_size) return all;
    q.after_id = all.back()["id"];
  }
}

// Outbound deliveries addressed to her phone or e-mail: where and when, not the content
// (her interactions carry it).
Json deliveries_to(store::Transaction& tx, const std::string& tenant_id, const Json& contact) {
  std::vector<std::string> addresses;
  for (const char* field : {"email", "phone"})
    if (contact.value(field, Json()).is_string()) addresses.push_back(contact[field]);
  Json out = Json::array();
  if (addresses.empty()) return out;
  std::vector<store::SqlValue> values{tenant_id};
  std::string in = store::bound_list(addresses, values);
  store::query(tx.session(),
               "SELECT id, account_id, recipient, status, delivery, external_id, created_at, updated_at"
               " FROM channel_messages WHERE tenant_id = :p0 AND recipient IN " + in + " ORDER BY created_at, id",
               values, [&](const store::Row& r) {
                 auto text = [&](std::size_t i) { return store::text_at(r, i) ? Json(*store::text_at(r, i)) : Json(); };
                 out.push_back({{"id", store::required_text(r, 0)},
                                {"channel_account_id", store::required_text(r, 1)},
                                {"recipient", store::required_text(r, 2)},
                                {"status", store::required_text(r, 3)},
                                {"delivery_status", text(4)},
                                {"external_id", text(5)},
                                {"created_at", format_rfc3339(Timestamp{store::required_integer(r, 6)})},
                                {"updated_at", format_rfc3339(Timestamp{store::required_integer(r, 7)})}});
               });
  return out;
}

// The data-subject requests about her, as their own records.
Json requests_about(store::Transaction& tx, const std::string& tenant_id, const std::string& contact_id) {
  Json out = Json::array();
  store::query(tx.session(),
               "SELECT id, kind, status, received_at, due_at, outcome, details FROM privacy_requests"
               " WHERE tenant_id = :p0 AND subject_id = :p1 ORDER BY received_at, id",
               {tenant_id, contact_id}, [&](const store::Row& r) {
                 out.push_back({{"id", store::required_text(r, 0)},
                                {"kind", store::required_text(r, 1)},
                                {"status", store::required_text(r, 2)},
                                {"received_at", format_rfc3339(Timestamp{store::required_integer(r, 3)})},
                                {"due_at", format_rfc3339(Timestamp{store::required_integer(r, 4)})},
                                {"outcome", store::text_at(r, 5) ? Json(*store::text_at(r, 5)) : Json()},
                                {"details", store::text_at(r, 6) ? Json(*store::text_at(r, 6)) : Json()}});
               });
  return out;
}

std::string erased_note(const Json& contact) {
  return "This person's personal data was erased on " + contact["erased_at"].get<std::string>() +
         " at her request or by the controller's decision (LGPD art. 18 VI). What remains is what is shown here: "
         "the records without anything that names her, and the audit trail, which keeps for each change only a "
         "commitment (a salted hash) of her values — their key was destroyed, so they can no longer be read by "
         "anyone. The trail is kept because the controller must be able to prove what it did with personal data "
         "(arts. 6 X, 37) and for the exercise of rights in proceedings (art. 16 II and art. 7 VI).";
}

}  // namespace

Json SubjectReport::build(const CallContext& ctx, const Json& request,
                          const std::function<void(std::size_t, std::size_t)>& progress) {
  const std::string contact_id = request["contact_id"];
  RecordService records(deps_);
  Json contact = records.get(ctx, "contact", contact_id);
  const bool erased = !contact.value("erased_at", Json()).is_null();
  Json interactions = records_naming(records, ctx, "interaction", "contact_id", contact_id);
  Json tasks = records_naming(records, ctx, "task", "contact_id", contact_id);
  Json consents = ConsentService(deps_).history(ctx, contact_id);
  Json deals = Json::array(), deliveries, plugin_data, requests;
  deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    for (const auto& id : deals_naming(tx, ctx.tenant_id, contact_id))  // her place on a deal's committee
      deals.push_back(visible_record(entity_spec("deal"), *store::RecordTable(entity_spec("deal")).find(tx, ctx.tenant_id, id)));
    deliveries = deliveries_to(tx, ctx.tenant_id, contact);
    plugin_data = plugin_held_data(tx, deps_.attribute_schemas, ctx.tenant_id, contact);
    requests = requests_about(tx, ctx.tenant_id, contact_id);
  });

  // Every record the report shows, whose history and proofs the audit trail gives.
  std::vector<std::pair<std::string, std::string>> entities{{"contact", contact_id}, {"data_subject", contact_id}};
  for (const auto& [type, list] : {std::pair{"deal", &deals}, {"interaction", &interactions}, {"task", &tasks}})
    for (const auto& r : *list) entities.emplace_back(type, r["id"]);
  for (const auto& e : consents["entries"]) entities.emplace_back("consent", e["id"]);
  for (const auto& d : plugin_data["plugin_records"])
    entities.emplace_back("plugin_record", d["plugin_id"].get<std::string>() + "/" + d["collection"].get<std::string>() +
                                               "/" + d["id"].get<std::string>());
  for (const auto& r : requests) entities.emplace_back("privacy_request", r["id"]);
  std::size_t done = 0;
  const std::size_t total = entities.size();
  if (progress) progress(0, total);
  Json trail = AuditService(deps_).subject_trail(ctx, entities, [&](std::size_t n) {
    done += n;
    if (progress) progress(done, total);
  });
  Json history = std::move(trail["history"]);
  trail.erase("history");

  Json processing = ProcessingRecord(deps_).generate(ctx);
  Json bundle = {{"format", "nucleo-subject-report"},
                 {"version", 1},
                 {"generated_at", format_rfc3339(ctx.now())},
                 {"controller", processing["controller"]},
                 {"request", {{"id", request["id"]}, {"kind", request["kind"]}, {"received_at", request["received_at"]}}},
                 {"subject", {{"contact_id", contact_id}, {"erased", erased}, {"erased_at", contact.value("erased_at", Json())}}},
                 {"contact", contact},
                 {"deals", deals},
                 {"interactions", interactions},
                 {"tasks", tasks},
                 {"channel_deliveries", deliveries},
                 {"consents", consents},
                 {"plugin_data", {{"plugin_records", plugin_data["plugin_records"]},
                                  {"personal_attributes", plugin_data["personal_attributes"]}}},
                 {"privacy_requests", requests},
                 {"sharing", {{"purposes", processing["purposes"]}, {"recipients", processing["recipients"]}}},
                 {"history", history},
                 {"audit", trail}};
  if (erased) bundle["subject"]["note"] = erased_note(contact);
  return bundle;
}

namespace {

std::string shown(const Json& v) {
  if (v.is_null()) return "—";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

// One record as a list of its fields, null ones left out.
void fields(std::string& out, const Json& record) {
  for (const auto& [field, value] : record.items())
    if (!value.is_null() && !(value.is_object() && value.empty())) out += "- **" + field + "**: " + shown(value) + "\n";
}

void section(std::string& out, const std::string& title, const Json& list, const std::string& empty,
             const std::function<std::string(const Json&)>& heading) {
  out += "\n## " + title + " (" + std::to_string(list.size()) + ")\n\n";
  if (list.empty()) out += empty + "\n";
  for (const auto& item : list) {
    out += "### " + heading(item) + "\n\n";
    fields(out, item);
    out += "\n";
  }
}

}  // namespace

std::string SubjectReport::markdown(const Json& b) {
  std::string out = "# Relatório de dados pessoais / Personal data report\n\n";
  out += "- **Controlador / Controller**: " + shown(b["controller"].value("name", Json())) + "\n";
  out += "- **Titular / Data subject**: " + b["subject"]["contact_id"].get<std::string>() + "\n";
  out += "- **Solicitação / Request**: " + b["request"]["id"].get<std::string>() + " (" +
         b["request"]["kind"].get<std::string>() + "), received " + shown(b["request"]["received_at"]) + "\n";
  out += "- **Gerado em / Generated at**: " + b["generated_at"].get<std::string>() + "\n";
  if (b["subject"].contains("note")) out += "\n> " + b["subject"]["note"].get<std::string>() + "\n";
  out += "\n## Cadastro / Contact record\n\n";
  fields(out, b["contact"]);
  section(out, "Negócios / Deals", b["deals"], "None.", [](const Json& d) { return shown(d["name"]) + " (" + shown(d["id"]) + ")"; });
  section(out, "Interações e mensagens / Interactions and messages", b["interactions"], "None.", [](const Json& i) {
    return shown(i["occurred_at"]) + " · " + shown(i["type"]) + " · " + shown(i["direction"]) + " (" + shown(i["id"]) + ")";
  });
  section(out, "Tarefas / Tasks", b["tasks"], "None.", [](const Json& t) { return shown(t["title"]) + " (" + shown(t["id"]) + ")"; });
  section(out, "Envios por canal / Channel deliveries", b["channel_deliveries"], "None.",
          [](const Json& m) { return shown(m["created_at"]) + " to " + shown(m["recipient"]); });
  out += "\n## Consentimentos / Consents\n\n";
  if (b["consents"]["entries"].empty()) out += "None recorded.\n";
  for (const auto& e : b["consents"]["entries"])
    out += "- " + shown(e["recorded_at"]) + ": " + shown(e["action"]) + " **" + shown(e["purpose"]) + "** (" +
           shown(e["legal_basis"]) + ", source " + shown(e["source"]["type"]) + ")\n";
  section(out, "Dados mantidos por plugins / Data held by plugins", b["plugin_data"]["plugin_records"], "None.",
          [](const Json& d) { return shown(d["plugin_id"]) + " · " + shown(d["collection"]) + " · " + shown(d["id"]); });
  for (const auto& a : b["plugin_data"]["personal_attributes"])
    out += "- " + shown(a["entity_type"]) + " " + shown(a["entity_id"]) + ", attribute **" + shown(a["key"]) + "**: " +
           shown(a["value"]) + "\n";
  out += "\n## Solicitações / Requests (" + std::to_string(b["privacy_requests"].size()) + ")\n\n";
  for (const auto& r : b["privacy_requests"])
    out += "- " + shown(r["received_at"]) + ": " + shown(r["kind"]) + " (" + shown(r["id"]) + "), " + shown(r["status"]) +
           (r["outcome"].is_null() ? "" : ": " + shown(r["outcome"])) + "\n";
  out += "\n## Compartilhamento / Sharing (LGPD art. 18 VII)\n\n";
  if (b["sharing"]["recipients"].empty()) out += "No recipient receives this tenant's data.\n";
  for (const auto& r : b["sharing"]["recipients"]) out += "- " + shown(r["kind"]) + ": " + shown(r["receiver"]) + "\n";
  std::size_t versions = 0;
  for (const auto& [key, list] : b["history"].items()) versions += list.size();
  out += "\n## Histórico e prova / History and proof\n\n";
  out += "The JSON bundle holds every recorded change of the " + std::to_string(b["history"].size()) +
         " records above (" + std::to_string(versions) + " changes), who made each and when, and for each record the "
         "newest audit event with a proof that it is in the signed audit log (tree size " +
         shown(b["audit"]["tree_size"]) + "). Verify it offline with `nucleo audit verify report.json --vkey log.vkey`.\n";
  return out;
}

}  // namespace nucleo::services
