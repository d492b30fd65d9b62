// Issue #34, people sign in (ADR 0046), over real HTTP on both backends: a password an
// admin sets opens a session held in an HttpOnly cookie; the cookie works wherever an API
// key does, writes need the session's CSRF token, a fixed session id cannot be planted,
// wrong passwords lock the user, and signing out — here, everywhere, or by a password
// change — ends sessions at once.
#include <fstream>

#include "tests/e2e/api_fixture.hpp"

namespace nucleo::test {
namespace {

class SignIn : public ApiFixture {
 protected:
  // A user of `role` with a password; their e-mail in `email`.
  std::string person(const std::string& role, std::string& email, const std::string& password = "cafe com leite 42") {
    std::string id;
    user_key(h->tenant, role, &id);
    auto user = call("GET", "/v1/users/" + id, admin);
    EXPECT_EQ(user.status, 200) << user.raw.body;
    email = user.body["email"];
    auto set = call("PUT", "/v1/users/" + id + "/password", admin, {{"password", password}});
    EXPECT_EQ(set.status, 200) << set.raw.body;
    return id;
  }

  struct Session {
    std::string cookie, csrf;
    Reply reply;
  };
  Session sign_in(const std::string& email, const std::string& password, std::map<std::string, std::string> headers = {},
                  const std::string& tenant = "") {
    Session s;
    s.reply = call("POST", "/v1/sessions", "", {{"tenant_id", tenant.empty() ? h->tenant : tenant}, {"email", email},
                                                {"password", password}},
                   std::move(headers));
    std::string set_cookie = s.reply.raw.header("Set-Cookie");
    s.cookie = set_cookie.substr(0, set_cookie.find(';'));
    s.csrf = s.reply.body.value("csrf_token", "");
    return s;
  }
  Reply as(const Session& s, const std::string& method, const std::string& path, const Json& body = nullptr,
           bool with_csrf = true) {
    std::map<std::string, std::string> headers{{"Cookie", s.cookie}};
    if (with_csrf) headers["X-CSRF-Token"] = s.csrf;
    return call(method, path, "", body, headers);
  }
};

TEST_P(SignIn, APasswordOpensASessionThatActsAsTheUserAndWritesOnlyWithItsCsrfToken) {
  std::string email;
  std::string id = person("sales", email);
  std::string typed = "  " + email + " ";  // as a person types it: spaces, capitals
  for (auto& c : typed) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  Session s = sign_in(typed, "cafe com leite 42");
  ASSERT_EQ(s.reply.status, 201) << s.reply.raw.body;
  std::string set_cookie = s.reply.raw.header("Set-Cookie");
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos) << set_cookie;
  EXPECT_EQ(set_cookie.find("Secure"), std::string::npos) << "served over plain HTTP: " << set_cookie;
  EXPECT_EQ(s.cookie.rfind("nucleo_session=nss_", 0), 0u) << s.cookie;
  EXPECT_EQ(s.reply.body["session"]["user_id"], id);
  EXPECT_EQ(s.csrf.size(), 64u);

  auto me = as(s, "GET", "/v1/sessions/current", nullptr, false);
  ASSERT_EQ(me.status, 200) << me.raw.body;
  EXPECT_EQ(me.body["user_id"], id);
  EXPECT_EQ(me.body["role"], "sales");
  EXPECT_EQ(me.body["session_id"], s.reply.body["session"]["id"]);
  EXPECT_EQ(call("GET", "/v1/sessions/current", admin).body["session_id"], nullptr) << "an API key has no session";

  // Reads need no token; a write without it (what another site's form would send) or
  // with a wrong one is refused; with it, it is the user's, audited as them.
  EXPECT_EQ(as(s, "GET", "/v1/accounts", nullptr, false).status, 200);
  Json account{{"legal_name", "Cooperativa Agro Sul"}};
  EXPECT_EQ(as(s, "POST", "/v1/accounts", account, false).status, 403);
  Session forged = s;
  forged.csrf = std::string(64, 'a');
  EXPECT_EQ(as(forged, "POST", "/v1/accounts", account).status, 403);
  auto made = as(s, "POST", "/v1/accounts", account);
  ASSERT_EQ(made.status, 201) << made.raw.body;
  EXPECT_EQ(made.body["owner_id"], id);
  Json trail = until("/v1/audit/events?action=account.created", [](const Json& p) { return !p["data"].empty(); });
  EXPECT_EQ(trail["data"][0]["leaf"]["actor"]["type"], "user") << trail["data"][0].dump();
  EXPECT_EQ(trail["data"][0]["leaf"]["actor"]["id"], id);
  // The session's role bounds it like a key's: a sales user administers nothing.
  EXPECT_EQ(as(s, "POST", "/v1/users", {{"name", "X"}, {"email", "x@example.com"}, {"role", "admin"}}).status, 403);

  // Signing out ends it at once; its cookie is cleared.
  auto out = as(s, "DELETE", "/v1/sessions/current");
  ASSERT_EQ(out.status, 200) << out.raw.body;
  EXPECT_NE(out.raw.header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(as(s, "GET", "/v1/sessions/current", nullptr, false).status, 401);
  EXPECT_EQ(call("DELETE", "/v1/sessions/current", admin).status, 404) << "an API key signs nothing out";
}

// A session id chosen by someone else (session fixation) is never adopted: a sign-in
// always opens a new one, and the planted value authenticates nothing.
TEST_P(SignIn, APlantedSessionCookieIsNeitherKeptNorAccepted) {
  std::string email;
  person("manager", email);
  std::string planted = "nucleo_session=nss_01m8xg3p4eesbre64jj63pb3pc_" + std::string(64, '0');
  Session s = sign_in(email, "cafe com leite 42", {{"Cookie", planted}});
  ASSERT_EQ(s.reply.status, 201) << s.reply.raw.body;
  EXPECT_NE(s.cookie, planted);
  Session attacker{planted, s.csrf, {}};
  EXPECT_EQ(as(attacker, "GET", "/v1/sessions/current", nullptr, false).status, 401);
  EXPECT_EQ(as(attacker, "POST", "/v1/accounts", {{"legal_name", "X"}}).status, 401);
  EXPECT_EQ(as(s, "GET", "/v1/sessions/current", nullptr, false).status, 200);
}

TEST_P(SignIn, WrongPasswordsLockTheUserUntilAnAdminResetsIt) {
  std::string email;
  std::string id = person("support", email);
  // An unknown address and a wrong password get the same answer.
  auto unknown = sign_in("ninguem@example.com", "cafe com leite 42").reply;
  auto wrong = sign_in(email, "cafe com leite 43").reply;
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.body["detail"], wrong.body["detail"]);
  EXPECT_EQ(sign_in(email, std::string(5000, 'x')).reply.status, 401) << "an oversized password is only wrong";
  EXPECT_EQ(sign_in("not an address", "cafe com leite 42").reply.status, 401);
  for (const char* guess : {"senha errada 2", "senha errada 3", "senha errada 4", "senha errada 5"})
    EXPECT_EQ(sign_in(email, guess).reply.status, 401);
  auto locked = sign_in(email, "cafe com leite 42").reply;
  EXPECT_EQ(locked.status, 429) << locked.raw.body;
  EXPECT_NE(locked.raw.body.find("locked"), std::string::npos) << locked.raw.body;
  Json trail = until("/v1/audit/events?action=user.locked", [](const Json& p) { return !p["data"].empty(); });
  EXPECT_EQ(trail["data"][0]["leaf"]["entity"]["id"], id);
  EXPECT_EQ(trail["data"][0]["leaf"]["changes"].dump().find("cafe"), std::string::npos) << "never a password";

  // Another tenant's sign-in page does not know this user.
  std::string other = h->create_tenant("Outra");
  EXPECT_EQ(sign_in(email, "cafe com leite 42", {}, other).reply.status, 401);

  ASSERT_EQ(call("PUT", "/v1/users/" + id + "/password", admin, {{"password", "nova senha segura 7"}}).status, 200);
  EXPECT_EQ(sign_in(email, "nova senha segura 7").reply.status, 201);
  EXPECT_EQ(call("PUT", "/v1/users/" + id + "/password", admin, {{"password", "curta"}}).status, 422);
}

TEST_P(SignIn, APasswordChangeOrSigningOutEverywhereEndsTheOtherSessions) {
  std::string email;
  std::string id = person("marketing", email);
  Session laptop = sign_in(email, "cafe com leite 42"), phone = sign_in(email, "cafe com leite 42");
  ASSERT_EQ(laptop.reply.status, 201);
  ASSERT_EQ(phone.reply.status, 201);
  // One's own password needs the current one.
  EXPECT_EQ(as(laptop, "PUT", "/v1/users/" + id + "/password", {{"password", "outra senha longa 1"}}).status, 422);
  EXPECT_EQ(as(laptop, "PUT", "/v1/users/" + id + "/password",
               {{"password", "outra senha longa 1"}, {"current_password", "errada errada"}}).status, 422);
  auto changed = as(laptop, "PUT", "/v1/users/" + id + "/password",
                    {{"password", "outra senha longa 1"}, {"current_password", "cafe com leite 42"}});
  ASSERT_EQ(changed.status, 200) << changed.raw.body;
  EXPECT_EQ(as(phone, "GET", "/v1/sessions/current", nullptr, false).status, 401) << "the other session ended";
  EXPECT_EQ(as(laptop, "GET", "/v1/sessions/current", nullptr, false).status, 200) << "the one that changed it goes on";
  // Nobody but an admin sets another's password or signs them out.
  std::string other_email;
  std::string other = person("sales", other_email);
  EXPECT_EQ(as(laptop, "PUT", "/v1/users/" + other + "/password", {{"password", "tomada de conta 1"}}).status, 403);
  EXPECT_EQ(as(laptop, "DELETE", "/v1/users/" + other + "/sessions").status, 403);

  auto everywhere = call("DELETE", "/v1/users/" + id + "/sessions", admin);
  ASSERT_EQ(everywhere.status, 200) << everywhere.raw.body;
  EXPECT_EQ(everywhere.body["sessions_signed_out"], 1);
  EXPECT_EQ(as(laptop, "GET", "/v1/sessions/current", nullptr, false).status, 401);
  EXPECT_EQ(call("DELETE", "/v1/users/usr_01m8xg3p4eesbre64jj63pb3pc/sessions", admin).status, 404);
}

// The first admin's way in: a password set from the command line, read from standard
// input (never an argument, which `ps` would show).
TEST_P(SignIn, TheCommandLineSetsAPasswordFromStandardInput) {
  std::string id;
  user_key(h->tenant, "admin", &id);
  std::string email = call("GET", "/v1/users/" + id, admin).body["email"];
  EnvironmentChanges env{{"NUCLEO_STORE_URL", h->db.app_url}, {"NUCLEO_STORE_WORKER_URL", h->db.worker_url},
                         {"NUCLEO_STORE_OWNER_URL", h->db.owner_url}};
  auto set = [&](const std::string& password) {
    return run_process({"/bin/sh", "-c", "printf '%s\\n' \"$0\" | \"$1\" user set-password --tenant \"$2\" --user \"$3\"",
                        password, NUCLEO_BINARY, h->tenant, id},
                       env, std::chrono::minutes(1));
  };
  auto ok = set("primeiro acesso 2026");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("password_set=" + id), std::string::npos) << ok.out;
  EXPECT_EQ(sign_in(email, "primeiro acesso 2026").reply.status, 201);
  auto short_one = set("curta");
  EXPECT_NE(short_one.exit_code, 0);
  EXPECT_NE(short_one.err.find("password"), std::string::npos) << short_one.err;
}

TEST_P(SignIn, WithoutTrustedProxiesXForwardedForIsIgnored) {
  std::string email;
  person("sales", email);
  auto opened = sign_in(email, "cafe com leite 42", {{"X-Forwarded-For", "10.77.0.9"}});
  ASSERT_EQ(opened.reply.status, 201) << opened.reply.raw.body;
  Json trail = until("/v1/audit/events?action=user.signed_in", [](const Json& p) { return !p["data"].empty(); });
  EXPECT_EQ(trail["data"][0]["leaf"]["source_ip"], "127.0.0.1") << "a client cannot choose its own address";
}

// Behind a TLS proxy (http.trusted_proxies): each client is counted by the address the
// proxy forwards, not all of them as the proxy; a client that is not a trusted proxy
// cannot pick its own address with the header.
class SignInBehindAProxy : public SignIn {
 protected:
  void SetUp() override {
    std::ofstream(config.path() + "/nucleo.properties")
        << "http.trusted_proxies = 127.0.0.1\nlimits.auth_failures_per_minute = 3\n";
    SignIn::SetUp();
  }
  std::vector<std::string> server_arguments() override { return {"--config", config.path() + "/nucleo.properties"}; }
  TempDir config;
};

TEST_P(SignInBehindAProxy, FailedSignInsAreCountedPerForwardedClient) {
  std::string email;
  person("sales", email);
  auto from = [](const std::string& chain) { return std::map<std::string, std::string>{{"X-Forwarded-For", chain}}; };
  // The proxy appends the address it saw; whatever the client wrote before it is ignored.
  for (const char* chain : {"10.77.0.5", "1.2.3.4, 10.77.0.5", "garbage, 10.77.0.5"})
    EXPECT_EQ(sign_in(email, "senha errada", from(chain)).reply.status, 401);
  auto limited = sign_in(email, "cafe com leite 42", from("10.77.0.5")).reply;
  EXPECT_EQ(limited.status, 429) << limited.raw.body;
  EXPECT_NE(limited.raw.body.find("10.77.0.5"), std::string::npos) << limited.raw.body;
  // Another client behind the same proxy is not held back by the first.
  auto other = sign_in(email, "cafe com leite 42", from("10.77.0.6"));
  EXPECT_EQ(other.reply.status, 201) << other.reply.raw.body;
  Json trail = until("/v1/audit/events?action=user.signed_in", [](const Json& p) { return !p["data"].empty(); });
  EXPECT_EQ(trail["data"][0]["leaf"]["source_ip"], "10.77.0.6");
}

INSTANTIATE_TEST_SUITE_P(Backends, SignIn, testing::Values(store::Backend::sqlite, store::Backend::postgresql), BackendName());
INSTANTIATE_TEST_SUITE_P(Backends, SignInBehindAProxy, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

}  // namespace
}  // namespace nucleo::test
