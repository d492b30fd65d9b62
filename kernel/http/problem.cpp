#include "kernel/http/problem.hpp"

#include <nlohmann/json.hpp>

namespace nucleo::http {

void send_problem(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
                  const std::string& detail, const std::string& request_id, const std::vector<FieldError>& errors) {
  nlohmann::json body = {
      {"type", "about:blank"},
      {"title", Poco::Net::HTTPResponse::getReasonForStatus(status)},
      {"status", static_cast<int>(status)},
      {"detail", detail},
      {"request_id", request_id},
  };
  nlohmann::json fields = nlohmann::json::array();
  for (const auto& e : errors) fields.push_back({{"field", e.field}, {"message", e.message}});
  body["errors"] = std::move(fields);
  std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  response.setStatus(status);
  response.setContentType("application/problem+json");
  response.setContentLength(static_cast<std::streamsize>(text.size()));
  response.send() << text;
}

void send_json(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
               const std::string& body) {
  response.setStatus(status);
  response.setContentType("application/json");
  response.setContentLength(static_cast<std::streamsize>(body.size()));
  response.send() << body;
}

}  // namespace nucleo::http
