#include "kernel/services/auth_service.hpp"

#include <atomic>

#include <algorithm>

#include "kernel/domain/digest.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/api_key_service.hpp"
#include "kernel/services/sign_in_service.hpp"
#include "kernel/store/sql.hpp"
#include "kernel/store/tenant_placement.hpp"

namespace nucleo::services {
namespace {

struct KeyRow {
  std::string tenant_id, role, user_id, secret_hash;
  bool integration = false;
  Json scopes = Json::array();
  std::optional<std::int64_t> expires_at, revoked_at;
};

std::optional<KeyRow> find_key(store::Database& db, const std::string& key_id) {
  return db.read("", [&](store::Transaction& tx) {
    std::optional<KeyRow> key;
    store::query(tx.session(),
                 "SELECT k.tenant_id, k.role, k.user_id, k.secret_hash, k.integration, k.scopes, k.expires_at,"
                 " k.revoked_at FROM api_keys k JOIN tenants t ON t.id = k.tenant_id"
                 " WHERE k.id = :p0 AND k.archived_at IS NULL AND t.archived_at IS NULL",
                 {key_id}, [&](const store::Row& row) {
                   KeyRow k;
                   k.tenant_id = store::required_text(row, 0);
                   k.role = store::required_text(row, 1);
                   k.user_id = store::text_at(row, 2).value_or("");
                   k.secret_hash = store::required_text(row, 3);
                   k.integration = store::integer_at(row, 4).value_or(0) != 0;
                   k.scopes = Json::parse(store::text_at(row, 5).value_or("[]"));
                   k.expires_at = store::integer_at(row, 6);
                   k.revoked_at = store::integer_at(row, 7);
                   key = k;
                 });
    return key;
  });
}

// A lookup by an id that names no tenant (an API key, a session cookie) where its tenant
// lives (ADR 0048): at home, or on the cluster the directory places the tenant on. A row
// found in an old copy a move kept — home's or another cluster's — is never the answer:
// a key revoked since the move must stay revoked.
template <class Lookup>
auto find_where_tenant_lives(store::Database& worker, Lookup lookup) -> decltype(lookup(worker)) {
  auto found = lookup(worker);
  store::TenantPlacement* placement = worker.placement();
  if (!placement) return found;
  if (found) {
    store::Database* there = placement->route(found->tenant_id, true, false);
    return there ? lookup(*there) : found;
  }
  for (const auto& cluster : placement->clusters())
    if (auto elsewhere = lookup(*cluster.worker))
      if (placement->route(elsewhere->tenant_id, true, false) == cluster.worker.get()) return elsewhere;
  return found;
}

struct UserRow {
  std::string id, role;
  bool active = false;
  std::vector<std::string> team_ids;
};

// The tenant's live users, or only `only_id` when given (the hot path: one row).
std::vector<UserRow> users_of(store::Database& db, const std::string& tenant_id, const std::string& only_id = "") {
  return db.read(tenant_id, [&](store::Transaction& tx) {
    std::vector<UserRow> users;
    std::string sql = "SELECT id, role, active, team_ids FROM users WHERE tenant_id = :p0 AND archived_at IS NULL";
    std::vector<store::SqlValue> values{tenant_id};
    if (!only_id.empty()) {
      sql += " AND id = :p1";
      values.push_back(only_id);
    }
    store::query(tx.session(), sql, values, [&](const store::Row& row) {
      UserRow u{store::required_text(row, 0), store::required_text(row, 1), store::integer_at(row, 2).value_or(0) != 0, {}};
      for (const auto& t : Json::parse(store::text_at(row, 3).value_or("[]")))
        if (t.is_string()) u.team_ids.push_back(t);
      users.push_back(std::move(u));
    });
    return users;
  });
}

// The caller and everyone who shares a team with them: whose records a sales,
// support or marketing user sees (docs/architecture.md §4).
std::vector<std::string> visible_owners(const std::vector<UserRow>& users, const UserRow& me) {
  std::vector<std::string> owners{me.id};
  for (const auto& u : users) {
    if (u.id == me.id) continue;
    bool shares_team = std::any_of(u.team_ids.begin(), u.team_ids.end(), [&](const std::string& t) {
      return std::find(me.team_ids.begin(), me.team_ids.end(), t) != me.team_ids.end();
    });
    if (shares_team) owners.push_back(u.id);
  }
  return owners;
}

// `principal` acts as user `me` with `role`: their teams, and for sales-like roles the
// owners whose records they see.
void act_as(Principal& principal, store::Database& db, const std::string& tenant_id, const UserRow& me,
            const std::string& role) {
  principal.user_id = me.id;
  principal.team_ids = me.team_ids;
  principal.role = role;
  if (role == "sales" || role == "support" || role == "marketing") {
    principal.restricted_to_owners = true;
    // Only sales-like roles need their teammates: load the tenant's users for them alone.
    principal.visible_owners = visible_owners(users_of(db, tenant_id), me);
  }
}

struct SessionRow {
  std::string tenant_id, user_id, secret_hash, csrf_hash;
  std::int64_t expires_at = 0;
  std::optional<std::int64_t> revoked_at;
};

// On the worker role, like a key: the cookie names no tenant.
std::optional<SessionRow> find_session(store::Database& db, const std::string& session_id) {
  return db.read("", [&](store::Transaction& tx) {
    std::optional<SessionRow> found;
    store::query(tx.session(),
                 "SELECT s.tenant_id, s.user_id, s.secret_hash, s.csrf_hash, s.expires_at, s.revoked_at"
                 " FROM user_sessions s JOIN tenants t ON t.id = s.tenant_id"
                 " WHERE s.id = :p0 AND t.archived_at IS NULL",
                 {session_id}, [&](const store::Row& r) {
                   found = SessionRow{store::required_text(r, 0), store::required_text(r, 1), store::required_text(r, 2),
                                      store::required_text(r, 3), store::required_integer(r, 4), store::integer_at(r, 5)};
                 });
    return found;
  });
}

Error unauthenticated(const std::string& why) {
  return Error(ErrorCode::unauthenticated, why);
}

// A user key acts with its own role while its user's role includes it; after the user
// is demoted, with the user's role when the key's includes it (an admin key of a sales
// user acts as sales); otherwise not at all.
std::string role_within_user(const std::string& key_id, const std::string& key_role, const std::string& user_role) {
  if (role_includes(user_role, key_role)) return key_role;
  if (role_includes(key_role, user_role)) return user_role;
  throw Error(ErrorCode::forbidden, "API key " + key_id + " has role " + key_role + ", which its user's role " +
                                        user_role + " does not include: create a new key");
}

}  // namespace

namespace {
std::atomic<std::uint64_t> access_changes{0};
}  // namespace

std::uint64_t access_generation() {
  return access_changes.load(std::memory_order_acquire);
}

void note_access_changed() {
  access_changes.fetch_add(1, std::memory_order_acq_rel);
}

std::optional<Authenticated> CredentialCache::find(const std::string& credential, Timestamp now) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(credential);
  if (it == entries_.end() || it->second.expires_at <= now.micros || it->second.generation != access_generation())
    return std::nullopt;
  return it->second.who;
}

void CredentialCache::store(const std::string& credential, const Authenticated& who,
                            std::optional<std::int64_t> key_expires_at, Timestamp now, std::uint64_t looked_up_at) {
  if (ttl_.count() <= 0) return;
  std::int64_t expires_at = now.micros + ttl_.count();
  if (key_expires_at) expires_at = std::min(expires_at, *key_expires_at);
  std::lock_guard lock(mutex_);
  // Many distinct live keys within one ttl is unusual; starting over keeps memory bounded.
  if (entries_.size() >= capacity_) entries_.clear();
  entries_[credential] = {who, expires_at, looked_up_at};
}

void CredentialCache::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
}

Authenticated AuthService::authenticate(const std::string& secret, const std::string& on_behalf_of, Timestamp now) {
  std::string key_id = key_id_of_secret(secret);
  if (key_id.empty()) throw unauthenticated("the bearer token is not a Nucleo API key");
  // The hash, not the secret, keys the cache: equal hashes mean the secret was checked.
  std::string secret_hash = sha256_hex(secret);
  std::string credential = secret_hash + "\n" + on_behalf_of;
  if (cache_ != nullptr)
    if (auto cached = cache_->find(credential, now)) return *cached;
  std::optional<std::int64_t> key_expires_at;
  std::uint64_t generation = access_generation();
  Authenticated who = look_up(secret_hash, key_id, on_behalf_of, now, key_expires_at);
  if (cache_ != nullptr) cache_->store(credential, who, key_expires_at, now, generation);
  return who;
}

Authenticated AuthService::look_up(const std::string& secret_hash, const std::string& key_id,
                                   const std::string& on_behalf_of, Timestamp now,
                                   std::optional<std::int64_t>& key_expires_at) {
  auto key = find_where_tenant_lives(deps_.worker_database, [&](store::Database& db) { return find_key(db, key_id); });
  if (!key || !constant_time_equal(secret_hash, key->secret_hash)) throw unauthenticated("unknown API key");
  key_expires_at = key->expires_at;
  if (key->revoked_at) throw unauthenticated("API key " + key_id + " was revoked");
  if (key->expires_at && *key->expires_at <= now.micros) throw unauthenticated("API key " + key_id + " has expired");

  auto principal = std::make_shared<Principal>();
  principal->key_id = key_id;
  principal->role = key->role;
  principal->scopes_apply = key->integration;
  for (const auto& s : key->scopes)
    if (s.is_string()) principal->scopes.push_back(s);

  std::string acting_user = key->user_id;
  if (!on_behalf_of.empty()) {
    if (!key->integration) throw Error(ErrorCode::forbidden, "On-Behalf-Of is for integration keys only");
    acting_user = on_behalf_of;
  }
  if (!acting_user.empty()) {
    auto found = users_of(deps_.database, key->tenant_id, acting_user);
    const UserRow* me = found.empty() ? nullptr : &found.front();
    if (me == nullptr || !me->active)
      throw on_behalf_of.empty() ? unauthenticated("the user of API key " + key_id + " is not active")
                                 : Error(ErrorCode::forbidden, "On-Behalf-Of names no active user: " + on_behalf_of);
    // On-Behalf-Of: the user's role, still bound by the key's scopes. A user key: its
    // own role, never more than its user's current one.
    act_as(*principal, deps_.database, key->tenant_id, *me,
           on_behalf_of.empty() ? role_within_user(key_id, key->role, me->role) : me->role);
  }
  return {key->tenant_id, Actor{"key", key_id, on_behalf_of}, principal};
}

Authenticated AuthService::authenticate_session(const std::string& secret, Timestamp now, std::string& csrf_hash) {
  std::string session_id = session_id_of_secret(secret);
  if (session_id.empty()) throw unauthenticated("the session cookie is not a Nucleo session");
  std::optional<SessionRow> session =
      find_where_tenant_lives(deps_.worker_database, [&](store::Database& db) { return find_session(db, session_id); });
  if (!session || !constant_time_equal(sha256_hex(secret), session->secret_hash))
    throw unauthenticated("unknown session: sign in again");
  if (session->revoked_at) throw unauthenticated("this session was signed out: sign in again");
  if (session->expires_at <= now.micros) throw unauthenticated("this session has expired: sign in again");
  auto found = users_of(deps_.database, session->tenant_id, session->user_id);
  if (found.empty() || !found.front().active) throw unauthenticated("the session's user is not active");
  auto principal = std::make_shared<Principal>();
  principal->key_id = session_id;
  act_as(*principal, deps_.database, session->tenant_id, found.front(), found.front().role);
  csrf_hash = session->csrf_hash;
  return {session->tenant_id, Actor{"user", session->user_id, ""}, principal};
}

}  // namespace nucleo::services
