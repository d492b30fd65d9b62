#pragma once

// Reading CSV as spreadsheets and other CRMs write it (RFC 4180 and what it leaves open),
// for the bulk import (issue #24): fields separated by a delimiter the caller names or
// the header line shows (`,` `;` tab `|` — Brazilian Excel writes `;`), quoted fields
// with `""` for a quote and line breaks inside, CRLF, LF or CR line ends, a UTF-8
// byte-order mark, and text in UTF-8, ISO-8859-1 or Windows-1252 as the caller declares,
// turned into UTF-8. The reader is pushed bytes in chunks of any size and hands over each
// record when it ends, so memory stays flat in the file's size (a field is capped).
//
//   CsvReader reader({}, [](CsvRecord&& r) { … r.fields, r.line … });
//   while (read a chunk) reader.feed(chunk);
//   reader.finish();
//
// What cannot be read throws Error(validation) naming the line and column.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nucleo {

enum class TextEncoding { utf8, iso_8859_1, windows_1252 };

// "utf-8", "iso-8859-1" ("latin1"), "windows-1252" ("cp1252"), any case; none else.
std::optional<TextEncoding> text_encoding_named(std::string_view name);

// A cell of a CSV report as a spreadsheet should show it: quoted when needed, and text that
// starts like a formula (= + - @) prefixed with ' so opening the report runs nothing
// (OWASP CSV injection).
std::string csv_report_cell(const std::string& text);

struct CsvOptions {
  char delimiter = 0;  // 0: the one of , ; tab | found most often in the first line
  TextEncoding encoding = TextEncoding::utf8;
  std::size_t max_field_bytes = 1u << 20;
};

struct CsvRecord {
  std::vector<std::string> fields;  // UTF-8
  std::size_t number = 0;           // 1 for the first record (a header, usually)
  std::size_t line = 0;             // the file's line it starts on (a quoted field may span several)
};

class CsvReader {
 public:
  using OnRecord = std::function<void(CsvRecord&&)>;
  CsvReader(CsvOptions options, OnRecord on_record);

  void feed(std::string_view bytes);
  // The end of the file: the last record, if it has no line end; an open quote is an error.
  void finish();
  // The delimiter in use (0 until the first line is read when it is detected).
  char delimiter() const { return options_.delimiter; }

 private:
  enum class State { field_start, unquoted, quoted, quote_in_quoted };
  void parse(std::string_view utf8);
  void detect_delimiter();
  void end_field();
  void end_record();
  void add(char c);
  [[noreturn]] void fail(const std::string& what) const;

  CsvOptions options_;
  OnRecord on_record_;
  State state_ = State::field_start;
  std::string pending_;  // bytes held back: the start of the file until the delimiter is known
  std::string partial_utf8_;  // a UTF-8 sequence cut by a chunk's end
  bool at_start_ = true, after_cr_ = false;
  std::string field_;
  CsvRecord record_;
  std::size_t line_ = 1, records_ = 0, quote_line_ = 0;
};

}  // namespace nucleo
