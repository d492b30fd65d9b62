#include "graph.hpp"

#include <map>
#include <set>
#include <stdexcept>

namespace nucleo::whatsapp {
namespace {

std::string text_of(const Json& object, const char* key, const std::string& fallback = "") {
  return object.is_object() && object.contains(key) && object[key].is_string() ? object[key].get<std::string>()
                                                                               : fallback;
}

// Graph takes the recipient as digits: "+55 11 98765-4321" → "5511987654321".
std::string digits_of(const std::string& address) {
  std::string out;
  for (char c : address)
    if (c >= '0' && c <= '9') out.push_back(c);
  return out;
}

// Codes Graph documents as temporary: its throughput limits and its own failures.
const std::set<long long> temporary_codes{1, 2, 4, 80007, 130429, 131000, 131016, 131048, 131056};

// Codes with a message of ours: what happened and what to do.
const std::map<long long, std::string> explained{
    {131047, "more than 24 hours have passed since the contact last wrote: only a template can reopen the "
             "conversation"},
    {131026, "the message is undeliverable: the number may not be on WhatsApp, may not have accepted the current "
             "terms, or runs an old WhatsApp version"},
    {132000, "the template's parameters do not match it: the number of header or body parameters differs from the "
             "approved template"},
    {132001, "the template does not exist in this language, or is not approved yet"},
    {132012, "a template parameter has the wrong format"},
    {132015, "the template is paused for its low quality"},
    {132016, "the template is disabled"},
    {131030, "the recipient is not on the test number's allowed list"},
    {133010, "the phone number is not registered on the WhatsApp Business Platform"},
    {190, "the access token is invalid or expired: set a new access_token secret on the channel account"},
};

}  // namespace

Json graph_request(const Json& outbound) {
  const Json& account = outbound.value("channel_account", Json::object());
  const Json& config = account.value("config", Json::object());
  std::string token = text_of(account.value("secrets", Json::object()), "access_token");
  if (token.empty())
    throw std::invalid_argument("channel account " + text_of(account, "id") +
                                " has no access_token secret (PATCH /v1/channels/accounts/{id} {\"secrets\": "
                                "{\"access_token\": \"…\"}})");
  std::string to = digits_of(text_of(outbound, "to"));
  if (to.empty()) throw std::invalid_argument("the recipient has no phone number");
  Json message = {{"messaging_product", "whatsapp"}, {"recipient_type", "individual"}, {"to", to}};
  const Json& content = outbound.value("content", Json());
  if (content.is_object() && content.value("document", Json()).is_object()) {
    // A file Meta fetches from the link (a proposal's PDF), the text its caption.
    const Json& d = content["document"];
    message["type"] = "document";
    message["document"] = {{"link", text_of(d, "url")}, {"filename", text_of(d, "filename")}};
    if (content.value("text", Json()).is_string()) message["document"]["caption"] = content["text"];
  } else if (content.is_string()) {
    message["type"] = "text";
    message["text"] = {{"preview_url", false}, {"body", content}};
  } else if (content.is_object() && content.contains("template")) {
    const Json& t = content["template"];
    Json templ = {{"name", text_of(t, "name")}, {"language", {{"code", text_of(t, "language")}}}};
    if (t.contains("components")) templ["components"] = t["components"];  // Meta's own shape, passed as given
    message["type"] = "template";
    message["template"] = templ;
  } else if (content.is_object() && content.value("text", Json()).is_string()) {
    message["type"] = "text";
    message["text"] = {{"preview_url", false}, {"body", content["text"]}};
  } else {
    throw std::invalid_argument("a WhatsApp message needs a text or a template");
  }
  if (content.is_object() && content.value("reply_to", Json()).is_string())
    message["context"] = {{"message_id", content["reply_to"]}};
  std::string base = text_of(config, "base_url", default_base_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  return {{"method", "POST"},
          {"url", base + "/" + text_of(config, "api_version", default_api_version) + "/" +
                      text_of(account, "external_id") + "/messages"},
          {"headers", {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}}},
          {"body", message.dump()},
          {"timeout_ms", 15000}};
}

SendOutcome interpret(int http_status, const std::string& body) {
  Json answer = Json::parse(body, nullptr, false);
  if (http_status >= 200 && http_status < 300) {
    const Json& messages = answer.is_object() ? answer.value("messages", Json()) : Json();
    if (messages.is_array() && !messages.empty() && !text_of(messages[0], "id").empty())
      return {SendOutcome::Kind::sent, messages[0]["id"], "", false};
    return {SendOutcome::Kind::retry, "", "Graph answered " + std::to_string(http_status) + " without a message id",
            false};
  }
  const Json& error = answer.is_object() ? answer.value("error", Json::object()) : Json::object();
  long long code = error.is_object() && error.value("code", Json()).is_number() ? error["code"].get<long long>() : 0;
  std::string graph_says = text_of(error, "message");
  std::string details = text_of(error.value("error_data", Json::object()), "details");
  if (!details.empty()) graph_says += (graph_says.empty() ? "" : ": ") + details;
  std::string line = "Graph " + std::to_string(http_status) + (code ? " error " + std::to_string(code) : "");
  auto it = explained.find(code);
  std::string why = it != explained.end() ? it->second + (graph_says.empty() ? "" : " (" + graph_says + ")")
                    : graph_says.empty()  ? body.substr(0, 300)
                                          : graph_says;
  line += why.empty() ? " with an empty answer" : ": " + why;
  bool temporary = http_status == 429 || http_status >= 500 || temporary_codes.count(code);
  return {temporary ? SendOutcome::Kind::retry : SendOutcome::Kind::failed, "", line, code == 190};
}

}  // namespace nucleo::whatsapp
