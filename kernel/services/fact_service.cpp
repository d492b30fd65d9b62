#include "kernel/services/fact_service.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <climits>
#include <cstdio>
#include <functional>
#include <regex>
#include <set>

#include "kernel/audit/recorder.hpp"
#include "kernel/domain/normalise.hpp"
#include "kernel/services/change.hpp"
#include "kernel/services/plugin_record_service.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

using store::SqlValue;

constexpr std::size_t max_dimension_text = 200;
constexpr std::int64_t default_groups = 100'000, max_groups = 1'000'000;
constexpr std::size_t max_in = 1000, max_values = 16;

// A date dimension is kept as its day number: compact, and compared as an integer.
std::optional<std::int64_t> day_of(const Json& value) {
  if (!value.is_string() || !is_calendar_date(value.get_ref<const std::string&>())) return std::nullopt;
  const std::string& t = value.get_ref<const std::string&>();
  std::chrono::year_month_day ymd{std::chrono::year{std::stoi(t.substr(0, 4))},
                                  std::chrono::month{static_cast<unsigned>(std::stoi(t.substr(5, 2)))},
                                  std::chrono::day{static_cast<unsigned>(std::stoi(t.substr(8, 2)))}};
  return std::chrono::sys_days(ymd).time_since_epoch().count();
}

std::string date_of_day(std::int64_t day) {
  std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
  char out[16];
  std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return out;
}

// Where a name of the set is stored, and what it holds.
struct Column {
  std::string sql;  // d1…d4, day, m1…m4
  enum Kind { text, date, measure } kind = text;
};

std::optional<Column> column_of(const FactSetSpec& spec, const std::string& name) {
  for (std::size_t i = 0; i < spec.dimensions.size(); ++i)
    if (spec.dimensions[i] == name) return Column{"d" + std::to_string(i + 1), Column::text};
  if (!spec.date_dimension.empty() && name == spec.date_dimension) return Column{"day", Column::date};
  for (std::size_t i = 0; i < spec.measures.size(); ++i)
    if (spec.measures[i] == name) return Column{"m" + std::to_string(i + 1), Column::measure};
  return std::nullopt;
}

std::string names_of(const FactSetSpec& spec) {
  std::string out;
  for (const auto& d : spec.dimensions) out += (out.empty() ? "" : ", ") + d;
  if (!spec.date_dimension.empty()) out += ", " + spec.date_dimension;
  for (const auto& m : spec.measures) out += ", " + m;
  return out;
}

// A value of `where` as the column holds it.
SqlValue bound(const Column& c, const Json& value, const std::string& at) {
  if (c.kind == Column::text && value.is_string()) return value.get<std::string>();
  if (c.kind == Column::measure && value.is_number_integer()) return value.get<std::int64_t>();
  if (c.kind == Column::date)
    if (auto day = day_of(value)) return *day;
  throw Error(ErrorCode::validation,
              at + " must be " + (c.kind == Column::text ? "a string" : c.kind == Column::date ? "a date, YYYY-MM-DD" : "an integer"),
              {{at, "wrong type"}});
}

// "col = :pN AND …" for a where object; appends the values.
std::string conditions(const FactSetSpec& spec, const Json& where, std::vector<SqlValue>& values, const std::string& at) {
  if (!where.is_object()) throw Error(ErrorCode::validation, at + " must be an object of fields", {{at, "invalid"}});
  static const std::map<std::string, std::string> operators{{"eq", "="}, {"gt", ">"}, {"gte", ">="}, {"lt", "<"}, {"lte", "<="}};
  std::string sql;
  for (const auto& [name, ops] : where.items()) {
    auto column = column_of(spec, name);
    if (!column) throw Error(ErrorCode::validation, at + ": '" + name + "' is not in the set (" + names_of(spec) + ")", {{at, "unknown field"}});
    if (!ops.is_object() || ops.empty())
      throw Error(ErrorCode::validation, at + "." + name + " must be {\"eq\"|\"in\"|\"gt\"|\"gte\"|\"lt\"|\"lte\": value}");
    for (const auto& [op, value] : ops.items()) {
      std::string here = at + "." + name + "." + op;
      if (!sql.empty()) sql += " AND ";
      if (op == "in") {
        if (!value.is_array() || value.empty() || value.size() > max_in)
          throw Error(ErrorCode::validation, here + " must be an array of 1 to 1000 values", {{here, "invalid"}});
        sql += column->sql + " IN (";
        for (std::size_t i = 0; i < value.size(); ++i) {
          sql += (i ? ", " : "") + store::placeholder(values.size());
          values.push_back(bound(*column, value[i], here));
        }
        sql += ")";
        continue;
      }
      auto it = operators.find(op);
      if (it == operators.end()) throw Error(ErrorCode::validation, here + ": the operators are eq, in, gt, gte, lt, lte", {{here, "unknown"}});
      sql += column->sql + " " + it->second + " " + store::placeholder(values.size());
      values.push_back(bound(*column, value, here));
    }
  }
  return sql;
}

// One fact as the columns of its row, or the reason it is not one of `set`.
struct FactRow {
  std::int64_t day = 0;
  std::array<std::string, 4> dimensions;
  std::array<SqlValue, 4> measures;
};

FactRow row_of(const FactSetSpec& spec, const std::string& set, const Json& fact) {
  auto refuse = [&](const std::string& field, const std::string& why) {
    throw Error(ErrorCode::validation, "fact of " + set + ": " + field + " " + why, {{field, why}});
  };
  if (!fact.is_object()) refuse("fact", "must be an object");
  FactRow row;
  for (const auto& [name, value] : fact.items()) {
    auto column = column_of(spec, name);
    if (!column) refuse(name, "is not in the set (" + names_of(spec) + ")");
  }
  for (std::size_t i = 0; i < spec.dimensions.size(); ++i) {
    Json v = fact.value(spec.dimensions[i], Json());
    if (!v.is_string() || v.get_ref<const std::string&>().empty() || v.get_ref<const std::string&>().size() > max_dimension_text)
      refuse(spec.dimensions[i], "must be a string of 1 to 200 characters");
    row.dimensions[i] = v.get<std::string>();
  }
  if (!spec.date_dimension.empty()) {
    auto day = day_of(fact.value(spec.date_dimension, Json()));
    if (!day) refuse(spec.date_dimension, "must be a date, YYYY-MM-DD");
    row.day = *day;
  }
  for (std::size_t i = 0; i < spec.measures.size(); ++i) {
    Json v = fact.value(spec.measures[i], Json());
    if (v.is_null()) continue;
    if (!v.is_number_integer()) refuse(spec.measures[i], "must be an integer or null");
    row.measures[i] = v.get<std::int64_t>();
  }
  return row;
}

// A group's value: "SUM(m1) FILTER (WHERE …)" and the like.
std::string value_sql(const FactSetSpec& spec, const std::string& name, const Json& value, std::vector<SqlValue>& values) {
  std::string at = "values." + name;
  if (!value.is_object()) throw Error(ErrorCode::validation, at + " must be {\"sum\"|\"min\"|\"max\": measure} or {\"count\": true}");
  std::string aggregate;
  for (const char* fn : {"sum", "min", "max"})
    if (value.contains(fn)) {
      auto column = value[fn].is_string() ? column_of(spec, value[fn].get<std::string>()) : std::nullopt;
      if (!column || column->kind != Column::measure)
        throw Error(ErrorCode::validation, at + "." + fn + " must name a measure of the set", {{at, "not a measure"}});
      std::string upper = fn;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      aggregate = upper + "(" + column->sql + ")";
    }
  if (value.contains("count")) {
    if (value["count"] != true) throw Error(ErrorCode::validation, at + ".count must be true");
    aggregate = "COUNT(*)";
  }
  if (aggregate.empty()) throw Error(ErrorCode::validation, at + " must be {\"sum\"|\"min\"|\"max\": measure} or {\"count\": true}");
  if (value.contains("where")) aggregate += " FILTER (WHERE " + conditions(spec, value["where"], values, at + ".where") + ")";
  // PostgreSQL sums bigints as numeric: back to the integer every measure is.
  return "CAST(" + aggregate + " AS bigint)";
}

}  // namespace

const FactSetSpec& FactService::set_of(const std::string& set) const {
  auto it = sets_.find(set);
  if (it == sets_.end()) {
    std::string known;
    for (const auto& [name, spec] : sets_) known += (known.empty() ? "" : ", ") + name;
    throw Error(ErrorCode::not_found, "no fact set " + set + " in " + plugin_id_ + " (its sets: " + (known.empty() ? "none" : known) + ")");
  }
  return it->second;
}

std::vector<std::string> FactService::write(const CallContext& ctx, const std::string& set, const std::vector<Json>& facts) {
  require_store_access(ctx, plugin_id_, true);
  const FactSetSpec& spec = set_of(set);
  std::vector<FactRow> rows;
  rows.reserve(facts.size());
  for (const auto& f : facts) rows.push_back(row_of(spec, set, f));
  std::vector<std::string> actions;
  deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    std::int64_t first = INT64_MAX, last = INT64_MIN, created = 0, updated = 0;
    for (const auto& r : rows) {
      std::vector<SqlValue> key{ctx.tenant_id, plugin_id_, set, r.day, r.dimensions[0], r.dimensions[1], r.dimensions[2], r.dimensions[3]};
      const std::string where = " WHERE tenant_id = :p0 AND plugin_id = :p1 AND fact_set = :p2 AND day = :p3 AND d1 = :p4"
                                " AND d2 = :p5 AND d3 = :p6 AND d4 = :p7";
      std::optional<std::array<SqlValue, 4>> before;
      store::query(tx.session(), "SELECT m1, m2, m3, m4 FROM plugin_facts" + where, key, [&](const store::Row& row) {
        std::array<SqlValue, 4> m;
        for (std::size_t i = 0; i < 4; ++i)
          if (auto v = store::integer_at(row, i)) m[i] = *v;
        before = m;
      });
      // Parameters bind in the order they appear in the text (store/sql.cpp): the measures
      // come first in the UPDATE, last in the INSERT.
      std::vector<SqlValue> measures_then_key(r.measures.begin(), r.measures.end());
      measures_then_key.insert(measures_then_key.end(), key.begin(), key.end());
      if (!before) {
        std::vector<SqlValue> key_then_measures = key;
        key_then_measures.insert(key_then_measures.end(), r.measures.begin(), r.measures.end());
        store::execute(tx.session(),
                       "INSERT INTO plugin_facts (tenant_id, plugin_id, fact_set, day, d1, d2, d3, d4, m1, m2, m3, m4)"
                       " VALUES (:p0, :p1, :p2, :p3, :p4, :p5, :p6, :p7, :p8, :p9, :p10, :p11)",
                       key_then_measures);
        actions.push_back("created"), ++created;
      } else if (*before != r.measures) {
        store::execute(tx.session(),
                       "UPDATE plugin_facts SET m1 = :p0, m2 = :p1, m3 = :p2, m4 = :p3 WHERE tenant_id = :p4 AND plugin_id = :p5"
                       " AND fact_set = :p6 AND day = :p7 AND d1 = :p8 AND d2 = :p9 AND d3 = :p10 AND d4 = :p11",
                       measures_then_key);
        actions.push_back("updated"), ++updated;
      } else {
        actions.push_back("unchanged");
        continue;
      }
      first = std::min(first, r.day), last = std::max(last, r.day);
    }
    if (created + updated == 0) return;
    // One event for the batch: a fact is a measurement from a file, and the import that
    // brought it (the request id) is what an auditor follows.
    Json summary{{"set", set}, {"created", created}, {"updated", updated}};
    if (!spec.date_dimension.empty()) summary["days"] = {{"from", date_of_day(first)}, {"to", date_of_day(last)}};
    commit_change(tx, ctx, {"plugin_facts.written", "plugin_fact_set", plugin_id_ + "/" + set,
                            audit::diff_changes(Json(), summary), summary});
  });
  return actions;
}

Json FactService::aggregate(const CallContext& ctx, const Json& q) {
  require_store_access(ctx, plugin_id_, false);
  if (!q.is_object() || !q.value("set", Json()).is_string())
    throw Error(ErrorCode::validation, "facts.aggregate takes {\"set\", \"where\", \"group_by\" | \"grouping_sets\", \"values\", \"limit\"}");
  for (const auto& [key, v] : q.items())
    if (key != "set" && key != "where" && key != "group_by" && key != "grouping_sets" && key != "values" && key != "limit")
      throw Error(ErrorCode::validation, "'" + key + "' is not a field of an aggregate (set, where, group_by, grouping_sets, values, limit)");
  const std::string set = q["set"];
  const FactSetSpec& spec = set_of(set);

  // The groups: one set of dimensions (group_by) or several (grouping_sets).
  if (q.contains("group_by") && q.contains("grouping_sets"))
    throw Error(ErrorCode::validation, "group_by or grouping_sets, not both");
  Json sets_given = q.contains("grouping_sets") ? q["grouping_sets"] : Json::array({q.value("group_by", Json::array())});
  if (!sets_given.is_array() || sets_given.empty() || sets_given.size() > 8)
    throw Error(ErrorCode::validation, "grouping_sets must be an array of 1 to 8 arrays of dimensions");
  std::vector<std::string> dims;  // every dimension any set groups by, in first-seen order
  std::vector<std::set<std::string>> groupings;
  for (const auto& g : sets_given) {
    if (!g.is_array()) throw Error(ErrorCode::validation, "a grouping is an array of dimensions");
    std::set<std::string> names;
    for (const auto& d : g) {
      auto column = d.is_string() ? column_of(spec, d.get<std::string>()) : std::nullopt;
      if (!column || column->kind == Column::measure)
        throw Error(ErrorCode::validation, "group by a dimension of " + set + ", not " + d.dump(), {{"group_by", "not a dimension"}});
      names.insert(d.get<std::string>());
      if (std::find(dims.begin(), dims.end(), d.get<std::string>()) == dims.end()) dims.push_back(d);
    }
    groupings.push_back(names);
  }
  Json value_specs = q.value("values", Json());
  if (value_specs.is_null()) {
    value_specs = Json::object();
    for (const auto& m : spec.measures) value_specs[m] = {{"sum", m}};
    value_specs["count"] = {{"count", true}};
  }
  static const std::regex value_name("^[a-z][a-z0-9_]{0,39}$");
  if (!value_specs.is_object() || value_specs.empty() || value_specs.size() > max_values)
    throw Error(ErrorCode::validation, "values must be an object of 1 to 16 named values");
  std::int64_t limit = q.value("limit", Json(default_groups)).is_number_integer() ? q.value("limit", default_groups) : -1;
  if (limit < 1 || limit > max_groups) throw Error(ErrorCode::validation, "limit must be an integer from 1 to 1000000", {{"limit", "1-1000000"}});

  // Several groupings are one query. PostgreSQL reads the rows once for all of them
  // (GROUPING SETS: a dimension a set leaves out comes back NULL); SQLite has no grouping
  // sets, so there it is one SELECT per grouping joined by UNION ALL, each reading the rows.
  std::vector<SqlValue> values;
  std::string sql;
  auto select_from = [&](const std::function<std::string(const std::string&)>& dimension_column) {
    std::string select;
    for (const auto& d : dims) select += (select.empty() ? "" : ", ") + dimension_column(d);
    for (const auto& [name, v] : value_specs.items()) {
      if (!std::regex_match(name, value_name)) throw Error(ErrorCode::validation, "value name '" + name + "' must be lower-case letters, digits and _");
      select += (select.empty() ? "" : ", ") + value_sql(spec, name, v, values);
    }
    std::size_t base = values.size();
    values.insert(values.end(), {ctx.tenant_id, plugin_id_, set});
    std::string out = "SELECT " + select + " FROM plugin_facts WHERE tenant_id = " + store::placeholder(base) +
                      " AND plugin_id = " + store::placeholder(base + 1) + " AND fact_set = " + store::placeholder(base + 2);
    if (q.contains("where")) {
      std::string c = conditions(spec, q["where"], values, "where");
      if (!c.empty()) out += " AND " + c;
    }
    return out;
  };
  auto columns_of = [&](const std::set<std::string>& grouping) {
    std::string group;
    for (const auto& d : dims)
      if (grouping.count(d)) group += (group.empty() ? "" : ", ") + column_of(spec, d)->sql;
    return group;
  };
  if (groupings.size() > 1 && deps_.database.backend() == store::Backend::postgresql) {
    sql = select_from([&](const std::string& d) { return column_of(spec, d)->sql; }) + " GROUP BY GROUPING SETS (";
    for (std::size_t i = 0; i < groupings.size(); ++i) sql += (i ? ", (" : "(") + columns_of(groupings[i]) + ")";
    sql += ")";
  } else {
    for (const auto& grouping : groupings) {
      sql += (sql.empty() ? "" : " UNION ALL ") +
             select_from([&](const std::string& d) { return grouping.count(d) ? column_of(spec, d)->sql : std::string("NULL"); });
      if (std::string group = columns_of(grouping); !group.empty()) sql += " GROUP BY " + group;
    }
  }
  sql += " LIMIT " + std::to_string(limit + 1);

  Json columns = Json::array();
  for (const auto& d : dims) columns.push_back(d);
  for (const auto& [name, v] : value_specs.items()) columns.push_back(name);
  Json rows = Json::array();
  deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    store::query(tx.session(), sql, values, [&](const store::Row& r) {
      if (static_cast<std::int64_t>(rows.size()) == limit)
        throw Error(ErrorCode::validation, "the aggregate has more than " + std::to_string(limit) +
                                               " groups: group by less, filter more, or raise limit (at most 1000000)",
                    {{"limit", "exceeded"}});
      Json row = Json::array();
      for (std::size_t i = 0; i < dims.size(); ++i) {
        const Column c = *column_of(spec, dims[i]);
        if (c.kind == Column::date) {
          auto day = store::integer_at(r, i);
          row.push_back(day ? Json(date_of_day(*day)) : Json());
        } else {
          auto text = store::text_at(r, i);
          row.push_back(text ? Json(*text) : Json());
        }
      }
      for (std::size_t i = dims.size(); i < columns.size(); ++i) {
        auto v = store::integer_at(r, i);
        row.push_back(v ? Json(*v) : Json());
      }
      rows.push_back(std::move(row));
    });
    return 0;
  });
  return {{"columns", columns}, {"rows", rows}};
}

}  // namespace nucleo::services
