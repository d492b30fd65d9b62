#include "imap.hpp"

#include "curl_connection.hpp"

#include <algorithm>
#include <functional>
#include <mutex>

namespace nucleo::email {
namespace {

struct Received {
  std::string bytes;
  std::size_t limit = 0;
  bool over = false;
};

std::size_t receive(char* data, std::size_t size, std::size_t count, void* user) {
  auto* r = static_cast<Received*>(user);
  std::size_t n = size * count;
  if (r->bytes.size() + n > r->limit) {
    r->over = true;
    return 0;  // libcurl stops the transfer (CURLE_WRITE_ERROR)
  }
  r->bytes.append(data, n);
  return n;
}

ImapError error_of(CURLcode code, const char* said, const ImapServer& server) {
  std::string where = server.host + ":" + std::to_string(server.port);
  std::string words = said[0] ? said : curl_easy_strerror(code);
  using Kind = ImapError::Kind;
  switch (code) {
    case CURLE_LOGIN_DENIED:
      // libcurl reports a refused SELECT with the login's code.
      if (words.rfind("Select failed", 0) == 0)
        return {Kind::refused, where + " has no folder " + server.mailbox + " for " + server.username + ": " + words};
      return {Kind::login, where + " refused the login of " + server.username + ": " + words};
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      return {Kind::refused, "the TLS certificate of " + where + " is not trusted: " + words};
    case CURLE_USE_SSL_FAILED:
      return {Kind::refused, where + " does not offer STARTTLS: " + words};
    case CURLE_REMOTE_FILE_NOT_FOUND:
    case CURLE_QUOTE_ERROR:
    case CURLE_REMOTE_ACCESS_DENIED:
      return {Kind::refused, where + " refused the command on mailbox " + server.mailbox + ": " + words};
    default:
      return {Kind::unreachable, "cannot read " + where + ": " + words};
  }
}

}  // namespace

struct ImapMailbox::Connection {
  CURL* handle = nullptr;
  curl_slist* pinned = nullptr;
  ~Connection() {
    if (handle) curl_easy_cleanup(handle);
    curl_slist_free_all(pinned);
  }
};

ImapMailbox::ImapMailbox(ImapServer server) : server_(std::move(server)), connection_(std::make_unique<Connection>()) {
  use_curl();
  CURL* c = connection_->handle = curl_easy_init();
  if (!c) throw ImapError(ImapError::Kind::unreachable, "libcurl could not start a transfer");
  configure(c, {server_.host, server_.port, server_.address, server_.ca_file, server_.security == "starttls", server_.timeout_ms},
            "imap,imaps", connection_->pinned);
  curl_easy_setopt(c, CURLOPT_USERNAME, server_.username.c_str());
  curl_easy_setopt(c, CURLOPT_PASSWORD, server_.password.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, receive);
}

ImapMailbox::~ImapMailbox() = default;

std::string ImapMailbox::base_url() const {
  return std::string(server_.security == "tls" ? "imaps://" : "imap://") + server_.host + ":" +
         std::to_string(server_.port) + "/";
}

// One request on the kept connection: `command` is sent as is (libcurl hands back the
// untagged answers), or, empty, the URL's own action (a fetch by UID).
std::string ImapMailbox::perform(const std::string& path, const std::string& command) {
  CURL* c = connection_->handle;
  Received received;
  received.limit = server_.max_message_bytes;
  char said[CURL_ERROR_SIZE] = "";
  std::string url = base_url() + path;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, command.empty() ? nullptr : command.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &received);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, said);
  CURLcode code = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  if (received.over)
    throw ImapError(ImapError::Kind::too_large, "larger than " + std::to_string(server_.max_message_bytes) + " bytes");
  if (code != CURLE_OK) throw error_of(code, said, server_);
  return std::move(received.bytes);
}

ImapMailbox::Status ImapMailbox::status() {
  // STATUS leaves the selected mailbox alone (libcurl selects it for the fetches).
  std::string answer = perform("", "STATUS \"" + server_.mailbox + "\" (UIDVALIDITY UIDNEXT)");
  Status s{response_code(answer, "UIDVALIDITY"), response_code(answer, "UIDNEXT")};
  if (s.uidvalidity == 0 || s.uidnext == 0)
    throw ImapError(ImapError::Kind::refused, server_.host + " gave no UIDVALIDITY or UIDNEXT for " + server_.mailbox);
  return s;
}

namespace {

// UID SEARCH over [first, last] in windows, each answer well inside libcurl's line limit.
std::vector<std::uint64_t> search_windows(std::uint64_t first, std::uint64_t last, const std::string& criteria,
                                          const std::function<std::string(const std::string&)>& ask) {
  std::vector<std::uint64_t> uids;
  for (std::uint64_t from = first; from <= last; from += ImapMailbox::search_window) {
    std::uint64_t to = std::min(last, from + ImapMailbox::search_window - 1);
    for (auto uid : search_answer(ask("UID SEARCH " + criteria + "UID " + std::to_string(from) + ":" + std::to_string(to))))
      if (uid >= from && uid <= to && (uids.empty() || uid > uids.back())) uids.push_back(uid);
  }
  return uids;
}

}  // namespace

std::vector<std::uint64_t> ImapMailbox::uids_between(std::uint64_t first, std::uint64_t last) {
  return search_windows(first, last, "", [&](const std::string& c) { return perform(mailbox_path(), c); });
}

std::vector<std::uint64_t> ImapMailbox::unread_between(std::uint64_t first, std::uint64_t last) {
  return search_windows(first, last, "UNSEEN ", [&](const std::string& c) { return perform(mailbox_path(), c); });
}

std::string ImapMailbox::fetch(std::uint64_t uid) {
  examine();
  return perform(mailbox_path() + ";UID=" + std::to_string(uid), "");
}

// libcurl fetches with BODY[] (which sets \Seen) and selects read-write, with no option
// for either; but it selects a mailbox only when the URL names another one than the
// last it selected. So: let it select ours (a NOOP on its URL), then EXAMINE the same
// mailbox by hand: the session is read-only from then on, and libcurl's fetches change
// no flag. (The integration test fails if a libcurl ever selects again on its own.)
void ImapMailbox::examine() {
  if (examined_) return;
  perform(mailbox_path(), "NOOP");
  std::string quoted = "\"";
  for (char ch : server_.mailbox) quoted += (ch == '"' || ch == '\\') ? std::string{'\\', ch} : std::string{ch};
  perform("", "EXAMINE " + quoted + "\"");
  examined_ = true;
}

std::string ImapMailbox::mailbox_path() const {
  char* escaped = curl_easy_escape(connection_->handle, server_.mailbox.c_str(), static_cast<int>(server_.mailbox.size()));
  std::string path = escaped ? escaped : server_.mailbox;
  curl_free(escaped);
  return path;
}

std::vector<std::uint64_t> search_answer(const std::string& response) {
  std::vector<std::uint64_t> out;
  std::size_t at = 0;
  while ((at = response.find("* SEARCH", at)) != std::string::npos) {
    at += 8;
    std::size_t end = response.find('\n', at);
    std::string line = response.substr(at, end == std::string::npos ? std::string::npos : end - at);
    std::uint64_t n = 0;
    bool in_number = false;
    for (char ch : line + " ") {
      if (ch >= '0' && ch <= '9') {
        n = n * 10 + static_cast<std::uint64_t>(ch - '0');
        in_number = true;
      } else if (in_number) {
        out.push_back(n);
        n = 0;
        in_number = false;
      }
    }
  }
  return out;
}

std::uint64_t response_code(const std::string& response, const std::string& name) {
  std::size_t at = response.find(name + " ");
  if (at == std::string::npos) return 0;
  std::uint64_t n = 0;
  for (at += name.size() + 1; at < response.size() && response[at] >= '0' && response[at] <= '9'; ++at)
    n = n * 10 + static_cast<std::uint64_t>(response[at] - '0');
  return n;
}

}  // namespace nucleo::email
