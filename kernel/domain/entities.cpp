// The core entities of docs/architecture.md §4, declared as data. What an entity may hold, which
// fields are required and which are personal data lives here and nowhere else; the
// validator, the store, the audit recorder and (later) the HTTP layer read it.
#include <algorithm>

#include "kernel/domain/entity.hpp"
#include "kernel/domain/id.hpp"

namespace nucleo {
namespace {

FieldSpec text(std::string name, std::size_t max_length = 500) {
  FieldSpec f;
  f.name = std::move(name);
  f.max_length = max_length;
  return f;
}
FieldSpec required(FieldSpec f) {
  f.required = true;
  return f;
}
FieldSpec personal(FieldSpec f) {
  f.personal = true;
  return f;
}
FieldSpec folded(FieldSpec f) {
  f.folded = true;
  return f;
}
FieldSpec of(std::string name, FieldType type) {
  FieldSpec f;
  f.name = std::move(name);
  f.type = type;
  return f;
}
FieldSpec ref(std::string name, std::string target) {
  FieldSpec f = of(std::move(name), FieldType::reference);
  f.target = std::move(target);
  return f;
}
FieldSpec choice(std::string name, std::vector<std::string> allowed, std::string fallback = "") {
  FieldSpec f = of(std::move(name), FieldType::enumeration);
  f.allowed = std::move(allowed);
  if (!fallback.empty()) f.default_value = fallback;
  return f;
}
FieldSpec derived(FieldSpec f) {
  f.derived = true;
  return f;
}
FieldSpec hidden(FieldSpec f) {
  f.hidden = true;
  f.derived = true;
  return f;
}
FieldSpec identifying(FieldSpec f) {
  f.identifying = true;
  return f;
}
FieldSpec of_items(FieldSpec f, Json items) {
  f.items = std::move(items);
  return f;
}
Json id_of(std::string_view prefix) {
  return {{"type", "string"}, {"pattern", "^" + std::string(prefix) + "_[0-9a-z]{26}$"}};
}
FieldSpec with_default(FieldSpec f, Json value) {
  f.default_value = std::move(value);
  return f;
}

std::vector<EntitySpec> build_specs() {
  const std::vector<std::string> roles{"admin", "manager", "sales", "support", "marketing", "auditor"};
  std::vector<EntitySpec> specs;

  specs.push_back({"user",
                   std::string(id_prefix::user),
                   "users",
                   {required(personal(text("name", 200))), required(personal(of("email", FieldType::email))),
                    required(choice("role", roles)), with_default(text("time_zone", 64), "America/Sao_Paulo"),
                    with_default(of("active", FieldType::boolean), true),
                    with_default(of_items(of("team_ids", FieldType::array), id_of(id_prefix::team)), Json::array())},
                   false});
  specs.back().policy = {{}, {}, "", "created", true};

  specs.push_back({"team", std::string(id_prefix::team), "teams", {required(text("name", 200))}, false});
  specs.back().policy = {{"manager"}, {}, "", "created", true};

  // Secrets are shown once at creation and stored only as SHA-256 (docs/architecture.md §4).
  std::vector<std::string> key_roles = roles;
  key_roles.push_back("integration");
  specs.push_back({"api_key",
                   std::string(id_prefix::api_key),
                   "api_keys",
                   {required(text("name", 200)), required(choice("role", key_roles)),
                    with_default(of_items(of("scopes", FieldType::array), {{"type", "string"}}), Json::array()), ref("user_id", "user"),
                    with_default(of("integration", FieldType::boolean), false), hidden(text("secret_hash", 64)),
                    of("expires_at", FieldType::timestamp), derived(of("revoked_at", FieldType::timestamp)),
                    derived(of("last_used_at", FieldType::timestamp))},
                   false});
  // Keys are served by their own routes (/v1/keys): the secret is shown once.
  specs.back().policy = {{}, {"admin", "auditor"}, "", "created", true, false};

  specs.push_back(
      {"account",
       std::string(id_prefix::account),
       "accounts",
       {required(folded(text("legal_name", 300))), folded(text("trade_name", 300)), folded(of("tax_id", FieldType::tax_id)),
        with_default(of("tax_id_country", FieldType::country), "BR"),
        derived(choice("tax_id_kind", {"cpf", "cnpj", "other"})), text("domain", 253),
        with_default(folded(of("phones", FieldType::phone_list)), Json::array()),
        with_default(folded(of("emails", FieldType::email_list)), Json::array()), of("address", FieldType::object),
        ref("owner_id", "user"), choice("lifecycle", {"lead", "prospect", "customer", "churned"}, "lead"),
        // Set when the account is merged into another (services/merge_service.hpp).
        derived(ref("merged_into", "account"))}});
  const std::vector<std::string> every_team{"manager", "sales", "support", "marketing"};
  specs.back().policy = {every_team, {}, "owner_id"};
  specs.back().reports_duplicates = true;

  specs.push_back(
      {"contact",
       std::string(id_prefix::contact),
       "contacts",
       {required(personal(folded(text("name", 200)))), ref("account_id", "account"), personal(folded(of("email", FieldType::email))),
        // A job title beside a named person identifies her (LGPD art. 5 I): personal.
        personal(folded(of("phone", FieldType::phone))), personal(text("job_title", 200)),
        // {"<purpose>": "granted" | "revoked"}: the consent ledger's state, written with
        // each entry (services/consent_service.hpp), never by a caller.
        derived(with_default(of("consent", FieldType::object), Json::object())), ref("owner_id", "user"),
        derived(of("erased_at", FieldType::timestamp)), derived(ref("merged_into", "contact"))}});
  specs.back().policy = {every_team, {}, "owner_id"};
  specs.back().reports_duplicates = true;

  // `key`: what a pipeline definition matches the pipeline and its stages by (docs/sales-process.md).
  specs.push_back({"pipeline", std::string(id_prefix::pipeline), "pipelines", {required(text("name", 200)), text("key", 64)}});
  specs.back().policy = {{"manager"}};

  specs.push_back(
      {"stage",
       std::string(id_prefix::stage),
       "stages",
       {required(ref("pipeline_id", "pipeline")), required(text("name", 200)), text("key", 64),
        required(of("position", FieldType::integer)), with_default(of("probability", FieldType::integer), 0),
        choice("kind", {"open", "won", "lost"}, "open"), of("rot_days", FieldType::integer),
        with_default(of("entry_criteria", FieldType::array), Json::array()),
        with_default(of("checklist_template", FieldType::array), Json::array())},
       false});
  specs.back().policy = {{"manager"}};

  specs.push_back({"deal",
                   std::string(id_prefix::deal),
                   "deals",
                   {required(folded(text("name", 300))), required(ref("account_id", "account")),
                    with_default(of_items(of("contacts", FieldType::array),
                                          {{"type", "object"},
                                           {"properties", {{"contact_id", id_of(id_prefix::contact)},
                                                           {"role", {{"type", {"string", "null"}}}}}},
                                           {"required", {"contact_id"}},
                                           {"additionalProperties", false}}),
                                 Json::array()),
                    required(ref("pipeline_id", "pipeline")), ref("stage_id", "stage"),
                    of("amount", FieldType::integer), with_default(of("currency", FieldType::currency), "BRL"),
                    of("expected_close", FieldType::date), ref("owner_id", "user"), text("lost_reason", 500),
                    // Derived by the deal rules from the stage; listed so they are stored and shown.
                    derived(choice("status", {"open", "won", "lost"}, "open")),
                    derived(of("stage_entered_at", FieldType::timestamp)),
                    // Set by the sales process (docs/sales-process.md): approvals given for a
                    // gated move, and since when the deal has sat in its stage past rot_days.
                    derived(with_default(of("approvals", FieldType::array), Json::array())),
                    derived(of("stalled_since", FieldType::timestamp))}});
  specs.back().policy = {every_team, {}, "owner_id"};

  specs.push_back({"interaction",
                   std::string(id_prefix::interaction),
                   "interactions",
                   {required(choice("type", {"note", "call", "meeting", "visit", "email", "whatsapp", "sms",
                                             "complaint", "feedback", "support", "proposal", "system"})),
                    required(choice("direction", {"inbound", "outbound", "internal"})), identifying(text("channel", 64)),
                    // Subject lines quote people as bodies do ("Re: proposta para Ana").
                    of("occurred_at", FieldType::timestamp), personal(text("subject", 500)), personal(text("body", 100000)),
                    identifying(text("external_id", 300)), identifying(text("thread_id", 300)),
                    // A channel message's kind, media, location, reply context or ad referral:
                    // what it says is the contact's, like the body.
                    personal(of("content", FieldType::object)),
                    choice("delivery_status", {"queued", "sent", "delivered", "read", "failed", "received"}),
                    ref("account_id", "account"), ref("contact_id", "contact"), ref("deal_id", "deal")}});
  specs.back().data_subject_field = "contact_id";  // subject and body are the contact's personal data
  specs.back().policy = {every_team, {}, "", "logged"};

  specs.push_back({"task",
                   std::string(id_prefix::task),
                   "tasks",
                   {required(text("title", 500)), of("due_at", FieldType::timestamp), ref("assignee_id", "user"),
                    choice("status", {"open", "done", "cancelled"}, "open"),
                    choice("kind", {"follow_up", "checklist", "reminder"}, "follow_up"), text("origin_rule", 200),
                    // A checklist item the deal must finish before a gate that asks for it.
                    with_default(of("required_for_exit", FieldType::boolean), false),
                    ref("account_id", "account"), ref("contact_id", "contact"), ref("deal_id", "deal"),
                    derived(of("completed_at", FieldType::timestamp))}});
  specs.back().policy = {every_team, {}, "assignee_id"};

  specs.push_back({"product",
                   std::string(id_prefix::product),
                   "products",
                   {required(text("name", 300)), identifying(text("sku", 100)), of("price", FieldType::integer),
                    with_default(of("currency", FieldType::currency), "BRL"),
                    with_default(of("active", FieldType::boolean), true)}});
  specs.back().policy = {{"manager"}};

  // A proposal's look (docs/proposals.md "Templates"): Mustache HTML for the browser and
  // the intro and closing texts both the page and the PDF carry; tags checked when saved.
  specs.push_back({"proposal_template",
                   std::string(id_prefix::proposal_template),
                   "proposal_templates",
                   {required(text("name", 200)), text("key", 64), text("html", 200000), text("intro", 5000),
                    text("closing", 5000),
                    // A PNG, base64, at most 256 KiB: on every page of the PDF and atop the page.
                    text("logo_png", 350000),
                    // What the customer types besides her name to accept: "cpf", "role".
                    with_default(of_items(of("acceptance_fields", FieldType::array),
                                          {{"type", "string"}, {"enum", {"cpf", "role"}}}),
                                 Json::array()),
                    with_default(of("is_default", FieldType::boolean), false)},
                   false});
  specs.back().policy = {{"manager"}};

  // A priced offer on a deal (docs/proposals.md): lines, totals in minor units, and the
  // revision the next send freezes. Sent revisions live on, unchanged, in
  // proposal_versions (services/proposal_service.hpp); the customer's decision is hers.
  const Json line_schema = {
      {"type", "object"},
      {"properties",
       {{"product_id", id_of(id_prefix::product)},
        {"description", {{"type", "string"}, {"maxLength", 2000}}},
        {"unit", {{"type", "string"}, {"maxLength", 40}}},
        {"quantity", {{"type", "number"}, {"exclusiveMinimum", 0}}},
        {"unit_price", {{"type", "integer"}, {"minimum", 0}}},
        {"discount_percent", {{"type", "number"}, {"minimum", 0}, {"maximum", 100}}},
        {"discount_amount", {{"type", "integer"}, {"minimum", 0}}},
        {"sku", {{"type", "string"}, {"readOnly", true}}},
        {"amount", {{"type", "integer"}, {"readOnly", true}}},
        {"discount", {{"type", "integer"}, {"readOnly", true}}},
        {"total", {{"type", "integer"}, {"readOnly", true}}}}},
      {"required", {"quantity"}}};
  specs.push_back({"proposal",
                   std::string(id_prefix::proposal),
                   "proposals",
                   {required(ref("deal_id", "deal")), required(text("title", 300)),
                    ref("template_id", "proposal_template"), ref("contact_id", "contact"), ref("owner_id", "user"),
                    of("currency", FieldType::currency),
                    with_default(of_items(of("lines", FieldType::array), line_schema), Json::array()),
                    derived(with_default(of("subtotal", FieldType::integer), 0)),
                    derived(with_default(of("discount_total", FieldType::integer), 0)),
                    derived(with_default(of("total", FieldType::integer), 0)), of("valid_until", FieldType::date),
                    text("payment_terms", 2000), text("notes", 5000),
                    // An acceptance moves the deal to its pipeline's won stage (through the gates).
                    with_default(of("accept_moves_deal", FieldType::boolean), false),
                    derived(choice("status", {"draft", "sent", "accepted", "declined"}, "draft")),
                    derived(with_default(of("revision", FieldType::integer), 1)),
                    derived(of("sent_revision", FieldType::integer)), derived(of("sent_at", FieldType::timestamp)),
                    // Discount approvals of the current revision: [{revision, user_id, role, at, note}].
                    derived(with_default(of("approvals", FieldType::array), Json::array())),
                    // The customer's accept or decline: the revision and its PDF's hash in the
                    // clear (what the audit trail proves), who she said she is sealed (hers).
                    derived(of("decided_revision", FieldType::integer)), derived(text("decided_sha256", 64)),
                    derived(personal(of("decision", FieldType::object))),
                    derived(of("decided_at", FieldType::timestamp))}});
  specs.back().data_subject_field = "contact_id";
  specs.back().policy = {every_team, {}, "owner_id"};

  // An automation rule (docs/automation.md): a versioned document — trigger, conditions,
  // actions — checked when saved (kernel/automation/rules.hpp), so nothing is found
  // wrong at fire time. Saved disabled unless said otherwise: dry-run it first.
  specs.push_back({"automation_rule",
                   std::string(id_prefix::automation_rule),
                   "automation_rules",
                   {required(text("name", 200)), text("key", 64), text("description", 2000),
                    with_default(of("enabled", FieldType::boolean), false), required(of("trigger", FieldType::object)),
                    with_default(of("conditions", FieldType::array), Json::array()),
                    required(of("actions", FieldType::array))},
                   false});
  specs.back().policy = {{"manager"}, {"admin", "manager", "auditor"}};
  specs.back().policy.path = "automation/rules";

  // A cadence (docs/automation.md "Cadences"): ordered steps with delays — a message
  // through a channel account or a task for the owner — that an enrolled contact goes
  // through in the owner's working hours, stopped by a reply, a stage change or a closed
  // deal. Its enrolments are the engine's state (services/cadence_enrolments.hpp).
  specs.push_back({"cadence",
                   std::string(id_prefix::cadence),
                   "cadences",
                   {required(text("name", 200)), text("key", 64), text("description", 2000),
                    with_default(of("active", FieldType::boolean), true), required(of("steps", FieldType::array)),
                    text("purpose", 64), with_default(of("gap_hours", FieldType::integer), 24),
                    with_default(of("working_hours", FieldType::object), Json{{"start", 9}, {"end", 18}})},
                   false});
  specs.back().policy = {{"manager"}, {"admin", "manager", "auditor"}};
  return specs;
}

const std::vector<EntitySpec>& specs() {
  static const std::vector<EntitySpec> all = build_specs();
  return all;
}

}  // namespace

const FieldSpec* EntitySpec::field(std::string_view name) const {
  for (const auto& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

std::optional<std::pair<std::string, std::string>> keyed_json_field(const std::string& field) {
  for (const char* column : {"attributes", "consent"}) {
    std::string prefix = std::string(column) + ".";
    if (field.size() > prefix.size() && field.compare(0, prefix.size(), prefix) == 0)
      return std::pair{std::string(column), field.substr(prefix.size())};
  }
  return std::nullopt;
}

const std::vector<std::string>& system_fields() {
  static const std::vector<std::string> names{"id", "tenant_id", "version", "created_at", "updated_at", "archived_at"};
  return names;
}

const EntitySpec* find_entity_spec(std::string_view type) {
  for (const auto& s : specs())
    if (s.type == type) return &s;
  return nullptr;
}

const EntitySpec& entity_spec(std::string_view type) {
  if (const auto* s = find_entity_spec(type)) return *s;
  throw Error(ErrorCode::internal, "unknown entity type '" + std::string(type) + "'");
}

const std::vector<const EntitySpec*>& all_entity_specs() {
  static const std::vector<const EntitySpec*> all = [] {
    std::vector<const EntitySpec*> out;
    for (const auto& s : specs()) out.push_back(&s);
    return out;
  }();
  return all;
}

}  // namespace nucleo
