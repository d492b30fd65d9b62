#include "smtp.hpp"

#include "curl_connection.hpp"

#include <cstring>
#include <memory>

namespace nucleo::email {
namespace {

struct Upload {
  const std::string* bytes;
  std::size_t sent = 0;
};

std::size_t read_message(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* u = static_cast<Upload*>(user);
  std::size_t n = std::min(size * count, u->bytes->size() - u->sent);
  std::memcpy(buffer, u->bytes->data() + u->sent, n);
  u->sent += n;
  return n;
}

struct SlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct EasyFree {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};

SmtpOutcome outcome_of(CURLcode code, long reply, const char* error, const SmtpServer& server) {
  SmtpOutcome o;
  o.reply_code = static_cast<int>(reply);
  std::string said = error[0] ? error : curl_easy_strerror(code);
  std::string where = server.host + ":" + std::to_string(server.port);
  if (code == CURLE_OK) {
    o.kind = SmtpOutcome::Kind::sent;
    o.detail = "accepted by " + where;
    return o;
  }
  switch (code) {
    case CURLE_LOGIN_DENIED:
      o.credentials_refused = true;
      o.detail = where + " refused the login of " + server.username + ": " + said;
      return o;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      o.detail = "the TLS certificate of " + where + " is not trusted: " + said;
      return o;
    case CURLE_USE_SSL_FAILED:
      o.detail = where + " does not offer STARTTLS: " + said;
      return o;
    default:
      break;
  }
  if (reply >= 500) {
    o.detail = where + " refused the message: " + said;
  } else {
    // A 4xx reply, or no reply at all (refused connection, timeout, a dropped line).
    o.kind = SmtpOutcome::Kind::retry;
    o.detail = (reply >= 400 ? where + " deferred the message: " : "cannot reach " + where + ": ") + said;
  }
  return o;
}

}  // namespace

SmtpOutcome smtp_send(const SmtpServer& server, const std::string& from, const std::vector<std::string>& recipients,
                      const std::string& message) {
  use_curl();
  std::unique_ptr<CURL, EasyFree> curl(curl_easy_init());
  if (!curl) return {SmtpOutcome::Kind::retry, 0, "libcurl could not start a transfer", false};
  CURL* c = curl.get();
  bool implicit_tls = server.security == "tls";
  std::string url = std::string(implicit_tls ? "smtps://" : "smtp://") + server.host + ":" + std::to_string(server.port);
  std::unique_ptr<curl_slist, SlistFree> to;
  for (const auto& r : recipients) to.reset(curl_slist_append(to.release(), ("<" + r + ">").c_str()));
  Upload upload{&message};
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_slist* resolve = nullptr;
  configure(c, {server.host, server.port, server.address, server.ca_file, server.security == "starttls", server.timeout_ms},
            "smtp,smtps", resolve);
  std::unique_ptr<curl_slist, SlistFree> pinned(resolve);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  if (!server.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, server.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, server.password.c_str());
  }
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, ("<" + from + ">").c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, to.get());
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_message);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  CURLcode code = curl_easy_perform(c);
  long reply = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
  return outcome_of(code, reply, error, server);
}

}  // namespace nucleo::email
