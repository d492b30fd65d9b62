#include "kernel/services/duplicate_finder.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>

#include "kernel/domain/name_similarity.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

using store::text_at;

struct Candidate {
  std::string a, b;  // a < b
  Json reasons = Json::array();
  double score = 0;
  bool identified = false;  // an identifier (e-mail, phone, tax id) is shared
};

using Candidates = std::map<std::pair<std::string, std::string>, Candidate>;

void add(Candidates& found, std::string x, std::string y, const Json& reason, double score, bool identifier) {
  if (x == y) return;
  if (y < x) std::swap(x, y);
  Candidate& c = found[{x, y}];
  c.a = x, c.b = y;
  c.reasons.push_back(reason);
  c.score = std::max(c.score, score);
  c.identified = c.identified || identifier;
}

// The records sharing one value, in pairs. A value many records share (a switchboard's
// number) pairs its first holder with each other one instead of every two of them.
void add_group(Candidates& found, const std::vector<std::string>& ids, const Json& reason, double score,
               bool identifier) {
  constexpr std::size_t every_pair_up_to = 10;
  for (std::size_t i = 0; i < ids.size(); ++i)
    for (std::size_t j = i + 1; j < ids.size() && (i == 0 || ids.size() <= every_pair_up_to); ++j)
      add(found, ids[i], ids[j], reason, score, identifier);
}

// Calls `group` with each run of rows whose key (column 0) is equal: the ids in column 1.
void grouped(store::Transaction& tx, const std::string& sql, const std::vector<store::SqlValue>& params,
             const std::function<std::string(const std::string&)>& key_of,
             const std::function<void(const std::string& key, const std::vector<std::string>& ids)>& group) {
  std::string key;
  std::vector<std::string> ids;
  store::query(tx.session(), sql, params, [&](const store::Row& r) {
    std::string k = key_of(text_at(r, 0).value_or(""));
    if (k != key && !ids.empty()) group(key, ids), ids.clear();
    key = k;
    ids.push_back(store::required_text(r, 1));
  });
  if (!ids.empty()) group(key, ids);
}

void by_contact_points(store::Transaction& tx, const CallContext& ctx, const DuplicateQuery& q, Candidates& found) {
  std::vector<store::SqlValue> params{ctx.tenant_id, q.entity_type};
  std::string sql = "SELECT p.kind || ':' || p.value, p.entity_id FROM contact_points p";
  std::string where = " WHERE p.tenant_id = :p0 AND p.entity_type = :p1";
  if (!q.account_id.empty()) {
    sql += " JOIN contacts c ON c.tenant_id = p.tenant_id AND c.id = p.entity_id";
    where += " AND c.account_id = :p2";
    params.push_back(q.account_id);
  }
  sql += where +
         " AND EXISTS (SELECT 1 FROM contact_points o WHERE o.tenant_id = p.tenant_id AND o.kind = p.kind"
         " AND o.value = p.value AND o.entity_type = p.entity_type AND o.entity_id <> p.entity_id)"
         " ORDER BY p.kind, p.value, p.entity_id";
  grouped(tx, sql, params, [](const std::string& k) { return k; },
          [&](const std::string& key, const std::vector<std::string>& ids) {
            auto colon = key.find(':');
            add_group(found, ids, {{"kind", key.substr(0, colon)}, {"value", key.substr(colon + 1)}}, 1.0, true);
          });
}

// CNPJs share their first 8 characters (the company's root) across head office and branches.
void by_tax_id_root(store::Transaction& tx, const CallContext& ctx, Candidates& found) {
  grouped(tx,
          "SELECT tax_id, id FROM accounts WHERE tenant_id = :p0 AND archived_at IS NULL AND tax_id_kind = 'cnpj'"
          " ORDER BY tax_id, id",
          {ctx.tenant_id}, [](const std::string& tax_id) { return tax_id.substr(0, 8); },
          [&](const std::string& root, const std::vector<std::string>& ids) {
            add_group(found, ids, {{"kind", "tax_id_root"}, {"value", root}}, 1.0, true);
          });
}

void by_company_name(store::Transaction& tx, const CallContext& ctx, Candidates& found) {
  std::vector<std::pair<std::string, std::string>> keyed;  // (name key, id)
  store::query(tx.session(), "SELECT legal_name, id FROM accounts WHERE tenant_id = :p0 AND archived_at IS NULL",
               {ctx.tenant_id},
               [&](const store::Row& r) { keyed.emplace_back(company_name_key(text_at(r, 0).value_or("")), store::required_text(r, 1)); });
  std::sort(keyed.begin(), keyed.end());
  for (std::size_t i = 0; i < keyed.size();) {
    std::size_t end = i;
    std::vector<std::string> ids;
    while (end < keyed.size() && keyed[end].first == keyed[i].first) ids.push_back(keyed[end++].second);
    if (!keyed[i].first.empty()) add_group(found, ids, {{"kind", "name"}, {"score", 1.0}}, 1.0, false);
    i = end;
  }
}

// Contacts of one account whose names are alike: each name's trigrams are counted
// against those of the names before it, so only names sharing a trigram are compared.
void similar_names(const std::vector<std::pair<std::string, std::vector<std::string>>>& people, double min_score,
                   Candidates& found) {
  std::map<std::string, std::vector<std::size_t>> holders;  // trigram → the people whose names hold it
  for (std::size_t i = 0; i < people.size(); ++i) {
    std::map<std::size_t, std::size_t> shared;
    for (const auto& gram : people[i].second) {
      auto& list = holders[gram];
      for (std::size_t j : list) ++shared[j];
      list.push_back(i);
    }
    for (const auto& [j, count] : shared) {
      double score = static_cast<double>(count) /
                     static_cast<double>(people[i].second.size() + people[j].second.size() - count);
      if (score >= min_score)
        add(found, people[j].first, people[i].first, {{"kind", "name"}, {"score", std::round(score * 1000) / 1000}},
            score, false);
    }
  }
}

void by_contact_name(store::Transaction& tx, const CallContext& ctx, const DuplicateQuery& q, Candidates& found) {
  std::vector<store::SqlValue> params{ctx.tenant_id};
  std::string sql =
      "SELECT account_id, id, name FROM contacts WHERE tenant_id = :p0 AND archived_at IS NULL AND erased_at IS NULL"
      " AND account_id IS NOT NULL";
  if (!q.account_id.empty()) {
    sql += " AND account_id = :p1";
    params.push_back(q.account_id);
  }
  std::string account;
  std::vector<std::pair<std::string, std::vector<std::string>>> people;
  store::query(tx.session(), sql + " ORDER BY account_id, id", params, [&](const store::Row& r) {
    if (store::required_text(r, 0) != account) similar_names(people, q.min_score, found), people.clear();
    account = store::required_text(r, 0);
    people.emplace_back(store::required_text(r, 1), name_trigrams(text_at(r, 2).value_or("")));
  });
  similar_names(people, q.min_score, found);
}

// Where a candidate sorts: identifiers first, then the higher score, then the ids.
using Position = std::tuple<int, std::int64_t, std::string, std::string>;

Position position_of(const Candidate& c) {
  return {c.identified ? 0 : 1, 1'000'000 - std::llround(c.score * 1'000'000), c.a, c.b};
}

std::string cursor_of(const Position& p) {
  return std::to_string(std::get<0>(p)) + ":" + std::to_string(std::get<1>(p)) + ":" + std::get<2>(p) + ":" +
         std::get<3>(p);
}

Position parse_cursor(const std::string& cursor) {
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    auto colon = cursor.find(':', start);
    parts.push_back(cursor.substr(start, colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  try {
    if (parts.size() == 4) return {std::stoi(parts[0]), std::stoll(parts[1]), parts[2], parts[3]};
  } catch (const std::exception&) {
  }
  throw Error(ErrorCode::validation, "the cursor is not one this server gave", {{"cursor", "is malformed"}});
}

}  // namespace

DuplicatePage DuplicateFinder::find(const CallContext& ctx, const DuplicateQuery& q) {
  if (q.entity_type != "contact" && q.entity_type != "account")
    throw Error(ErrorCode::validation, "duplicates are found among contacts or accounts",
                {{"entity_type", "must be contact or account"}});
  if (!q.account_id.empty() && q.entity_type != "contact")
    throw Error(ErrorCode::validation, "account_id narrows a search for duplicate contacts",
                {{"account_id", "applies to entity_type=contact only"}});
  require_role(ctx, {"admin", "manager", "auditor", "integration"},
               "finding duplicates is for admins, managers and auditors", "duplicates:read");
  require_permission(ctx, entity_spec(q.entity_type), Operation::read);
  std::optional<Position> after;
  if (!q.after.empty()) after = parse_cursor(q.after);

  Candidates found = deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    Candidates c;
    by_contact_points(tx, ctx, q, c);
    if (q.entity_type == "account") {
      by_tax_id_root(tx, ctx, c);
      by_company_name(tx, ctx, c);
    } else {
      by_contact_name(tx, ctx, q, c);
    }
    return c;
  });

  std::vector<std::pair<Position, const Candidate*>> ordered;
  for (const auto& [ids, c] : found)
    if (Position p = position_of(c); !after || p > *after) ordered.emplace_back(p, &c);
  std::sort(ordered.begin(), ordered.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  DuplicatePage page;
  for (std::size_t i = 0; i < ordered.size() && i < q.limit; ++i) {
    const Candidate& c = *ordered[i].second;
    page.items.push_back({{"entity_type", q.entity_type},
                          {"ids", {c.a, c.b}},
                          {"score", std::round(c.score * 1000) / 1000},
                          {"reasons", c.reasons}});
  }
  if (ordered.size() > q.limit) page.next = cursor_of(ordered[q.limit - 1].first);
  return page;
}

}  // namespace nucleo::services
