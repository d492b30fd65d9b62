// The HTTP API over real sockets against a `nucleo serve` process, on SQLite and on
// PostgreSQL (issue #4).
#include <atomic>
#include <fstream>
#include <sstream>
#include <set>
#include <thread>

#include "kernel/audit/audit_log.hpp"
#include "kernel/audit/canonical_json.hpp"
#include "kernel/audit/checkpoint.hpp"
#include "kernel/services/privacy_service.hpp"
#include "kernel/services/sales_process_service.hpp"
#include "kernel/services/channel_account_service.hpp"
#include "kernel/services/conversation_service.hpp"
#include "kernel/services/webhook_service.hpp"
#include "kernel/services/api_key_service.hpp"
#include "kernel/store/sql.hpp"
#include "kernel/services/import_jobs.hpp"
#include "tests/e2e/api_fixture.hpp"

namespace nucleo::test {
namespace {

class Api : public ApiFixture {
 protected:
  std::string create(const std::string& collection, const Json& body, const std::string& key = "") {
    auto r = call("POST", "/v1/" + collection, key.empty() ? admin : key, body);
    EXPECT_EQ(r.status, 201) << collection << ": " << r.raw.body;
    return r.body.value("id", "");
  }

  // A valid creation body for each resource, with whatever it references created first.
  Json body_for(const std::string& collection) {
    if (collection == "accounts") return {{"legal_name", "Cooperativa Agro"}};
    if (collection == "contacts") return {{"name", "Ana Souza"}, {"phone", "(11) 98765-4321"}};
    if (collection == "users")
      return {{"name", "New User"}, {"email", "new" + std::to_string(++unique_) + "@x.com"}, {"role", "sales"}};
    if (collection == "teams") return {{"name", "Sul"}};
    if (collection == "pipelines") return {{"name", "Vendas"}};
    if (collection == "stages") return {{"pipeline_id", pipeline()}, {"name", "Qualificação"}, {"position", 0}};
    if (collection == "deals")
      return {{"name", "Safra"}, {"account_id", create("accounts", body_for("accounts"))}, {"pipeline_id", pipeline()}};
    if (collection == "interactions") return {{"type", "note"}, {"direction", "internal"}, {"body", "visita"}};
    if (collection == "tasks") return {{"title", "Ligar"}};
    if (collection == "products") return {{"name", "Semente"}, {"price", 1999}};
    ADD_FAILURE() << "no body for " << collection;
    return {};
  }

  // A pipeline with one stage (deals need one).
  std::string pipeline() {
    if (!pipeline_.empty()) return pipeline_;
    pipeline_ = create("pipelines", {{"name", "Default"}});
    create("stages", {{"pipeline_id", pipeline_}, {"name", "Nova"}, {"position", 0}});
    return pipeline_;
  }

  std::string pipeline_;
  int unique_ = 0;
};

const std::vector<std::pair<std::string, Json>> patches = {
    {"accounts", {{"trade_name", "Coop"}}},  {"contacts", {{"job_title", "CFO"}}},
    {"users", {{"name", "Renamed"}}},        {"teams", {{"name", "Norte"}}},
    {"pipelines", {{"name", "Renovações"}}}, {"stages", {{"probability", 40}}},
    {"deals", {{"amount", 500000}}},         {"interactions", {{"subject", "Visita"}}},
    {"tasks", {{"kind", "reminder"}}},       {"products", {{"price", 2999}}}};

TEST_P(Api, EveryResourceSupportsCreateReadPatchArchiveRestoreList) {
  for (const auto& [collection, patch] : patches) {
    SCOPED_TRACE(collection);
    std::string id = create(collection, body_for(collection));
    ASSERT_FALSE(id.empty());
    auto read = call("GET", "/v1/" + collection + "/" + id, admin);
    EXPECT_EQ(read.status, 200);
    EXPECT_EQ(read.raw.header("ETag"), "\"1\"");

    auto patched = call("PATCH", "/v1/" + collection + "/" + id, admin, patch, {{"If-Match", "\"1\""}});
    EXPECT_EQ(patched.status, 200) << patched.raw.body;
    EXPECT_EQ(patched.raw.header("ETag"), "\"2\"");
    for (const auto& [field, value] : patch.items()) EXPECT_EQ(patched.body[field], value);

    auto archived = call("DELETE", "/v1/" + collection + "/" + id, admin);
    EXPECT_EQ(archived.status, 200);
    EXPECT_FALSE(archived.body["archived_at"].is_null());
    auto listed = call("GET", "/v1/" + collection + "?limit=200", admin);
    for (const auto& row : listed.body["data"]) EXPECT_NE(row["id"], id) << "archived row listed";

    auto restored = call("POST", "/v1/" + collection + "/" + id + "/restore", admin);
    EXPECT_EQ(restored.status, 200);
    EXPECT_TRUE(restored.body["archived_at"].is_null());
    auto again = call("GET", "/v1/" + collection + "?limit=200", admin);
    bool found = false;
    for (const auto& row : again.body["data"]) found = found || row["id"] == id;
    EXPECT_TRUE(found);
  }
}

TEST_P(Api, DealStageMovesAndTaskCompletionHaveTheirOwnRoutes) {
  std::string pipeline_id = pipeline();
  std::string won =
      create("stages", {{"pipeline_id", pipeline_id}, {"name", "Ganho"}, {"position", 9}, {"kind", "won"}});
  std::string deal = create("deals", body_for("deals"));
  auto moved = call("POST", "/v1/deals/" + deal + "/stage", admin, {{"stage_id", won}}, {{"If-Match", "\"1\""}});
  EXPECT_EQ(moved.status, 200) << moved.raw.body;
  EXPECT_EQ(moved.body["status"], "won");
  EXPECT_EQ(call("POST", "/v1/deals/" + deal + "/stage", admin, {{"stage", "x"}}).status, 422);

  std::string task = create("tasks", {{"title", "Follow up"}});
  auto done = call("POST", "/v1/tasks/" + task + "/complete", admin);
  EXPECT_EQ(done.status, 200);
  EXPECT_EQ(done.body["status"], "done");
}

// The board's column headers (the web console's pipeline board): open deals per stage
// in position order, their value per currency, only what the caller may see.
TEST_P(Api, ThePipelineBoardCountsTheOpenDealsEachCallerMaySee) {
  std::string rosa_id, bia_id;
  std::string rosa = user_key(h->tenant, "sales", &rosa_id);
  user_key(h->tenant, "sales", &bia_id);
  std::string pipeline_id = create("pipelines", {{"name", "Sementes"}});
  std::string later = create("stages", {{"pipeline_id", pipeline_id}, {"name", "Proposta"}, {"position", 2},
                                        {"entry_criteria", {{{"kind", "field"}, {"field", "amount"}, {"op", "exists"}}}}});
  std::string first = create("stages", {{"pipeline_id", pipeline_id}, {"name", "Contato"}, {"position", 1}});
  std::string won = create("stages", {{"pipeline_id", pipeline_id}, {"name", "Ganho"}, {"position", 3}, {"kind", "won"}});
  std::string account = create("accounts", {{"legal_name", "Fazenda Boa Vista"}});
  auto deal = [&](const std::string& stage, std::int64_t amount, const std::string& currency, const std::string& owner) {
    return create("deals", {{"name", "D"}, {"account_id", account}, {"pipeline_id", pipeline_id}, {"stage_id", stage},
                            {"amount", amount}, {"currency", currency}, {"owner_id", owner}});
  };
  deal(first, 150000000, "BRL", rosa_id);
  deal(first, 50000, "USD", bia_id);
  deal(later, 1000, "BRL", rosa_id);
  std::string closed = deal(later, 7000, "BRL", rosa_id);
  ASSERT_EQ(call("POST", "/v1/deals/" + closed + "/stage", admin, {{"stage_id", won}}).status, 200);
  std::string archived = deal(first, 9, "BRL", rosa_id);
  ASSERT_EQ(call("DELETE", "/v1/deals/" + archived, admin).status, 200);

  auto board = call("GET", "/v1/pipelines/" + pipeline_id + "/board", admin);
  ASSERT_EQ(board.status, 200) << board.raw.body;
  const Json& columns = board.body["stages"];
  ASSERT_EQ(columns.size(), 3u);
  EXPECT_EQ(columns[0]["id"], first);  // by position, not by creation
  EXPECT_EQ(columns[0]["open_deals"], 2);
  EXPECT_EQ(columns[0]["amounts"], Json::parse(R"([{"currency": "BRL", "amount": 150000000},
                                                    {"currency": "USD", "amount": 50000}])"));
  EXPECT_EQ(columns[1]["gated"], true);
  EXPECT_EQ(columns[1]["open_deals"], 1);  // the won deal is no longer open
  EXPECT_EQ(columns[2]["kind"], "won");
  EXPECT_EQ(columns[2]["open_deals"], 0);
  EXPECT_EQ(board.body["pipeline"]["name"], "Sementes");

  // A rep counts her own deals (and unowned ones), not a colleague's.
  auto hers = call("GET", "/v1/pipelines/" + pipeline_id + "/board", rosa);
  ASSERT_EQ(hers.status, 200) << hers.raw.body;
  EXPECT_EQ(hers.body["stages"][0]["open_deals"], 1);
  EXPECT_EQ(hers.body["stages"][0]["amounts"].size(), 1u);

  EXPECT_EQ(call("GET", "/v1/pipelines/pipe_00000000000000000000000000/board", admin).status, 404);
  std::string other = h->create_tenant("Outra");
  EXPECT_EQ(call("GET", "/v1/pipelines/" + pipeline_id + "/board", user_key(other, "admin")).status, 404);
}

// API keys over HTTP (the console's administration): the secret once, never its hash,
// revoked at once; a key bound by scopes mints only integration keys within its own.
TEST_P(Api, AdminsManageApiKeysAndNoKeyMintsMoreThanItHolds) {
  std::string ana_id;
  user_key(h->tenant, "sales", &ana_id);
  auto made = call("POST", "/v1/keys", admin, {{"name", "erp"}, {"role", "integration"}, {"integration", true},
                                               {"scopes", {"deals:read"}}});
  ASSERT_EQ(made.status, 201) << made.raw.body;
  std::string secret = made.body["secret"], id = made.body["key"]["id"];
  EXPECT_EQ(made.body["key"].count("secret_hash"), 0u);
  EXPECT_EQ(call("GET", "/v1/deals", secret).status, 200);
  EXPECT_EQ(call("GET", "/v1/accounts", secret).status, 403);
  auto hers = call("POST", "/v1/keys", admin, {{"name", "celular"}, {"role", "sales"}, {"user_id", ana_id}});
  ASSERT_EQ(hers.status, 201) << hers.raw.body;
  EXPECT_EQ(call("POST", "/v1/keys", admin, {{"name", "x"}, {"role", "admin"}, {"user_id", ana_id}}).status, 422)
      << "a user key never outranks its user";

  auto listed = call("GET", "/v1/keys", auditor);
  ASSERT_EQ(listed.status, 200) << listed.raw.body;
  EXPECT_EQ(listed.raw.body.find("secret"), std::string::npos);
  EXPECT_NE(listed.raw.body.find(id), std::string::npos);
  EXPECT_EQ(call("POST", "/v1/keys", manager, {{"name", "x"}, {"role", "integration"}, {"integration", true}}).status, 403);

  auto revoked = call("POST", "/v1/keys/" + id + "/revoke", admin);
  ASSERT_EQ(revoked.status, 200) << revoked.raw.body;
  EXPECT_FALSE(revoked.body["revoked_at"].is_null());
  EXPECT_EQ(call("GET", "/v1/deals", secret).status, 401);
  EXPECT_EQ(call("POST", "/v1/keys/key_00000000000000000000000000/revoke", admin).status, 404);

  // An integration key acting for an admin holds keys:write and deals:read only.
  std::string boss;
  user_key(h->tenant, "admin", &boss);
  std::string bound = integration_key(h->tenant, {"api_keys:write", "deals:read"});
  std::map<std::string, std::string> as_boss{{"On-Behalf-Of", boss}};
  auto narrower = call("POST", "/v1/keys", bound, {{"name", "n"}, {"role", "integration"}, {"integration", true},
                                                   {"scopes", {"deals:read"}}}, as_boss);
  EXPECT_EQ(narrower.status, 201) << narrower.raw.body;
  auto wider = call("POST", "/v1/keys", bound, {{"name", "w"}, {"role", "integration"}, {"integration", true},
                                                {"scopes", {"*"}}}, as_boss);
  EXPECT_EQ(wider.status, 403) << wider.raw.body;
  auto user = call("POST", "/v1/keys", bound, {{"name", "u"}, {"role", "admin"}, {"user_id", boss}}, as_boss);
  EXPECT_EQ(user.status, 403) << user.raw.body;
}

TEST_P(Api, StaleIfMatchIsRefusedWith412) {
  std::string id = create("accounts", body_for("accounts"));
  EXPECT_EQ(call("PATCH", "/v1/accounts/" + id, admin, {{"trade_name", "A"}}, {{"If-Match", "\"1\""}}).status, 200);
  auto stale = call("PATCH", "/v1/accounts/" + id, admin, {{"trade_name", "B"}}, {{"If-Match", "\"1\""}});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(call("DELETE", "/v1/accounts/" + id, admin, nullptr, {{"If-Match", "\"7\""}}).status, 412);
  EXPECT_EQ(call("PATCH", "/v1/accounts/" + id, admin, {{"trade_name", "B"}}, {{"If-Match", "garbage"}}).status, 412);
  EXPECT_EQ(call("GET", "/v1/accounts/" + id, admin).body["trade_name"], "A");
}

TEST_P(Api, IdempotencyKeyReplaysAndRefusesOtherBodiesPerCredentialAndOperation) {
  Json body = {{"legal_name", "Once Only"}};
  auto first = call("POST", "/v1/accounts", admin, body, {{"Idempotency-Key", "k-1"}});
  ASSERT_EQ(first.status, 201);
  auto replay = call("POST", "/v1/accounts", admin, body, {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(replay.body, first.body);
  EXPECT_EQ(replay.raw.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(call("GET", "/v1/accounts", admin).body["data"].size(), 1u);

  auto other = call("POST", "/v1/accounts", admin, {{"legal_name", "Different"}}, {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(other.status, 422);

  // Another key may use the same Idempotency-Key value: keys are scoped per API key.
  EXPECT_EQ(call("POST", "/v1/accounts", manager, body, {{"Idempotency-Key", "k-1"}}).status, 201);
  // And per operation (issue #26): the same value on another operation is another request.
  auto contact = call("POST", "/v1/contacts", admin, {{"name", "Uma Pessoa"}}, {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(contact.status, 201) << contact.raw.body;
  EXPECT_EQ(contact.raw.header("Idempotent-Replayed"), "");
  std::string id = first.body["id"];
  ASSERT_EQ(call("DELETE", "/v1/accounts/" + id, admin).status, 200);
  auto restored = call("POST", "/v1/accounts/" + id + "/restore", admin, nullptr, {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(restored.status, 200) << restored.raw.body;
  EXPECT_EQ(restored.raw.header("Idempotent-Replayed"), "");
}

// Issue #26: an admin cannot lock the tenant out. The last active admin is neither
// archived, deactivated nor demoted (409 naming why), and archiving one's own user
// needs confirm_self=true — after which that user's keys stop at once.
TEST_P(Api, TheLastActiveAdminStaysAndArchivingOneselfIsConfirmed) {
  std::string me;
  Json users = call("GET", "/v1/users?limit=50", admin).body["data"];
  for (const auto& u : users)
    if (u["role"] == "admin") me = u["id"];
  ASSERT_FALSE(me.empty());
  auto own = call("DELETE", "/v1/users/" + me, admin);
  EXPECT_EQ(own.status, 409) << own.raw.body;
  EXPECT_NE(own.body["detail"].get<std::string>().find("confirm_self=true"), std::string::npos) << own.raw.body;
  for (const auto& [how, refused] :
       std::vector<std::pair<std::string, Reply>>{
           {"archive", call("DELETE", "/v1/users/" + me + "?confirm_self=true", admin)},
           {"deactivate", call("PATCH", "/v1/users/" + me, admin, {{"active", false}})},
           {"demote", call("PATCH", "/v1/users/" + me, admin, {{"role", "manager"}})}}) {
    EXPECT_EQ(refused.status, 409) << how << ": " << refused.raw.body;
    EXPECT_NE(refused.raw.body.find("last active admin"), std::string::npos) << how << ": " << refused.raw.body;
  }
  EXPECT_EQ(call("GET", "/v1/users/" + me, admin).body["role"], "admin");
  EXPECT_EQ(call("DELETE", "/v1/users/" + me + "?confirm_self=maybe", admin).status, 400);

  // With a second admin, the first may step down — and is then out at once.
  std::string other_id;
  std::string other = user_key(h->tenant, "admin", &other_id);
  auto archived = call("DELETE", "/v1/users/" + me + "?confirm_self=true", admin);
  EXPECT_EQ(archived.status, 200) << archived.raw.body;
  EXPECT_EQ(call("GET", "/v1/accounts", admin).status, 401);
  // The second admin is now the last.
  EXPECT_EQ(call("PATCH", "/v1/users/" + other_id, other, {{"role", "sales"}}).status, 409);
  EXPECT_EQ(call("POST", "/v1/users/" + me + "/restore", other).status, 200);
  EXPECT_EQ(call("PATCH", "/v1/users/" + other_id, other, {{"role", "sales"}}).status, 200);
}

// Issue #26 (found by the API fuzzer): a body that is JSON but not an object is a 422
// on every operation that takes an object — a stage move answered 42 with a 500.
TEST_P(Api, ABodyThatIsNotAnObjectIsRefusedWith422) {
  const std::string deal = "/v1/deals/deal_01m9a8928wv3w8wpfm2qzzs46q";
  for (const std::string& path : {deal + "/stage", deal + "/approvals", std::string("/v1/accounts/batch"),
                                  std::string("/v1/accounts")}) {
    for (const char* body : {"42", "[]", "\"text\"", "null"}) {
      auto r = call_raw("POST", path, admin, body);
      EXPECT_EQ(r.status, 422) << path << " " << body << " → " << r.raw.body;
    }
  }
}

// Nodes remember authenticated callers for auth.cache_seconds (ADR 0008), but a change
// to a user, a team or a key made through the node is honoured by the very next
// request: the one door marks cached callers stale when such a change commits.
TEST_P(Api, AChangeToAUserIsHonouredByTheNextRequestDespiteTheCredentialCache) {
  std::string user_id;
  std::string sales = user_key(h->tenant, "sales", &user_id);
  ASSERT_EQ(call("POST", "/v1/accounts", sales, {{"legal_name", "Before"}}).status, 201);  // cached from here
  auto demoted = call("PATCH", "/v1/users/" + user_id, admin, {{"role", "auditor"}});
  ASSERT_EQ(demoted.status, 200) << demoted.raw.body;
  EXPECT_EQ(call("POST", "/v1/accounts", sales, {{"legal_name", "After"}}).status, 403);
  ASSERT_EQ(call("PATCH", "/v1/users/" + user_id, admin, {{"active", false}}).status, 200);
  EXPECT_EQ(call("GET", "/v1/accounts", sales).status, 401);
}

// A final refusal (a duplicate tax id) is an answer: replayed, even once the duplicate
// is gone. A retryable one (a request in flight) is not stored: the retry runs.
TEST_P(Api, IdempotencyKeyReplaysFinalRefusalsButNotRetryableOnes) {
  std::string first = call("POST", "/v1/accounts", admin, {{"legal_name", "A"}, {"tax_id", "11222333000181"}}).body["id"];
  Json twin = {{"legal_name", "B"}, {"tax_id", "11.222.333/0001-81"}};
  auto refused = call("POST", "/v1/accounts", admin, twin, {{"Idempotency-Key", "twin-1"}});
  ASSERT_EQ(refused.status, 409) << refused.raw.body;
  ASSERT_EQ(call("DELETE", "/v1/accounts/" + first, admin).status, 200);
  auto replay = call("POST", "/v1/accounts", admin, twin, {{"Idempotency-Key", "twin-1"}});
  EXPECT_EQ(replay.status, 409);
  EXPECT_EQ(replay.raw.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(replay.body["detail"], refused.body["detail"]);
  EXPECT_EQ(call("POST", "/v1/accounts", admin, twin, {{"Idempotency-Key", "twin-2"}}).status, 201);
}

TEST_P(Api, PaginationThroughMoreThanAThousandRowsNeverRepeatsOrSkipsWhileRowsAreAdded) {
  auto ctx = h->context(h->tenant);
  auto records = h->records();
  std::set<std::string> existing;
  for (int i = 0; i < 1050; ++i)
    existing.insert(
        records.create(ctx, "product", {{"name", "P" + std::to_string(i)}}).record["id"].get<std::string>());

  std::atomic<bool> stop{false};
  std::atomic<int> added{0};
  std::thread writer([&] {
    while (!stop && added < 300) {
      records.create(ctx, "product", {{"name", "Late"}});
      ++added;
    }
  });
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto page = call("GET", "/v1/products?limit=100" + (cursor.empty() ? "" : "&cursor=" + cursor), admin);
    ASSERT_EQ(page.status, 200) << page.raw.body;
    for (const auto& row : page.body["data"]) seen.push_back(row["id"]);
    cursor = page.body["next_cursor"].is_null() ? "" : page.body["next_cursor"].get<std::string>();
    ++pages;
  } while (!cursor.empty() && pages < 100);
  stop = true;
  writer.join();

  std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size()) << "a row was listed twice";
  for (const auto& id : existing) EXPECT_TRUE(unique.count(id)) << "skipped " << id;
  EXPECT_GT(pages, 10);
  EXPECT_GT(added, 0);
}

TEST_P(Api, CursorsAreSignedAndBoundToTheirCollection) {
  for (int i = 0; i < 3; ++i) create("products", body_for("products"));
  auto page = call("GET", "/v1/products?limit=1", admin);
  std::string cursor = page.body["next_cursor"];
  EXPECT_EQ(call("GET", "/v1/products?cursor=" + cursor, admin).status, 200);
  std::string tampered = cursor;
  tampered[2] = tampered[2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(call("GET", "/v1/products?cursor=" + tampered, admin).status, 400);
  EXPECT_EQ(call("GET", "/v1/accounts?cursor=" + cursor, admin).status, 400);
  EXPECT_EQ(call("GET", "/v1/products?cursor=nonsense", admin).status, 400);
  EXPECT_EQ(call("GET", "/v1/products?limit=201", admin).status, 400);
  EXPECT_EQ(call("GET", "/v1/products?limit=0", admin).status, 400);
}

TEST_P(Api, ListFiltersNarrowTheListing) {
  std::string a1 = create("accounts", {{"legal_name", "A1"}});
  std::string a2 = create("accounts", {{"legal_name", "A2"}, {"lifecycle", "customer"}});
  create("contacts", {{"name", "C1"}, {"account_id", a1}});
  create("contacts", {{"name", "C2"}, {"account_id", a2}});
  auto of_a1 = call("GET", "/v1/contacts?account_id=" + a1, admin);
  ASSERT_EQ(of_a1.body["data"].size(), 1u);
  EXPECT_EQ(of_a1.body["data"][0]["name"], "C1");
  EXPECT_EQ(call("GET", "/v1/accounts?lifecycle=customer", admin).body["data"].size(), 1u);
  EXPECT_EQ(call("GET", "/v1/accounts?updated_since=2000-01-01T00:00:00Z", admin).body["data"].size(), 2u);
  EXPECT_EQ(call("GET", "/v1/accounts?updated_since=yesterday", admin).status, 400);
  EXPECT_EQ(call("GET", "/v1/accounts?legal_name=A1", admin).status, 400);  // not a filter
}

TEST_P(Api, EveryRouteAnswers404ForAnotherTenantsRecord) {
  // Tenant B's records of every type, addressed with tenant A's admin key.
  std::string other = h->create_tenant("Other");
  auto ctx_b = h->context(other);
  auto records = h->records();
  std::map<std::string, std::string> foreign;
  std::string pipe = records.create(ctx_b, "pipeline", {{"name", "P"}}).record["id"];
  foreign["pipelines"] = pipe;
  foreign["stages"] =
      records.create(ctx_b, "stage", {{"pipeline_id", pipe}, {"name", "S"}, {"position", 0}}).record["id"];
  foreign["accounts"] = records.create(ctx_b, "account", {{"legal_name", "B"}}).record["id"];
  foreign["contacts"] = records.create(ctx_b, "contact", {{"name", "B"}}).record["id"];
  foreign["users"] =
      records.create(ctx_b, "user", {{"name", "B"}, {"email", "b@b.com"}, {"role", "sales"}}).record["id"];
  foreign["teams"] = records.create(ctx_b, "team", {{"name", "B"}}).record["id"];
  foreign["deals"] =
      records.create(ctx_b, "deal", {{"name", "B"}, {"account_id", foreign["accounts"]}, {"pipeline_id", pipe}})
          .record["id"];
  foreign["interactions"] =
      records.create(ctx_b, "interaction", {{"type", "note"}, {"direction", "internal"}}).record["id"];
  foreign["tasks"] = records.create(ctx_b, "task", {{"title", "B"}}).record["id"];
  foreign["products"] = records.create(ctx_b, "product", {{"name", "B"}}).record["id"];
  foreign["automation"] =
      records
          .create(ctx_b, "automation_rule",
                  {{"name", "B"}, {"trigger", {{"event", "deal.*"}}}, {"actions", {{{"type", "emit_event"}, {"name", "b"}}}}})
          .record["id"];
  foreign["cadences"] =
      records.create(ctx_b, "cadence", {{"name", "B"}, {"steps", {{{"delay_days", 0}, {"type", "task"}, {"title", "B"}}}}})
          .record["id"];
  foreign["proposals"] =
      records.create(ctx_b, "proposal", {{"deal_id", foreign["deals"]}, {"title", "B"}}).record["id"];
  foreign["proposal_templates"] = records.create(ctx_b, "proposal_template", {{"name", "B"}}).record["id"];
  foreign["privacy"] = services::PrivacyService(h->deps()).place_hold(ctx_b, foreign["contacts"], "B")["id"];
  foreign["audit"] = foreign["accounts"];  // /v1/audit/entities/account/{id}/history
  foreign["events"] = "evt_01m80gv6y4eqcsmge90bwbtca7";  // no dead letter of ours
  foreign["jobs"] = "job_01m80gv6y4eqcsmge90bwbtca7";    // no dead job of ours
  foreign["plugins"] = "com.example.chat";  // settings of a plugin this server does not load
                                            // (per-tenant settings: tests/e2e/pack_test.cpp)
  foreign["channels"] = services::ChannelAccountService(h->deps()).create(
      ctx_b, {{"plugin_id", "com.example.chat"}, {"external_id", "b-line"}})["id"];
  foreign["conversations"] =
      services::ConversationService(h->deps())
          .receive(ctx_b, foreign["channels"],
                   {{"external_id", "wamid.B1"}, {"type", "whatsapp"}, {"from", {{"phone", "+5511911112222"}}}})
          ["conversation_id"];
  foreign["webhooks"] = services::WebhookService(h->deps()).create(
      ctx_b, {{"url", "http://127.0.0.1:9/hook"}, {"events", {"*"}}})["id"];  // loopback only
  foreign["keys"] = services::ApiKeyService(h->deps())
                       .create(ctx_b, {{"name", "B"}, {"role", "integration"}, {"integration", true}, {"scopes", {"*"}}})
                       .key["id"];
  foreign["imports"] = services::ImportJobService(h->deps()).create(
      ctx_b, {{"entity", "contact"}, {"columns", {{"Nome", "name"}}}}, Json::object(), "b.csv", "Nome\nAna\n")["id"];

  // Enumerate the router table through the OpenAPI document generated from it.
  auto doc = call("GET", "/v1/openapi.json", "");
  ASSERT_EQ(doc.status, 200);
  int checked = 0;
  for (const auto& [path, item] : doc.body["paths"].items()) {
    if (path.rfind("/v1/", 0) != 0) continue;  // /healthz, /readyz, /metrics hold no records
    for (const auto& [method, op] : item.items()) {
      std::string upper = method;
      for (auto& c : upper) c = static_cast<char>(std::toupper(c));
      if (path.find("{id}") == std::string::npos) {
        if (upper == "GET" && path != "/v1/openapi.json") {
          auto list = call("GET", path + "?limit=200", admin);
          for (const auto& row : list.body["data"]) {
            const Json& record = row.contains("leaf") ? row["leaf"] : row;  // audit events carry their leaf
            EXPECT_EQ(record["tenant_id"], h->tenant) << path;
          }
          ++checked;
        }
        continue;
      }
      std::string collection = path.substr(4, path.find('/', 4) - 4);
      std::string target = path;
      target.replace(target.find("{id}"), 4, foreign.at(collection));
      if (auto type = target.find("{type}"); type != std::string::npos) target.replace(type, 6, "account");
      if (auto at = target.find("{revision}"); at != std::string::npos) target.replace(at, 10, "1");
      if (auto at = target.find("{link_id}"); at != std::string::npos) target.replace(at, 9, "plk_01m80gv6y4eqcsmge90bwbtca7");
      Json body = !op.contains("requestBody") ? Json() : upper == "PATCH" ? Json{{"name", "hijack"}} : Json::object();
      if (path.size() > 6 && path.compare(path.size() - 6, 6, "/stage") == 0) body = {{"stage_id", foreign["stages"]}};
      if (path.find("/lift") != std::string::npos) body = {{"reason", "not yours"}};
      auto r = call(upper, target, admin, body);
      // Every route in a burst outruns the key's rate limit (limits.rate_burst) on a fast
      // run: wait as told, then ask again.
      for (int waits = 0; r.status == 429 && waits < 5; ++waits) {
        std::string retry_after = r.raw.header("Retry-After");
        std::this_thread::sleep_for(std::chrono::seconds(retry_after.empty() ? 1 : std::stoi(retry_after)));
        r = call(upper, target, admin, body);
      }
      EXPECT_EQ(r.status, 404) << upper << " " << target << " → " << r.raw.body;
      ++checked;
    }
  }
  // 10 lists + 4 audit reads + export + hold list + plugin list + dead letters
  // + 10 × (read, patch, archive, restore) + 2 actions + 2 account views + entity history
  // + hold lift + dead-letter replay + webhooks (list; read, patch, delete, rotate, deliveries)
  // + channel accounts (list; read, patch, delete, send) + a message read + failed jobs (list;
  // retry, discard) + a plugin's settings (read, set) + what plugins hold about a subject
  // + a deal's gate + a deal's approvals + the agendas (mine, a teammate's) + a pipeline's
  // definition (read, apply) + a message to a contact + the inbox (list; a conversation,
  // its messages, read, answered) + imports (list; read, cancel, errors) + the two merges
  // + the duplicates list + a contact's consents (record, list, check) + the purposes list
  // + an unsubscribe link's page (no credential: its token is refused, not another tenant's)
  // + the record of processing + the anonymised export + data-subject requests (list; read,
  // assign, identity, report, its read and link, complete, reject) + a report link (no credential)
  // + retention (policies, plan, runs) + automation rules (list; read, patch, archive, restore,
  // dry-run, enable, disable, firings) + cadences (list; read, patch, archive, restore, their
  // enrolments: list, enrol, stop) + proposals and their templates (lists; read, patch,
  // archive, restore; send, approve, versions, a version, preview, links: issue, list,
  // revoke; proof) + a proposal's public page and PDF (no credential: a token refused)
  // + sign-in (who the call is; a user's password, signing a user out everywhere)
  EXPECT_EQ(checked, 166);
  EXPECT_EQ(records.get(ctx_b, "account", foreign["accounts"])["legal_name"], "B");
}

// Issue #21 over HTTP on a running server: entering a stage opens its checklist (the
// server's dispatcher), a later gate waits for it; a maker-checker approval; the agendas
// of two users in different time zones; stalled deals listed by ?stalled=.
TEST_P(Api, ChecklistsApprovalsAgendasAndStalledDealsOverHttp) {
  std::string rosa_id, caio_id;
  std::string rosa = user_key(h->tenant, "sales", &rosa_id);
  std::string caio = user_key(h->tenant, "manager", &caio_id);
  ASSERT_EQ(call("PATCH", "/v1/users/" + rosa_id, admin, {{"time_zone", "America/Manaus"}}).status, 200);
  std::string account = create("accounts", {{"legal_name", "Hospital Santa Clara"}, {"owner_id", rosa_id}});
  std::string pipeline = create("pipelines", {{"name", "Licitação"}});
  create("stages", {{"pipeline_id", pipeline}, {"name", "Edital"}, {"position", 0}, {"rot_days", 5}});
  std::string docs = create("stages", {{"pipeline_id", pipeline}, {"name", "Habilitação"}, {"position", 1},
                                       {"checklist_template", Json::parse(R"([
      {"key": "certidoes", "title": "Reunir certidões negativas", "due_in_business_days": 3, "required_for_exit": true},
      {"key": "atestado", "title": "Atestado de capacidade técnica", "required_for_exit": true}])")}});
  std::string bid = create("stages", {{"pipeline_id", pipeline}, {"name", "Lance"}, {"position", 2},
                                      {"entry_criteria", {{{"kind", "checklist"}, {"stage_id", docs}},
                                                          {{"kind", "approval"}, {"roles", {"manager"}}}}}});
  auto impossible = call("PATCH", "/v1/stages/" + docs, admin,
                         {{"entry_criteria", {{{"kind", "checklist"}, {"stage_id", docs}}}}});
  ASSERT_EQ(impossible.status, 422) << impossible.raw.body;
  EXPECT_EQ(impossible.body["errors"][0]["field"], "entry_criteria/0/stage_id");

  std::string deal = create("deals", {{"name", "Pregão 45/2026"}, {"account_id", account}, {"pipeline_id", pipeline},
                                      {"owner_id", rosa_id}}, rosa);
  ASSERT_EQ(call("POST", "/v1/deals/" + deal + "/stage", rosa, {{"stage_id", docs}}).status, 200);
  // The server's dispatcher opens the checklist for the move, as the system.
  Json tasks;
  for (int i = 0; i < 100 && tasks.size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    tasks = call("GET", "/v1/tasks?deal_id=" + deal, rosa).body["data"];
  }
  ASSERT_EQ(tasks.size(), 2u);
  for (const auto& t : tasks) {
    EXPECT_EQ(t["kind"], "checklist");
    EXPECT_EQ(t["assignee_id"], rosa_id);
    EXPECT_EQ(t["required_for_exit"], true);
  }

  auto gate = call("GET", "/v1/deals/" + deal + "/gate?stage_id=" + bid, rosa);
  ASSERT_EQ(gate.status, 200) << gate.raw.body;
  ASSERT_EQ(gate.body["unmet"].size(), 2u);
  EXPECT_EQ(gate.body["unmet"][0]["code"], "checklist_incomplete");
  EXPECT_EQ(gate.body["unmet"][1]["code"], "approval_missing");
  for (const auto& t : tasks)
    EXPECT_EQ(call("POST", "/v1/tasks/" + t["id"].get<std::string>() + "/complete", rosa).status, 200);
  auto self = call("POST", "/v1/deals/" + deal + "/approvals", rosa, {{"stage_id", bid}});
  ASSERT_EQ(self.status, 422) << self.raw.body;
  EXPECT_EQ(self.body["errors"][0]["code"], "approval_not_allowed");
  EXPECT_EQ(call("POST", "/v1/deals/" + deal + "/approvals", caio, {{"stage_id", bid}, {"colour", "red"}}).status, 422);
  auto approved = call("POST", "/v1/deals/" + deal + "/approvals", caio, {{"stage_id", bid}, {"note", "preço ok"}});
  ASSERT_EQ(approved.status, 200) << approved.raw.body;
  EXPECT_EQ(approved.body["approvals"][0]["user_id"], caio_id);
  EXPECT_EQ(call("POST", "/v1/deals/" + deal + "/approvals", auditor, {{"stage_id", bid}}).status, 403);
  EXPECT_EQ(call("POST", "/v1/deals/" + deal + "/stage", rosa, {{"stage_id", bid}}).status, 200);

  // Agendas: Rosa's own, on her clock; a manager reads hers, a sales user may not read his.
  create("tasks", {{"title", "Ligar para a compradora"}, {"assignee_id", rosa_id}, {"deal_id", deal},
                   {"due_at", "2030-01-02T22:00:00Z"}});
  auto mine = call("GET", "/v1/me/agenda?from=2030-01-01T00:00:00Z&to=2030-01-08T00:00:00Z", rosa);
  ASSERT_EQ(mine.status, 200) << mine.raw.body;
  ASSERT_EQ(mine.body["items"].size(), 1u) << mine.raw.body;
  EXPECT_EQ(mine.body["time_zone"], "America/Manaus");
  EXPECT_EQ(mine.body["items"][0]["due_local"], "2030-01-02T18:00:00-04:00");
  EXPECT_EQ(mine.body["items"][0]["deal"]["name"], "Pregão 45/2026");
  EXPECT_EQ(call("GET", "/v1/users/" + rosa_id + "/agenda?from=2030-01-01T00:00:00Z&to=2030-01-08T00:00:00Z", caio)
                .body["items"].size(), 1u);
  EXPECT_EQ(call("GET", "/v1/users/" + caio_id + "/agenda", rosa).status, 403);
  EXPECT_EQ(call("GET", "/v1/me/agenda?from=2030-01-08T00:00:00Z&to=2030-01-01T00:00:00Z", rosa).status, 400);
  auto no_user = call("GET", "/v1/me/agenda", integration_key(h->tenant, {"tasks:read"}));
  EXPECT_EQ(no_user.status, 422);  // this key acts as no user
  EXPECT_EQ(no_user.body["errors"][0]["code"], "no_user");

  // A deal left in "Edital" past its 5 rot days, as the job would find it a week on.
  std::string slow = create("deals", {{"name", "Pregão 46/2026"}, {"account_id", account}, {"pipeline_id", pipeline}});
  ManualClock later{Timestamp{h->clock.now().micros}};
  later.set(Timestamp{SystemClock().now().micros + 7 * 86'400'000'000LL});
  services::CallContext job = h->context(h->tenant);
  job.clock = &later;
  EXPECT_EQ(services::SalesProcessService(h->deps()).update_stalled_deals(job, {}).stalled, 1u);
  auto stalled = call("GET", "/v1/deals?stalled=true", manager).body["data"];
  ASSERT_EQ(stalled.size(), 1u);
  EXPECT_EQ(stalled[0]["id"], slow);
  EXPECT_FALSE(stalled[0]["stalled_since"].is_null());
  EXPECT_EQ(call("GET", "/v1/deals?stalled=false", manager).body["data"].size(), 1u);
  EXPECT_EQ(call("GET", "/v1/deals?stalled=maybe", manager).status, 400);

  // The pipeline as a definition: read, changed, dry-run, applied, applied again.
  auto definition = call("GET", "/v1/pipelines/" + pipeline + "/definition", manager);
  ASSERT_EQ(definition.status, 200) << definition.raw.body;
  Json wanted = definition.body;
  wanted["stages"][0]["rot_days"] = 3;
  auto dry = call("PUT", "/v1/pipelines/" + pipeline + "/definition?dry_run=true", manager, wanted);
  ASSERT_EQ(dry.status, 200) << dry.raw.body;
  EXPECT_EQ(dry.body["changed"], true);
  EXPECT_EQ(call("GET", "/v1/pipelines/" + pipeline + "/definition", manager).body, definition.body);
  auto applied = call("PUT", "/v1/pipelines/" + pipeline + "/definition", manager, wanted);
  ASSERT_EQ(applied.status, 200) << applied.raw.body;
  // The stages were made by hand, without keys: the exported definition named them, and
  // applying it stores those keys beside the one real change.
  ASSERT_EQ(applied.body["changes"].size(), 3u) << applied.raw.body;
  EXPECT_EQ(applied.body["changes"][1]["fields"], (Json{{"key", {{"from", nullptr}, {"to", "stage_2"}}}}));
  EXPECT_EQ(applied.body["changes"][0]["fields"]["rot_days"], (Json{{"from", 5}, {"to", 3}}));
  EXPECT_EQ(call("PUT", "/v1/pipelines/" + pipeline + "/definition", manager, wanted).body["changed"], false);
  wanted["stages"][1]["entry_criteria"] = {{{"kind", "checklist"}, {"stage", "nowhere"}}};
  auto bad = call("PUT", "/v1/pipelines/" + pipeline + "/definition", manager, wanted);
  ASSERT_EQ(bad.status, 422) << bad.raw.body;
  EXPECT_EQ(bad.body["errors"][0]["field"], "stages/1/entry_criteria/0/stage");
  EXPECT_EQ(call("PUT", "/v1/pipelines/" + pipeline + "/definition", rosa, wanted).status, 403);
}

TEST_P(Api, RolesAreEnforced) {
  std::string account = create("accounts", {{"legal_name", "Unowned"}, {"owner_id", nullptr}});
  // auditor reads everything and writes nothing
  EXPECT_EQ(call("GET", "/v1/accounts/" + account, auditor).status, 200);
  EXPECT_EQ(call("POST", "/v1/accounts", auditor, body_for("accounts")).status, 403);
  EXPECT_EQ(call("PATCH", "/v1/accounts/" + account, auditor, {{"trade_name", "x"}}).status, 403);
  // managers configure pipelines but not users
  EXPECT_EQ(call("POST", "/v1/pipelines", manager, {{"name", "M"}}).status, 201);
  EXPECT_EQ(call("POST", "/v1/users", manager, body_for("users")).status, 403);

  // sales users see their own records, their teammates' and unowned ones — nobody else's
  std::string team = create("teams", {{"name", "Sul"}});
  std::string ana_id, bia_id, caio_id;
  std::string ana = user_key(h->tenant, "sales", &ana_id, Json::array({team}));
  std::string bia = user_key(h->tenant, "sales", &bia_id, Json::array({team}));
  std::string caio = user_key(h->tenant, "sales", &caio_id);
  std::string anas = create("accounts", {{"legal_name", "Ana's"}}, ana);
  EXPECT_EQ(call("GET", "/v1/accounts/" + anas, ana).body["owner_id"], ana_id);
  EXPECT_EQ(call("GET", "/v1/accounts/" + anas, bia).status, 200);   // same team
  EXPECT_EQ(call("GET", "/v1/accounts/" + anas, caio).status, 404);  // not shared
  EXPECT_EQ(call("PATCH", "/v1/accounts/" + anas, caio, {{"trade_name", "x"}}).status, 404);
  EXPECT_EQ(call("GET", "/v1/accounts/" + account, caio).status, 200);  // unowned
  for (const auto& row : call("GET", "/v1/accounts", caio).body["data"]) EXPECT_NE(row["id"], anas);
  EXPECT_EQ(call("POST", "/v1/pipelines", ana, {{"name", "no"}}).status, 403);
  EXPECT_EQ(call("GET", "/v1/pipelines", ana).status, 200);
  // Issue #17: a record hidden from a rep cannot be written against either — a deal or
  // an interaction on it answers as a read would, 404, and nothing is created.
  EXPECT_EQ(call("POST", "/v1/deals", caio, {{"name", "x"}, {"account_id", anas}, {"pipeline_id", pipeline()}}).status,
            404);
  EXPECT_EQ(call("POST", "/v1/interactions", caio,
                 {{"type", "note"}, {"direction", "internal"}, {"body", "x"}, {"account_id", anas}})
                .status,
            404);
  EXPECT_EQ(call("POST", "/v1/deals", bia, {{"name", "ok"}, {"account_id", anas}, {"pipeline_id", pipeline()}}).status,
            201);  // a teammate may

  // integration keys act as their scopes say
  std::string reader = integration_key(h->tenant, {"accounts:read"});
  EXPECT_EQ(call("GET", "/v1/accounts", reader).status, 200);
  EXPECT_EQ(call("POST", "/v1/accounts", reader, body_for("accounts")).status, 403);
  EXPECT_EQ(call("GET", "/v1/deals", reader).status, 403);
  // … and may act On-Behalf-Of a user, with that user's rights
  std::string bot = integration_key(h->tenant, {"*"});
  EXPECT_EQ(call("GET", "/v1/accounts/" + anas, bot).status, 200);
  EXPECT_EQ(call("GET", "/v1/accounts/" + anas, bot, nullptr, {{"On-Behalf-Of", caio_id}}).status, 404);
  auto as_ana = call("POST", "/v1/accounts", bot, {{"legal_name", "via bot"}}, {{"On-Behalf-Of", ana_id}});
  EXPECT_EQ(as_ana.body["owner_id"], ana_id);
  EXPECT_EQ(call("GET", "/v1/accounts", ana, nullptr, {{"On-Behalf-Of", bia_id}}).status, 403);  // user keys may not
  EXPECT_EQ(call("GET", "/v1/accounts", bot, nullptr, {{"On-Behalf-Of", "usr_01m80gv6y4eqcsmge90bwbtca7"}}).status,
            403);
}

TEST_P(Api, CredentialsAreChecked) {
  EXPECT_EQ(call("GET", "/v1/accounts", "").status, 401);
  EXPECT_EQ(call("GET", "/v1/accounts", "nuc_garbage").status, 401);
  std::string forged = admin;
  forged.back() = forged.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(call("GET", "/v1/accounts", forged).status, 401);
  auto unauth = call("GET", "/v1/accounts", "");
  EXPECT_EQ(unauth.raw.header("WWW-Authenticate"), "Bearer");
}

TEST_P(Api, ServerSetFieldsAreRefusedByName) {
  auto r = call("POST", "/v1/accounts", admin,
                {{"legal_name", "x"}, {"id", "acc_x"}, {"version", 9}, {"tenant_id", "ten_x"}});
  EXPECT_EQ(r.status, 422);
  std::set<std::string> fields;
  for (const auto& e : r.body["errors"]) fields.insert(e["field"]);
  EXPECT_EQ(fields, (std::set<std::string>{"id", "version", "tenant_id"}));
  std::string id = create("accounts", body_for("accounts"));
  EXPECT_EQ(call("PATCH", "/v1/accounts/" + id, admin, {{"created_at", "2020-01-01T00:00:00Z"}}).status, 422);
}

TEST_P(Api, HostileInputGetsA4xxNeverA500) {
  EXPECT_EQ(call_raw("POST", "/v1/accounts", admin, "{\"legal_name\": ").status, 400);
  EXPECT_EQ(call_raw("POST", "/v1/accounts", admin, "[1,2,3]").status, 422);
  EXPECT_EQ(call_raw("POST", "/v1/accounts", admin, "\"text\"").status, 422);
  EXPECT_EQ(call_raw("POST", "/v1/accounts", admin, "").status, 400);
  EXPECT_EQ(call_raw("POST", "/v1/accounts", admin, "{\"legal_name\": 42}").status, 422);
  EXPECT_EQ(call_raw("POST", "/v1/accounts", admin, "{\"legal_name\": \"x\", \"nope\": 1}").status, 422);
  EXPECT_EQ(call_raw("POST", "/v1/accounts", admin, "{\"legal_name\": \"\xff\xfe\"}").status, 400);  // invalid UTF-8
  EXPECT_EQ(call_raw("POST", "/v1/accounts", admin, std::string(100, '[') + std::string(100, ']')).status, 400);
  // Issue #17: duplicate keys are refused, not last-wins; numbers out of range and NUL
  // characters are client errors on both backends, checked before the database.
  EXPECT_EQ(call_raw("POST", "/v1/accounts", admin, "{\"legal_name\":\"x\",\"legal_name\":\"y\"}").status, 400);
  EXPECT_EQ(call_raw("POST", "/v1/accounts", admin, R"({"legal_name":"x","attributes":{"n":1e999999}})").status, 400);
  auto nul = call_raw("POST", "/v1/accounts", admin, "{\"legal_name\":\"a\\u0000b\"}");
  EXPECT_EQ(nul.status, 422);
  EXPECT_EQ(nul.body["errors"][0]["field"], "legal_name");
  EXPECT_EQ(call("GET", "/v1/accounts/%FF%FE", admin).status, 400);
  EXPECT_EQ(call("GET", "/v1/audit/events?actor=%FF%FE", admin).status, 400);
  EXPECT_EQ(call("GET", "/v1/accounts?limit=5x", admin).status, 400);
  EXPECT_EQ(call("GET", "/v1/accounts?limit=%205", admin).status, 400);
  int interactions = static_cast<int>(call("GET", "/v1/interactions", admin).body["data"].size());
  auto latin1 = call("POST", "/v1/interactions", admin,
                     {{"type", "note"}, {"direction", "internal"}, {"subject", "x"}}, {{"X-Reason", "caf\xe9"}});
  EXPECT_EQ(latin1.status, 400);
  EXPECT_EQ(latin1.body["errors"][0]["field"], "X-Reason");
  EXPECT_EQ(call("POST", "/v1/accounts", admin, {{"legal_name", "x"}}, {{"Idempotency-Key", "\xff"}}).status, 400);
  EXPECT_EQ(static_cast<int>(call("GET", "/v1/interactions", admin).body["data"].size()), interactions);
  // A declared length over the limit is refused before the body is read.
  EXPECT_EQ(call_raw("POST", "/v1/accounts", admin, "", {{"Content-Length", std::to_string(2 << 20)}}).status, 413);
  EXPECT_EQ(call("GET", "/v1/accounts/acc_../../etc", admin).status, 404);
  EXPECT_EQ(call("GET", "/v1/accounts/%00", admin).status, 404);
  EXPECT_EQ(call("GET", "/v1/nothing", admin).status, 404);
  EXPECT_EQ(call("PUT", "/v1/accounts", admin, Json::object()).status, 405);
  EXPECT_EQ(call("GET", "/v1/accounts?limit=%ZZ", admin).status, 400);
  EXPECT_EQ(call("GET", "/v1/accounts?limit=1&limit=2", admin).status, 400);
  EXPECT_EQ(call("GET", "/healthz", "").status, 200);  // still serving
}

TEST_P(Api, OpenApiDocumentsEveryRouteAndNothingElse) {
  auto doc = call("GET", "/v1/openapi.json", "");
  ASSERT_EQ(doc.status, 200);
  EXPECT_EQ(doc.body["openapi"], "3.1.0");
  std::set<std::string> documented;
  for (const auto& [path, item] : doc.body["paths"].items())
    for (const auto& [method, op] : item.items()) documented.insert(method + " " + path);
  // Every documented operation is routed (not 404/405)…
  for (const auto& op : documented) {
    std::string method = op.substr(0, op.find(' ')), path = op.substr(op.find(' ') + 1);
    for (auto& c : method) c = static_cast<char>(std::toupper(c));
    auto pos = path.find("{id}");
    if (pos != std::string::npos) path.replace(pos, 4, "acc_01m80gv6y4eqcsmge90bwbtca7");
    auto r = call(method, path, admin, method == "GET" || method == "DELETE" ? Json() : Json::object());
    EXPECT_NE(r.status, 405) << op;
    if (r.status == 404) {
      EXPECT_EQ(r.body["detail"].get<std::string>().find("no route"), std::string::npos) << op;
    }
  }
  // … and the count matches the router's: 10 resources × 8 + 2 actions + 2 account views + 6 audit
  // reads (incl. entity history and export) + openapi + 5 privacy operations + the plugin list
  // + dead letters and their replay + 7 webhook operations + 7 channel operations + /healthz,
  // /readyz and /metrics + failed jobs (list, retry, discard) + a plugin's tenant settings
  // (read, set) + a deal's gate and approvals + the agendas (mine, a teammate's) + a
  // pipeline's definition (read, apply) + a message to a contact + 5 import operations
  // + 2 merges and the duplicates list + consent purposes (list, define) and a contact's
  // consents (record, list, check) + an unsubscribe link (its page, its one click) + the
  // record of processing + the anonymised export + 10 data-subject request operations and
  // a report's download link + retention (policies: list, define; plan; runs) + automation
  // rules (the generic 8, two dry runs, enable, disable, firings) + cadences (the generic 8,
  // enrolments: list, enrol, stop) + proposals and their templates (the generic 8 each; send,
  // approve, versions, a version, preview, links: issue, list, revoke; proof) + a proposal's
  // public link (its page, its PDF, the decision) + sign-in (open a session, the current one,
  // sign out, sign a user out everywhere, set a password).
  EXPECT_EQ(documented.size(), 226u);
}

// Issue #24 over HTTP: a duplicate pair found with its reason, merged with If-Match;
// the merged contact names its survivor and stays merged.
TEST_P(Api, DuplicatesAreListedAndMergedOverHttp) {
  std::string account = create("accounts", {{"legal_name", "Hospital Santa Clara"}});
  std::string ana = create("contacts", {{"name", "Ana Souza"}, {"account_id", account}, {"email", "ana@hsc.org.br"}});
  std::string dup = create("contacts", {{"name", "Ana Sousa"}, {"phone", "+55 11 98765-4321"}, {"email", "ANA@hsc.org.br"}});
  std::string note = create("interactions", {{"type", "note"}, {"direction", "internal"}, {"contact_id", dup}});

  auto listed = call("GET", "/v1/duplicates?entity_type=contact", manager);
  ASSERT_EQ(listed.status, 200) << listed.raw.body;
  ASSERT_EQ(listed.body["data"].size(), 1u);
  EXPECT_EQ(listed.body["data"][0]["reasons"][0], Json({{"kind", "email"}, {"value", "ana@hsc.org.br"}}));
  EXPECT_TRUE(listed.body["next_cursor"].is_null());
  EXPECT_EQ(call("GET", "/v1/duplicates", manager).status, 400);
  EXPECT_EQ(call("GET", "/v1/duplicates?entity_type=contact&min_score=2", manager).status, 400);
  EXPECT_EQ(call("GET", "/v1/duplicates?entity_type=deal", manager).status, 422);
  EXPECT_EQ(call("GET", "/v1/duplicates?entity_type=contact&cursor=forged", manager).status, 400);

  std::string path = "/v1/contacts/" + ana + "/merge";
  EXPECT_EQ(call("POST", path, manager, {{"from", {dup}}}, {{"If-Match", "\"7\""}}).status, 412);
  auto bad = call("POST", path, manager, {{"from", {dup}}, {"fields", {{"shoe_size", dup}}}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(bad.body["errors"][0]["field"], "fields.shoe_size") << bad.raw.body;
  auto merged = call("POST", path, manager, {{"from", {dup}}}, {{"If-Match", "\"1\""}});
  ASSERT_EQ(merged.status, 200) << merged.raw.body;
  EXPECT_EQ(merged.raw.header("ETag"), "\"2\"");
  EXPECT_EQ(merged.body["phone"], "+5511987654321");  // filled from the duplicate
  EXPECT_EQ(call("GET", "/v1/contacts/" + dup, manager).body["merged_into"], ana);
  EXPECT_EQ(call("GET", "/v1/interactions/" + note, manager).body["contact_id"], ana);
  EXPECT_EQ(call("POST", "/v1/contacts/" + dup + "/restore", manager).status, 409);
  EXPECT_EQ(call("POST", path, manager, {{"from", {dup}}}).status, 409);
  EXPECT_EQ(call("GET", "/v1/duplicates?entity_type=contact", manager).body["data"].size(), 0u);
}

// Issue #5: batch with per-item results, partial failure, and all-or-nothing.
TEST_P(Api, BatchReportsEachItemAndAtomicBatchesKeepNothingOnFailure) {
  std::string existing = create("accounts", {{"legal_name", "Existing"}, {"tax_id", "11.222.333/0001-81"}});
  Json operations = {{{"method", "create"}, {"data", {{"legal_name", "First"}}}},
                     {{"method", "create"}, {"data", {{"legal_name", 42}}}},
                     {{"method", "update"}, {"id", existing}, {"data", {{"trade_name", "Ex"}}}, {"version", 1}},
                     {{"method", "create"}, {"data", {{"legal_name", "Dup"}, {"tax_id", "11222333000181"}}}},
                     {{"method", "delete"}, {"id", existing}}};
  auto r = call("POST", "/v1/accounts/batch", admin, {{"operations", operations}});
  ASSERT_EQ(r.status, 200) << r.raw.body;
  const Json& results = r.body["results"];
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0]["status"], 201);
  EXPECT_EQ(results[0]["data"]["legal_name"], "First");
  EXPECT_EQ(results[1]["status"], 422);
  EXPECT_EQ(results[1]["problem"]["errors"][0]["field"], "legal_name");
  EXPECT_EQ(results[2]["status"], 200);
  EXPECT_EQ(results[2]["data"]["version"], 2);
  EXPECT_EQ(results[3]["status"], 409);
  EXPECT_EQ(results[4]["status"], 422);
  EXPECT_EQ(call("GET", "/v1/accounts", admin).body["data"].size(), 2u);

  Json atomic_ops = {{{"method", "create"}, {"data", {{"legal_name", "Kept?"}}}},
                     {{"method", "update"}, {"id", existing}, {"data", {{"trade_name", "Changed"}}}},
                     {{"method", "create"}, {"data", {{"legal_name", "Bad"}, {"lifecycle", "zombie"}}}},
                     {{"method", "create"}, {"data", {{"legal_name", "After"}}}}};
  auto a = call("POST", "/v1/accounts/batch", admin, {{"operations", atomic_ops}, {"atomic", true}});
  ASSERT_EQ(a.status, 200) << a.raw.body;
  std::vector<int> statuses;
  for (const auto& item : a.body["results"]) statuses.push_back(item["status"]);
  EXPECT_EQ(statuses, (std::vector<int>{424, 424, 422, 424}));
  EXPECT_EQ(call("GET", "/v1/accounts", admin).body["data"].size(), 2u);  // nothing kept
  EXPECT_EQ(call("GET", "/v1/accounts/" + existing, admin).body["trade_name"], "Ex");

  auto ok = call("POST", "/v1/accounts/batch", admin,
                 {{"operations",
                   {{{"method", "create"}, {"data", {{"legal_name", "A"}}}},
                    {{"method", "create"}, {"data", {{"legal_name", "B"}}}}}},
                  {"atomic", true}});
  EXPECT_EQ(ok.body["results"][1]["status"], 201);
  EXPECT_EQ(call("GET", "/v1/accounts", admin).body["data"].size(), 4u);
  EXPECT_EQ(call("POST", "/v1/accounts/batch", admin, {{"operations", Json::array()}}).status, 422);
  Json too_many = Json::array();
  for (int i = 0; i < 101; ++i) too_many.push_back({{"method", "create"}, {"data", {{"legal_name", "x"}}}});
  EXPECT_EQ(call("POST", "/v1/accounts/batch", admin, {{"operations", too_many}}).status, 422);
  // A role that may write no account is refused for the whole batch, before any item.
  EXPECT_EQ(call("POST", "/v1/accounts/batch", auditor, {{"operations", operations}}).status, 403);
}

// Issue #5: customer 360 — the timeline merges, orders and pages; the briefing warns.
TEST_P(Api, TimelineMergesInteractionsStageChangesAndTasksNewestFirst) {
  std::string account = create("accounts", {{"legal_name", "Fazenda"}});
  std::string deal = create("deals", {{"name", "Safra"}, {"account_id", account}, {"pipeline_id", pipeline()}});
  for (const char* when : {"2026-01-01T10:00:00Z", "2026-03-01T10:00:00Z", "2026-02-01T10:00:00Z"})
    create("interactions",
           {{"type", "call"}, {"direction", "outbound"}, {"account_id", account}, {"occurred_at", when}});
  create("tasks", {{"title", "Visit"}, {"account_id", account}});
  create("interactions", {{"type", "note"}, {"direction", "internal"}});  // another account's: not shown

  std::vector<Json> items;
  std::string cursor;
  do {
    auto page = call(
        "GET", "/v1/accounts/" + account + "/timeline?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor), admin);
    ASSERT_EQ(page.status, 200) << page.raw.body;
    for (const auto& item : page.body["data"]) items.push_back(item);
    cursor = page.body["next_cursor"].is_null() ? "" : page.body["next_cursor"].get<std::string>();
  } while (!cursor.empty() && items.size() < 20);
  ASSERT_EQ(items.size(), 5u);
  for (std::size_t i = 1; i < items.size(); ++i)
    EXPECT_GE(items[i - 1]["at"].get<std::string>(), items[i]["at"].get<std::string>()) << "not newest first at " << i;
  std::multiset<std::string> kinds;
  for (const auto& item : items) kinds.insert(item["kind"]);
  EXPECT_EQ(kinds, (std::multiset<std::string>{"interaction", "interaction", "interaction", "stage_change", "task"}));
  EXPECT_EQ(items[2]["at"], "2026-03-01T10:00:00Z");
  EXPECT_EQ(items[4]["at"], "2026-01-01T10:00:00Z");
  for (const auto& item : items) {
    if (item["kind"] == "stage_change") {
      EXPECT_EQ(item["data"]["deal_id"], deal);
    }
  }
  EXPECT_EQ(call("GET", "/v1/accounts/acc_01m80gv6y4eqcsmge90bwbtca7/timeline", admin).status, 404);
}

TEST_P(Api, BriefingListsWhatARepNeedsAndFlagsRisks) {
  auto ctx = h->context(h->tenant);
  auto records = h->records();
  // Seeded at the harness's clock (2026-07-01) so the stage stay is long by now.
  std::string account = records.create(ctx, "account", {{"legal_name", "Cooperativa"}}).record["id"];
  std::string pipe = records.create(ctx, "pipeline", {{"name", "P"}}).record["id"];
  records.create(ctx, "stage",
                 {{"pipeline_id", pipe}, {"name", "Proposta"}, {"position", 0}, {"rot_days", 14}, {"probability", 60}});
  std::string buyer =
      records.create(ctx, "contact", {{"name", "Carla"}, {"account_id", account}, {"job_title", "Compras"}})
          .record["id"];
  records.create(ctx, "deal",
                 {{"name", "Safra 27"},
                  {"account_id", account},
                  {"pipeline_id", pipe},
                  {"contacts", Json::array({Json{{"contact_id", buyer}, {"role", "decision_maker"}}})},
                  {"amount", 90000000}});
  records.create(ctx, "interaction",
                 {{"type", "whatsapp"},
                  {"direction", "inbound"},
                  {"channel", "whatsapp"},
                  {"account_id", account},
                  {"occurred_at", "2026-06-01T12:00:00Z"}});
  records.create(ctx, "interaction",
                 {{"type", "email"},
                  {"direction", "outbound"},
                  {"channel", "email"},
                  {"account_id", account},
                  {"occurred_at", "2026-06-20T12:00:00Z"},
                  {"subject", "Proposta"}});
  records.create(ctx, "task",
                 {{"title", "Enviar amostra"}, {"account_id", account}, {"due_at", "2026-06-25T12:00:00Z"}});
  records.create(ctx, "task", {{"title", "Visita"}, {"account_id", account}, {"due_at", "2099-01-01T12:00:00Z"}});

  auto r = call("GET", "/v1/accounts/" + account + "/briefing", admin);
  ASSERT_EQ(r.status, 200) << r.raw.body;
  const Json& b = r.body;
  ASSERT_TRUE(b.contains("open_deals")) << r.raw.body;
  ASSERT_EQ(b["open_deals"].size(), 1u);
  EXPECT_EQ(b["open_deals"][0]["stage"]["name"], "Proposta");
  EXPECT_GT(b["open_deals"][0]["days_in_stage"].get<int>(), 14);
  EXPECT_EQ(b["last_interaction_by_channel"]["email"]["subject"], "Proposta");
  EXPECT_EQ(b["last_interaction_by_channel"]["whatsapp"]["occurred_at"], "2026-06-01T12:00:00Z");
  EXPECT_EQ(b["open_tasks"].size(), 2u);
  ASSERT_EQ(b["overdue_tasks"].size(), 1u);
  EXPECT_EQ(b["overdue_tasks"][0]["title"], "Enviar amostra");
  ASSERT_EQ(b["contacts"].size(), 1u);
  ASSERT_EQ(b["contacts"][0]["deal_roles"].size(), 1u) << b.dump();
  EXPECT_EQ(b["contacts"][0]["deal_roles"][0]["role"], "decision_maker");
  std::set<std::string> flags;
  for (const auto& f : b["risk_flags"]) {
    flags.insert(f["kind"]);
    EXPECT_FALSE(f["reason"].get<std::string>().empty());
  }
  EXPECT_EQ(flags, (std::set<std::string>{"stalled_stage", "no_activity", "overdue_follow_ups"}));
  EXPECT_EQ(call("GET", "/v1/accounts/" + account + "/briefing?quiet_days=0", admin).status, 400);
  EXPECT_EQ(call("GET", "/v1/accounts/" + account + "/briefing?quiet_days=5x", admin).status, 400);
}

// Issue #5: /metrics in Prometheus text format.
TEST_P(Api, MetricsCountRequestsByRouteTemplateAndShowPoolsAndBacklog) {
  std::string id = create("accounts", body_for("accounts"));
  call("GET", "/v1/accounts/" + id, admin);
  call("GET", "/v1/accounts/acc_01m80gv6y4eqcsmge90bwbtca7", admin);
  auto metrics = http_request(port, "GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.header("Content-Type"), "text/plain; version=0.0.4");
  const std::string& text = metrics.body;
  EXPECT_NE(text.find("nucleo_http_requests_total{route=\"POST /v1/accounts\",status=\"201\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("nucleo_http_requests_total{route=\"GET /v1/accounts/{id}\",status=\"200\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("nucleo_http_requests_total{route=\"GET /v1/accounts/{id}\",status=\"404\"} 1"),
            std::string::npos);
  EXPECT_EQ(text.find(id), std::string::npos) << "ids must not become label values";
  EXPECT_NE(text.find("nucleo_http_request_duration_seconds_bucket{route=\"GET /v1/accounts/{id}\",le=\"+Inf\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("nucleo_db_pool_connections{pool=\"request\",state=\"size\"}"), std::string::npos);
  EXPECT_NE(text.find("# TYPE nucleo_outbox_backlog gauge"), std::string::npos);
}

// Issue #21: a stage's entry criteria over HTTP — the dry run answers what the move
// then enforces, every unmet criterion at once, each with its stable code.
TEST_P(Api, AStageGateIsEvaluatedBeforeTheMoveAndEnforcedByIt) {
  std::string account = create("accounts", {{"legal_name", "Universidade Federal do Cerrado"}});
  std::string pipeline = create("pipelines", {{"name", "Parcerias"}});
  create("stages", {{"pipeline_id", pipeline}, {"name", "Contato"}, {"position", 0}});
  Json criteria = Json::parse(R"([{"kind": "field", "field": "amount", "op": "gte", "value": 100000},
                                  {"kind": "interactions", "types": ["meeting"], "min_count": 1}])");
  std::string proposal =
      create("stages", {{"pipeline_id", pipeline}, {"name", "Proposta"}, {"position", 1}, {"entry_criteria", criteria}});
  auto bad = call("POST", "/v1/stages", admin,
                  {{"pipeline_id", pipeline}, {"name", "X"}, {"position", 2}, {"entry_criteria", {{{"kind", "vibes"}}}}});
  ASSERT_EQ(bad.status, 422) << bad.raw.body;
  EXPECT_EQ(bad.body["errors"][0]["field"], "entry_criteria/0/kind");
  std::string deal = create("deals", {{"name", "Convênio 2027"}, {"account_id", account}, {"pipeline_id", pipeline},
                                      {"amount", 80000}});
  const std::string gate = "/v1/deals/" + deal + "/gate?stage_id=" + proposal;

  auto dry = call("GET", gate, manager);
  ASSERT_EQ(dry.status, 200) << dry.raw.body;
  EXPECT_EQ(dry.body["passes"], false);
  ASSERT_EQ(dry.body["unmet"].size(), 2u) << dry.raw.body;
  auto move = call("POST", "/v1/deals/" + deal + "/stage", manager, {{"stage_id", proposal}});
  ASSERT_EQ(move.status, 422) << move.raw.body;
  ASSERT_EQ(move.body["errors"].size(), 2u) << move.raw.body;
  for (std::size_t i = 0; i < 2; ++i) {  // the dry run and the move say the same
    EXPECT_EQ(move.body["errors"][i]["code"], dry.body["unmet"][i]["code"]);
    EXPECT_EQ(move.body["errors"][i]["message"], dry.body["unmet"][i]["missing"]);
    EXPECT_EQ(move.body["errors"][i]["field"], "entry_criteria/" + std::to_string(i));
  }
  EXPECT_EQ(dry.body["unmet"][0]["code"], "field_mismatch");
  EXPECT_EQ(dry.body["unmet"][1]["code"], "interactions_missing");

  // An override: a sales user may not; a manager may, with a reason, in the body or X-Reason.
  std::string sales = user_key(h->tenant, "sales");
  std::string other = create("deals", {{"name", "Convênio 2028"}, {"account_id", account}, {"pipeline_id", pipeline},
                                       {"owner_id", nullptr}});
  auto refused = call("POST", "/v1/deals/" + other + "/stage", sales, {{"stage_id", proposal}, {"override", true},
                                                                       {"reason", "quero"}});
  ASSERT_EQ(refused.status, 422) << refused.raw.body;
  EXPECT_EQ(refused.body["errors"][0]["code"], "override_not_allowed");
  EXPECT_EQ(call("POST", "/v1/deals/" + other + "/stage", manager, {{"stage_id", proposal}, {"override", true}})
                .body["errors"][0]["code"],
            "reason_required");
  EXPECT_EQ(call("POST", "/v1/deals/" + other + "/stage", manager, {{"stage_id", proposal}, {"override", "yes"}}).status,
            422);
  auto overridden = call("POST", "/v1/deals/" + other + "/stage", manager, {{"stage_id", proposal}, {"override", true}},
                         {{"X-Reason", "reitoria assinou o protocolo"}});
  ASSERT_EQ(overridden.status, 200) << overridden.raw.body;
  EXPECT_EQ(overridden.body["stage_id"], proposal);

  call("PATCH", "/v1/deals/" + deal, manager, {{"amount", 150000}});
  call("POST", "/v1/interactions", manager, {{"type", "meeting"}, {"direction", "outbound"}, {"deal_id", deal}});
  EXPECT_EQ(call("GET", gate, manager).body, (Json{{"deal_id", deal}, {"stage_id", proposal}, {"passes", true},
                                                   {"unmet", Json::array()}}));
  EXPECT_EQ(call("POST", "/v1/deals/" + deal + "/stage", manager, {{"stage_id", proposal}}).status, 200);

  EXPECT_EQ(call("GET", "/v1/deals/" + deal + "/gate", manager).status, 400);
  std::string elsewhere = create("stages", {{"pipeline_id", create("pipelines", {{"name", "Outro"}})},
                                            {"name", "Z"}, {"position", 0}});
  EXPECT_EQ(call("GET", "/v1/deals/" + deal + "/gate?stage_id=" + elsewhere, manager).status, 422);
}

// Issue #7: erasure and legal holds over HTTP; afterwards no response carries her data.
TEST_P(Api, ErasureOverHttpRespectsHoldsAndLeavesNoCopyInAnyResponse) {
  const std::string email = "lucia.ramos@laticinios-serra.com.br";
  auto created = call("POST", "/v1/contacts", admin, {{"name", "Lúcia Ramos"}, {"email", email}},
                      {{"Idempotency-Key", "lucia-1"}});
  ASSERT_EQ(created.status, 201) << created.raw.body;
  std::string id = created.body["id"];
  auto note = call("POST", "/v1/interactions", admin,
                   {{"type", "whatsapp"}, {"direction", "inbound"}, {"contact_id", id}, {"body", "Meu e-mail: " + email}});
  ASSERT_EQ(note.status, 201);

  auto hold = call("POST", "/v1/privacy/holds", admin, {{"contact_id", id}, {"reason", "Procon complaint 2026-118"}});
  ASSERT_EQ(hold.status, 201) << hold.raw.body;
  EXPECT_EQ(call("POST", "/v1/privacy/holds", manager, {{"contact_id", id}, {"reason", "x"}}).status, 403);
  auto missing = call("POST", "/v1/privacy/holds", admin, {{"contact_id", id}});
  EXPECT_EQ(missing.status, 422);
  EXPECT_EQ(missing.body["errors"][0]["field"], "reason");
  EXPECT_EQ(call("POST", "/v1/privacy/erasures", admin, {{"contact_id", id}, {"reason", "x"}, {"now", true}}).status, 422);

  auto refused = call("POST", "/v1/privacy/erasures", admin, {{"contact_id", id}, {"reason", "titular request"}});
  EXPECT_EQ(refused.status, 409);
  EXPECT_NE(refused.body["detail"].get<std::string>().find(hold.body["id"].get<std::string>()), std::string::npos)
      << refused.raw.body;
  auto lifted = call("POST", "/v1/privacy/holds/" + hold.body["id"].get<std::string>() + "/lift", admin,
                     {{"reason", "complaint settled"}});
  EXPECT_EQ(lifted.status, 200) << lifted.raw.body;
  EXPECT_EQ(lifted.body["active"], false);

  auto erased = call("POST", "/v1/privacy/erasures", admin, {{"contact_id", id}, {"reason", "titular request"}});
  ASSERT_EQ(erased.status, 201) << erased.raw.body;
  EXPECT_EQ(erased.body["interactions_erased"], 1);
  EXPECT_EQ(call("POST", "/v1/privacy/erasures", admin, {{"contact_id", id}, {"reason", "again"}}).status, 409);

  std::vector<Reply> replies{
      call("POST", "/v1/contacts", admin, {{"name", "Lúcia Ramos"}, {"email", email}}, {{"Idempotency-Key", "lucia-1"}}),
      call("GET", "/v1/contacts/" + id, admin), call("GET", "/v1/interactions/" + note.body["id"].get<std::string>(), admin),
      call("GET", "/v1/contacts?limit=200", admin), call("GET", "/v1/accounts/" + id + "/timeline", admin)};
  EXPECT_EQ(replies[0].status, 410);  // the stored answer is gone with her data
  EXPECT_EQ(replies[0].raw.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(replies[0].raw.body.find("Lúcia"), std::string::npos);
  EXPECT_EQ(replies[1].body["name"], "Erased contact");
  EXPECT_TRUE(replies[2].body["body"].is_null());
  Reply history;
  for (int attempt = 0; attempt < 100; ++attempt) {  // until the sequencer has logged the erasure
    history = call("GET", "/v1/audit/entities/contact/" + id + "/history", auditor);
    if (history.status == 200 && history.body["versions"].size() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(history.body["versions"].size(), 2u) << history.raw.body;
  EXPECT_EQ(history.body["versions"][0]["changes"]["email"]["to"]["erased"], true);
  EXPECT_EQ(history.body["versions"][1]["action"], "contact.erased");
  replies.push_back(history);
  replies.push_back(call("GET", "/v1/audit/events?limit=200", auditor));
  for (const auto& r : replies) {
    EXPECT_EQ(r.raw.body.find("lucia.ramos"), std::string::npos) << r.raw.body;
    EXPECT_EQ(r.raw.body.find("Lúcia"), std::string::npos) << r.raw.body;
  }
  EXPECT_EQ(call("GET", "/v1/audit/entities/contact/" + id + "/history?as_of=yesterday", auditor).status, 400);
  EXPECT_EQ(call("GET", "/v1/audit/entities/contact/" + id + "/history", manager).status, 403);
  auto early = call("GET", "/v1/audit/entities/contact/" + id + "/history?as_of=2000-01-01T00:00:00Z", auditor);
  EXPECT_EQ(early.status, 200);
  EXPECT_TRUE(early.body["record"].is_null());
}

// Issue #7: streamed exports in the three formats, filtered by time, audited.
TEST_P(Api, AuditExportStreamsJsonlCsvAndOcsf) {
  std::string id = create("accounts", {{"legal_name", "=HYPERLINK(\"http://evil.example\",\"x\")"}});
  call("PATCH", "/v1/accounts/" + id, admin, {{"trade_name", "+cmd|' /C calc'!A0"}}, {{"X-Reason", "@SUM(1+1)"}});
  Reply events;
  for (int attempt = 0; attempt < 100; ++attempt) {  // until the sequencer has logged both
    events = call("GET", "/v1/audit/events?entity_id=" + id, auditor);
    if (events.body["data"].size() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(events.body["data"].size(), 2u);

  auto jsonl = call_raw("GET", "/v1/audit/export?format=jsonl", auditor, "");
  ASSERT_EQ(jsonl.status, 200) << jsonl.raw.body;
  EXPECT_EQ(jsonl.raw.header("Transfer-Encoding"), "chunked");
  EXPECT_EQ(jsonl.raw.header("Content-Type"), "application/x-ndjson");
  std::size_t lines = 0;
  std::int64_t expected_seq = 0;
  for (std::size_t start = 0, end; (end = jsonl.raw.body.find('\n', start)) != std::string::npos; start = end + 1) {
    std::string line = jsonl.raw.body.substr(start, end - start);
    EXPECT_FALSE(audit::check_canonical(line)) << line;  // the leaf bytes themselves
    EXPECT_EQ(Json::parse(line)["seq"], expected_seq++);
    EXPECT_EQ(Json::parse(line)["tenant_id"], h->tenant);
    ++lines;
  }
  EXPECT_GE(lines, 2u);

  auto csv = call_raw("GET", "/v1/audit/export?format=csv", auditor, "");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.raw.body.rfind("seq,id,recorded_at,", 0), 0u);
  EXPECT_NE(csv.raw.body.find("'@SUM(1+1)"), std::string::npos);
  // Opened as text, no cell (after a separator or at a line start) begins a formula.
  const std::string& text = csv.raw.body;
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool cell_start = i == 0 || text[i - 1] == ',' || text[i - 1] == '\n' ||
                      (text[i - 1] == '"' && (i < 2 || text[i - 2] == ',' || text[i - 2] == '\n'));
    if (cell_start) {
      EXPECT_EQ(std::string("=+-@").find(text[i]), std::string::npos) << text.substr(i, 40);
    }
  }

  auto ocsf = call_raw("GET", "/v1/audit/export?format=ocsf", admin, "");
  ASSERT_EQ(ocsf.status, 200);
  Json first = Json::parse(ocsf.raw.body.substr(0, ocsf.raw.body.find('\n')));
  EXPECT_EQ(first["class_uid"], 6003);
  EXPECT_EQ(first["metadata"]["version"], "1.1.0");

  // A window by time holds only the events recorded in it.
  std::string from = events.body["data"][1]["leaf"]["recorded_at"];
  auto window = call_raw("GET", "/v1/audit/export?format=jsonl&from=" + from + "&to=2100-01-01T00:00:00Z", auditor, "");
  ASSERT_EQ(window.status, 200);
  EXPECT_LT(window.raw.body.size(), jsonl.raw.body.size());
  EXPECT_EQ(Json::parse(window.raw.body.substr(0, window.raw.body.find('\n')))["recorded_at"], from);

  EXPECT_EQ(call("GET", "/v1/audit/export?format=xlsx", auditor).status, 400);
  EXPECT_EQ(call("GET", "/v1/audit/export?from=yesterday", auditor).status, 400);
  EXPECT_EQ(call("GET", "/v1/audit/export", manager).status, 403);
  // Each export is itself recorded.
  EXPECT_GE(h->count("SELECT count(*) FROM audit_pending WHERE action = 'audit.exported'") +
                h->count("SELECT count(*) FROM audit_log WHERE action = 'audit.exported'"),
            4);
}

// Issue #6: the audit API over a running server (whose sequencer fills the log).
TEST_P(Api, AuditEventsAndProofsForAuditorsOnlyAndEveryReadIsAudited) {
  std::string id = create("accounts", {{"legal_name", "Cooperativa Agrícola Sul"}});
  call("PATCH", "/v1/accounts/" + id, admin, {{"trade_name", "Coop Sul"}});
  // Wait for the server's sequencer (audit.sequence_interval_ms) to move both events.
  Reply events;
  for (int attempt = 0; attempt < 100; ++attempt) {
    events = call("GET", "/v1/audit/events?entity_id=" + id, auditor);
    if (events.status == 200 && events.body["data"].size() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(events.status, 200) << events.body.dump();
  ASSERT_EQ(events.body["data"].size(), 2u);
  EXPECT_EQ(events.body["data"][0]["leaf"]["action"], "account.created");
  EXPECT_EQ(events.body["data"][1]["leaf"]["changes"]["trade_name"]["to"], "Coop Sul");

  EXPECT_EQ(call("GET", "/v1/audit/events", manager).status, 403);
  EXPECT_EQ(call("GET", "/v1/audit/events", user_key(h->tenant, "sales")).status, 403);
  EXPECT_EQ(call("GET", "/v1/audit/events?from=yesterday", auditor).status, 400);

  // An inclusion proof for the update, checked against a consistency proof to a later size.
  std::int64_t seq = events.body["data"][1]["seq"];
  std::string size = std::to_string(seq + 1);
  auto inclusion = call("GET", "/v1/audit/proof/inclusion?seq=" + std::to_string(seq) + "&tree_size=" + size, auditor);
  ASSERT_EQ(inclusion.status, 200) << inclusion.body.dump();
  auto p = audit::inclusion_proof_from_json(inclusion.body);
  EXPECT_TRUE(audit::verify_inclusion(p.leaf_index, p.tree_size, p.leaf_hash, p.proof, p.root));
  EXPECT_EQ(audit::to_base64(p.leaf_hash), events.body["data"][1]["leaf_hash"]);
  EXPECT_EQ(p.leaf_hash, audit::leaf_hash(audit::canonical_json(events.body["data"][1]["leaf"])));

  auto consistency = call("GET", "/v1/audit/proof/consistency?first=1&second=" + size, admin);
  ASSERT_EQ(consistency.status, 200);
  auto c = audit::consistency_proof_from_json(consistency.body);
  EXPECT_TRUE(audit::verify_consistency(c.size1, c.size2, c.root1, c.root2, c.proof));
  EXPECT_EQ(c.root2, p.root);

  EXPECT_EQ(call("GET", "/v1/audit/proof/inclusion?seq=0", auditor).status, 400);
  EXPECT_EQ(call("GET", "/v1/audit/proof/inclusion?seq=-1&tree_size=1", auditor).status, 400);
  EXPECT_EQ(call("GET", "/v1/audit/proof/inclusion?seq=0&tree_size=100000", auditor).status, 422);
  EXPECT_EQ(call("GET", "/v1/audit/proof/consistency?first=0&second=1", auditor).status, 422);

  // A signed checkpoint covers the log, verifies under the tenant's vkey and matches the
  // roots the proofs lead to; the same note was published to audit.publish_dir.
  Reply note;
  audit::NoteCheck checked;
  auto key = audit::parse_vkey(audit::vkey(origin_host + "/nucleo/" + h->tenant, signing_key->public_key()));
  for (int attempt = 0; attempt < 100; ++attempt) {
    note = call("GET", "/v1/audit/checkpoint", auditor);
    if (note.status == 200) {
      checked = audit::verify_checkpoint_note(note.raw.body, key);
      if (checked.checkpoint && checked.checkpoint->size > static_cast<std::uint64_t>(seq)) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(note.status, 200) << note.raw.body;
  EXPECT_EQ(note.raw.header("Content-Type").rfind("text/plain", 0), 0u);
  ASSERT_TRUE(checked.checkpoint) << checked.error << "\n" << note.raw.body;
  auto at_checkpoint = call("GET",
                            "/v1/audit/proof/inclusion?seq=" + std::to_string(seq) +
                                "&tree_size=" + std::to_string(checked.checkpoint->size),
                            auditor);
  EXPECT_EQ(audit::inclusion_proof_from_json(at_checkpoint.body).root, checked.checkpoint->root);
  EXPECT_EQ(call("GET", "/v1/audit/checkpoint", manager).status, 403);
  std::ifstream published(dir.path() + "/published/" + h->tenant + "/checkpoints/" +
                          std::to_string(checked.checkpoint->size) + ".note");
  std::stringstream published_text;
  published_text << published.rdbuf();
  EXPECT_TRUE(audit::verify_checkpoint_note(published_text.str(), key).checkpoint) << published_text.str();

  // … and was POSTed to audit.publish_url, a note per checkpoint.
  bool posted = false;
  for (int attempt = 0; attempt < 50 && !posted; ++attempt) {
    for (const auto& [tenant, text] : witnessed())
      posted = posted || (tenant == h->tenant && audit::verify_checkpoint_note(text, key).checkpoint.has_value());
    if (!posted) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(posted);

  // The reads themselves became audit events.
  Reply reads;
  for (int attempt = 0; attempt < 100; ++attempt) {
    reads = call("GET", "/v1/audit/events?action=audit.proof_read", auditor);
    if (reads.body["data"].size() >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GE(reads.body["data"].size(), 2u);
  EXPECT_EQ(reads.body["data"][0]["leaf"]["entity"]["type"], "audit_log");
}

// Issue #5: POST /v1/{resource}/search — every operator, grouping, accents, attributes.
TEST_P(Api, SearchHonoursEveryOperatorGroupingAccentsAndAttributes) {
  auto search = [&](const Json& body) {
    auto r = call("POST", "/v1/accounts/search", admin, body);
    EXPECT_EQ(r.status, 200) << r.raw.body;
    std::set<std::string> names;
    for (const auto& row : r.body["data"]) names.insert(row["legal_name"]);
    return names;
  };
  auto where = [](Json filters) { return Json{{"filter_groups", {{{"filters", filters}}}}}; };
  create("accounts",
         {{"legal_name", "João Agropecuária"}, {"lifecycle", "customer"}, {"attributes", {{"agro.safra", "2026/27"}}}});
  create("accounts", {{"legal_name", "JOAO Sementes"}, {"lifecycle", "prospect"}, {"domain", "sementes.com.br"}});
  create("accounts",
         {{"legal_name", "Maria Ação Rural"}, {"lifecycle", "customer"}, {"attributes", {{"agro.safra", "2025/26"}}}});
  create("accounts", {{"legal_name", "100% Café_Ltda"}, {"lifecycle", "lead"}});

  using S = std::set<std::string>;
  EXPECT_EQ(search(where({{{"field", "legal_name"}, {"op", "contains"}, {"value", "joão"}}})),
            (S{"João Agropecuária", "JOAO Sementes"}));
  EXPECT_EQ(search(where({{{"field", "legal_name"}, {"op", "contains"}, {"value", "ACAO"}}})), (S{"Maria Ação Rural"}));
  EXPECT_EQ(search(where({{{"field", "legal_name"}, {"op", "contains"}, {"value", "0% c"}}})), (S{"100% Café_Ltda"}));
  EXPECT_EQ(search(where({{{"field", "legal_name"}, {"op", "contains"}, {"value", "%"}}})), (S{"100% Café_Ltda"}));
  EXPECT_EQ(search(where({{{"field", "lifecycle"}, {"op", "eq"}, {"value", "customer"}}})),
            (S{"João Agropecuária", "Maria Ação Rural"}));
  EXPECT_EQ(search(where({{{"field", "lifecycle"}, {"op", "neq"}, {"value", "customer"}}})),
            (S{"JOAO Sementes", "100% Café_Ltda"}));
  EXPECT_EQ(search(where({{{"field", "lifecycle"}, {"op", "in"}, {"value", {"lead", "prospect"}}}})),
            (S{"JOAO Sementes", "100% Café_Ltda"}));
  EXPECT_EQ(search(where({{{"field", "domain"}, {"op", "exists"}, {"value", true}}})), (S{"JOAO Sementes"}));
  EXPECT_EQ(search(where({{{"field", "domain"}, {"op", "exists"}, {"value", false}}})).size(), 3u);
  EXPECT_EQ(search(where({{{"field", "legal_name"}, {"op", "lt"}, {"value", "JOAO"}}})), (S{"100% Café_Ltda"}));
  EXPECT_EQ(search(where({{{"field", "legal_name"}, {"op", "gte"}, {"value", "Maria"}}})), (S{"Maria Ação Rural"}));
  EXPECT_EQ(search(where({{{"field", "created_at"}, {"op", "gt"}, {"value", "2000-01-01T00:00:00Z"}}})).size(), 4u);
  EXPECT_EQ(search(where({{{"field", "created_at"}, {"op", "lte"}, {"value", "2000-01-01T00:00:00Z"}}})).size(), 0u);
  EXPECT_EQ(search(where({{{"field", "attributes.agro.safra"}, {"op", "eq"}, {"value", "2026/27"}}})),
            (S{"João Agropecuária"}));
  EXPECT_EQ(search(where({{{"field", "attributes.agro.safra"}, {"op", "exists"}, {"value", true}}})).size(), 2u);
  EXPECT_EQ(search(where({{{"field", "attributes.agro.safra"}, {"op", "neq"}, {"value", "2026/27"}}})).size(), 3u);
  // AND within a group, OR across groups
  EXPECT_EQ(search(where({{{"field", "lifecycle"}, {"op", "eq"}, {"value", "customer"}},
                          {{"field", "legal_name"}, {"op", "contains"}, {"value", "maria"}}})),
            (S{"Maria Ação Rural"}));
  EXPECT_EQ(search({{"filter_groups",
                     {{{"filters", {{{"field", "lifecycle"}, {"op", "eq"}, {"value", "lead"}}}}},
                      {{"filters", {{{"field", "legal_name"}, {"op", "contains"}, {"value", "sementes"}}}}}}}}),
            (S{"100% Café_Ltda", "JOAO Sementes"}));
  EXPECT_EQ(search(Json::object()).size(), 4u);
}

TEST_P(Api, SearchSortsAndPagesWithCursors) {
  for (int i = 0; i < 7; ++i) create("products", {{"name", "P" + std::to_string(i)}, {"price", (i * 37) % 11}});
  std::vector<std::string> names;
  Json body = {{"sort", {{{"field", "name"}, {"direction", "desc"}}}}, {"limit", 3}};
  for (int pages = 0; pages < 5; ++pages) {
    auto r = call("POST", "/v1/products/search", admin, body);
    ASSERT_EQ(r.status, 200) << r.raw.body;
    for (const auto& row : r.body["data"]) names.push_back(row["name"]);
    if (r.body["next_cursor"].is_null()) break;
    body["cursor"] = r.body["next_cursor"];
  }
  EXPECT_EQ(names, (std::vector<std::string>{"P6", "P5", "P4", "P3", "P2", "P1", "P0"}));
  // a cursor is bound to its sort order
  auto first = call("POST", "/v1/products/search", admin, {{"limit", 2}});
  EXPECT_EQ(call("POST", "/v1/products/search", admin,
                 {{"limit", 2}, {"cursor", first.body["next_cursor"]}, {"sort", {{{"field", "name"}}}}})
                .status,
            400);
}

// Issue #17: a tenant whose pending audit events cannot be sequenced (here one an
// older version could have recorded) stalls alone and is seen: /readyz says
// "degraded" naming it, /metrics has its backlog's age, and an export says how many
// events it left out — so "PASS" cannot hide a backlog. Other tenants keep sequencing.
TEST_P(Api, AStalledAuditLogIsReportedNotHidden) {
  using namespace std::chrono_literals;
  auto pending_of = [&](const std::string& tenant) {
    return h->count("SELECT count(*) FROM audit_pending WHERE tenant_id = '" + tenant + "'");
  };
  for (int i = 0; i < 100 && pending_of(h->tenant) > 0; ++i) std::this_thread::sleep_for(100ms);
  ASSERT_EQ(pending_of(h->tenant), 0);  // what the fixture recorded is in the log
  Json deep = "x";
  for (int i = 0; i < 70; ++i) deep = Json::array({deep});  // deeper than a leaf may nest
  std::int64_t two_minutes_ago = SystemClock().now().micros - 120'000'000;
  h->deps().worker_database.write("", [&](store::Transaction& tx) {
    store::execute(tx.session(),
                   "INSERT INTO audit_pending (id, tenant_id, recorded_at, actor_type, actor_id, action, entity_type,"
                   " entity_id, changes) VALUES ('aud_01m8xg3p4eesbre64jj63pb3pc', :p0, :p1, 'system', 'test',"
                   " 'account.updated', 'account', 'acc_x', :p2)",
                   {h->tenant, two_minutes_ago, Json{{"note", {{"from", nullptr}, {"to", deep}}}}.dump()});
  });
  auto ready = call("GET", "/readyz", "");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body["status"], "degraded") << ready.raw.body;
  EXPECT_NE(ready.body["detail"].get<std::string>().find(h->tenant), std::string::npos) << ready.raw.body;
  std::string metrics = call_raw("GET", "/metrics", "", "").raw.body;
  EXPECT_NE(metrics.find("nucleo_audit_pending_oldest_seconds{tenant_id=\"" + h->tenant + "\"}"), std::string::npos);

  // Another tenant's writes are still sequenced meanwhile.
  std::string other = h->create_tenant("Segue");
  std::string other_key = integration_key(other, {"*"});
  call("POST", "/v1/accounts", other_key, {{"legal_name", "Segue Ltda"}});
  bool sequenced = false;
  for (int i = 0; i < 100 && !sequenced; ++i) {
    sequenced = h->count("SELECT count(*) FROM audit_log WHERE tenant_id = '" + other + "'") > 0 && pending_of(other) == 0;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(sequenced);

  EnvironmentChanges env{{"NUCLEO_STORE_URL", h->db.app_url}, {"NUCLEO_STORE_WORKER_URL", h->db.worker_url},
                         {"NUCLEO_STORE_OWNER_URL", h->db.owner_url}, {"NUCLEO_AUDIT_ORIGIN_HOST", origin_host},
                         {"NUCLEO_AUDIT_SIGNING_KEY_FILE", dir.path() + "/checkpoint-signing.pem"}};
  std::string out = dir.path() + "/bundle";
  auto exported = run_process({NUCLEO_BINARY, "audit", "export", "--tenant", h->tenant, "--out", out}, env, 60s);
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_NE(exported.out.find("pending=1"), std::string::npos) << exported.out;
  EXPECT_NE(exported.err.find("not yet sequenced"), std::string::npos) << exported.err;
  auto verified = run_process({NUCLEO_BINARY, "audit", "verify", out}, env, 60s);
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_NE(verified.out.find("1 more events were recorded but not yet sequenced"), std::string::npos) << verified.out;
}

TEST_P(Api, BadSearchesNameTheOffendingPart) {
  auto r = call("POST", "/v1/accounts/search", admin,
                {{"filter_groups",
                  {{{"filters",
                     {{{"field", "shoe_size"}, {"op", "eq"}, {"value", 1}},
                      {{"field", "legal_name"}, {"op", "like"}, {"value", "x"}},
                      {{"field", "created_at"}, {"op", "gt"}, {"value", "yesterday"}}}}}}},
                 {"sort", {{{"field", "trade_name"}}}},
                 {"limit", 1000}});
  EXPECT_EQ(r.status, 422);
  std::set<std::string> fields;
  for (const auto& e : r.body["errors"]) fields.insert(e["field"]);
  EXPECT_EQ(fields, (std::set<std::string>{"filter_groups[0].filters[0].field", "filter_groups[0].filters[1].op",
                                           "filter_groups[0].filters[2].value", "sort[0].field", "limit"}));
  EXPECT_EQ(call("POST", "/v1/accounts/search", admin, {{"cursor", "forged.abc"}}).status, 400);
}

INSTANTIATE_TEST_SUITE_P(Backends, Api, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

// Limits with small settings, in their own server.
class ApiLimits : public ApiFixture {
 protected:
  EnvironmentChanges server_environment() override {
    return {{"NUCLEO_LIMITS_RATE_PER_SECOND", "1"},
            {"NUCLEO_LIMITS_RATE_BURST", "5"},
            {"NUCLEO_HTTP_BODY_LIMIT", "2048"},
            {"NUCLEO_LIMITS_JSON_DEPTH", "4"}};
  }
};

TEST_P(ApiLimits, EachLimitAnswersWithItsStatus) {
  auto deep = call_raw("POST", "/v1/accounts", admin, "{\"legal_name\":\"x\",\"address\":{\"a\":{\"b\":{\"c\":{}}}}}");
  EXPECT_EQ(deep.status, 400);
  EXPECT_NE(deep.body["detail"].get<std::string>().find("deeper than 4"), std::string::npos);
  auto big = call_raw("POST", "/v1/accounts", admin, "{\"legal_name\":\"" + std::string(3000, 'x') + "\"}");
  EXPECT_EQ(big.status, 413);
  int limited = 0;
  std::string retry_after;
  for (int i = 0; i < 10; ++i) {
    auto r = call("GET", "/v1/accounts", manager);
    if (r.status == 429) {
      ++limited;
      retry_after = r.raw.header("Retry-After");
    }
  }
  EXPECT_GE(limited, 4);
  EXPECT_FALSE(retry_after.empty());
  EXPECT_EQ(call("GET", "/v1/accounts", auditor).status, 200);  // buckets are per key
}

INSTANTIATE_TEST_SUITE_P(Backends, ApiLimits, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

// Issue #29: a text match no trigram index serves reads a bounded window per page
// (limits.search_scan_rows, 3 here): pages come back short, even empty, with a cursor,
// and following the cursors finds every match. A longer term uses the index: one page.
class ApiSearchWindow : public ApiFixture {
 protected:
  EnvironmentChanges server_environment() override { return {{"NUCLEO_LIMITS_SEARCH_SCAN_ROWS", "3"}}; }
};

TEST_P(ApiSearchWindow, AShortTermPagesThroughBoundedWindowsAndALongOneUsesTheIndex) {
  // Ids order records by creation time to the millisecond: one account per millisecond at most.
  for (const char* name : {"João Agro", "Maria Sementes", "Joana Café", "Pedro Grãos", "Paulo Rural", "Jô Pecuária",
                           "Ana Soja", "Bruno Milho"}) {
    ASSERT_EQ(call("POST", "/v1/accounts", admin, {{"legal_name", name}}).status, 201);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  auto all_pages = [&](Json body) {
    std::vector<std::vector<std::string>> pages;
    for (int guard = 0; guard < 20; ++guard) {
      auto r = call("POST", "/v1/accounts/search", admin, body);
      EXPECT_EQ(r.status, 200) << r.raw.body;
      std::vector<std::string> names;
      for (const auto& row : r.body["data"]) names.push_back(row["legal_name"]);
      pages.push_back(names);
      if (r.body["next_cursor"].is_null()) break;
      body["cursor"] = r.body["next_cursor"];
    }
    return pages;
  };
  auto filter = [](const std::string& op, const std::string& value) {
    return Json{{"filter_groups", {{{"filters", {{{"field", "legal_name"}, {"op", op}, {"value", value}}}}}}}};
  };
  // Windows of three accounts in creation order: the third holds no match, and the
  // search reads on until fewer than three accounts are left.
  using Pages = std::vector<std::vector<std::string>>;
  EXPECT_EQ(all_pages(filter("starts_with", "jo")), (Pages{{"João Agro", "Joana Café"}, {"Jô Pecuária"}, {}}));
  EXPECT_EQ(all_pages(filter("contains", "ao")), (Pages{{"João Agro"}, {"Pedro Grãos"}, {}}));
  EXPECT_EQ(all_pages(filter("starts_with", "joa")), (Pages{{"João Agro", "Joana Café"}}));
  EXPECT_EQ(all_pages(filter("contains", "grãos")), (Pages{{"Pedro Grãos"}}));
}

INSTANTIATE_TEST_SUITE_P(Backends, ApiSearchWindow,
                         testing::Values(store::Backend::sqlite, store::Backend::postgresql), BackendName());

}  // namespace
}  // namespace nucleo::test
