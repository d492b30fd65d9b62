// Issue #24: the import's column mapping — fields and attributes, constants, trims, dates
// of the file's form on the file's clock, Brazilian and US numbers, lookups left for the
// importer, and errors that name the column.
#include "kernel/domain/import_mapping.hpp"

#include <gtest/gtest.h>

namespace nucleo {
namespace {

std::string problem_of(const Json& mapping) {
  try {
    ImportMapping::parse(mapping);
  } catch (const Error& e) {
    std::string all = e.what();
    for (const auto& f : e.fields()) all += " | " + f.field + ": " + f.message;
    return all;
  }
  return "";
}

TEST(ImportMapping, ARowBecomesTheInputOfOneWrite) {
  auto m = ImportMapping::parse({{"entity", "deal"},
                                 {"columns",
                                  {{"Negócio", "name"},
                                   {"Valor", {{"field", "amount"}, {"number", "1.234,56"}, {"scale", 2}}},
                                   {"Fechamento", {{"field", "expected_close"}, {"date", "dd/MM/yyyy"}}},
                                   {"CNPJ", {{"field", "account_id"}, {"lookup", {{"entity", "account"}, {"by", "tax_id"}}}}},
                                   {"Safra", "attributes.safra"},
                                   {"Plantio", {{"field", "attributes.plantio"}, {"date", "dd/MM/yyyy HH:mm"}}}}},
                                 {"constants", {{"currency", "BRL"}, {"attributes.origem", "planilha"}}},
                                 {"time_zone", "America/Sao_Paulo"}});
  m.bind({"CNPJ", " negócio ", "Valor", "Fechamento", "Safra", "Plantio", "ignorada"});
  MappedRow row = m.map({"12.345.678/0001-95", "  Soja 2027\xC2\xA0", "R$ 1.234.567,8", "31/03/2027", "2026/27",
                         "15/10/2026 08:30", "x"});
  EXPECT_TRUE(row.errors.empty()) << row.errors[0].field << ": " << row.errors[0].message;
  EXPECT_EQ(row.input, (Json{{"name", "Soja 2027"},
                             {"amount", 123456780},
                             {"currency", "BRL"},
                             {"expected_close", "2027-03-31"},
                             {"attributes", {{"safra", "2026/27"}, {"plantio", "2026-10-15T11:30:00Z"}, {"origem", "planilha"}}}}));
  ASSERT_EQ(row.lookups.size(), 1u);
  EXPECT_EQ(row.lookups[0].field, "account_id");
  EXPECT_EQ(row.lookups[0].by, "tax_id");
  EXPECT_EQ(row.lookups[0].value, "12.345.678/0001-95");

  MappedRow empty = m.map({"", "Milho", "", "", "", "", ""});
  EXPECT_EQ(empty.input, (Json{{"name", "Milho"}, {"currency", "BRL"}, {"attributes", {{"origem", "planilha"}}}}))
      << "an empty cell leaves its field out";
  EXPECT_TRUE(empty.lookups.empty());
}

TEST(ImportMapping, CellsThatDoNotFitNameTheirColumn) {
  auto m = ImportMapping::parse({{"entity", "task"},
                                 {"columns", {{"Título", "title"},
                                              {"Prazo", {{"field", "due_at"}, {"date", "dd/MM/yyyy"}}},
                                              {"Obrigatória", "required_for_exit"}}}});
  m.bind({"Título", "Prazo", "Obrigatória"});
  MappedRow row = m.map({"Ligar", "31/02/2027", "talvez"});
  ASSERT_EQ(row.errors.size(), 2u);
  EXPECT_EQ(row.errors[0].field, "Prazo");
  EXPECT_EQ(row.errors[0].message, "'31/02/2027' is not a date of the form dd/MM/yyyy");
  EXPECT_EQ(row.errors[1].field, "Obrigatória");
  EXPECT_EQ(m.map({"Ligar", "01/02/2027", "sim"}).input,
            (Json{{"title", "Ligar"}, {"due_at", "2027-02-01T00:00:00Z"}, {"required_for_exit", true}}))
      << "a date for a time field is midnight on the mapping's clock (UTC by default)";
  EXPECT_EQ(m.map({"Ligar", "01/02/2027"}).errors[0].message, "has 2 columns; the header has 3");
  EXPECT_THROW(m.bind({"Título", "Prazo"}), Error) << "a mapped column the file lacks";
}

TEST(ImportMapping, AMappingThatCannotBeUsedIsRefusedWithEveryReason) {
  std::string problems = problem_of({{"entity", "contact"},
                                     {"columns", {{"A", "nome"},
                                                  {"B", {{"field", "email"}, {"date", "qq/MM"}}},
                                                  {"C", {{"field", "name"}, {"number", "1 234"}}},
                                                  {"D", {{"field", "erased_at"}}},
                                                  {"E", {{"field", "account_id"}, {"lookup", {{"entity", "account"}, {"by", "cor"}}}}}}},
                                     {"time_zone", "Marte/Olympus"},
                                     {"extra", 1}});
  for (const char* expected : {"columns.A: 'nome' is not a field of contact an import may set",
                               "columns.B.date: must be a date pattern", "columns.C.number: must be",
                               "columns.D: 'erased_at' is not a field", "columns.E.lookup: must be",
                               "time_zone: must be an IANA time zone", "extra: is not a part of a mapping"})
    EXPECT_NE(problems.find(expected), std::string::npos) << expected << " in " << problems;
  EXPECT_NE(problem_of({{"entity", "user"}, {"columns", {{"A", "name"}}}}).find("must be account, contact"),
            std::string::npos);
  EXPECT_NE(problem_of({{"entity", "contact"}, {"columns", Json::object()}}).find("must map at least one column"),
            std::string::npos);
}

TEST(ImportMapping, NumbersAndDatesOfBothStyles) {
  std::int64_t n = 0;
  EXPECT_TRUE(parse_decimal("1.234,56", "1.234,56", 2, n));
  EXPECT_EQ(n, 123456);
  EXPECT_TRUE(parse_decimal("-0,5", "1.234,56", 2, n));
  EXPECT_EQ(n, -50);
  EXPECT_TRUE(parse_decimal("1,234.5", "1,234.56", 2, n));
  EXPECT_EQ(n, 123450);
  EXPECT_TRUE(parse_decimal("1234", "1.234,56", 0, n));
  EXPECT_EQ(n, 1234);
  EXPECT_FALSE(parse_decimal("1,234", "1,234.56", 2, n) && n != 123400);
  EXPECT_FALSE(parse_decimal("1.234,567", "1.234,56", 2, n)) << "more decimals than the scale keeps";
  EXPECT_FALSE(parse_decimal("12.34,5", "1.234,56", 2, n)) << "a separator with two digits after it";
  EXPECT_FALSE(parse_decimal("abc", "1.234,56", 2, n));
  EXPECT_FALSE(parse_decimal("", "1.234,56", 2, n));
  EXPECT_FALSE(parse_decimal("99999999999999999999", "1.234,56", 0, n)) << "beyond 17 digits";

  WallClock w;
  EXPECT_TRUE(parse_date_pattern("29/02/2028", "dd/MM/yyyy", w));
  EXPECT_FALSE(parse_date_pattern("29/02/2027", "dd/MM/yyyy", w));
  EXPECT_TRUE(parse_date_pattern("5/3/27", "d/M/yy", w));
  EXPECT_EQ(w.year, 2027);
  EXPECT_EQ(w.month, 3);
  EXPECT_TRUE(parse_date_pattern("2027-03-05 23:59:58", "yyyy-MM-dd HH:mm:ss", w));
  EXPECT_TRUE(w.has_time);
  EXPECT_FALSE(parse_date_pattern("2027-03-05 24:00:00", "yyyy-MM-dd HH:mm:ss", w));
  EXPECT_FALSE(parse_date_pattern("05/03/2027 extra", "dd/MM/yyyy", w));
  EXPECT_FALSE(is_date_pattern("HH:mm"));
  EXPECT_FALSE(is_date_pattern("dd/MM/yyyy QQ"));
}

}  // namespace
}  // namespace nucleo
