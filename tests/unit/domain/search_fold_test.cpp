#include "kernel/domain/search_fold.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace nucleo {
namespace {

TEST(SearchFold, IgnoresCaseAndPortugueseAccents) {
  EXPECT_EQ(fold_for_search("João"), "joao");
  EXPECT_EQ(fold_for_search("AÇÃO Pecuária"), "acao pecuaria");
  EXPECT_EQ(fold_for_search("Ñandú"), "nandu");
  EXPECT_EQ(fold_for_search("100% Café_Ltda"), "100% cafe_ltda");
  EXPECT_EQ(fold_for_search("Łódź"), "Łodź");  // outside the table: kept as is
}

// Each accented letter of the table becomes its base letter, alone and among others;
// everything else (other scripts, three- and four-byte characters) is kept byte for byte.
TEST(SearchFold, FoldsEveryLetterOfTheTableAndKeepsTheRest) {
  std::string from = fold_from, to = fold_to;
  std::string all;
  for (std::size_t i = 0, letter = 0; i < from.size(); i += 2, ++letter) {
    EXPECT_EQ(fold_for_search(from.substr(i, 2)), std::string(1, to[letter])) << from.substr(i, 2);
    all += "x" + from.substr(i, 2);
  }
  EXPECT_EQ(all.size(), from.size() + to.size());  // every letter is two bytes
  std::string expected;
  for (char c : to) expected += std::string("x") + c;
  EXPECT_EQ(fold_for_search(all), expected);
  for (const char* kept : {"ß", "Ł", "€", "日本", "🌱", "Ω", "\xc3"}) EXPECT_EQ(fold_for_search(kept), kept) << kept;
  EXPECT_EQ(fold_for_search("São Paulo — Ω 🌱 ÇA"), "sao paulo — Ω 🌱 ca");
}

// The database folds columns with migration 0004's nucleo_fold(); it must map exactly
// the letters fold_for_search() maps, or `contains` would differ between the sides.
TEST(SearchFold, PostgresqlFunctionUsesTheSameTable) {
  std::ifstream in(std::string(NUCLEO_SOURCE_DIR) + "/kernel/migrations/postgresql/0004_search.sql");
  std::stringstream text;
  text << in.rdbuf();
  std::string expected = "translate(t, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ" + std::string(fold_from) +
                         "', 'abcdefghijklmnopqrstuvwxyz" + std::string(fold_to) + "')";
  EXPECT_NE(text.str().find(expected), std::string::npos) << expected;
}

// Three word characters in a row give pg_trgm a trigram to look up; fewer, and the search
// scans a bounded window instead (ADR 0036).
TEST(SearchFold, TrigramSearchableNeedsThreeWordCharactersInARow) {
  for (const char* yes : {"joa", "acucar", "98765", "@example.com", "a b cde", "são", "ção", "x-123"})
    EXPECT_TRUE(trigram_searchable(fold_for_search(yes))) << yes;
  for (const char* no : {"", "a", "jo", "ão", "a b", "+55 11", "(21) 3", "%", "a_b", "1.2.3"})
    EXPECT_FALSE(trigram_searchable(fold_for_search(no))) << no;
}

}  // namespace
}  // namespace nucleo
