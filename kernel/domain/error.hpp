#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nucleo {

// The one error shape of Nucleo (STYLE.md, "Errors with one shape"). It is mapped once
// to problem+json at the HTTP edge, once to exit codes in the CLI and once to status
// codes at the plugin ABI. Library exceptions are translated into it where they enter.
enum class ErrorCode {
  validation,
  not_found,
  conflict,
  precondition_failed,
  forbidden,
  unauthenticated,
  rate_limited,
  unavailable,
  internal,
};

std::string_view to_string(ErrorCode code);

// The HTTP status each code takes (DESIGN §7): 422, 404, 409, 412, 403, 401, 429, 503,
// 500. Used by the HTTP edge and by batch results, which report per-item statuses.
int http_status(ErrorCode code);

// One offending input, named by its field path ("email", "contacts[2].phone").
struct FieldError {
  std::string field;
  std::string message;
  bool operator==(const FieldError&) const = default;
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message, std::vector<FieldError> fields = {});

  ErrorCode code() const noexcept { return code_; }
  const std::vector<FieldError>& fields() const noexcept { return fields_; }

 private:
  ErrorCode code_;
  std::vector<FieldError> fields_;
};

// A validation error naming every offending field, its message the list of them:
// "<what>: email must be an e-mail address; phone is required" (a field left empty
// contributes its message alone). For a non-empty `fields`.
Error validation_error(const std::string& what, std::vector<FieldError> fields);

}  // namespace nucleo
