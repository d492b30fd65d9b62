// Index-backed search on both backends (docs/adr/0036-search-index-under-rls.md): what a
// search returns is exactly what the unindexed definition says — the folded field
// contains (or starts with) the folded term — for a generated corpus with accents, case,
// punctuation, CNPJs, phones and e-mails and for terms of every length; and the pages a
// tenant sees, bounded scans and cursors included, do not change when another tenant
// holds thousands of matching records interleaved with its own.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "kernel/domain/search_fold.hpp"
#include "kernel/services/record_service.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::services {
namespace {

const std::vector<std::string> words{"João",  "JOÃO",    "joao",   "Ação",   "AÇÚCAR",  "Café",     "Sementes",
                                     "Irmãos", "D'Ávila", "50%",    "under_score", "São",  "Paulo",    "Ltda.",
                                     "S/A",   "ÑANDÚ",   "Agro",   "Grãos",  "Ônibus",  "Pecuária", "x"};

// A valid CNPJ from twelve digits (RFB's check digits, weights 2..9 from the right).
std::string cnpj(std::uint64_t n) {
  std::string base = std::to_string(10'000'000'000 + n % 90'000'000'000);
  base = std::string(12 - base.size(), '0') + base;
  auto digit = [](const std::string& b) {
    int sum = 0, weight = 2;
    for (auto it = b.rbegin(); it != b.rend(); ++it) {
      sum += (*it - '0') * weight;
      weight = weight == 9 ? 2 : weight + 1;
    }
    return sum % 11 < 2 ? 0 : 11 - sum % 11;
  };
  base += std::to_string(digit(base));
  return base + std::to_string(digit(base));
}

// What each search means, computed here from the records as the API returned them.
std::string searched_text(const Json& record, const std::string& field) {
  const Json& v = record.value(field, Json());
  if (v.is_string()) return fold_for_search(v.get<std::string>());
  if (!v.is_array() || v.empty()) return {};
  std::string lines;
  for (const auto& item : v) lines += (lines.empty() ? "" : "\n") + item.get<std::string>();
  return fold_for_search(lines);
}

bool matches(const Json& record, const std::string& field, const std::string& op, const std::string& term) {
  if (op == "eq") return record.value(field, Json()) == Json(term);
  const Json& v = record.value(field, Json());
  if (v.is_null() || (v.is_array() && v.empty())) return false;
  std::string text = searched_text(record, field), folded = fold_for_search(term);
  return op == "contains" ? text.find(folded) != std::string::npos : text.rfind(folded, 0) == 0;
}

class SearchTest : public testing::TestWithParam<store::Backend> {
 protected:
  SearchTest() : h(GetParam()), records(h.records()), ctx(h.context(h.tenant)) {}

  // `n` accounts, contacts and deals of random names, tax ids, phones and e-mails; another
  // tenant's records, when given, interleaved one for one.
  void create_corpus(const CallContext& in, int n, std::uint32_t seed, std::vector<Json>* kept) {
    std::mt19937 random(seed);
    auto pick = [&] { return words[random() % words.size()]; };
    std::string pipeline = records.create(in, "pipeline", {{"name", "Vendas"}}).record["id"];
    records.create(in, "stage", {{"pipeline_id", pipeline}, {"name", "Novo"}, {"position", 0}});
    for (int i = 0; i < n; ++i) {
      Json account = {{"legal_name", pick() + " " + pick() + " " + std::to_string(i) + " " + pick()},
                      {"domain", "loja-" + std::to_string(i % 7) + ".example.com.br"},
                      {"attributes", {{"segmento", pick() + " " + pick()}}}};
      if (i % 3 != 0) account["trade_name"] = pick() + (i % 2 ? " & " : "-") + pick();
      if (i % 4 != 1) account["tax_id"] = cnpj(seed * 1000003ULL + static_cast<std::uint64_t>(i));
      if (i % 5 != 2)
        account["phones"] = {"+55 (11) 9" + std::to_string(8000 + i % 1000) + "-" + std::to_string(1000 + i),
                             "(21) 3" + std::to_string(100 + i % 900) + "-4" + std::to_string(100 + i % 900)};
      if (i % 6 != 3) account["emails"] = {"Vendas." + std::to_string(i) + "@Example.com.br", "sac@ex-" + std::to_string(i % 4) + ".com"};
      Json a = records.create(in, "account", account).record;
      Json c = records.create(in, "contact",
                              {{"name", pick() + " " + pick()},
                               {"account_id", a["id"]},
                               {"email", "contato+" + std::to_string(i) + "@Empresa-" + std::to_string(i % 9) + ".com"},
                               {"phone", "+55 11 9" + std::to_string(7000 + i % 2000) + "-" + std::to_string(2000 + i)}})
                   .record;
      Json d = records.create(in, "deal", {{"name", pick() + " " + std::to_string(i % 13) + " " + pick()},
                                           {"account_id", a["id"]},
                                           {"pipeline_id", pipeline}})
                   .record;
      if (kept) {
        kept->push_back(a);
        kept->push_back(c);
        kept->push_back(d);
      }
    }
  }

  // Every page of a search, followed by its cursors to the end.
  std::vector<std::vector<std::string>> pages(const std::string& type, Json body, std::size_t scan_limit) {
    std::vector<std::vector<std::string>> out;
    Json after;
    for (int guard = 0; guard < 1000; ++guard) {
      auto page = records.search(ctx, type, body, after, 200, scan_limit);
      std::vector<std::string> ids;
      for (const auto& text : page.records) ids.push_back(Json::parse(text)["id"]);
      out.push_back(ids);
      if (page.next.is_null()) return out;
      after = page.next;
    }
    ADD_FAILURE() << "a search did not end";
    return out;
  }

  static Json body(const std::string& field, const std::string& op, const std::string& term, std::size_t limit,
                   Json sort = Json::array()) {
    return {{"filter_groups", {{{"filters", {{{"field", field}, {"op", op}, {"value", term}}}}}}},
            {"sort", sort},
            {"limit", limit}};
  }

  test::ServiceHarness h;
  RecordService records;
  CallContext ctx;
};

const std::vector<std::string> terms{"joao", "JOÃO",    "ção",  "acucar", "a",       "ã",      "jo",     "ão",
                                     "50%",  "%",       "_",    "er_s",   "d'avila", "s/a",    "ltda.",  "sao paulo",
                                     "11",   "98",      "9800", "+55",    "(21) 3",  "@example", ".com.br", "vendas.1",
                                     "\n",   "zzzz",    "café", "grãos 1", "nandu",  "2",
                                     "\"joao", "jo*ao", "agro OR x"};
const std::map<std::string, std::vector<std::string>> searched_fields{
    {"account", {"legal_name", "trade_name", "tax_id", "phones", "emails", "domain", "attributes.segmento"}},
    {"contact", {"name", "email", "phone"}},
    {"deal", {"name"}}};

std::string type_of(const Json& record) {
  std::string id = record["id"];
  return id.rfind("acc_", 0) == 0 ? "account" : id.rfind("con_", 0) == 0 ? "contact" : "deal";
}

TEST_P(SearchTest, EveryTermOnEveryIndexedFieldFindsExactlyWhatTheDefinitionSays) {
  std::vector<Json> corpus;
  create_corpus(ctx, 60, 11, &corpus);
  for (const auto& [type, fields] : searched_fields) {
    for (const auto& field : fields) {
      std::vector<std::string> field_terms = terms;
      // eq: exact values, and the same value in another case (which eq does not match).
      for (const auto& r : corpus)
        if (type_of(r) == type && r.value(field, Json()).is_string() && field_terms.size() < terms.size() + 4) {
          field_terms.push_back(r[field]);
          std::string upper = r[field];
          std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
          field_terms.push_back(upper);
        }
      for (const std::string op : {"contains", "starts_with", "eq"}) {
        if (op == "eq" && (field == "phones" || field == "emails" || field.rfind("attributes.", 0) == 0)) continue;
        for (const auto& term : field_terms) {
          std::set<std::string> expected, found;
          for (const auto& r : corpus) {
            if (type_of(r) != type) continue;
            const Json& value = field.rfind("attributes.", 0) == 0 ? r["attributes"].value(field.substr(11), Json())
                                                                    : r.value(field, Json());
            Json probe = {{"v", value}};
            if (matches(probe, "v", op, term)) expected.insert(r["id"]);
          }
          for (const auto& page : pages(type, body(field, op, term, 200), 0))
            for (const auto& id : page) found.insert(id);
          EXPECT_EQ(found, expected) << type << "." << field << " " << op << " '" << term << "'";
        }
      }
    }
  }
}

// The pages a bounded scan gives: windows of `scan_limit` records after the cursor, the
// matches of each window, `limit` at a time — simulated on the tenant's own records, in
// id order or (newest first) in descending id order: every record was created at the
// same instant of the harness's clock, so created_at ties and the id decides.
std::vector<std::vector<std::string>> simulated_pages(std::vector<Json> own, const std::string& field,
                                                      const std::string& op, const std::string& term,
                                                      std::size_t limit, std::size_t scan_limit, bool newest_first,
                                                      bool field_indexed) {
  std::sort(own.begin(), own.end(), [&](const Json& a, const Json& b) {
    return newest_first ? a["id"].get<std::string>() > b["id"].get<std::string>()
                        : a["id"].get<std::string>() < b["id"].get<std::string>();
  });
  bool bounded = scan_limit > 0 && !(field_indexed && trigram_searchable(fold_for_search(term)));
  std::vector<std::vector<std::string>> out;
  std::size_t start = 0, n = own.size();
  while (true) {
    // The server finds the window's last record first: there is one when at least
    // scan_limit records follow the cursor.
    bool cut = bounded && n - start >= scan_limit;
    std::size_t end = cut ? start + scan_limit : n;
    std::vector<std::string> page;
    std::size_t last_shown = start;
    for (std::size_t i = start; i < end && page.size() <= limit; ++i)
      if (matches(own[i], field, op, term)) {
        page.push_back(own[i]["id"]);
        if (page.size() <= limit) last_shown = i;
      }
    if (page.size() > limit) {
      page.pop_back();
      out.push_back(page);
      start = last_shown + 1;  // the next page continues after the last record shown
      continue;
    }
    out.push_back(page);
    if (!cut) return out;
    start = end;  // a short page of a cut window: the cursor is the window's last record
  }
}

TEST_P(SearchTest, AnotherTenantsRecordsChangeNoPageNoCursorAndNoBoundedScan) {
  // This tenant's records and, interleaved with them, another tenant's: the same words,
  // so every term that matches here matches there too.
  std::string other_tenant = h.create_tenant("Other");
  CallContext other = h.context(other_tenant);
  std::vector<Json> corpus;
  for (int round = 0; round < 4; ++round) {
    std::vector<Json> mine;
    create_corpus(ctx, 15, 100 + static_cast<std::uint32_t>(round), &mine);
    corpus.insert(corpus.end(), mine.begin(), mine.end());
    create_corpus(other, 40, 200 + static_cast<std::uint32_t>(round), nullptr);
  }
  std::vector<Json> accounts, contacts;
  for (const auto& r : corpus) (type_of(r) == "account" ? accounts : contacts).push_back(r);
  std::erase_if(contacts, [](const Json& r) { return type_of(r) != "contact"; });

  struct Shape {
    std::string type, field, op, term;
    bool newest_first;
  };
  const std::vector<Shape> shapes{
      {"account", "legal_name", "contains", "jo", false},      {"account", "legal_name", "contains", "a", false},
      {"account", "legal_name", "contains", "joao", false},    {"account", "legal_name", "starts_with", "s", false},
      {"account", "legal_name", "starts_with", "agro", true}, {"account", "legal_name", "contains", "ã", true},
      {"account", "domain", "contains", "loja-3", false},      {"account", "legal_name", "contains", "zz", false},
      {"contact", "name", "contains", "ão", false},            {"contact", "email", "contains", "@empresa-1", true},
      {"contact", "phone", "contains", "11", false}};
  for (const auto& s : shapes) {
    for (std::size_t scan_limit : {std::size_t{0}, std::size_t{7}, std::size_t{25}}) {
      Json sort = s.newest_first ? Json::array({{{"field", "created_at"}, {"direction", "desc"}}}) : Json::array();
      auto seen = pages(s.type, body(s.field, s.op, s.term, 4, sort), scan_limit);
      auto expected = simulated_pages(s.type == "account" ? accounts : contacts, s.field, s.op, s.term, 4, scan_limit,
                                      s.newest_first, entity_spec(s.type).field(s.field)->folded);
      EXPECT_EQ(seen, expected) << s.type << "." << s.field << " " << s.op << " '" << s.term << "' scan_limit "
                                << scan_limit << (s.newest_first ? " newest first" : "");
    }
  }
}

// A NUL in a value is the caller's mistake, named as such (SQLite would cut the term there).
TEST_P(SearchTest, AValueWithANulIsRefused) {
  for (const std::string op : {"contains", "starts_with", "eq"}) {
    try {
      records.search(ctx, "account", body("legal_name", op, std::string("joa\0o", 5), 50), Json());
      ADD_FAILURE() << op << " accepted a NUL";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::validation) << op;
      EXPECT_NE(std::string(e.what()).find("invalid search"), std::string::npos) << e.what();
    }
  }
}

// A term with more candidates than SQLite looks up one by one (a thousand) is read in id
// order instead: the pages are the same as for a rare one.
TEST_P(SearchTest, ACommonTermPagesLikeARareOne) {
  std::vector<std::string> sementes, rural;
  for (int i = 0; i < 1200; ++i) {  // 1,090 of them Sementes
    std::string id = records.create(ctx, "account", {{"legal_name", (i % 11 ? "Sementes " : "Rural ") + std::to_string(i)}})
                         .record["id"];
    (i % 11 ? sementes : rural).push_back(id);
  }
  std::sort(sementes.begin(), sementes.end());
  std::sort(rural.begin(), rural.end());
  for (const auto& [term, expected] : {std::pair{"sementes", sementes}, std::pair{"rural", rural}}) {
    std::vector<std::string> found;
    for (const auto& page : pages("account", body("legal_name", "contains", term, 200), 0))
      found.insert(found.end(), page.begin(), page.end());
    EXPECT_EQ(found, expected) << term;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, SearchTest, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         [](const auto& info) { return info.param == store::Backend::sqlite ? "sqlite" : "postgresql"; });

}  // namespace
}  // namespace nucleo::services
