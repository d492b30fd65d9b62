#include "kernel/domain/import_mapping.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "kernel/domain/id.hpp"
#include "kernel/domain/time.hpp"
#include "kernel/domain/time_zone.hpp"

namespace nucleo {
namespace {

const std::set<std::string> column_settings = {"field", "trim", "date", "number", "scale", "lookup", "empty"};
const std::set<std::string> mapping_parts = {"entity", "columns", "constants", "time_zone", "key", "format"};
const Json no_entries = Json::object();
const std::set<std::string> lookup_keys = {"tax_id", "email", "external_id", "legal_name"};
const std::set<std::string> pattern_tokens = {"dd", "d", "MM", "M", "yyyy", "yy", "HH", "H", "mm", "ss"};

// Another system's history an import may carry (ADR 0045): when the record was created
// there, and when a deal entered its current stage and earlier ones
// ("stage_entered.<stage id>"). They are times, written only when a row creates.
const FieldSpec history_time{"history", FieldType::timestamp};
bool is_history_field(const std::string& entity, const std::string& field) {
  if (field == "created_at") return entity == "account" || entity == "contact" || entity == "deal";
  if (entity != "deal") return false;
  return field == "stage_entered_at" ||
         (field.rfind("stage_entered.", 0) == 0 && is_valid_id(field.substr(14), id_prefix::stage));
}

std::string trimmed(const std::string& s) {
  std::size_t from = 0, to = s.size();
  // ASCII white space and the no-break space spreadsheets pad with (UTF-8 C2 A0).
  auto space_at = [&](std::size_t i) { return std::isspace(static_cast<unsigned char>(s[i])) != 0; };
  for (;;) {
    if (from < to && space_at(from)) ++from;
    else if (from + 1 < to && s.compare(from, 2, "\xC2\xA0") == 0) from += 2;
    else break;
  }
  for (;;) {
    if (to > from && space_at(to - 1)) --to;
    else if (to >= from + 2 && s.compare(to - 2, 2, "\xC2\xA0") == 0) to -= 2;
    else break;
  }
  return s.substr(from, to - from);
}

std::string lowered(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The pattern split into tokens (dd, MM, …) and literal characters.
std::vector<std::string> tokens_of(const std::string& pattern) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < pattern.size();) {
    std::size_t run = 1;
    while (i + run < pattern.size() && pattern[i + run] == pattern[i]) ++run;
    std::string t = pattern.substr(i, run);
    if (std::isalpha(static_cast<unsigned char>(pattern[i])) && !pattern_tokens.count(t)) return {};
    out.push_back(t);
    i += run;
  }
  return out;
}

bool read_number(const std::string& text, std::size_t& at, std::size_t min_digits, std::size_t max_digits, int& out) {
  std::size_t start = at;
  out = 0;
  while (at < text.size() && at - start < max_digits && std::isdigit(static_cast<unsigned char>(text[at])))
    out = out * 10 + (text[at++] - '0');
  return at - start >= min_digits;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in(int year, int month) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

bool truthy(const std::string& cell, bool& out) {
  std::string v = lowered(cell);
  if (v == "true" || v == "sim" || v == "s" || v == "yes" || v == "y" || v == "1" || v == "x") return out = true, true;
  if (v == "false" || v == "não" || v == "nao" || v == "n" || v == "no" || v == "0") return out = false, true;
  return false;
}

}  // namespace

bool is_date_pattern(const std::string& pattern) {
  auto tokens = tokens_of(pattern);
  bool d = false, m = false, y = false;
  for (const auto& t : tokens) {
    d = d || t[0] == 'd';
    m = m || t[0] == 'M';
    y = y || t[0] == 'y';
  }
  return !tokens.empty() && d && m && y;
}

bool parse_date_pattern(const std::string& text, const std::string& pattern, WallClock& out) {
  out = WallClock{};
  std::size_t at = 0;
  for (const auto& t : tokens_of(pattern)) {
    int n = 0;
    if (t == "dd" || t == "MM" || t == "HH" || t == "mm" || t == "ss" || t == "yy") {
      if (!read_number(text, at, 2, 2, n)) return false;
    } else if (t == "d" || t == "M" || t == "H") {
      if (!read_number(text, at, 1, 2, n)) return false;
    } else if (t == "yyyy") {
      if (!read_number(text, at, 4, 4, n)) return false;
    } else {
      if (text.compare(at, t.size(), t) != 0) return false;
      at += t.size();
      continue;
    }
    switch (t[0]) {
      case 'd': out.day = n; break;
      case 'M': out.month = n; break;
      case 'y': out.year = t.size() == 2 ? 2000 + n : n; break;
      case 'H': out.hour = n, out.has_time = true; break;
      case 'm': out.minute = n; break;
      case 's': out.second = n; break;
    }
  }
  return at == text.size() && out.month >= 1 && out.month <= 12 && out.day >= 1 && out.year >= 1 &&
         out.day <= days_in(out.year, out.month) && out.hour < 24 && out.minute < 60 && out.second < 60;
}

bool parse_decimal(const std::string& raw, const std::string& style, int scale, std::int64_t& out) {
  char thousands = style == "1.234,56" ? '.' : ',', point = style == "1.234,56" ? ',' : '.';
  std::string text = trimmed(raw);
  if (text.rfind("R$", 0) == 0) text = trimmed(text.substr(2));
  bool negative = !text.empty() && text[0] == '-';
  if (negative) text = text.substr(1);
  std::string whole, fraction;
  bool in_fraction = false, any = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      (in_fraction ? fraction : whole) += c;
      any = true;
    } else if (c == thousands && !in_fraction && !whole.empty() && i + 3 < text.size() + 0 &&
               std::all_of(text.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                           text.begin() + static_cast<std::ptrdiff_t>(i) + 4,
                           [](char d) { return std::isdigit(static_cast<unsigned char>(d)); }) &&
               (i + 4 == text.size() || !std::isdigit(static_cast<unsigned char>(text[i + 4])))) {
      continue;  // a thousands separator: three digits follow, then no fourth
    } else if (c == point && !in_fraction) {
      in_fraction = true;
    } else {
      return false;
    }
  }
  if (!any || static_cast<int>(fraction.size()) > scale || whole.size() + static_cast<std::size_t>(scale) > 17)
    return false;
  fraction.append(static_cast<std::size_t>(scale) - fraction.size(), '0');
  out = std::stoll((whole.empty() ? "0" : whole) + fraction);
  if (negative) out = -out;
  return true;
}

ImportMapping ImportMapping::parse(const Json& doc) {
  std::vector<FieldError> problems;
  if (!doc.is_object()) throw Error(ErrorCode::validation, "the mapping is a JSON object", {{"mapping", "must be an object"}});
  ImportMapping m;
  std::string entity = doc.value("entity", Json()).is_string() ? doc["entity"].get<std::string>() : "";
  for (const char* importable : {"account", "contact", "deal", "interaction", "task"})
    if (entity == importable) m.entity_ = &entity_spec(entity);
  if (!m.entity_) throw Error(ErrorCode::validation, "the mapping's entity must be account, contact, deal, interaction or task",
                              {{"entity", "must be account, contact, deal, interaction or task"}});
  if (doc.contains("time_zone")) {
    if (!doc["time_zone"].is_string() || !is_time_zone(doc["time_zone"]))
      problems.push_back({"time_zone", "must be an IANA time zone (America/Sao_Paulo)"});
    else
      m.time_zone_ = doc["time_zone"];
  }
  auto target = [&](const std::string& where, const std::string& field) -> std::optional<const FieldSpec*> {
    if (field.rfind("attributes.", 0) == 0 && field.size() > 11 && m.entity_->has_attributes) return nullptr;
    if (is_history_field(entity, field)) {
      if (where.rfind("columns.", 0) == 0) return &history_time;
      problems.push_back({where, "'" + field + "' is a date of the record's history: it comes from a column"});
      return std::nullopt;
    }
    const FieldSpec* spec = m.entity_->field(field);
    if (!spec || spec->derived || spec->hidden || field == "id") {
      problems.push_back({where, "'" + field + "' is not a field of " + entity + " an import may set"});
      return std::nullopt;
    }
    return spec;
  };
  const Json& columns = doc.value("columns", Json::object());
  if (!columns.is_object() || columns.empty()) problems.push_back({"columns", "must map at least one column"});
  for (const auto& [name, rule] : (columns.is_object() ? columns : no_entries).items()) {
    std::string where = "columns." + name;
    Column c;
    c.name = trimmed(name);
    if (rule.is_string()) {
      c.field = rule;
    } else if (rule.is_object() && rule.value("field", Json()).is_string()) {
      c.field = rule["field"];
      for (auto it = rule.begin(); it != rule.end(); ++it)
        if (!column_settings.count(it.key()))
          problems.push_back(
              {where + "." + it.key(), "is not a column setting (field, trim, date, number, scale, lookup, empty)"});
      c.trim = rule.value("trim", Json(true)).is_boolean() ? rule.value("trim", true) : true;
      c.empty_is_null = rule.value("empty", Json("skip")) == "null";
      if (rule.contains("date")) {
        if (!rule["date"].is_string() || !is_date_pattern(rule["date"]))
          problems.push_back({where + ".date", "must be a date pattern of dd, MM, yyyy (and HH, mm, ss): dd/MM/yyyy"});
        else
          c.date_pattern = rule["date"];
      }
      if (rule.contains("number")) {
        if (rule["number"] != "1.234,56" && rule["number"] != "1,234.56")
          problems.push_back({where + ".number", "must be \"1.234,56\" or \"1,234.56\""});
        else
          c.number_style = rule["number"];
        c.scale = rule.value("scale", Json(0)).is_number_integer() ? rule.value("scale", 0) : -1;
        if (c.scale < 0 || c.scale > 6) problems.push_back({where + ".scale", "must be an integer from 0 to 6"});
      }
      if (rule.contains("lookup")) {
        const Json& l = rule["lookup"];
        c.lookup_entity = l.is_object() ? l.value("entity", "") : "";
        c.lookup_by = l.is_object() ? l.value("by", "") : "";
        if (!find_entity_spec(c.lookup_entity) || !lookup_keys.count(c.lookup_by))
          problems.push_back(
              {where + ".lookup", "must be {\"entity\", \"by\": \"tax_id\" | \"email\" | \"external_id\" | \"legal_name\"}"});
        else if (c.lookup_by == "legal_name" && c.lookup_entity != "account")
          problems.push_back({where + ".lookup", "only accounts are found by legal_name"});
      }
    } else {
      problems.push_back({where, "must be a field name or an object with \"field\""});
      continue;
    }
    if (auto spec = target(where, c.field)) {
      c.spec = *spec;
      if (c.spec && !c.lookup_entity.empty() && c.spec->type != FieldType::reference)
        problems.push_back({where + ".lookup", "'" + c.field + "' is not a reference"});
      if (c.spec && !c.date_pattern.empty() && c.spec->type != FieldType::date && c.spec->type != FieldType::timestamp)
        problems.push_back({where + ".date", "'" + c.field + "' is not a date or a time"});
      if (c.spec && !c.number_style.empty() && c.spec->type != FieldType::integer)
        problems.push_back({where + ".number", "'" + c.field + "' is not a number"});
    }
    m.columns_.push_back(std::move(c));
  }
  const Json& constants = doc.value("constants", Json::object());
  if (!constants.is_object()) problems.push_back({"constants", "must be an object of field: value"});
  for (const auto& [field, value] : (constants.is_object() ? constants : no_entries).items())
    if (auto spec = target("constants." + field, field); spec && *spec)
      m.constants_[field] = value;
    else if (spec)
      m.constants_["attributes"][field.substr(11)] = value;
  for (auto it = doc.begin(); it != doc.end(); ++it)
    if (!mapping_parts.count(it.key()))
      problems.push_back({it.key(), "is not a part of a mapping (entity, columns, constants, time_zone, key, format)"});
  if (!problems.empty()) throw Error(ErrorCode::validation, "the mapping cannot be used", std::move(problems));
  return m;
}

std::vector<std::string> ImportMapping::column_names() const {
  std::vector<std::string> names;
  for (const auto& c : columns_) names.push_back(c.name);
  return names;
}

void ImportMapping::bind(const std::vector<std::string>& header) {
  std::vector<FieldError> missing;
  header_width_ = header.size();
  for (auto& c : columns_) {
    auto it = std::find_if(header.begin(), header.end(),
                           [&](const std::string& h) { return lowered(trimmed(h)) == lowered(c.name); });
    if (it == header.end())
      missing.push_back({"columns." + c.name, "the file has no column '" + c.name + "'"});
    else
      c.position = static_cast<std::size_t>(it - header.begin());
  }
  if (!missing.empty()) throw Error(ErrorCode::validation, "the file lacks columns the mapping names", std::move(missing));
  // A row's problems then come in the file's order.
  std::sort(columns_.begin(), columns_.end(), [](const Column& a, const Column& b) { return a.position < b.position; });
}

Json ImportMapping::converted(const Column& c, const std::string& cell, std::string& problem) const {
  FieldType type = c.spec ? c.spec->type : FieldType::text;
  if (!c.date_pattern.empty()) {
    WallClock w;
    if (!parse_date_pattern(cell, c.date_pattern, w)) {
      problem = "'" + cell + "' is not a date of the form " + c.date_pattern;
      return {};
    }
    char day[11];
    std::snprintf(day, sizeof day, "%04d-%02d-%02d", w.year, w.month, w.day);
    if (type == FieldType::date || (!c.spec && !w.has_time)) return std::string(day);
    return format_rfc3339(from_wall_clock(w.year, static_cast<unsigned>(w.month), static_cast<unsigned>(w.day), w.hour,
                                          w.minute, w.second, time_zone_));
  }
  if (!c.number_style.empty() || type == FieldType::integer) {
    std::int64_t n = 0;
    if (!parse_decimal(cell, c.number_style.empty() ? "1,234.56" : c.number_style, c.scale, n)) {
      problem = "'" + cell + "' is not a number" +
                (c.scale ? " with at most " + std::to_string(c.scale) + " decimal places" : std::string(" without decimals"));
      return {};
    }
    return n;
  }
  if (type == FieldType::boolean) {
    bool b = false;
    if (!truthy(cell, b)) {
      problem = "'" + cell + "' is not yes or no (sim/não, true/false, 1/0)";
      return {};
    }
    return b;
  }
  if (type == FieldType::email_list || type == FieldType::phone_list) {
    Json list = Json::array();
    std::size_t from = 0;
    while (from <= cell.size()) {
      std::size_t to = cell.find_first_of(";,", from);
      std::string item = trimmed(cell.substr(from, to == std::string::npos ? std::string::npos : to - from));
      if (!item.empty()) list.push_back(item);
      if (to == std::string::npos) break;
      from = to + 1;
    }
    return list;
  }
  if (type == FieldType::object || type == FieldType::array) {
    Json parsed = Json::parse(cell, nullptr, false);
    if (parsed.is_discarded()) problem = "is not JSON";
    return parsed.is_discarded() ? Json() : parsed;
  }
  return cell;
}

MappedRow ImportMapping::map(const std::vector<std::string>& cells) const {
  MappedRow row;
  row.input = constants_;
  if (cells.size() != header_width_) {
    row.errors.push_back({"", "has " + std::to_string(cells.size()) + " columns; the header has " +
                                  std::to_string(header_width_)});
    return row;
  }
  for (const auto& c : columns_) {
    std::string cell = c.trim ? trimmed(cells[c.position]) : cells[c.position];
    Json value;
    if (cell.empty()) {
      if (!c.empty_is_null) continue;
    } else if (!c.lookup_entity.empty()) {
      row.lookups.push_back({c.field, c.lookup_entity, c.lookup_by, cell});
      continue;
    } else {
      std::string problem;
      value = converted(c, cell, problem);
      if (!problem.empty()) {
        row.errors.push_back({c.name, problem});
        continue;
      }
    }
    if (c.spec == &history_time) {
      Json& history = row.input["history"];
      if (c.field.rfind("stage_entered.", 0) == 0) history["stages"][c.field.substr(14)] = value;
      else history[c.field] = value;
    } else if (c.spec) {
      row.input[c.field] = value;
    } else {
      if (!row.input.contains("attributes")) row.input["attributes"] = Json::object();
      row.input["attributes"][c.field.substr(11)] = value;
    }
  }
  return row;
}

}  // namespace nucleo
