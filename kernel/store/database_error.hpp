#pragma once

#include <exception>
#include <string>

#include "kernel/store/database_url.hpp"

namespace nucleo::store {

// Translates whatever a SOCI or driver call threw into nucleo::Error and throws it.
// Call it from a catch block only: the store is where library exceptions enter,
// so nothing above it ever sees soci::soci_error (docs/architecture.md §1, "Errors").
//   unique / foreign-key violation        -> conflict
//   serialization failure, deadlock, busy -> conflict (the caller may retry)
//   row-level security / privilege        -> forbidden
//   connection lost or refused            -> unavailable
//   anything else                         -> internal
[[noreturn]] void rethrow_as_nucleo_error(const std::string& what_we_were_doing);

// The same after the connection was found lost: what would be "internal" is
// "unavailable" (an HTTP 503 with Retry-After) — the database went away, the request
// was not wrong (issue #26). A refusal with a meaning of its own keeps it.
[[noreturn]] void rethrow_as_connection_lost(const std::string& what_we_were_doing);

}  // namespace nucleo::store
