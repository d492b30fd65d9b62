#include "webhook.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <stdexcept>

namespace nucleo::whatsapp {
namespace {

std::string text_of(const Json& object, const char* key) {
  return object.is_object() && object.contains(key) && object[key].is_string() ? object[key].get<std::string>() : "";
}

// The words a person would read in the inbox, by message type; empty when the message
// has none (a sticker, an audio note).
std::string readable_text(const std::string& type, const Json& m) {
  const Json& body = m.value(type, Json::object());
  if (type == "text") return text_of(body, "body");
  if (type == "image" || type == "video" || type == "document") return text_of(body, "caption");
  if (type == "button") return text_of(body, "text");
  if (type == "reaction") return text_of(body, "emoji");
  if (type == "order") return text_of(body, "text");
  if (type == "interactive") {
    for (const char* reply : {"button_reply", "list_reply", "nfm_reply"})
      if (body.contains(reply)) {
        std::string title = text_of(body[reply], "title");
        return title.empty() ? text_of(body[reply], "body") : title;
      }
    return "";
  }
  if (type == "location") {
    std::string name = text_of(body, "name"), address = text_of(body, "address");
    return name.empty() ? address : address.empty() ? name : name + ", " + address;
  }
  if (type == "contacts" && m.value("contacts", Json()).is_array()) {
    std::string names;
    for (const auto& c : m["contacts"]) {
      std::string name = text_of(c.value("name", Json::object()), "formatted_name");
      if (!name.empty()) names += (names.empty() ? "" : ", ") + name;
    }
    return names;
  }
  if (type == "system") return text_of(body, "body");
  return "";
}

// Everything the message carries but its envelope: the type's own object as Meta sent
// it (media id, mime type, sha256, caption; a location; a reply's ids), `context` (the
// message replied to), `referral` (the click-to-WhatsApp ad it came from), `errors`.
Json content_of(const std::string& type, const Json& m) {
  Json content = {{"kind", type}};
  for (const auto& [key, value] : m.items())
    if (key != "from" && key != "id" && key != "timestamp" && key != "type") content[key] = value;
  return content;
}

Json message_of(const Json& m, const std::map<std::string, std::string>& names) {
  std::string id = text_of(m, "id"), from = text_of(m, "from");
  if (id.empty() || from.empty()) return nullptr;
  std::string type = text_of(m, "type");
  if (type.empty()) type = "unknown";
  Json sender = {{"phone", from}};
  if (auto name = names.find(from); name != names.end()) sender["name"] = name->second;
  Json out = {{"external_id", id}, {"type", "whatsapp"}, {"from", sender}, {"content", content_of(type, m)}};
  std::string text = readable_text(type, m);
  if (!text.empty()) out["text"] = text;
  std::string at = rfc3339_of(m.value("timestamp", Json()));
  if (!at.empty()) out["occurred_at"] = at;
  return out;
}

// A failed status's first error, as one line: "131047 Re-engagement message: Message
// failed to send because more than 24 hours have passed …".
std::string error_of(const Json& status) {
  const Json& errors = status.value("errors", Json::array());
  if (!errors.is_array() || errors.empty() || !errors[0].is_object()) return "";
  const Json& e = errors[0];
  std::string line = e.value("code", Json()).is_number() ? std::to_string(e["code"].get<long long>()) : "";
  std::string title = text_of(e, "title").empty() ? text_of(e, "message") : text_of(e, "title");
  if (!title.empty()) line += (line.empty() ? "" : " ") + title;
  std::string details = text_of(e.value("error_data", Json::object()), "details");
  if (!details.empty()) line += ": " + details;
  return line;
}

Json status_of(const Json& s) {
  static const std::vector<std::string> known{"sent", "delivered", "read", "failed"};
  std::string id = text_of(s, "id"), status = text_of(s, "status");
  if (id.empty() || std::find(known.begin(), known.end(), status) == known.end()) return nullptr;
  Json out = {{"external_id", id}, {"status", status}};
  if (status == "failed") {
    std::string error = error_of(s);
    out["error"] = error.empty() ? "WhatsApp reported the message failed, without an error" : error;
  }
  return out;
}

}  // namespace

std::string hmac_sha256_hex(const std::string& key, const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), digest, &length);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 15]);
  }
  return out;
}

bool same_secret(const std::string& a, const std::string& b) {
  // CRYPTO_memcmp takes as long whatever differs; the lengths are not secret.
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool signature_matches(const std::string& header, const std::string& app_secret, const std::string& raw_body) {
  const std::string prefix = "sha256=";
  if (app_secret.empty() || header.rfind(prefix, 0) != 0) return false;
  std::string given = header.substr(prefix.size());
  for (auto& c : given) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return same_secret(given, hmac_sha256_hex(app_secret, raw_body));
}

Batch split(const Json& payload) {
  if (!payload.is_object() || payload.value("object", Json()) != "whatsapp_business_account" ||
      !payload.value("entry", Json()).is_array())
    throw std::invalid_argument(
        "not a WhatsApp Business Account webhook: expected {\"object\": \"whatsapp_business_account\", \"entry\": [...]}");
  Batch batch;
  for (const auto& entry : payload["entry"]) {
    const Json& changes = entry.is_object() ? entry.value("changes", Json()) : Json();
    if (!changes.is_array()) {
      batch.skipped.push_back("an entry without changes[]");
      continue;
    }
    for (const auto& change : changes) {
      if (!change.is_object() || change.value("field", Json()) != "messages") {
        batch.skipped.push_back("a change of field " + (change.is_object() ? change.value("field", Json()).dump() : "?"));
        continue;
      }
      const Json& value = change.value("value", Json());
      std::string number = value.is_object() ? text_of(value.value("metadata", Json::object()), "phone_number_id") : "";
      if (number.empty()) {
        batch.skipped.push_back("a change without value.metadata.phone_number_id");
        continue;
      }
      batch.values_by_number[number].push_back(value);
    }
  }
  return batch;
}

Translated translate(const Json& value) {
  Translated out;
  std::map<std::string, std::string> names;
  for (const auto& c : value.value("contacts", Json::array()))
    if (c.is_object() && !text_of(c, "wa_id").empty())
      names[text_of(c, "wa_id")] = text_of(c.value("profile", Json::object()), "name");
  for (const auto& m : value.value("messages", Json::array())) {
    Json message = m.is_object() ? message_of(m, names) : Json();
    if (message.is_null()) out.skipped.push_back("a message without id or from");
    else out.messages.push_back(std::move(message));
  }
  for (const auto& s : value.value("statuses", Json::array())) {
    Json status = s.is_object() ? status_of(s) : Json();
    if (status.is_null()) out.skipped.push_back("a status " + (s.is_object() ? s.value("status", Json()).dump() : "?"));
    else out.statuses.push_back(std::move(status));
  }
  return out;
}

std::string rfc3339_of(const Json& unix_seconds) {
  long long seconds = 0;
  try {
    if (unix_seconds.is_string()) seconds = std::stoll(unix_seconds.get<std::string>());
    else if (unix_seconds.is_number_integer()) seconds = unix_seconds.get<long long>();
    else return "";
  } catch (const std::exception&) {
    return "";
  }
  if (seconds <= 0) return "";
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm utc{};
  if (!gmtime_r(&t, &utc)) return "";
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

namespace {

// Lower-cases ASCII and the Latin-1 capitals (À–Þ, two bytes in UTF-8: C3 80–C3 9E but
// ×), and drops blanks and punctuation at both ends: "  Parar PROMOÇÕES! " → "parar promoções".
std::string folded_keyword(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == 0xC3 && i + 1 < text.size()) {
      unsigned char next = static_cast<unsigned char>(text[i + 1]);
      out += static_cast<char>(c);
      out += static_cast<char>(next >= 0x80 && next <= 0x9E && next != 0x97 ? next + 0x20 : next);
      ++i;
    } else {
      out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
  }
  auto edge = [](char c) { return std::isspace(static_cast<unsigned char>(c)) || std::ispunct(static_cast<unsigned char>(c)); };
  std::size_t first = 0, last = out.size();
  while (first < last && edge(out[first])) ++first;
  while (last > first && edge(out[last - 1])) --last;
  return out.substr(first, last - first);
}

}  // namespace

bool is_opt_out(const std::string& text, const std::string& keywords) {
  std::string said = folded_keyword(text);
  if (said.empty()) return false;
  std::size_t start = 0;
  while (start <= keywords.size()) {
    std::size_t comma = keywords.find(',', start);
    if (comma == std::string::npos) comma = keywords.size();
    if (folded_keyword(keywords.substr(start, comma - start)) == said) return true;
    start = comma + 1;
  }
  return false;
}

}  // namespace nucleo::whatsapp
