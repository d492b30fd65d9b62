#pragma once

#include <string>
#include <string_view>

namespace nucleo {

// Case- and accent-insensitive form for `contains` searches: A–Z lower-cased and
// the accented Latin letters of Portuguese and Spanish (and their upper-case forms)
// replaced by their base letter: "João" → "joao", "AÇÃO" → "acao".
//
// The same mapping runs in the database — a SQL function nucleo_fold() created by
// migration 0004 on PostgreSQL and registered on every SQLite connection — so the
// folded search value and the folded column agree on both backends.
std::string fold_for_search(std::string_view text);

// The accented letters folded, and what each becomes, as two UTF-8 strings of equal
// length in characters (used to build PostgreSQL's translate()).
extern const char* const fold_from;
extern const char* const fold_to;

}  // namespace nucleo
