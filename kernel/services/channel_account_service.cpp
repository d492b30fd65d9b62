#include "kernel/services/channel_account_service.hpp"

#include <algorithm>
#include <atomic>

#include "kernel/audit/recorder.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/domain/json_text.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/change.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {

namespace {

// What resolve keeps is stale once a change commits (ResolvedChannelAccounts).
std::atomic<std::uint64_t> channel_account_changes{0};
void note_channel_accounts_changed() {
  channel_account_changes.fetch_add(1, std::memory_order_acq_rel);
}

using store::integer_at;
using store::text_at;

constexpr std::size_t max_text = 200;
constexpr std::size_t max_document = 64 * 1024;
constexpr const char* columns =
    "id, tenant_id, plugin_id, external_id, name, config, secret_names, status, version, created_at, updated_at,"
    " problem";

void require_admin(const CallContext& ctx) {
  require_role(ctx, {"admin"}, "channel accounts are for the admin role only", "channel_accounts:write");
}

// An account as its plugin sees it (ChannelAccountService::opened).
constexpr const char* opened_columns = "id, tenant_id, plugin_id, external_id, config, secrets_sealed, problem";

std::string binding(const std::string& id) {
  return "channel_account:" + id;
}

Json account_json(const store::Row& r) {
  return {{"id", store::required_text(r, 0)},
          {"tenant_id", store::required_text(r, 1)},
          {"plugin_id", store::required_text(r, 2)},
          {"external_id", store::required_text(r, 3)},
          {"name", text_at(r, 4) ? Json(store::required_text(r, 4)) : Json()},
          {"config", Json::parse(store::required_text(r, 5))},
          {"secret_names", Json::parse(store::required_text(r, 6))},
          {"status", store::required_text(r, 7)},
          {"version", store::required_integer(r, 8)},
          {"created_at", format_rfc3339(Timestamp{store::required_integer(r, 9)})},
          {"updated_at", format_rfc3339(Timestamp{store::required_integer(r, 10)})},
          {"problem", text_at(r, 11) ? Json::parse(store::required_text(r, 11)) : Json()}};
}

Json existing(store::Transaction& tx, const CallContext& ctx, const std::string& id) {
  std::optional<Json> found;
  store::query(tx.session(),
               std::string("SELECT ") + columns + " FROM channel_accounts WHERE tenant_id = :p0 AND id = :p1",
               {ctx.tenant_id, id}, [&](const store::Row& r) { found = account_json(r); });
  if (!found) throw Error(ErrorCode::not_found, "no channel account " + id + " in this tenant");
  return *found;
}

Json names_of(const Json& secrets) {
  Json names = Json::array();
  for (const auto& [name, value] : secrets.items()) names.push_back(name);
  return names;
}

// What the audit log keeps: everything but secret values (their names are there).
Json audited(const Json& account) {
  Json out = account;
  for (const char* f : {"id", "tenant_id", "version", "created_at", "updated_at"}) out.erase(f);
  return out;
}

bool is_plugin_id(const std::string& id) {
  return !id.empty() && id.size() <= max_text && id.find('.') != std::string::npos &&
         id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-_") == std::string::npos;
}

}  // namespace

Json ChannelAccountService::checked(const Json& body, bool creating) const {
  if (!body.is_object()) throw Error(ErrorCode::validation, "a channel account is a JSON object");
  std::vector<FieldError> errors;
  Json out = Json::object();
  for (const auto& [key, value] : body.items()) {
    bool ok = true;
    if (key == "plugin_id" && creating) {
      ok = value.is_string() && is_plugin_id(value.get<std::string>());
      if (ok && loaded_plugins_ && !loaded_plugins_->count(value.get<std::string>())) {
        errors.push_back({key, "no plugin " + value.get<std::string>() + " is loaded (GET /v1/plugins)"});
        continue;
      }
      if (!ok) errors.push_back({key, "must be a plugin id such as com.acme.whatsapp"});
    } else if (key == "external_id" && creating) {
      ok = value.is_string() && !value.get<std::string>().empty() && value.get<std::string>().size() <= max_text;
      if (!ok) errors.push_back({key, "must be a non-empty string of at most 200 characters"});
    } else if (key == "name") {
      ok = value.is_null() || (value.is_string() && value.get<std::string>().size() <= max_text);
      if (!ok) errors.push_back({key, "must be a string of at most 200 characters, or null"});
    } else if (key == "config") {
      ok = value.is_object() && value.dump().size() <= max_document;
      if (!ok) errors.push_back({key, "must be a JSON object (at most 64 KiB)"});
    } else if (key == "secrets") {
      ok = value.is_object() && value.dump().size() <= max_document;
      for (const auto& [name, secret] : value.items()) ok = ok && (secret.is_string() || (!creating && secret.is_null()));
      if (!ok) errors.push_back({key, creating ? "must be an object of strings" : "must be an object of strings or nulls"});
    } else if (key == "status" && !creating) {
      ok = value == "active" || value == "disabled";
      if (!ok) errors.push_back({key, "must be active or disabled"});
    } else {
      ok = false;
      errors.push_back({key, creating || (key != "plugin_id" && key != "external_id")
                                 ? "is not a field of a channel account"
                                 : "cannot change: create another account"});
    }
    if (ok) out[key] = value;
  }
  if (creating)
    for (const char* required : {"plugin_id", "external_id"})
      if (!body.contains(required)) errors.push_back({required, "is required"});
  if (!errors.empty()) throw Error(ErrorCode::validation, "invalid channel account", errors);
  return out;
}

void ChannelAccountService::check_config(const std::string& plugin_id, const Json& config) const {
  const ValueSchema* schema = config_schemas_ ? config_schemas_(plugin_id) : nullptr;
  if (!schema) return;
  // Each problem named by its JSON pointer under config ("config/sender_name", "config/tags/2").
  std::vector<FieldError> errors;
  for (const auto& problem : schema->check(config)) {
    std::string pointer = "config";
    for (char c : problem.path) pointer += (c == '.' || c == '[') ? '/' : c == ']' ? '\0' : c;
    pointer.erase(std::remove(pointer.begin(), pointer.end(), '\0'), pointer.end());
    errors.push_back({pointer, problem.message});
  }
  if (!errors.empty()) throw validation_error("invalid channel account config", errors);
}

Json ChannelAccountService::create(const CallContext& ctx, const Json& body) {
  require_admin(ctx);
  Json fields = checked(body, true);
  std::string plugin = fields["plugin_id"], external = fields["external_id"];
  check_config(plugin, fields.value("config", Json::object()));
  if (resolve_any(plugin, external))
    throw Error(ErrorCode::conflict, "plugin " + plugin + " already has an account with external id " + external +
                                         " (in this tenant or another)");
  Timestamp now = ctx.now();
  std::string id = generate_id(id_prefix::channel_account, now);
  Json secrets = fields.value("secrets", Json::object());
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    store::execute(tx.session(),
                   "INSERT INTO channel_accounts (id, tenant_id, plugin_id, external_id, name, config, secrets_sealed,"
                   " secret_names, status, version, created_at, updated_at)"
                   " VALUES (:p0, :p1, :p2, :p3, :p4, :p5, :p6, :p7, 'active', 1, :p8, :p9)",
                   {id, ctx.tenant_id, plugin, external,
                    fields.value("name", Json()).is_string() ? store::SqlValue{fields["name"].get<std::string>()}
                                                             : store::SqlValue{},
                    to_json_text(fields.value("config", Json::object())),
                    deps_.secrets.seal(binding(id), to_json_text(secrets)), to_json_text(names_of(secrets)),
                    now.micros, now.micros});
    Json account = existing(tx, ctx, id);
    commit_change(tx, ctx,
                  {"channel_account.created", "channel_account", id, audit::diff_changes(nullptr, audited(account)), account});
    return account;
  });
}

std::vector<Json> ChannelAccountService::list(const CallContext& ctx) {
  require_admin(ctx);
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    std::vector<Json> out;
    store::query(tx.session(),
                 std::string("SELECT ") + columns + " FROM channel_accounts WHERE tenant_id = :p0 ORDER BY id",
                 {ctx.tenant_id}, [&](const store::Row& r) { out.push_back(account_json(r)); });
    return out;
  });
}

Json ChannelAccountService::get(const CallContext& ctx, const std::string& id) {
  require_admin(ctx);
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) { return existing(tx, ctx, id); });
}

Json ChannelAccountService::update(const CallContext& ctx, const std::string& id, const Json& patch,
                                   std::optional<std::int64_t> expected_version) {
  require_admin(ctx);
  get(ctx, id);  // another tenant's account is a 404 whatever the patch says
  Json fields = checked(patch, false);
  Timestamp now = ctx.now();
  Json updated = deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    Json before = existing(tx, ctx, id);
    if (expected_version && *expected_version != before["version"].get<std::int64_t>())
      throw Error(ErrorCode::precondition_failed, "channel account " + id + " is at version " +
                                                      std::to_string(before["version"].get<std::int64_t>()));
    Json after = before;
    for (const char* key : {"name", "config", "status"})
      if (fields.contains(key)) after[key] = fields[key];
    if (fields.contains("config")) check_config(before["plugin_id"], after["config"]);
    std::optional<std::string> sealed;
    if (fields.contains("secrets")) {
      std::string current;
      store::query(tx.session(), "SELECT secrets_sealed FROM channel_accounts WHERE tenant_id = :p0 AND id = :p1",
                   {ctx.tenant_id, id}, [&](const store::Row& r) { current = store::required_text(r, 0); });
      auto opened = deps_.secrets.open(binding(id), current);
      if (!opened) throw Error(ErrorCode::internal, "the secrets of " + id + " do not open with this secrets.key_file");
      Json secrets = Json::parse(*opened);
      for (const auto& [name, value] : fields["secrets"].items()) {
        if (value.is_null()) secrets.erase(name);
        else secrets[name] = value;
      }
      sealed = deps_.secrets.seal(binding(id), to_json_text(secrets));
      after["secret_names"] = names_of(secrets);
    }
    store::execute(tx.session(),
                   "UPDATE channel_accounts SET name = :p0, config = :p1, status = :p2, secret_names = :p3,"
                   " secrets_sealed = COALESCE(:p4, secrets_sealed), version = version + 1, updated_at = :p5"
                   " WHERE tenant_id = :p6 AND id = :p7",
                   {after["name"].is_string() ? store::SqlValue{after["name"].get<std::string>()} : store::SqlValue{},
                    to_json_text(after["config"]), after["status"].get<std::string>(),
                    to_json_text(after["secret_names"]), sealed ? store::SqlValue{*sealed} : store::SqlValue{},
                    now.micros, ctx.tenant_id, id});
    Json changes = audit::diff_changes(audited(before), audited(after));
    // A secret replaced by another value changes no name: say so without the value.
    if (fields.contains("secrets")) changes["secrets"] = {{"from", nullptr}, {"to", names_of(fields["secrets"])}};
    Json updated = existing(tx, ctx, id);
    commit_change(tx, ctx, {"channel_account.updated", "channel_account", id, changes, updated});
    return updated;
  });
  note_channel_accounts_changed();
  return updated;
}

void ChannelAccountService::remove(const CallContext& ctx, const std::string& id) {
  require_admin(ctx);
  deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    Json before = existing(tx, ctx, id);
    store::execute(tx.session(), "DELETE FROM channel_accounts WHERE tenant_id = :p0 AND id = :p1", {ctx.tenant_id, id});
    commit_change(tx, ctx, {"channel_account.deleted", "channel_account", id,
                            audit::diff_changes(audited(before), nullptr), nullptr});
  });
  note_channel_accounts_changed();
}

ChannelAccount ChannelAccountService::opened(const store::Row& r, std::size_t first) const {
  ChannelAccount a{store::required_text(r, first), store::required_text(r, first + 1), store::required_text(r, first + 2), store::required_text(r, first + 3),
                   Json::parse(store::required_text(r, first + 4)), Json::object(),
                   text_at(r, first + 6) ? Json::parse(store::required_text(r, first + 6)) : Json()};
  auto secrets = deps_.secrets.open(binding(a.id), store::required_text(r, first + 5));
  if (!secrets) throw Error(ErrorCode::internal, "the secrets of " + a.id + " do not open with this secrets.key_file");
  a.secrets = Json::parse(*secrets);
  return a;
}

std::vector<ChannelAccount> ChannelAccountService::active_accounts_of(const CallContext& ctx,
                                                                      const std::string& plugin_id) {
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    std::vector<ChannelAccount> out;
    store::query(tx.session(),
                 std::string("SELECT ") + opened_columns +
                     " FROM channel_accounts WHERE tenant_id = :p0 AND plugin_id = :p1 AND status = 'active' ORDER BY id",
                 {ctx.tenant_id, plugin_id}, [&](const store::Row& r) { out.push_back(opened(r, 0)); });
    return out;
  });
}

std::optional<ChannelAccount> ChannelAccountService::resolve_any(const std::string& plugin_id,
                                                                 const std::string& external_id, bool active_only) {
  std::optional<ChannelAccount> found;
  deps_.worker_database.read("", [&](store::Transaction& tx) {
    store::query(tx.session(),
                 std::string("SELECT status, ") + opened_columns + " FROM channel_accounts WHERE plugin_id = :p0 AND external_id = :p1",
                 {plugin_id, external_id}, [&](const store::Row& r) {
                   if (active_only && store::required_text(r, 0) != "active") return;
                   found = opened(r, 1);
                 });
  });
  return found;
}

Json ChannelAccountService::send(const CallContext& ctx, events::JobQueue& /*jobs: queued in the transaction*/,
                                 const std::string& account_id,
                                 const Json& body, std::size_t max_content) {
  require_role(ctx, {"admin", "manager", "sales", "support", "marketing", "integration"},
               "auditors read; they do not send messages", "channel_messages:write");
  Json account = deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) { return existing(tx, ctx, account_id); });
  std::vector<FieldError> errors;
  if (!body.is_object()) throw Error(ErrorCode::validation, "a message is a JSON object: {\"to\", \"content\"}");
  for (const auto& [key, value] : body.items())
    if (key != "to" && key != "content") errors.push_back({key, "is not a field of a message (to, content)"});
  Json to = body.value("to", Json()), content = body.value("content", Json());
  if (!to.is_string() || to.get<std::string>().empty() || to.get<std::string>().size() > max_text)
    errors.push_back({"to", "must be the recipient: a non-empty string of at most 200 characters"});
  if (!(content.is_string() || content.is_object()) || content.dump().size() > max_content ||
      (content.is_string() && content.get<std::string>().empty()))
    errors.push_back({"content", "must be a non-empty string or an object (at most " +
                                     std::to_string(max_content / 1024) + " KiB)"});
  if (!errors.empty()) throw Error(ErrorCode::validation, "invalid message", errors);
  if (account["status"] != "active")
    throw Error(ErrorCode::conflict, "channel account " + account_id + " is disabled");

  Timestamp now = ctx.now();
  std::string id = generate_id(id_prefix::channel_message, now);
  // The answer is read in the message's transaction: a job worker woken by the commit may
  // send it at once, and the caller is told what was accepted (queued), not what came after.
  return deps_.database.in_one_transaction(ctx.tenant_id, [&] {
    deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
      store::execute(tx.session(),
                     "INSERT INTO channel_messages (id, tenant_id, account_id, recipient, content, status, created_at,"
                     " updated_at) VALUES (:p0, :p1, :p2, :p3, :p4, 'queued', :p5, :p6)",
                     {id, ctx.tenant_id, account_id, to.get<std::string>(), to_json_text(content), now.micros, now.micros});
      // The event names the message, not its content: the content may be anybody's words.
      Json changes = {{"account_id", {{"from", nullptr}, {"to", account_id}}}, {"to", {{"from", nullptr}, {"to", to}}},
                      {"status", {{"from", nullptr}, {"to", "queued"}}}};
      commit_change(tx, ctx, {"channel_message.queued", "channel_message", id, changes,
                              {{"id", id}, {"account_id", account_id}, {"to", to}, {"status", "queued"}}});
      // The job commits with the message: neither exists without the other, also when
      // the send is one step of a larger transaction (an automation rule's firing).
      events::enqueue_job(tx, channel_send_job_name, ctx.tenant_id, {{"message_id", id}}, now, now);
    });
    return message(ctx, id);
  });
}

Json ChannelAccountService::message(const CallContext& ctx, const std::string& message_id) {
  require_role(ctx, {"admin", "manager", "sales", "support", "marketing", "auditor", "integration"},
               "channel messages are read by the tenant's roles", "channel_messages:read");
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    std::optional<Json> found;
    store::query(tx.session(),
                 "SELECT id, account_id, recipient, content, status, external_id, delivery, error, attempts, created_at,"
                 " updated_at FROM channel_messages WHERE tenant_id = :p0 AND id = :p1",
                 {ctx.tenant_id, message_id}, [&](const store::Row& r) {
                   found = Json{{"id", store::required_text(r, 0)},
                                {"account_id", store::required_text(r, 1)},
                                {"to", store::required_text(r, 2)},
                                {"content", Json::parse(store::required_text(r, 3))},
                                {"status", store::required_text(r, 4)},
                                {"external_id", text_at(r, 5) ? Json(store::required_text(r, 5)) : Json()},
                                {"delivery_status", text_at(r, 6) ? Json(store::required_text(r, 6)) : Json()},
                                {"error", text_at(r, 7) ? Json(store::required_text(r, 7)) : Json()},
                                {"attempts", store::required_integer(r, 8)},
                                {"created_at", format_rfc3339(Timestamp{store::required_integer(r, 9)})},
                                {"updated_at", format_rfc3339(Timestamp{store::required_integer(r, 10)})},
                                {"tenant_id", ctx.tenant_id}};
                 });
    if (!found) throw Error(ErrorCode::not_found, "no message " + message_id + " in this tenant");
    return *found;
  });
}

std::optional<ChannelAccountService::Outbound> ChannelAccountService::outbound(const std::string& tenant_id,
                                                                              const std::string& message_id) {
  std::optional<Outbound> out;
  std::string account_id;
  deps_.worker_database.read("", [&](store::Transaction& tx) {
    store::query(tx.session(),
                 "SELECT m.id, m.recipient, m.content, m.status, m.attempts, a.plugin_id, a.external_id"
                 " FROM channel_messages m JOIN channel_accounts a ON a.id = m.account_id AND a.tenant_id = m.tenant_id"
                 " WHERE m.tenant_id = :p0 AND m.id = :p1",
                 {tenant_id, message_id}, [&](const store::Row& r) {
                   out = Outbound{{{"id", store::required_text(r, 0)},
                                   {"to", store::required_text(r, 1)},
                                   {"content", Json::parse(store::required_text(r, 2))},
                                   {"status", store::required_text(r, 3)},
                                   {"attempts", store::required_integer(r, 4)}},
                                  {}};
                   auto account = resolve_any(store::required_text(r, 5), store::required_text(r, 6));
                   if (account) out->account = *account;
                 });
  });
  if (out && out->account.id.empty()) return std::nullopt;  // the account went meanwhile
  return out;
}

void ChannelAccountService::settle_message(const CallContext& ctx, const std::string& message_id,
                                           const std::string& status, const Json& outcome, int attempts) {
  auto text_or_null = [&](const char* key) {
    return outcome.value(key, Json()).is_string() ? Json(outcome[key]) : Json();
  };
  Json settled{{"status", status},
               {"external_id", text_or_null("external_id")},
               {"delivery_status", text_or_null("delivery_status")},
               {"error", text_or_null("error")},
               {"attempts", attempts}};
  auto sql_value = [](const Json& v) { return v.is_string() ? store::SqlValue{v.get<std::string>()} : store::SqlValue{}; };
  static const std::map<std::string, std::string> action_of{
      {"sent", "channel_message.sent"}, {"failed", "channel_message.failed"}, {"queued", "channel_message.retry_scheduled"}};
  deps_.worker_database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    Json before;
    store::query(tx.session(),
                 "SELECT account_id, recipient, status FROM channel_messages WHERE tenant_id = :p0 AND id = :p1",
                 {ctx.tenant_id, message_id}, [&](const store::Row& r) {
                   before = {{"account_id", store::required_text(r, 0)}, {"to", store::required_text(r, 1)}, {"status", store::required_text(r, 2)}};
                 });
    if (before.is_null()) return;  // erased or never there: nothing to settle
    store::execute(tx.session(),
                   "UPDATE channel_messages SET status = :p0, external_id = :p1, delivery = :p2, error = :p3,"
                   " attempts = :p4, updated_at = :p5 WHERE tenant_id = :p6 AND id = :p7",
                   {status, sql_value(settled["external_id"]), sql_value(settled["delivery_status"]),
                    sql_value(settled["error"]), std::int64_t{attempts}, ctx.now().micros, ctx.tenant_id, message_id});
    Json changes = Json::object();
    for (const auto& [field, value] : settled.items())
      if (!value.is_null()) changes[field] = {{"from", field == "status" ? before["status"] : Json()}, {"to", value}};
    Json record = settled;
    record["id"] = message_id;
    record["account_id"] = before["account_id"];
    record["to"] = before["to"];
    commit_change(tx, ctx, {action_of.at(status), "channel_message", message_id, changes, record});
  });
}

Json ChannelAccountService::report_problem(const CallContext& ctx, const std::string& id, const Json& problem) {
  require_role(ctx, {"admin"}, "a channel's problems are reported by its plugin", "channel_accounts:write");
  bool clears = problem.is_null();
  if (!clears && !(problem.is_object() && problem.size() == 2 && problem.value("code", Json()).is_string() &&
                   problem.value("message", Json()).is_string() && problem["code"].get<std::string>().size() <= 100 &&
                   problem["message"].get<std::string>().size() <= 1000))
    throw validation_error("invalid problem", {{"problem", "must be null or {\"code\", \"message\"} (100 and 1000 "
                                                           "characters at most)"}});
  Json account = deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    Json before = existing(tx, ctx, id);
    // A plugin reports for its own accounts only.
    if (ctx.actor.type == "plugin" && before["plugin_id"] != ctx.actor.id)
      throw Error(ErrorCode::not_found, "no channel account " + id + " of plugin " + ctx.actor.id);
    const Json& now = before["problem"];
    if (clears ? now.is_null() : (!now.is_null() && now["code"] == problem["code"] && now["message"] == problem["message"]))
      return before;  // nothing new: no write, no event
    Json stored = clears ? Json() : Json{{"code", problem["code"]}, {"message", problem["message"]},
                                         {"at", format_rfc3339(ctx.now())}};
    store::execute(tx.session(),
                   "UPDATE channel_accounts SET problem = :p0, version = version + 1, updated_at = :p1"
                   " WHERE tenant_id = :p2 AND id = :p3",
                   {clears ? store::SqlValue{} : store::SqlValue{to_json_text(stored)}, ctx.now().micros,
                    ctx.tenant_id, id});
    Json after = existing(tx, ctx, id);
    commit_change(tx, ctx, {clears ? "channel_account.problem_cleared" : "channel_account.problem_reported",
                            "channel_account", id, audit::diff_changes(audited(before), audited(after)), after});
    return after;
  });
  note_channel_accounts_changed();
  return account;
}

std::optional<ChannelAccount> ChannelAccountService::resolve(const std::string& plugin_id,
                                                             const std::string& external_id,
                                                             ResolvedChannelAccounts* recent, Timestamp now) {
  if (recent)
    if (auto kept = recent->find(plugin_id, external_id, now)) return kept;
  std::uint64_t generation = channel_accounts_generation();
  auto found = resolve_any(plugin_id, external_id, true);
  if (recent && found) recent->store(*found, now, generation);
  return found;
}

std::uint64_t channel_accounts_generation() {
  return channel_account_changes.load(std::memory_order_acquire);
}

void ResolvedChannelAccounts::set_ttl(std::chrono::microseconds ttl) {
  std::lock_guard lock(mutex_);
  ttl_ = ttl;
  entries_.clear();
}

std::optional<ChannelAccount> ResolvedChannelAccounts::find(const std::string& plugin_id,
                                                            const std::string& external_id, Timestamp now) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(plugin_id + "\n" + external_id);
  if (it == entries_.end() || it->second.expires_at <= now.micros ||
      it->second.generation != channel_accounts_generation())
    return std::nullopt;
  return it->second.account;
}

void ResolvedChannelAccounts::store(const ChannelAccount& account, Timestamp now, std::uint64_t looked_up_at) {
  std::lock_guard lock(mutex_);
  if (ttl_.count() <= 0) return;
  if (entries_.size() >= capacity_) entries_.clear();  // many live numbers within one ttl: start over
  entries_[account.plugin_id + "\n" + account.external_id] = {account, now.micros + ttl_.count(), looked_up_at};
}

}  // namespace nucleo::services
