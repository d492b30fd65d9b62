#pragma once

// People sign in with a password and get a browser session (ADR 0046, docs/api.md "Signing in (people)"):
// passwords are kept as argon2id hashes (libargon2), a session is a random secret in an
// HttpOnly cookie with a CSRF token beside it, and only SHA-256 of each is stored. API
// keys keep working for integrations; a session is one more way to be a user.

#include <optional>
#include <string>

#include "kernel/services/record_service.hpp"

namespace nucleo::services {

struct SignInSettings {
  std::int64_t session_hours = 12;      // auth.session_hours: a session's absolute lifetime
  int max_failed_sign_ins = 5;          // auth.max_failed_sign_ins: wrong passwords in a row before a lock
  std::int64_t lockout_minutes = 15;    // auth.lockout_minutes: how long a lock lasts
  std::size_t min_password_length = 12; // auth.min_password_length (at most 1,024)
};

// What a sign-in opens: the cookie's secret and the CSRF token (each given once, never
// stored), and {"id", "user_id", "role", "expires_at"}.
struct OpenedSession {
  std::string secret;
  std::string csrf_token;
  Json session;
};

// The session id a cookie's secret claims ("ses_…"), or empty when it is not shaped like
// a Nucleo session secret (`nss_<id body>_<64 hex>`).
std::string session_id_of_secret(const std::string& secret);

class SignInService {
 public:
  SignInService(ServiceDependencies deps, SignInSettings settings) : deps_(deps), settings_(settings) {}

  // Sets `user_id`'s password. The user themselves gives `current` (when one is set);
  // an admin (or the command line) resets another's without it. Every session of the
  // user is signed out but the caller's own. Audited as user.password_set — never the
  // password or its hash. A password shorter than min_password_length, longer than 1,024
  // bytes or not UTF-8 is refused naming "password".
  void set_password(const CallContext& ctx, const std::string& user_id, const std::string& password,
                    const std::optional<std::string>& current);

  // `email` and `password` of an active user of ctx's tenant → a new session (audited as
  // user.signed_in). A wrong password or an unknown e-mail is the same
  // Error(unauthenticated); the user's failed attempts are counted (user.sign_in_failed)
  // and, at max_failed_sign_ins in a row, the user is locked for lockout_minutes
  // (Error(rate_limited) until then, even with the right password).
  OpenedSession sign_in(const CallContext& ctx, const std::string& email, const std::string& password);

  // Signs out the session the call was made with (user.signed_out); NOT_FOUND when the
  // call was not made with a session (an API key).
  void sign_out(const CallContext& ctx);

  // Signs out every open session of `user_id` (user.signed_out_everywhere): the user
  // themselves, or an admin for anyone. Answers how many were open.
  std::size_t sign_out_everywhere(const CallContext& ctx, const std::string& user_id);

  // When the session the call was made with expires, or none (an API key).
  std::optional<std::int64_t> session_expiry(const CallContext& ctx);

 private:
  ServiceDependencies deps_;
  SignInSettings settings_;
};

}  // namespace nucleo::services
