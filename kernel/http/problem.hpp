#pragma once

#include <Poco/Net/HTTPServerResponse.h>

#include <string>
#include <vector>

#include "kernel/domain/error.hpp"

namespace nucleo::http {

// Writes an RFC 9457 problem+json body; `errors` names each offending field (DESIGN §7).
void send_problem(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
                  const std::string& detail, const std::string& request_id, const std::vector<FieldError>& errors = {});

void send_json(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
               const std::string& body);

}  // namespace nucleo::http
