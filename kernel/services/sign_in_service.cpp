#include "kernel/services/sign_in_service.hpp"

#include <argon2.h>

#include "kernel/domain/digest.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/domain/normalise.hpp"
#include "kernel/services/api_key_service.hpp"
#include "kernel/services/change.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

constexpr std::string_view secret_prefix = "nss_";
constexpr std::size_t max_password_bytes = 1024;

// argon2id at OWASP's first recommended setting (19 MiB, 2 passes, 1 lane): ~25 ms on
// the project's 2-core machines. The parameters travel in each encoded hash, so raising
// them later leaves older hashes verifiable (ADR 0046).
constexpr std::uint32_t argon2_passes = 2, argon2_memory_kib = 19 * 1024, argon2_lanes = 1;
constexpr std::size_t argon2_salt_bytes = 16, argon2_hash_bytes = 32;

std::string hash_password(const std::string& password) {
  std::string salt = random_hex(argon2_salt_bytes);  // 32 printable bytes, 128 bits of chance
  std::size_t length = argon2_encodedlen(argon2_passes, argon2_memory_kib, argon2_lanes,
                                         static_cast<std::uint32_t>(salt.size()), argon2_hash_bytes, Argon2_id);
  std::string encoded(length, '\0');
  int status = argon2id_hash_encoded(argon2_passes, argon2_memory_kib, argon2_lanes, password.data(), password.size(),
                                     salt.data(), salt.size(), argon2_hash_bytes, encoded.data(), encoded.size());
  if (status != ARGON2_OK) throw Error(ErrorCode::internal, std::string("argon2id: ") + argon2_error_message(status));
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool password_matches(const std::string& encoded, const std::string& password) {
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

// What an unknown e-mail is checked against, so that it costs what a known one does and
// the answer's time does not tell whether the address has an account.
const std::string& decoy_hash() {
  static const std::string decoy = hash_password(random_hex(16));
  return decoy;
}

struct Credential {
  std::string user_id, role, password_hash;
  bool active = false;
  int failed = 0;
  std::optional<std::int64_t> locked_until;
};

std::optional<Credential> credential_by_email(store::Transaction& tx, const std::string& tenant_id,
                                              const std::string& email) {
  std::optional<Credential> found;
  store::query(tx.session(),
               "SELECT u.id, u.role, u.active, c.password_hash, c.failed_logins, c.locked_until FROM users u"
               " LEFT JOIN user_credentials c ON c.user_id = u.id"
               " WHERE u.tenant_id = :p0 AND u.email = :p1 AND u.archived_at IS NULL",  // users_tenant_email
               {tenant_id, email}, [&](const store::Row& r) {
                 found = Credential{store::required_text(r, 0), store::required_text(r, 1),
                                    store::text_at(r, 3).value_or(""), store::integer_at(r, 2).value_or(0) != 0,
                                    static_cast<int>(store::integer_at(r, 4).value_or(0)), store::integer_at(r, 5)};
               });
  return found;
}

std::optional<std::string> password_hash_of(store::Transaction& tx, const std::string& tenant_id,
                                            const std::string& user_id) {
  std::optional<std::string> hash;
  store::query(tx.session(), "SELECT password_hash FROM user_credentials WHERE tenant_id = :p0 AND user_id = :p1",
               {tenant_id, user_id}, [&](const store::Row& r) { hash = store::required_text(r, 0); });
  return hash;
}

bool user_exists(store::Transaction& tx, const std::string& tenant_id, const std::string& user_id) {
  bool found = false;
  store::query(tx.session(), "SELECT 1 FROM users WHERE tenant_id = :p0 AND id = :p1 AND archived_at IS NULL",
               {tenant_id, user_id}, [&](const store::Row&) { found = true; });
  return found;
}

std::string acting_user(const CallContext& ctx) {
  return ctx.principal ? ctx.principal->user_id : std::string();
}

// Who may set another user's password or sign them out: an admin, an integration key
// (an identity provider deprovisioning someone; its scope users:write is checked by the
// route), the command line.
bool manages_users(const CallContext& ctx) {
  return !ctx.principal || ctx.principal->role == "admin" || ctx.principal->role == "integration";
}

bool is_session(const CallContext& ctx) {
  return ctx.principal && ctx.principal->key_id.rfind("ses_", 0) == 0;
}

// Signs out the user's open sessions but `keep`, in `tx`; answers how many.
std::size_t revoke_sessions(store::Transaction& tx, const std::string& tenant_id, const std::string& user_id,
                            const std::string& keep, std::int64_t now) {
  std::size_t open = 0;
  store::query(tx.session(),
               "SELECT count(*) FROM user_sessions WHERE tenant_id = :p0 AND user_id = :p1 AND id <> :p2"
               " AND revoked_at IS NULL AND expires_at > :p3",
               {tenant_id, user_id, keep, now}, [&](const store::Row& r) {
                 open = static_cast<std::size_t>(store::integer_at(r, 0).value_or(0));
               });
  store::execute(tx.session(),
                 "UPDATE user_sessions SET revoked_at = :p0 WHERE tenant_id = :p1 AND user_id = :p2 AND id <> :p3"
                 " AND revoked_at IS NULL",
                 {now, tenant_id, user_id, keep});
  return open;
}

Change user_change(std::string action, const std::string& user_id, Json changes) {
  Change c;
  c.action = std::move(action);
  c.entity_type = "user";
  c.entity_id = user_id;
  c.changes = std::move(changes);
  return c;
}

}  // namespace

std::string session_id_of_secret(const std::string& secret) {
  return id_of_secret(secret, secret_prefix, id_prefix::user_session);
}

void SignInService::set_password(const CallContext& ctx, const std::string& user_id, const std::string& password,
                                 const std::optional<std::string>& current) {
  bool self = acting_user(ctx) == user_id;
  if (!deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) { return user_exists(tx, ctx.tenant_id, user_id); }))
    throw Error(ErrorCode::not_found, "no user " + user_id);
  if (!self && !manages_users(ctx)) throw Error(ErrorCode::forbidden, "only an admin sets another user's password");
  if (password.size() < settings_.min_password_length || password.size() > max_password_bytes)
    throw Error(ErrorCode::validation,
                "a password has " + std::to_string(settings_.min_password_length) + " to 1024 characters",
                {{"password", "must have at least " + std::to_string(settings_.min_password_length) + " characters"}});
  std::string hash = hash_password(password);  // before the transaction: ~25 ms of CPU
  deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    if (!user_exists(tx, ctx.tenant_id, user_id)) throw Error(ErrorCode::not_found, "no user " + user_id);
    std::optional<std::string> stored = password_hash_of(tx, ctx.tenant_id, user_id);
    // Changing one's own password proves one knows it; an admin's reset does not need to.
    if (self && stored && !(current && password_matches(*stored, *current)))
      throw Error(ErrorCode::validation, "the current password is wrong",
                  {{"current_password", current ? "is wrong" : "is required to change your own password"}});
    std::int64_t now = ctx.now().micros;
    if (stored)
      store::execute(tx.session(),
                     "UPDATE user_credentials SET password_hash = :p0, set_at = :p1, failed_logins = 0,"
                     " locked_until = NULL WHERE tenant_id = :p2 AND user_id = :p3",
                     {hash, now, ctx.tenant_id, user_id});
    else
      store::execute(tx.session(),
                     "INSERT INTO user_credentials (user_id, tenant_id, password_hash, set_at) VALUES (:p0, :p1, :p2, :p3)",
                     {user_id, ctx.tenant_id, hash, now});
    std::size_t signed_out = revoke_sessions(tx, ctx.tenant_id, user_id, self && is_session(ctx) ? ctx.principal->key_id : "", now);
    commit_change(tx, ctx, user_change("user.password_set", user_id,
                                       {{"password", {{"from", stored ? "(set)" : "(none)"}, {"to", self ? "(changed)" : "(reset)"}}},
                                        {"sessions_signed_out", {{"from", nullptr}, {"to", signed_out}}}}));
  });
}

OpenedSession SignInService::sign_in(const CallContext& ctx, const std::string& email, const std::string& password) {
  std::int64_t now = ctx.now().micros;
  const Error wrong(ErrorCode::unauthenticated, "wrong e-mail or password");
  // Stored addresses are normalised on write: the same form finds the row by its index.
  std::optional<std::string> address = normalise_email(email);
  if (!address || password.size() > max_password_bytes) throw wrong;  // no such account can exist
  std::optional<Credential> found = deps_.database.read(
      ctx.tenant_id, [&](store::Transaction& tx) { return credential_by_email(tx, ctx.tenant_id, *address); });
  if (!found || found->password_hash.empty() || !found->active) {
    password_matches(decoy_hash(), password);
    throw wrong;
  }
  if (found->locked_until && *found->locked_until > now)
    throw Error(ErrorCode::rate_limited, "too many wrong passwords: this user is locked for " +
                                             std::to_string((*found->locked_until - now) / 60'000'000 + 1) +
                                             " more minute(s); an admin may reset the password");
  CallContext as_user = ctx;
  as_user.actor = Actor{"user", found->user_id, ""};
  if (!password_matches(found->password_hash, password)) {
    int failed = found->failed + 1;
    bool lock = failed >= settings_.max_failed_sign_ins;
    deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
      std::optional<std::int64_t> until;
      if (lock) until = now + settings_.lockout_minutes * 60'000'000;
      store::execute(tx.session(),
                     "UPDATE user_credentials SET failed_logins = :p0, locked_until = :p1 WHERE tenant_id = :p2 AND user_id = :p3",
                     {lock ? 0 : failed, until ? store::SqlValue{*until} : store::SqlValue{}, ctx.tenant_id, found->user_id});
      Json changes{{"failed_sign_ins", {{"from", found->failed}, {"to", failed}}}};
      if (until) changes["locked_until"] = {{"from", nullptr}, {"to", format_rfc3339(Timestamp{*until})}};
      CallContext unknown_person = ctx;  // whoever typed it: not known to be the user
      unknown_person.actor = Actor{"system", "sign-in", ""};
      commit_change(tx, unknown_person, user_change(lock ? "user.locked" : "user.sign_in_failed", found->user_id, changes));
    });
    throw wrong;
  }
  OpenedSession opened;
  Timestamp at = ctx.now();
  std::string id = generate_id(id_prefix::user_session, at);
  opened.secret = std::string(secret_prefix) + id.substr(id_prefix::user_session.size() + 1) + "_" + random_hex(32);
  opened.csrf_token = random_hex(32);
  std::int64_t expires = now + settings_.session_hours * 3'600'000'000;
  deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    store::execute(tx.session(),
                   "INSERT INTO user_sessions (id, tenant_id, user_id, secret_hash, csrf_hash, created_at, expires_at, source_ip)"
                   " VALUES (:p0, :p1, :p2, :p3, :p4, :p5, :p6, :p7)",
                   {id, ctx.tenant_id, found->user_id, sha256_hex(opened.secret), sha256_hex(opened.csrf_token), now,
                    expires, ctx.source_ip});
    if (found->failed > 0)
      store::execute(tx.session(), "UPDATE user_credentials SET failed_logins = 0 WHERE tenant_id = :p0 AND user_id = :p1",
                     {ctx.tenant_id, found->user_id});
    commit_change(tx, as_user, user_change("user.signed_in", found->user_id,
                                           {{"session", {{"from", nullptr}, {"to", id}}}}));
  });
  opened.session = {{"id", id},
                    {"user_id", found->user_id},
                    {"role", found->role},
                    {"expires_at", format_rfc3339(Timestamp{expires})}};
  return opened;
}

void SignInService::sign_out(const CallContext& ctx) {
  if (!is_session(ctx)) throw Error(ErrorCode::not_found, "this request was not made with a session (an API key has none)");
  deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    store::execute(tx.session(),
                   "UPDATE user_sessions SET revoked_at = :p0 WHERE tenant_id = :p1 AND id = :p2 AND revoked_at IS NULL",
                   {ctx.now().micros, ctx.tenant_id, ctx.principal->key_id});
    commit_change(tx, ctx, user_change("user.signed_out", acting_user(ctx),
                                       {{"session", {{"from", ctx.principal->key_id}, {"to", nullptr}}}}));
  });
}

std::size_t SignInService::sign_out_everywhere(const CallContext& ctx, const std::string& user_id) {
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    if (!user_exists(tx, ctx.tenant_id, user_id)) throw Error(ErrorCode::not_found, "no user " + user_id);
    if (acting_user(ctx) != user_id && !manages_users(ctx))
      throw Error(ErrorCode::forbidden, "only an admin signs another user out");
    std::size_t open = revoke_sessions(tx, ctx.tenant_id, user_id, "", ctx.now().micros);
    commit_change(tx, ctx, user_change("user.signed_out_everywhere", user_id,
                                       {{"sessions_signed_out", {{"from", nullptr}, {"to", open}}}}));
    return open;
  });
}

std::optional<std::int64_t> SignInService::session_expiry(const CallContext& ctx) {
  if (!is_session(ctx)) return std::nullopt;
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    std::optional<std::int64_t> expires;
    store::query(tx.session(), "SELECT expires_at FROM user_sessions WHERE tenant_id = :p0 AND id = :p1",
                 {ctx.tenant_id, ctx.principal->key_id},
                 [&](const store::Row& r) { expires = store::required_integer(r, 0); });
    return expires;
  });
}

}  // namespace nucleo::services
