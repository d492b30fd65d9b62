#pragma once

// What a write refused with a validation error names, as "field code: message" lines
// ({"accepted"} when it was not refused): one comparison shows every problem at once.

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "kernel/domain/error.hpp"

namespace nucleo::test {

inline std::vector<std::string> refusal(const std::function<void()>& write) {
  try {
    write();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::validation) << e.what();
    std::vector<std::string> out;
    for (const auto& f : e.fields()) out.push_back(f.field + " " + f.code + ": " + f.message);
    return out;
  }
  return {"accepted"};
}

// The error `call` throws (Error(internal, "did not throw") when it returns): for
// checking a refusal's code and message.
inline Error error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& e) {
    return e;
  }
  return Error(ErrorCode::internal, "did not throw");
}

}  // namespace nucleo::test
