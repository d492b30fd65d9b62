// What the vertical packs share about Brazilian registries (verticals/common/registry.hpp).
#include <gtest/gtest.h>

#include "common/registry.hpp"

namespace nucleo::verticals {
namespace {

TEST(Registry, CheckDigitsOfCnpjAndCpf) {
  EXPECT_TRUE(valid_cnpj("11222333000181"));
  EXPECT_FALSE(valid_cnpj("11222333000182"));  // last digit off
  EXPECT_FALSE(valid_cnpj("11222333000191"));  // first check digit off
  EXPECT_FALSE(valid_cnpj("00000000000000"));  // one repeated digit passes the sum but is no CNPJ
  EXPECT_FALSE(valid_cnpj("1122233300018"));
  EXPECT_TRUE(valid_cpf("52998224725"));
  EXPECT_FALSE(valid_cpf("52998224726"));
  EXPECT_FALSE(valid_cpf("11111111111"));
  EXPECT_EQ(digits_of("11.222.333/0001-81"), "11222333000181");
}

TEST(Registry, Latin1BecomesUtf8AndUtf8IsRecognised) {
  EXPECT_EQ(latin1_to_utf8("S\xC3O JOS\xC9"), "SÃO JOSÉ");
  EXPECT_EQ(latin1_to_utf8("plain"), "plain");
  EXPECT_FALSE(holds_utf8_sequences("S\xC3O JOS\xC9"));  // Latin-1: Ã followed by O
  EXPECT_TRUE(holds_utf8_sequences("SÃO"));              // the same word already in UTF-8
  EXPECT_FALSE(holds_utf8_sequences("ASCII only"));
}

TEST(Registry, QuotedSemicolonFields) {
  EXPECT_EQ(split_fields("\"a\";\"b;c\";d ; \"e \"\"x\"\"\""),
            (std::vector<std::string>{"a", "b;c", "d", "e \"x\""}));
  EXPECT_EQ(split_fields(";"), (std::vector<std::string>{"", ""}));
  EXPECT_THROW(split_fields("\"open;field"), std::invalid_argument);
}

TEST(Registry, DatesThatExist) {
  EXPECT_EQ(iso_date("03/11/2025"), "2025-11-03");
  EXPECT_EQ(iso_date("2024-02-29"), "2024-02-29");
  EXPECT_EQ(iso_date("29/02/2025"), std::nullopt);
  EXPECT_EQ(iso_date("31/04/2025"), std::nullopt);
  EXPECT_EQ(iso_date("3/11/2025"), std::nullopt);
  EXPECT_EQ(iso_date(""), std::nullopt);
}

TEST(Registry, NamesFoldForScreening) {
  EXPECT_EQ(folded_name("José  da Silva-Neto"), "JOSE DA SILVA NETO");
  EXPECT_EQ(folded_name("  MARIA DA CONCEIÇÃO "), "MARIA DA CONCEICAO");
  EXPECT_EQ(folded_name("Ângela Müller"), "ANGELA MULLER");
}

TEST(Registry, ColumnsByName) {
  Columns columns({"CO_CNES", " no_fantasia ", "NU_CNPJ"});
  EXPECT_EQ(columns.missing({"CO_CNES", "NO_FANTASIA", "TP_UNIDADE", "DT_ATUALIZACAO"}), "TP_UNIDADE, DT_ATUALIZACAO");
  EXPECT_EQ(columns.get({"1234567", " Hospital ", ""}, "NO_FANTASIA"), "Hospital");
  EXPECT_EQ(columns.get({"1234567"}, "NU_CNPJ"), "");  // a short row: empty, never out of range
}

}  // namespace
}  // namespace nucleo::verticals
