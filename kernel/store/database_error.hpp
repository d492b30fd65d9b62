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

}  // namespace nucleo::store
