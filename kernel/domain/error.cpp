#include "kernel/domain/error.hpp"

namespace nucleo {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::validation:
      return "validation";
    case ErrorCode::not_found:
      return "not_found";
    case ErrorCode::conflict:
      return "conflict";
    case ErrorCode::aborted:
      return "aborted";
    case ErrorCode::precondition_failed:
      return "precondition_failed";
    case ErrorCode::forbidden:
      return "forbidden";
    case ErrorCode::unauthenticated:
      return "unauthenticated";
    case ErrorCode::rate_limited:
      return "rate_limited";
    case ErrorCode::unavailable:
      return "unavailable";
    case ErrorCode::internal:
      return "internal";
  }
  return "internal";
}

bool retryable(ErrorCode code) {
  switch (code) {
    case ErrorCode::aborted:
    case ErrorCode::rate_limited:
    case ErrorCode::unavailable:
    case ErrorCode::internal:
      return true;
    default:
      return false;
  }
}

Error::Error(ErrorCode code, const std::string& message, std::vector<FieldError> fields)
    : std::runtime_error(message), code_(code), fields_(std::move(fields)) {}

Error validation_error(const std::string& what, std::vector<FieldError> fields) {
  std::string summary = what + ":";
  for (std::size_t i = 0; i < fields.size(); ++i)
    summary += (i ? "; " : " ") + (fields[i].field.empty() ? "" : fields[i].field + " ") + fields[i].message;
  return Error(ErrorCode::validation, summary, std::move(fields));
}

}  // namespace nucleo
