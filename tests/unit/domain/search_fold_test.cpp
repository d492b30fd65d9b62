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
