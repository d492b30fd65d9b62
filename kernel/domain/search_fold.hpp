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

// Whether a trigram index can narrow a search for this folded term: it holds three
// word characters in a row (letters, digits, or any non-ASCII character). PostgreSQL's
// pg_trgm makes trigrams of words only, so "ab", "a b" or "+55 11" give it nothing to
// look up; such terms are searched by a bounded scan instead (docs/api.md, "Search").
bool trigram_searchable(std::string_view folded);

// The accented letters folded, and what each becomes, as two UTF-8 strings of equal
// length in characters (used to build PostgreSQL's translate()).
extern const char* const fold_from;
extern const char* const fold_to;

}  // namespace nucleo
