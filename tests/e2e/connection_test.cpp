// The connection layer of a real `nucleo serve`, spoken to byte by byte: no request
// may be read out of another's body (request smuggling), and idle, slow or greedy
// clients cannot keep others from being served (ADR 0018).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <thread>

#include "tests/e2e/api_fixture.hpp"
#include "tests/support/raw_socket.hpp"

namespace nucleo::test {
namespace {

using namespace std::chrono_literals;

class Connections : public ApiFixture {
 protected:
  // Short deadlines and small limits, so each case runs in a second or two.
  EnvironmentChanges server_environment() override {
    return {{"NUCLEO_HTTP_HEADER_TIMEOUT_MS", "1000"},   {"NUCLEO_HTTP_KEEP_ALIVE_TIMEOUT_MS", "1000"},
            {"NUCLEO_HTTP_BODY_TIMEOUT_MS", "1000"},     {"NUCLEO_HTTP_MIN_BODY_RATE", "1000000"},
            {"NUCLEO_HTTP_BODY_LIMIT", "4096"},          {"NUCLEO_HTTP_MAX_CONNECTIONS_PER_CLIENT", "40"},
            {"NUCLEO_LIMITS_RATE_PER_SECOND", "1"},      {"NUCLEO_LIMITS_RATE_BURST", "40"}};
  }

  void SetUp() override {
    ApiFixture::SetUp();
    account_id = call("POST", "/v1/accounts", admin, {{"legal_name", "Cooperativa Alvo"}}).body["id"];
  }

  // A complete, authenticated request for the account: what an attacker hides in a body.
  std::string hidden_request() const {
    return "GET /v1/accounts/" + account_id + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin + "\r\n\r\n";
  }
  static std::string with_body(const std::string& head, const std::string& body) {
    return head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  static std::string healthz() { return "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"; }

  // Sends `first` and then a /healthz on the same connection: the answers must be
  // `first`'s status and then /healthz's 200 — never the hidden request's account.
  void expect_body_is_never_a_request(const std::string& first, int status) {
    RawSocket s(port);
    ASSERT_TRUE(s.send(first + healthz()));
    std::string answers = s.read_until_quiet(1500ms);
    EXPECT_EQ(response_statuses(answers), (std::vector<int>{status, 200})) << answers;
    EXPECT_EQ(answers.find(account_id), std::string::npos) << "the hidden request was executed:\n" << answers;
  }

  // The server refuses the request and closes the connection without reading another.
  void expect_refused_and_closed(const std::string& request, int status) {
    RawSocket s(port);
    ASSERT_TRUE(s.send(request + hidden_request()));
    std::string answers = s.read_until_quiet(2500ms);
    EXPECT_EQ(response_statuses(answers), std::vector<int>{status}) << answers;
    EXPECT_NE(answers.find("Connection: close"), std::string::npos) << answers;
    EXPECT_EQ(answers.find(account_id), std::string::npos) << answers;
    EXPECT_TRUE(s.closed_within(3s));
  }

  std::string account_id;
};

TEST_P(Connections, AnUnreadBodyIsNeverParsedAsTheNextRequest_OnEveryEarlyAnswer) {
  const std::string hidden = hidden_request();
  const std::string json = "Content-Type: application/json\r\n";
  // 401: no credentials
  expect_body_is_never_a_request(with_body("POST /v1/accounts HTTP/1.1\r\nHost: x\r\n" + json, hidden), 401);
  // 404: no such route; 404 on a plugin route that is not loaded
  expect_body_is_never_a_request(with_body("POST /v1/nothing HTTP/1.1\r\nHost: x\r\n", hidden), 404);
  expect_body_is_never_a_request(
      with_body("POST /v1/x/com.example.none/hook HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin + "\r\n", hidden),
      404);
  // 405: the path exists, the method does not
  expect_body_is_never_a_request(with_body("PUT /v1/accounts HTTP/1.1\r\nHost: x\r\n", hidden), 405);
  // 415: a body that is not JSON
  expect_body_is_never_a_request(
      with_body("POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nAuthorization: Bearer " + admin +
                    "\r\n",
                hidden),
      415);
  // The same with a chunked body.
  std::string chunk_size = [&] {
    char hex[16];
    std::snprintf(hex, sizeof hex, "%zx", hidden.size());
    return std::string(hex);
  }();
  expect_body_is_never_a_request("POST /v1/nothing HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                     chunk_size + "\r\n" + hidden + "\r\n0\r\n\r\n",
                                 404);
  // 429: a key that has used up its burst.
  std::string key = user_key(h->tenant, "sales");
  for (int i = 0; i < 45; ++i) http_request(port, "GET", "/v1/accounts?limit=1", {{"Authorization", "Bearer " + key}});
  expect_body_is_never_a_request(
      with_body("POST /v1/accounts HTTP/1.1\r\nHost: x\r\n" + json + "Authorization: Bearer " + key + "\r\n", hidden),
      429);
}

TEST_P(Connections, AmbiguousFramingIsRefusedAndTheConnectionClosed) {
  const std::string hidden = hidden_request();
  const std::string size = std::to_string(hidden.size());
  // RFC 9112 §6.3: both Content-Length and Transfer-Encoding, in either order.
  expect_refused_and_closed("POST /v1/nothing HTTP/1.1\r\nHost: x\r\nContent-Length: " + size +
                                "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                            400);
  expect_refused_and_closed("POST /v1/nothing HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: " +
                                size + "\r\n\r\n0\r\n\r\n",
                            400);
  // Two different lengths; a coding other than chunked.
  expect_refused_and_closed("POST /v1/nothing HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: " + size +
                                "\r\n\r\n",
                            400);
  expect_refused_and_closed("POST /v1/nothing HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
  expect_refused_and_closed("GARBAGE\r\n\r\n", 400);
  // 413: declared too large (its body is never read) or found too large while chunked.
  expect_refused_and_closed("POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", 413);
  expect_refused_and_closed("POST /v1/accounts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2000\r\n" +
                                std::string(0x2000, 'x') + "\r\n0\r\n\r\n",
                            413);
  // 431: a head larger than http.header_limit.
  expect_refused_and_closed("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n", 431);
  EXPECT_EQ(http_request(port, "GET", "/healthz").status, 200);
}

TEST_P(Connections, PipelinedRequestsAreAnsweredInOrder) {
  RawSocket s(port);
  std::string get = "GET /v1/accounts/" + account_id + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin + "\r\n\r\n";
  ASSERT_TRUE(s.send(healthz() + get + "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + healthz()));
  std::string answers = s.read_until_quiet(1500ms);
  EXPECT_EQ(response_statuses(answers), (std::vector<int>{200, 200, 200, 200})) << answers;
  EXPECT_NE(answers.find(account_id), std::string::npos);
}

TEST_P(Connections, ExpectContinueGetsAnInterimAnswerBeforeTheBody) {
  RawSocket s(port);
  std::string body = Json{{"legal_name", "Continua Ltda"}}.dump();
  ASSERT_TRUE(s.send("POST /v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin +
                     "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n"));
  std::string interim = s.read_until_quiet(500ms);
  EXPECT_EQ(response_statuses(interim), std::vector<int>{100}) << interim;
  ASSERT_TRUE(s.send(body));
  EXPECT_EQ(response_statuses(s.read_until_quiet(1000ms)), std::vector<int>{201});
}

// Issue #26: a POST with neither Content-Length nor Transfer-Encoding has an empty body
// (RFC 9112 §6.3) and is answered at once — not after the body deadline, holding a
// worker meanwhile. Every action that takes no body: restores of accounts, users, teams.
TEST_P(Connections, ABodilessPostIsAnsweredAtOnce) {
  std::string user_id;
  user_key(h->tenant, "sales", &user_id);
  std::string team_id = call("POST", "/v1/teams", admin, {{"name", "Campo"}}).body["id"];
  for (const std::string& record : {"/v1/accounts/" + account_id, "/v1/users/" + user_id, "/v1/teams/" + team_id}) {
    ASSERT_EQ(call("DELETE", record, admin).status, 200) << record;
    RawSocket s(port);
    ASSERT_TRUE(s.send("POST " + record + "/restore HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin +
                       "\r\n\r\n"));
    // Quiet for 800 ms: before http.body_timeout_ms (1 s here) would end a wait for a body.
    std::string answer = s.read_until_quiet(800ms);
    EXPECT_EQ(response_statuses(answer), std::vector<int>{200}) << record << ": " << answer;
  }
}

TEST_P(Connections, SlowAndIdleClientsAreCutOffAtTheirDeadlines) {
  RawSocket idle(port);  // connects, never sends
  RawSocket trickle(port);
  ASSERT_TRUE(trickle.send("GET /healthz HTTP/1.1\r\n"));
  RawSocket slow_body(port);
  ASSERT_TRUE(slow_body.send("POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"legal"));
  RawSocket kept(port);
  ASSERT_TRUE(kept.send(healthz()));
  EXPECT_EQ(response_statuses(kept.read_until_quiet(300ms)), std::vector<int>{200});
  // One header byte every 200 ms does not keep the head's deadline (1 s) away.
  bool cut_off = false;
  for (int i = 0; i < 25 && !cut_off; ++i) {
    cut_off = !trickle.send("X");
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(cut_off || trickle.closed_within(1s));
  EXPECT_TRUE(idle.closed_within(3s));
  EXPECT_TRUE(slow_body.closed_within(3s));
  EXPECT_TRUE(kept.closed_within(3s));  // kept alive, then idle past http.keep_alive_timeout_ms
  auto metrics = http_request(port, "GET", "/metrics").body;
  EXPECT_NE(metrics.find("nucleo_http_timeouts_total"), std::string::npos);
}

// A thousand idle and slow connections cost no thread: /healthz and an ordinary client
// are answered while they are open, and one client address cannot hold more than its
// share (http.max_connections_per_client = 40 here).
TEST_P(Connections, ServingGoesOnWithAThousandIdleAndSlowConnectionsOpen) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = std::max<rlim_t>(limit.rlim_cur, std::min<rlim_t>(limit.rlim_max, 4096));
  setrlimit(RLIMIT_NOFILE, &limit);
  ASSERT_GE(limit.rlim_cur, 1200u) << "this test needs 1,200 open files";

  std::vector<RawSocket> open;
  for (int i = 0; i < 1000; ++i) {
    open.emplace_back(port, "127.0.0." + std::to_string(2 + i / 40));  // 25 clients × 40
    if (i % 4 == 0) open.back().send("GET /healthz HTTP/1.1\r\nHost");  // a quarter trickle a head
  }
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(http_request(port, "GET", "/healthz").status, 200);
    EXPECT_EQ(call("GET", "/v1/accounts/" + account_id, admin).status, 200);
    for (std::size_t i = 1; i < open.size(); i += 4) open[i].send("");
    std::this_thread::sleep_for(100ms);
  }
  // The 41st connection from a client that has 40 open is refused at once.
  RawSocket greedy(port, "127.0.0.2");
  std::string refused = greedy.read_until_quiet(1000ms);
  EXPECT_EQ(response_statuses(refused), std::vector<int>{503}) << refused;
  EXPECT_NE(refused.find("connections from 127.0.0.2"), std::string::npos) << refused;
  EXPECT_TRUE(greedy.closed_within(2s));
  auto metrics = http_request(port, "GET", "/metrics").body;
  EXPECT_NE(metrics.find("nucleo_http_connections_refused_total 1"), std::string::npos) << metrics;
}

// Issue #17: failed authentications are limited per client address (20 in a burst by
// default): past it the address gets 429 before any key is looked up — a valid one too —
// while other addresses are served.
TEST_P(Connections, RepeatedFailedAuthenticationIsRateLimitedPerAddress) {
  auto from = [&](const std::string& source, const std::string& key) {
    RawSocket s(port, source);
    s.send("GET /v1/accounts?limit=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " + key +
           "\r\n\r\n");
    return s.read_until_quiet(2000ms);
  };
  std::string wrong = "nuc_01m8xg3p4eesbre64jj63pb3pc_" + std::string(64, 'a');
  std::vector<int> statuses;
  for (int i = 0; i < 22; ++i) statuses.push_back(response_statuses(from("127.0.0.9", wrong)).at(0));
  EXPECT_EQ(statuses.front(), 401);
  EXPECT_EQ(statuses.back(), 429);
  std::string refused = from("127.0.0.9", admin);
  EXPECT_EQ(response_statuses(refused), std::vector<int>{429}) << refused;
  EXPECT_NE(refused.find("Retry-After: "), std::string::npos) << refused;
  EXPECT_EQ(response_statuses(from("127.0.0.10", admin)), std::vector<int>{200});
}

INSTANTIATE_TEST_SUITE_P(Backends, Connections, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         [](const auto& info) { return info.param == store::Backend::sqlite ? "sqlite" : "postgresql"; });

}  // namespace
}  // namespace nucleo::test
