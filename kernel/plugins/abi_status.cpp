#include "kernel/plugins/abi_status.hpp"

namespace nucleo::plugins {

nucleo_status abi_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::validation: return NUCLEO_INVALID_ARGUMENT;
    case ErrorCode::not_found: return NUCLEO_NOT_FOUND;
    case ErrorCode::conflict:
    case ErrorCode::aborted:
    case ErrorCode::precondition_failed: return NUCLEO_CONFLICT;
    case ErrorCode::forbidden:
    case ErrorCode::unauthenticated: return NUCLEO_FORBIDDEN;
    case ErrorCode::rate_limited:
    case ErrorCode::unavailable: return NUCLEO_UNAVAILABLE;
    case ErrorCode::internal: return NUCLEO_INTERNAL;
  }
  return NUCLEO_INTERNAL;
}

std::optional<ErrorCode> error_code_of(nucleo_status status) {
  switch (status) {
    case NUCLEO_OK: return std::nullopt;
    case NUCLEO_INVALID_ARGUMENT:
    case NUCLEO_REJECTED: return ErrorCode::validation;
    case NUCLEO_NOT_FOUND: return ErrorCode::not_found;
    case NUCLEO_FORBIDDEN: return ErrorCode::forbidden;
    case NUCLEO_CONFLICT: return ErrorCode::conflict;
    case NUCLEO_UNAVAILABLE: return ErrorCode::unavailable;
    default: return ErrorCode::internal;
  }
}

std::string status_name(nucleo_status status) {
  switch (status) {
    case NUCLEO_OK: return "OK";
    case NUCLEO_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case NUCLEO_NOT_FOUND: return "NOT_FOUND";
    case NUCLEO_FORBIDDEN: return "FORBIDDEN";
    case NUCLEO_CONFLICT: return "CONFLICT";
    case NUCLEO_REJECTED: return "REJECTED";
    case NUCLEO_UNAVAILABLE: return "UNAVAILABLE";
    case NUCLEO_UNSUPPORTED: return "UNSUPPORTED";
    case NUCLEO_INTERNAL: return "INTERNAL";
    default: return "status " + std::to_string(status);
  }
}

}  // namespace nucleo::plugins
