#include "kernel/domain/csv.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "kernel/domain/error.hpp"
#include "kernel/domain/json_text.hpp"

namespace nucleo {
namespace {

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";
constexpr std::size_t delimiter_search_bytes = 64 * 1024;

// Windows-1252's 0x80–0x9F; the five it leaves undefined stay the C1 controls of
// ISO-8859-1, as browsers read them (nothing is lost).
constexpr std::array<char16_t, 32> windows_1252_high = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Single-byte text as UTF-8 (ASCII, and so every delimiter and quote, unchanged).
std::string decoded(std::string_view bytes, TextEncoding encoding) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 8);
  for (char c : bytes) {
    auto b = static_cast<unsigned char>(c);
    if (b < 0x80)
      out += c;
    else if (encoding == TextEncoding::windows_1252 && b < 0xA0)
      append_utf8(out, windows_1252_high[b - 0x80]);
    else
      append_utf8(out, b);
  }
  return out;
}

const char* encoding_name(TextEncoding e) {
  switch (e) {
    case TextEncoding::utf8:
      return "UTF-8";
    case TextEncoding::iso_8859_1:
      return "ISO-8859-1";
    case TextEncoding::windows_1252:
      return "Windows-1252";
  }
  return "?";
}

}  // namespace

std::optional<TextEncoding> text_encoding_named(std::string_view name) {
  std::string n;
  for (char c : name) n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (n == "utf-8" || n == "utf8") return TextEncoding::utf8;
  if (n == "iso-8859-1" || n == "iso8859-1" || n == "latin1" || n == "latin-1") return TextEncoding::iso_8859_1;
  if (n == "windows-1252" || n == "cp1252") return TextEncoding::windows_1252;
  return std::nullopt;
}

CsvReader::CsvReader(CsvOptions options, OnRecord on_record)
    : options_(options), on_record_(std::move(on_record)) {
  if (options_.delimiter == '"' || options_.delimiter == '\r' || options_.delimiter == '\n')
    throw Error(ErrorCode::validation, "a CSV delimiter cannot be a quote or a line end",
                {{"delimiter", "must be another character"}});
}

void CsvReader::feed(std::string_view bytes) {
  if (at_start_) {
    // The byte-order mark is decided on the first three bytes, however they arrive.
    pending_.append(bytes);
    if (pending_.size() < utf8_bom.size()) return;
    at_start_ = false;
    std::string head = std::move(pending_);
    pending_.clear();
    bool bom = std::string_view(head).substr(0, utf8_bom.size()) == utf8_bom;
    if (bom && options_.encoding != TextEncoding::utf8)
      fail(std::string("the file starts with UTF-8's byte-order mark, but ") + encoding_name(options_.encoding) +
           " was declared: declare UTF-8");
    return feed(std::string_view(head).substr(bom ? utf8_bom.size() : 0));
  }
  std::string text = options_.encoding == TextEncoding::utf8 ? std::string(bytes) : decoded(bytes, options_.encoding);
  if (!options_.delimiter) {
    pending_ += text;
    if (pending_.find_first_of("\r\n") == std::string::npos && pending_.size() < delimiter_search_bytes) return;
    detect_delimiter();
    text = std::move(pending_);
    pending_.clear();
  }
  parse(text);
}

void CsvReader::finish() {
  if (at_start_) {
    at_start_ = false;
    std::string head = std::move(pending_);
    pending_.clear();
    if (options_.encoding == TextEncoding::utf8 && std::string_view(head) == utf8_bom.substr(0, head.size()) &&
        !head.empty() && head.size() < utf8_bom.size())
      head.clear();  // a cut mark and nothing else
    feed(head);
  }
  if (!options_.delimiter) {
    detect_delimiter();
    std::string text = std::move(pending_);
    pending_.clear();
    parse(text);
  }
  if (state_ == State::quoted)
    fail("a quoted field opened on line " + std::to_string(quote_line_) + " never closes");
  if (state_ != State::field_start || !record_.fields.empty()) end_record();
}

void CsvReader::detect_delimiter() {
  const std::string candidates = ",;\t|";
  std::array<std::size_t, 4> seen{};
  // The first line, up to its first line break (the moment it is decided however the
  // file arrives) and at most delimiter_search_bytes; quoted text does not count.
  bool quoted = false;
  for (char c : std::string_view(pending_).substr(0, delimiter_search_bytes)) {
    if (c == '\n' || c == '\r') break;
    if (c == '"') quoted = !quoted;
    if (auto at = candidates.find(c); !quoted && at != std::string::npos) ++seen[at];
  }
  auto most = std::max_element(seen.begin(), seen.end());
  options_.delimiter = *most ? candidates[static_cast<std::size_t>(most - seen.begin())] : ',';
}

void CsvReader::parse(std::string_view text) {
  const char delimiter = options_.delimiter;
  for (char c : text) {
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue;  // CRLF: the CR ended the line
    }
    bool line_end = c == '\r' || c == '\n';
    switch (state_) {
      case State::field_start:
        if (record_.fields.empty() && record_.line == 0) record_.line = line_;
        if (c == '"') {
          state_ = State::quoted;
          quote_line_ = line_;
        } else if (c == delimiter) {
          end_field();
        } else if (line_end) {
          if (!record_.fields.empty()) end_record();
          record_.line = 0;  // a blank line is no record
        } else {
          add(c);
          state_ = State::unquoted;
        }
        break;
      case State::unquoted:
        if (c == delimiter) {
          end_field();
          state_ = State::field_start;
        } else if (line_end) {
          end_record();
        } else {
          add(c);
        }
        break;
      case State::quoted:  // line breaks are the field's text
        if (c == '"') {
          state_ = State::quote_in_quoted;
        } else {
          if (c == '\n') ++line_;
          add(c);
        }
        continue;
      case State::quote_in_quoted:
        if (c == '"') {
          add('"');
          state_ = State::quoted;
        } else if (c == delimiter) {
          end_field();
          state_ = State::field_start;
        } else if (line_end) {
          end_record();
        } else {
          fail("column " + std::to_string(record_.fields.size() + 1) +
               " has text after its closing quote (a quote inside a quoted field is written \"\")");
        }
        break;
    }
    if (line_end) {
      ++line_;
      after_cr_ = c == '\r';
    }
  }
}

void CsvReader::add(char c) {
  if (field_.size() >= options_.max_field_bytes)
    fail("column " + std::to_string(record_.fields.size() + 1) + " is longer than " +
         std::to_string(options_.max_field_bytes) + " bytes");
  field_ += c;
}

void CsvReader::end_field() {
  if (options_.encoding == TextEncoding::utf8 && !is_valid_utf8(field_))
    fail("column " + std::to_string(record_.fields.size() + 1) +
         " is not UTF-8 text: declare the file's encoding (ISO-8859-1 or Windows-1252)");
  if (field_.find('\0') != std::string::npos)
    fail("column " + std::to_string(record_.fields.size() + 1) + " holds a NUL character");
  record_.fields.push_back(std::move(field_));
  field_.clear();
}

void CsvReader::end_record() {
  end_field();
  state_ = State::field_start;
  record_.number = ++records_;
  CsvRecord done = std::move(record_);
  record_ = CsvRecord{};
  on_record_(std::move(done));
}

void CsvReader::fail(const std::string& what) const {
  std::size_t line = record_.line ? record_.line : line_;
  throw Error(ErrorCode::validation, "CSV line " + std::to_string(line) + ": " + what,
              {{"line " + std::to_string(line), what}});
}

std::string csv_report_cell(const std::string& text) {
  std::string cell = !text.empty() && std::string("=+-@\t\r").find(text[0]) != std::string::npos ? "'" + text : text;
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string quoted = "\"";
  for (char c : cell) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace nucleo
