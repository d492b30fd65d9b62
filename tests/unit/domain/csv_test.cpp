// Issue #24: the CSV reader of the bulk import — delimiters, quotes, line breaks inside
// fields, byte-order marks and the encodings spreadsheets save in, fed in chunks of any size.
#include "kernel/domain/csv.hpp"

#include <gtest/gtest.h>

#include "kernel/domain/error.hpp"

namespace nucleo {
namespace {

using Rows = std::vector<std::vector<std::string>>;

// Reads `bytes` fed `chunk` bytes at a time (0: all at once).
Rows read(std::string_view bytes, CsvOptions options = {}, std::size_t chunk = 0, std::vector<std::size_t>* lines = nullptr,
          char* delimiter = nullptr) {
  Rows rows;
  CsvReader reader(options, [&](CsvRecord&& r) {
    EXPECT_EQ(r.number, rows.size() + 1);
    if (lines) lines->push_back(r.line);
    rows.push_back(std::move(r.fields));
  });
  if (chunk == 0) chunk = bytes.size() + 1;
  for (std::size_t at = 0; at < bytes.size(); at += chunk) reader.feed(bytes.substr(at, chunk));
  reader.finish();
  if (delimiter) *delimiter = reader.delimiter();
  return rows;
}

std::string error_of(std::string_view bytes, CsvOptions options = {}) {
  try {
    read(bytes, options);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Csv, QuotedFieldsKeepDelimitersQuotesAndLineBreaks) {
  std::string file =
      "nome,email,observação\r\n"
      "\"Souza, Ana\",ana@cliente.com.br,\"disse \"\"sim\"\"\r\nna reunião\"\r\n"
      "Bruno,,\r\n"
      "\r\n"
      "\"\",x,\"\"\n"
      "última,sem,fim de linha";
  Rows expected = {{"nome", "email", "observação"},
                   {"Souza, Ana", "ana@cliente.com.br", "disse \"sim\"\r\nna reunião"},
                   {"Bruno", "", ""},
                   {"", "x", ""},
                   {"última", "sem", "fim de linha"}};
  std::vector<std::size_t> lines;
  EXPECT_EQ(read(file, {}, 0, &lines), expected);
  EXPECT_EQ(lines, (std::vector<std::size_t>{1, 2, 4, 6, 7})) << "a record is named by the line it starts on";
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 64u}) EXPECT_EQ(read(file, {}, chunk), expected) << "chunks of " << chunk;
}

TEST(Csv, TheDelimiterIsTheOneTheHeaderLineUses) {
  char delimiter = 0;
  EXPECT_EQ(read("razão social;cnpj;valor\nAgro Sul;12.345.678/0001-95;1.234,56\n", {}, 1, nullptr, &delimiter),
            (Rows{{"razão social", "cnpj", "valor"}, {"Agro Sul", "12.345.678/0001-95", "1.234,56"}}));
  EXPECT_EQ(delimiter, ';') << "Brazilian Excel's";
  EXPECT_EQ(read("a\tb\n1\t2\n", {}, 0, nullptr, &delimiter), (Rows{{"a", "b"}, {"1", "2"}}));
  EXPECT_EQ(delimiter, '\t');
  EXPECT_EQ(read("\"x;y\",z\n", {}, 0, nullptr, &delimiter), (Rows{{"x;y", "z"}})) << "quoted text does not count";
  EXPECT_EQ(read("só uma coluna\n", {}, 0, nullptr, &delimiter), (Rows{{"só uma coluna"}}));
  EXPECT_EQ(delimiter, ',');
  CsvOptions pipe;
  pipe.delimiter = '|';
  EXPECT_EQ(read("a,b|c\n", pipe), (Rows{{"a,b", "c"}}));
  EXPECT_THROW(CsvReader({'"'}, [](CsvRecord&&) {}), Error);
}

TEST(Csv, EncodingsSpreadsheetsSaveInBecomeUtf8) {
  EXPECT_EQ(read("\xEF\xBB\xBFnome\nJoão\n"), (Rows{{"nome"}, {"João"}})) << "the byte-order mark is dropped";
  EXPECT_EQ(read("\xEF\xBB\xBFnome\n", {}, 1), (Rows{{"nome"}})) << "also when it arrives a byte at a time";
  CsvOptions latin1;
  latin1.encoding = TextEncoding::iso_8859_1;
  EXPECT_EQ(read("Conceição;São Paulo\n", latin1).size(), 1u);
  EXPECT_EQ(read("Concei\xE7\xE3o;S\xE3o Paulo\n", latin1), (Rows{{"Conceição", "São Paulo"}}));
  CsvOptions windows;
  windows.encoding = TextEncoding::windows_1252;
  EXPECT_EQ(read("\x93orçamento\x94 \x80 100\n", {'\0', TextEncoding::iso_8859_1}),
            (Rows{{"\xC2\x93or\xC3\x83\xC2\xA7" "amento\xC2\x94 \xC2\x80 100"}}))
      << "ISO-8859-1 reads each byte as its own code point";
  EXPECT_EQ(read("\x93or\xE7" "amento\x94 \x80 100\n", windows), (Rows{{"“orçamento” € 100"}}));
  EXPECT_EQ(text_encoding_named("Windows-1252"), TextEncoding::windows_1252);
  EXPECT_EQ(text_encoding_named("latin1"), TextEncoding::iso_8859_1);
  EXPECT_EQ(text_encoding_named("UTF-8"), TextEncoding::utf8);
  EXPECT_EQ(text_encoding_named("ebcdic"), std::nullopt);
}

TEST(Csv, WhatCannotBeReadNamesTheLineAndColumn) {
  EXPECT_EQ(error_of("nome,cidade\nAna,S\xE3o Paulo\n"),
            "CSV line 2: column 2 is not UTF-8 text: declare the file's encoding (ISO-8859-1 or Windows-1252)");
  EXPECT_EQ(error_of("a,b\n1,\"aberto\n2,3\n"), "CSV line 2: a quoted field opened on line 2 never closes");
  EXPECT_EQ(error_of("a,b\n1,\"x\"y\n"),
            "CSV line 2: column 2 has text after its closing quote (a quote inside a quoted field is written \"\")");
  EXPECT_EQ(error_of("\xEF\xBB\xBFnome\n", {'\0', TextEncoding::windows_1252}),
            "CSV line 1: the file starts with UTF-8's byte-order mark, but Windows-1252 was declared: declare UTF-8");
  EXPECT_EQ(error_of(std::string("a,b\nx,y\0z\n", 10)), "CSV line 2: column 2 holds a NUL character");
  CsvOptions small;
  small.max_field_bytes = 8;
  EXPECT_EQ(error_of("a,b\n1,123456789\n", small), "CSV line 2: column 2 is longer than 8 bytes");
  EXPECT_EQ(read(""), Rows{});
  EXPECT_EQ(read("\n\n"), Rows{});
}

}  // namespace
}  // namespace nucleo
