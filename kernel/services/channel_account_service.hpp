#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>

#include "kernel/domain/value_schema.hpp"

// Channel accounts (docs/architecture.md §6): a tenant's account on a channel a plugin serves — a
// WhatsApp phone_number_id, a mailbox —: plugin id, external id, settings (`config`)
// and secrets. Managed by admins at /v1/channels/accounts (audited as
// channel_account.*). Secrets are write-only: sealed at rest under the deployment's
// secrets key, never returned — the API shows their names only.
//
// Inbound webhooks reach a plugin's signed or public route without a tenant; the plugin
// resolves the account by external id (`resolve`, the channels.resolve service), which
// puts the call in the account's tenant.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kernel/events/jobs.hpp"
#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace soci {
class row;
}

namespace nucleo::services {

inline constexpr const char* channel_send_job_name = "kernel:channels.send";

// A resolved account, as its plugin sees it: with its secrets opened.
struct ChannelAccount {
  std::string id, tenant_id, plugin_id, external_id;
  Json config = Json::object();
  Json secrets = Json::object();
  Json problem;  // what its plugin last reported wrong ({"code", "message", "at"}), or null
};

// Accounts resolved recently, so that a busy number's webhooks do not look the account
// up on every notification (a read transaction of three round trips). An entry lives
// `ttl` at most: an account disabled, deleted or given new secrets on another node is
// seen within it; through this node, at once (a change bumps a generation that empties
// what was looked up before it). Only accounts found are kept, so a new one works at
// once. A ttl of zero turns it off. Thread-safe.
class ResolvedChannelAccounts {
 public:
  explicit ResolvedChannelAccounts(std::chrono::microseconds ttl = {}, std::size_t capacity = 10000)
      : ttl_(ttl), capacity_(capacity) {}
  void set_ttl(std::chrono::microseconds ttl);
  std::optional<ChannelAccount> find(const std::string& plugin_id, const std::string& external_id, Timestamp now) const;
  // `looked_up_at`: channel_accounts_generation() read before the look-up.
  void store(const ChannelAccount& account, Timestamp now, std::uint64_t looked_up_at);

 private:
  struct Entry {
    ChannelAccount account;
    std::int64_t expires_at;
    std::uint64_t generation;
  };
  std::chrono::microseconds ttl_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;  // by plugin id + "\n" + external id
};

// Counts this process's committed changes to channel accounts (ResolvedChannelAccounts).
std::uint64_t channel_accounts_generation();

class ChannelAccountService {
 public:
  // The schema a plugin's channel declares for an account's `config` (null: none).
  using ConfigSchemas = std::function<const ValueSchema*(const std::string& plugin_id)>;

  // `loaded_plugins`: the plugin ids an account may name (null: any well-formed id).
  // `config_schemas`: each account's config must satisfy its plugin's (422 naming the field).
  explicit ChannelAccountService(ServiceDependencies deps, const std::set<std::string>* loaded_plugins = nullptr,
                                 ConfigSchemas config_schemas = nullptr)
      : deps_(deps), loaded_plugins_(loaded_plugins), config_schemas_(std::move(config_schemas)) {}

  // body: {"plugin_id", "external_id", "name"?, "config"?: {}, "secrets"?: {name: string}}.
  Json create(const CallContext& ctx, const Json& body);
  std::vector<Json> list(const CallContext& ctx);
  Json get(const CallContext& ctx, const std::string& id);
  // patch: name, config (replaced), secrets (merged: a string sets one, null removes
  // it), status (active | disabled).
  Json update(const CallContext& ctx, const std::string& id, const Json& patch,
              std::optional<std::int64_t> expected_version);
  void remove(const CallContext& ctx, const std::string& id);

  // The active account of `plugin_id` with this external id, in any tenant; from
  // `recent` when it holds it, else looked up (and kept there).
  std::optional<ChannelAccount> resolve(const std::string& plugin_id, const std::string& external_id,
                                        ResolvedChannelAccounts* recent = nullptr, Timestamp now = {});

  // The active accounts of `plugin_id` in the call's tenant, secrets opened, in id order:
  // what a plugin that polls its channel (a mailbox over IMAP) works through.
  std::vector<ChannelAccount> active_accounts_of(const CallContext& ctx, const std::string& plugin_id);

  // What a channel plugin found wrong with an account ({"code", "message"}: an expired
  // access token, a revoked number), shown on the account as `problem` with its time;
  // null clears it. Audited when it changes, a no-op otherwise. Returns the account.
  Json report_problem(const CallContext& ctx, const std::string& id, const Json& problem);

  // Outbound messages (any role but auditor). send records the message as queued and
  // queues the job `channel_send_job_name` that hands it to the plugin's send; returns
  // the message. body: {"to", "content"} (content a string or an object).
  // `max_content`: the largest content in bytes of JSON (64 KiB from the API; an e-mail
  // with attachments, queued by ConversationService, more).
  Json send(const CallContext& ctx, events::JobQueue& jobs, const std::string& account_id, const Json& body,
            std::size_t max_content = 64 * 1024);
  Json message(const CallContext& ctx, const std::string& message_id);

  // The job's side (worker database): the message and its account, secrets opened.
  struct Outbound {
    Json message;  // {"id", "to", "content", "status", "attempts"}
    ChannelAccount account;
  };
  std::optional<Outbound> outbound(const std::string& tenant_id, const std::string& message_id);
  // The delivery's outcome, recorded as a change by `ctx` (channel_delivery.hpp):
  // status "sent" (outcome: external_id, delivery_status), "failed" or "queued" again
  // for a retry (outcome: error); attempts as counted.
  void settle_message(const CallContext& ctx, const std::string& message_id, const std::string& status,
                      const Json& outcome, int attempts);

 private:
  Json checked(const Json& body, bool creating) const;
  std::optional<ChannelAccount> resolve_any(const std::string& plugin_id, const std::string& external_id,
                                            bool active_only = false);
  void check_config(const std::string& plugin_id, const Json& config) const;
  // The row's opened_columns from `first` on, its secrets opened.
  ChannelAccount opened(const store::Row& r, std::size_t first) const;
  ServiceDependencies deps_;
  const std::set<std::string>* loaded_plugins_;
  ConfigSchemas config_schemas_;
};

}  // namespace nucleo::services
