#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nucleo {

// The one error shape of Nucleo (docs/architecture.md, "Errors"). A code says what the
// caller should do next (abseil's rule): fix the input, fix the state first, or retry.
// It becomes an HTTP status only at the HTTP edge (http/problem.hpp), an exit code only
// in the CLI, an ABI status only in plugins/abi_status.hpp. Library exceptions are
// translated into it where they enter.
enum class ErrorCode {
  validation,           // final: the input is wrong; fix it (field by field)
  not_found,            // final: no such record visible to the caller
  conflict,             // final: the stored state forbids it (archived, held, duplicate); change that first
  aborted,              // retry: a concurrent change or a request still in flight; reload and retry
  precondition_failed,  // final: If-Match names a version that is no longer current
  forbidden,            // final: the caller's role or scopes do not allow it
  unauthenticated,      // final: no valid credential
  rate_limited,         // retry: later, after Retry-After
  unavailable,          // retry: the database or a dependency is down for now
  internal,             // retry: a defect or an unexpected failure; it may not recur
};

std::string_view to_string(ErrorCode code);

// Whether the same call may succeed when repeated unchanged: idempotency records keep
// final answers to replay them and release the key after a retryable one.
bool retryable(ErrorCode code);

// One offending input, named by its field path ("email", "contacts[2].phone").
struct FieldError {
  std::string field;
  std::string message;
  std::string code;  // a stable name for the problem when clients act on it ("field_missing"); often empty
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
