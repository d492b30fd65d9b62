#include "tests/e2e/http_client.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

namespace nucleo::test {

HttpResponse http_request(unsigned short port, const std::string& method, const std::string& path,
                          const std::map<std::string, std::string>& headers, const std::string& body) {
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  session.setTimeout(Poco::Timespan(10, 0));
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [k, v] : headers) request.set(k, v);
  // A Content-Length header given by the test wins: it can declare more than is sent.
  if (!body.empty() && !headers.count("Content-Length"))
    request.setContentLength(static_cast<std::streamsize>(body.size()));
  session.sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  HttpResponse out;
  out.status = response.getStatus();
  for (const auto& [k, v] : response) out.headers[k] = v;
  Poco::StreamCopier::copyToString(in, out.body);
  return out;
}

}  // namespace nucleo::test
