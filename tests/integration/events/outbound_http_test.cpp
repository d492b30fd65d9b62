// The outbound HTTP client's SSRF guard (issue #9): private, loopback, link-local and
// metadata targets are refused — also through a host name — unless allow-listed; an
// allow-listed local server is reached over a real socket, with retries on 503.
#include <gtest/gtest.h>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

#include <atomic>
#include <cstdlib>

#include "kernel/domain/error.hpp"
#include "kernel/events/outbound_http.hpp"
#include "tests/support/process.hpp"

namespace nucleo::events {
namespace {

// A local service answering 503 for the first `unavailable_first` requests, then
// echoing method, path, the X-Test header and the body.
struct FakeService {
  std::atomic<int> requests{0};
  int unavailable_first = 0;
  std::unique_ptr<Poco::Net::HTTPServer> server;
  unsigned short port = 0;

  FakeService() {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    port = socket.address().port();
    struct Handler : Poco::Net::HTTPRequestHandler {
      FakeService& s;
      explicit Handler(FakeService& f) : s(f) {}
      void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res) override {
        std::string body;
        Poco::StreamCopier::copyToString(req.stream(), body);
        if (++s.requests <= s.unavailable_first) {
          res.setStatus(Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE);
          res.send() << "busy";
          return;
        }
        res.set("X-Seen-Host", req.getHost());
        res.send() << req.getMethod() << " " << req.getURI() << " " << req.get("X-Test", "-") << " " << body;
      }
    };
    struct Factory : Poco::Net::HTTPRequestHandlerFactory {
      FakeService& s;
      explicit Factory(FakeService& f) : s(f) {}
      Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new Handler(s);
      }
    };
    server = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket, new Poco::Net::HTTPServerParams);
    server->start();
  }
  ~FakeService() { server->stopAll(true); }
  std::string url(const std::string& host = "127.0.0.1") const {
    return "http://" + host + ":" + std::to_string(port) + "/hook?x=1";
  }
};

std::string refusal(const OutboundHttp& client, const std::string& url) {
  try {
    client.send({"GET", url, {}, "", std::chrono::milliseconds(300)});
  } catch (const Error& e) {
    return std::string(e.code() == ErrorCode::forbidden ? "forbidden: " : "other: ") + e.what();
  }
  return "sent";
}

TEST(OutboundHttp, RefusesPrivateLoopbackLinkLocalAndMetadataTargets) {
  FakeService service;
  OutboundHttp client(OutboundSettings{});
  EXPECT_EQ(refusal(client, service.url()).rfind("forbidden: refused: 127.0.0.1, a loopback address", 0), 0u)
      << refusal(client, service.url());
  EXPECT_NE(refusal(client, "http://10.0.0.1/").find("forbidden: refused: 10.0.0.1, a private"), std::string::npos);
  EXPECT_NE(refusal(client, "http://169.254.169.254/latest/meta-data/").find("forbidden: refused: 169.254.169.254, a link-local"),
            std::string::npos);
  EXPECT_NE(refusal(client, "http://[::1]:" + std::to_string(service.port) + "/").find("forbidden: refused: ::1, a loopback"),
            std::string::npos);
  // A name is judged by what it resolves to.
  EXPECT_NE(refusal(client, service.url("localhost")).find("forbidden: refused: localhost resolves to"),
            std::string::npos)
      << refusal(client, service.url("localhost"));
  EXPECT_NE(refusal(client, "http://192.168.1.10/").find("forbidden"), std::string::npos);
  EXPECT_NE(refusal(client, "http://172.20.0.5/").find("forbidden"), std::string::npos);
  EXPECT_NE(refusal(client, "http://0.0.0.0/").find("forbidden"), std::string::npos);
  EXPECT_NE(refusal(client, "http://[::ffff:127.0.0.1]/").find("forbidden"), std::string::npos);
  EXPECT_NE(refusal(client, "http://[fd00::1]/").find("forbidden"), std::string::npos);
  EXPECT_EQ(service.requests, 0);  // nothing reached it
}

TEST(OutboundHttp, ReachesAnAllowListedServiceWithTheCheckedAddress) {
  FakeService service;
  OutboundHttp client(OutboundSettings{{"127.0.0.0/8", "::1"}});
  auto r = client.send({"POST", service.url(), {{"X-Test", "t1"}}, "{\"a\":1}", std::nullopt});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "POST /hook?x=1 t1 {\"a\":1}");
  auto by_name = client.send({"GET", service.url("localhost"), {}, "", std::nullopt});
  EXPECT_EQ(by_name.status, 200);
  EXPECT_EQ(by_name.headers["X-Seen-Host"], "localhost:" + std::to_string(service.port));  // the name, not the IP
  // Allowing one block does not open the others.
  EXPECT_NE(refusal(client, "http://10.0.0.1/").find("forbidden"), std::string::npos);
}

TEST(OutboundHttp, Retries503AndNetworkErrorsThenReportsTheLastOutcome) {
  FakeService service;
  service.unavailable_first = 2;
  OutboundHttp client(OutboundSettings{{"127.0.0.1"}, std::chrono::milliseconds(2000), 2});
  EXPECT_EQ(client.send({"GET", service.url(), {}, "", std::nullopt}).status, 200);
  EXPECT_EQ(service.requests, 3);

  service.unavailable_first = 100;  // still busy after the retries: the last answer is returned
  auto busy = client.send({"GET", service.url(), {}, "", std::nullopt});
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.body, "busy");
  EXPECT_EQ(service.requests, 6);

  unsigned short closed = service.port;
  service.server->stopAll(true);  // nobody listens any more: a network error each time
  try {
    client.send({"GET", "http://127.0.0.1:" + std::to_string(closed) + "/", {}, "", std::chrono::milliseconds(300)});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable);
    EXPECT_NE(std::string(e.what()).find("failed after 3 attempts"), std::string::npos) << e.what();
  }
}

TEST(OutboundHttp, RefusesMalformedRequestsAndSettings) {
  OutboundHttp client(OutboundSettings{});
  EXPECT_NE(refusal(client, "ftp://example.com/").find("other: url must be http(s)"), std::string::npos);
  EXPECT_NE(refusal(client, "https://127.0.0.1/").find("forbidden"), std::string::npos);  // guarded like http
  EXPECT_NE(refusal(client, "http://user:pw@example.com/").find("credentials"), std::string::npos);
  OutboundSettings missing_ca;
  missing_ca.ca_file = "/nonexistent/ca.pem";
  EXPECT_THROW(OutboundHttp{missing_ca}, Error);
  EXPECT_THROW(OutboundHttp(OutboundSettings{{"not-an-ip"}}), Error);
  EXPECT_THROW(OutboundHttp(OutboundSettings{{"10.0.0.0/33"}}), Error);
  EXPECT_FALSE(OutboundHttp::non_public(Poco::Net::IPAddress("8.8.8.8")));
  EXPECT_FALSE(OutboundHttp::non_public(Poco::Net::IPAddress("2001:4860:4860::8888")));
  EXPECT_EQ(*OutboundHttp::non_public(Poco::Net::IPAddress("100.64.0.1")), "shared (100.64.0.0/10)");
}

// Every block the IANA special-purpose registries mark as not globally reachable (and
// the probe's list), refused; their neighbours and the registry's reachable exceptions, not.
TEST(OutboundHttp, RefusesEveryAddressThatIsNotGloballyReachable) {
  const std::vector<std::string> refused{
      "0.1.2.3",     "10.0.0.1",       "100.64.0.1",    "127.0.0.1",       "169.254.169.254", "172.16.0.1",
      "172.31.255.255", "192.0.0.8",   "192.0.2.1",     "192.88.99.1",     "192.168.1.1",     "198.18.0.1",
      "198.19.255.255", "198.51.100.1", "203.0.113.1",  "224.0.0.1",       "239.255.255.250", "240.0.0.1",
      "255.255.255.255", "::",         "::1",           "::127.0.0.1",     "::ffff:127.0.0.1", "::ffff:10.0.0.1",
      "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b:1::1", "100::1",        "2001::1",         "2001:2::1",
      "2001:10::1",  "2001:db8::1",    "2002:7f00:1::", "2002:808:808::",  "3fff::1",         "5f00::1",
      "fc00::1",     "fd12:3456::1",   "fe80::1",       "fec0::1",         "ff02::1"};
  for (const auto& a : refused) EXPECT_TRUE(OutboundHttp::non_public(Poco::Net::IPAddress(a))) << a << " was let through";
  const std::vector<std::string> reachable{"1.1.1.1",        "8.8.8.8",        "100.63.255.255", "100.128.0.1",
                                           "172.32.0.1",     "192.0.1.1",      "192.0.3.1",      "198.20.0.1",
                                           "223.255.255.254", "::ffff:8.8.8.8", "64:ff9b::808:808", "2001:4860:4860::8888",
                                           "2001:3::1",      "2001:20::1",     "2a00:1450::1",   "2606:4700::1111"};
  for (const auto& a : reachable)
    EXPECT_FALSE(OutboundHttp::non_public(Poco::Net::IPAddress(a))) << a << " was refused: "
                                                                    << *OutboundHttp::non_public(Poco::Net::IPAddress(a));
}

// A local https server presenting a certificate made by the openssl CLI for `san`.
struct TlsService {
  test::TempDir dir;
  std::unique_ptr<Poco::Net::HTTPServer> server;
  unsigned short port = 0;

  explicit TlsService(const std::string& san) {
    std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=nucleo-test -addext "
                          "subjectAltName=" + san + " -keyout " + dir.path() + "/key.pem -out " + cert() +
                          " >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl could not make a certificate");
    Poco::Net::Context::Params params;
    params.privateKeyFile = dir.path() + "/key.pem";
    params.certificateFile = cert();
    params.verificationMode = Poco::Net::Context::VERIFY_NONE;
    Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
    Poco::Net::SecureServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0), 64, context);
    port = socket.address().port();
    struct Handler : Poco::Net::HTTPRequestHandler {
      void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res) override {
        res.send() << "tls " << req.getURI();
      }
    };
    struct Factory : Poco::Net::HTTPRequestHandlerFactory {
      Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new Handler;
      }
    };
    server = std::make_unique<Poco::Net::HTTPServer>(new Factory, socket, new Poco::Net::HTTPServerParams);
    server->start();
  }
  ~TlsService() { server->stopAll(true); }
  std::string cert() const { return dir.path() + "/cert.pem"; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port) + "/secure?x=1"; }
};

std::string failure(const OutboundHttp& client, const std::string& url) {
  try {
    client.send({"GET", url, {}, "", std::chrono::milliseconds(2000)});
  } catch (const Error& e) {
    return e.what();
  }
  return "sent";
}

TEST(OutboundHttp, HttpsVerifiesTheCertificateChainAndTheHostName) {
  TlsService service("IP:127.0.0.1");
  OutboundSettings trusting{{"127.0.0.1"}, std::chrono::milliseconds(2000), 0};
  trusting.ca_file = service.cert();
  auto r = OutboundHttp(trusting).send({"GET", service.url(), {}, "", std::nullopt});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "tls /secure?x=1");

  // The system's CAs do not vouch for a self-made certificate.
  OutboundSettings system_cas{{"127.0.0.1"}, std::chrono::milliseconds(2000), 0};
  EXPECT_NE(failure(OutboundHttp(system_cas), service.url()).find("certificate verify failed"), std::string::npos);

  // A trusted certificate for another name is refused too.
  TlsService other("DNS:other.example");
  OutboundSettings trusting_other{{"127.0.0.1"}, std::chrono::milliseconds(2000), 0};
  trusting_other.ca_file = other.cert();
  std::string why = failure(OutboundHttp(trusting_other), other.url());
  EXPECT_NE(why.find("Unacceptable certificate from 127.0.0.1"), std::string::npos) << why;
}

}  // namespace
}  // namespace nucleo::events
