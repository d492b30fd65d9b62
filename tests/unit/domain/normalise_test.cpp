#include "kernel/domain/normalise.hpp"

#include <gtest/gtest.h>

namespace nucleo {
namespace {

TEST(Email, IsTrimmedAndLowerCased) {
  EXPECT_EQ(normalise_email("  Ana.Souza@Example.COM "), "ana.souza@example.com");
  EXPECT_EQ(normalise_email("joao+crm@fazenda.agr.br"), "joao+crm@fazenda.agr.br");
}

TEST(Email, RejectsWhatCannotBeAnAddress) {
  for (const char* bad :
       {"", "ana", "ana@", "@example.com", "ana@example", "ana@@example.com", "ana@exa mple.com", "ana@example..com",
        "ana.@example.com", ".ana@example.com", "ana@example.c", "a<b>@x.com", "ana@-example.com"}) {
    EXPECT_FALSE(normalise_email(bad)) << bad;
  }
  EXPECT_FALSE(normalise_email(std::string(250, 'a') + "@x.com"));
}

TEST(Phone, NationalNumbersAreReadInTheDefaultRegion) {
  EXPECT_EQ(normalise_phone("(11) 98765-4321", "BR"), "+5511987654321");
  EXPECT_EQ(normalise_phone("+55 11 98765-4321", "BR"), "+5511987654321");
  EXPECT_EQ(normalise_phone("011 98765 4321", "BR"), "+5511987654321");  // trunk prefix
  EXPECT_EQ(normalise_phone("(11) 3456-7890", "BR"), "+551134567890");   // landline keeps 8 digits
  EXPECT_EQ(normalise_phone("+1 650-253-0000", "BR"), "+16502530000");
  EXPECT_EQ(normalise_phone("(650) 253-0000", "US"), "+16502530000");
}

TEST(Phone, BrazilianMobilesMatchWithAndWithoutTheNinthDigit) {
  auto with = normalise_phone("(11) 98765-4321", "BR");
  auto without = normalise_phone("(11) 8765-4321", "BR");
  ASSERT_TRUE(with && without);
  EXPECT_EQ(*with, *without);
  EXPECT_EQ(normalise_phone("+55 21 8765-4321", "BR"), "+5521987654321");
  EXPECT_EQ(normalise_phone("(61) 8123-4567", "BR"), "+5561981234567");
  // Outside Brazil no digit is invented.
  EXPECT_FALSE(normalise_phone("+54 11 8765-432", "BR"));
}

TEST(Phone, RejectsNonNumbers) {
  for (const char* bad : {"", "12345", "not a phone", "+55 11 12345-678", "+999 1234567"}) {
    EXPECT_FALSE(normalise_phone(bad, "BR")) << bad;
  }
}

TEST(Cpf, ChecksBothDigits) {
  EXPECT_TRUE(is_valid_cpf("52998224725"));
  EXPECT_TRUE(is_valid_cpf("11144477735"));
  EXPECT_FALSE(is_valid_cpf("52998224724"));  // second digit wrong
  EXPECT_FALSE(is_valid_cpf("52998224715"));  // first digit wrong
  EXPECT_FALSE(is_valid_cpf("5299822472"));   // short
}

TEST(Cpf, RefusesRepeatedDigitsThatPassTheArithmetic) {
  for (char c = '0'; c <= '9'; ++c) EXPECT_FALSE(is_valid_cpf(std::string(11, c))) << c;
}

TEST(Cnpj, NumericStillValidates) {
  EXPECT_TRUE(is_valid_cnpj("11222333000181"));
  EXPECT_FALSE(is_valid_cnpj("11222333000182"));
}

// IN RFB 2.229/2024: 12 alphanumeric characters + 2 numeric check digits, in force
// since July 2026. 12.ABC.345/01DE-35 is the Receita Federal's own example.
TEST(Cnpj, AlphanumericValidates) {
  EXPECT_TRUE(is_valid_cnpj("12ABC34501DE35"));
  EXPECT_TRUE(is_valid_cnpj("ABCDEFGHIJKL80"));
  EXPECT_TRUE(is_valid_cnpj("A1B2C3D4E5F668"));
  EXPECT_FALSE(is_valid_cnpj("12ABC34501DE36"));
  EXPECT_FALSE(is_valid_cnpj("12ABC34501DE3A"));  // check digits are numeric
  EXPECT_FALSE(is_valid_cnpj("12abc34501de35"));  // normalised form is upper-case
  EXPECT_FALSE(is_valid_cnpj("12ABC34501D#35"));
}

TEST(Cnpj, RefusesRepeatedCharacters) {
  EXPECT_FALSE(is_valid_cnpj("00000000000000"));
  EXPECT_FALSE(is_valid_cnpj("AAAAAAAAAAAAAA"));
  EXPECT_FALSE(normalise_tax_id("11.111.111/1111-11", "BR"));
}

TEST(TaxId, IsStrippedUpperCasedAndClassified) {
  auto cnpj = normalise_tax_id(" 12.abc.345/01de-35 ", "BR");
  ASSERT_TRUE(cnpj);
  EXPECT_EQ(cnpj->value, "12ABC34501DE35");
  EXPECT_EQ(cnpj->kind, TaxIdKind::cnpj);
  auto cpf = normalise_tax_id("529.982.247-25", "BR");
  ASSERT_TRUE(cpf);
  EXPECT_EQ(cpf->value, "52998224725");
  EXPECT_EQ(cpf->kind, TaxIdKind::cpf);
  EXPECT_FALSE(normalise_tax_id("529.982.247-26", "BR"));
  EXPECT_FALSE(normalise_tax_id("1234", "BR"));
}

TEST(TaxId, OtherCountriesAreNormalisedWithoutCheckDigits) {
  auto ein = normalise_tax_id("12-3456789", "US");
  ASSERT_TRUE(ein);
  EXPECT_EQ(ein->value, "123456789");
  EXPECT_EQ(ein->kind, TaxIdKind::other);
  EXPECT_FALSE(normalise_tax_id("9", "US"));
  EXPECT_FALSE(normalise_tax_id("ab$cd", "US"));
}

TEST(Codes, CurrencyCountryAndDate) {
  EXPECT_TRUE(is_currency_code("BRL"));
  EXPECT_FALSE(is_currency_code("brl"));
  EXPECT_FALSE(is_currency_code("REAL"));
  EXPECT_TRUE(is_country_code("BR"));
  EXPECT_FALSE(is_country_code("BRA"));
  EXPECT_TRUE(is_calendar_date("2028-02-29"));
  EXPECT_FALSE(is_calendar_date("2027-02-29"));
  EXPECT_FALSE(is_calendar_date("2027-2-01"));
}

}  // namespace
}  // namespace nucleo
