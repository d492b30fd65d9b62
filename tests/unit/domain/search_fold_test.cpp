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

}  // namespace
}  // namespace nucleo
