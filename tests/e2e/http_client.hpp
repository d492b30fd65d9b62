#pragma once

#include <map>
#include <string>

namespace nucleo::test {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names as sent
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// One request over a real socket to 127.0.0.1:port. Throws on connection failure.
HttpResponse http_request(unsigned short port, const std::string& method, const std::string& path,
                          const std::map<std::string, std::string>& headers = {}, const std::string& body = "");

}  // namespace nucleo::test
