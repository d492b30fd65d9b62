#include "kernel/http/problem.hpp"

#include <Poco/Net/HTTPResponse.h>

namespace nucleo::http {

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::validation: return 422;
    case ErrorCode::not_found: return 404;
    case ErrorCode::conflict: return 409;
    case ErrorCode::aborted: return 409;
    case ErrorCode::precondition_failed: return 412;
    case ErrorCode::forbidden: return 403;
    case ErrorCode::unauthenticated: return 401;
    case ErrorCode::rate_limited: return 429;
    case ErrorCode::unavailable: return 503;
    case ErrorCode::internal: return 500;
  }
  return 500;
}

Problem problem_of(const Error& e) {
  Problem p{http_status(e.code()), e.what(), e.fields(), {}};
  if (e.code() == ErrorCode::unauthenticated) p.headers["WWW-Authenticate"] = "Bearer";
  if (e.code() == ErrorCode::unavailable) p.headers["Retry-After"] = "1";
  return p;
}

Json problem_json(const Problem& p, const std::string& request_id) {
  using Poco::Net::HTTPResponse;
  Json errors = Json::array();
  for (const auto& e : p.fields) {
    errors.push_back({{"field", e.field}, {"message", e.message}});
    if (!e.code.empty()) errors.back()["code"] = e.code;
  }
  return {{"type", "about:blank"},
          {"title", HTTPResponse::getReasonForStatus(static_cast<HTTPResponse::HTTPStatus>(p.status))},
          {"status", p.status},
          {"detail", p.detail},
          {"request_id", request_id},
          {"errors", errors}};
}

ApiResponse problem_response(const Problem& p, const std::string& request_id) {
  ApiResponse r;
  r.status = p.status;
  r.content_type = "application/problem+json";
  r.body = problem_json(p, request_id);
  r.headers = p.headers;
  return r;
}

}  // namespace nucleo::http
