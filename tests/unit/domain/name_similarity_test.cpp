// Duplicate detection's name comparison: pg_trgm's trigrams on folded names, and the key
// two spellings of one company's legal name share.
#include "kernel/domain/name_similarity.hpp"

#include <gtest/gtest.h>

namespace nucleo {
namespace {

TEST(NameSimilarity, NamesTypedTwiceScoreHighAndOthersLow) {
  EXPECT_DOUBLE_EQ(name_similarity("Ana Souza", "ANA SOUZA"), 1.0);
  EXPECT_DOUBLE_EQ(name_similarity("João Silva", "joao silva"), 1.0);  // accents folded
  EXPECT_NEAR(name_similarity("Ana Souza", "ana sousa"), 7.0 / 13.0, 1e-9);
  EXPECT_NEAR(name_similarity("João Silva", "Joao da Silva"), 11.0 / 14.0, 1e-9);
  EXPECT_LT(name_similarity("Ana Souza", "Pedro Alves"), 0.1);
  EXPECT_DOUBLE_EQ(name_similarity("", "Ana"), 0.0);
  EXPECT_DOUBLE_EQ(name_similarity("...", "!!"), 0.0);
}

TEST(NameSimilarity, TrigramsArePaddedWordsAsPgTrgmCutsThem) {
  EXPECT_EQ(name_trigrams("Ana"), (std::vector<std::string>{"  a", " an", "ana", "na "}));
  EXPECT_EQ(name_trigrams("a-a"), (std::vector<std::string>{"  a", " a "}));  // one word twice: distinct trigrams
}

TEST(NameSimilarity, CompanyKeysDropCaseAccentsPunctuationAndLegalForm) {
  EXPECT_EQ(company_name_key("Agro Sementes Ltda."), "agro sementes");
  EXPECT_EQ(company_name_key("AGRO SEMENTES LTDA"), "agro sementes");
  EXPECT_EQ(company_name_key("Indústria Têxtil S/A"), "industria textil");
  EXPECT_EQ(company_name_key("Indústria Têxtil S.A."), "industria textil");
  EXPECT_EQ(company_name_key("Padaria Pão Quente ME"), "padaria pao quente");
  EXPECT_EQ(company_name_key("Comércio Silva EIRELI - EPP"), "comercio silva");
  EXPECT_EQ(company_name_key("Ltda"), "ltda");  // a name that is only a form keeps it
}

}  // namespace
}  // namespace nucleo
