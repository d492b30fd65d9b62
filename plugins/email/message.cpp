#include "message.hpp"

#include "gmime_support.hpp"

#include <memory>
#include <mutex>
#include <regex>
#include <stdexcept>

namespace nucleo::email {
namespace {

// Header text is one line: a CR or LF from a caller would start a header of its own.
std::string one_line(const std::string& text) {
  std::string out;
  for (char c : text) out += (c == '\r' || c == '\n' || c == '\t') ? ' ' : c;
  return out;
}

// A text part in UTF-8 (always: GMime's own choice would be Latin-1 when it fits), in the
// lightest encoding that carries it safely: 7bit for plain ASCII with short lines,
// quoted-printable otherwise (accents, long lines).
GMimeObject* text_part(const char* subtype, const std::string& text) {
  GMimeTextPart* part = g_mime_text_part_new_with_subtype(subtype);
  GMimeStream* bytes = g_mime_stream_mem_new_with_buffer(text.data(), text.size());
  GMimeDataWrapper* content = g_mime_data_wrapper_new_with_stream(bytes, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content(GMIME_PART(part), content);
  g_object_unref(content);
  g_object_unref(bytes);
  g_mime_text_part_set_charset(part, "utf-8");
  // GMime would pick base64 for some 8-bit texts: quoted-printable keeps them legible.
  GMimeContentEncoding best = g_mime_part_get_best_content_encoding(GMIME_PART(part), GMIME_ENCODING_CONSTRAINT_7BIT);
  g_mime_part_set_content_encoding(GMIME_PART(part), best <= GMIME_CONTENT_ENCODING_7BIT
                                                         ? GMIME_CONTENT_ENCODING_7BIT
                                                         : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  return GMIME_OBJECT(part);
}

std::string angle(const std::string& id) {
  return "<" + id + ">";
}

}  // namespace

bool is_address(const std::string& address) {
  static const std::regex addr_spec(R"(^[^\s@<>()\[\],;:"\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$)");
  return address.size() <= 254 && std::regex_match(address, addr_spec);
}

std::string message_id_for(const std::string& interaction_id, const std::string& from_address) {
  return "nucleo." + interaction_id + "@" + from_address.substr(from_address.find('@') + 1);
}

std::optional<std::string> interaction_of(const std::string& message_id) {
  static const std::regex ours(R"(^<?nucleo\.(int_[0-9a-z]{26})@[^>\s]+>?$)");
  std::smatch m;
  if (!std::regex_match(message_id, m, ours)) return std::nullopt;
  return m[1].str();
}

namespace {

// A file as an attachment: base64, its name in the Content-Disposition (GMime encodes
// a name with accents per RFC 2231).
GMimeObject* file_part(const OutgoingFile& file) {
  std::string type = file.type.find('/') == std::string::npos ? "application/octet-stream" : file.type;
  std::string major = type.substr(0, type.find('/')), minor = type.substr(type.find('/') + 1);
  GMimePart* part = g_mime_part_new_with_type(major.c_str(), minor.c_str());
  GMimeStream* bytes = g_mime_stream_mem_new_with_buffer(file.bytes.data(), file.bytes.size());
  GMimeDataWrapper* content = g_mime_data_wrapper_new_with_stream(bytes, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content(part, content);
  g_object_unref(content);
  g_object_unref(bytes);
  g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
  g_mime_object_set_disposition(GMIME_OBJECT(part), GMIME_DISPOSITION_ATTACHMENT);
  g_mime_part_set_filename(part, one_line(file.name).c_str());
  // UTF-8 for the name, as for every header we write (GMime would pick Latin-1 when it fits).
  auto utf8 = [](GMimeParamList* params, const char* name) {
    if (GMimeParam* p = params ? g_mime_param_list_get_parameter(params, name) : nullptr) g_mime_param_set_charset(p, "UTF-8");
  };
  utf8(g_mime_content_disposition_get_parameters(g_mime_object_get_content_disposition(GMIME_OBJECT(part))), "filename");
  utf8(g_mime_content_type_get_parameters(g_mime_object_get_content_type(GMIME_OBJECT(part))), "name");
  return GMIME_OBJECT(part);
}

}  // namespace

std::string compose(const Outgoing& message) {
  for (const auto& [field, address] : {std::pair{"from", message.from.address}, std::pair{"to", message.to.address}})
    if (!is_address(address)) throw std::invalid_argument(std::string(field) + ": '" + address + "' is not an e-mail address");
  if (message.text.empty() && message.html.empty()) throw std::invalid_argument("text: an e-mail needs a text or an HTML body");
  use_gmime();
  Owned<GMimeMessage> mime(g_mime_message_new(TRUE));
  g_mime_message_add_mailbox(mime.get(), GMIME_ADDRESS_TYPE_FROM, one_line(message.from.name).c_str(),
                             message.from.address.c_str());
  g_mime_message_add_mailbox(mime.get(), GMIME_ADDRESS_TYPE_TO, one_line(message.to.name).c_str(),
                             message.to.address.c_str());
  g_mime_message_set_subject(mime.get(), one_line(message.subject).c_str(), "utf-8");
  GDateTime* date = g_date_time_new_from_unix_utc(message.date_micros / 1'000'000);
  g_mime_message_set_date(mime.get(), date);
  g_date_time_unref(date);
  if (!message.interaction_id.empty())
    g_mime_message_set_message_id(mime.get(), message_id_for(message.interaction_id, message.from.address).c_str());
  if (!message.references.empty()) {
    std::string references;
    for (const auto& id : message.references) references += (references.empty() ? "" : " ") + angle(one_line(id));
    g_mime_object_set_header(GMIME_OBJECT(mime.get()), "In-Reply-To", angle(one_line(message.references.back())).c_str(),
                             nullptr);
    g_mime_object_set_header(GMIME_OBJECT(mime.get()), "References", references.c_str(), nullptr);
  }
  if (!message.unsubscribe_url.empty()) {
    const std::string& url = message.unsubscribe_url;
    if ((url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) ||
        url.find_first_of(" <>\r\n\t\"") != std::string::npos)
      throw std::invalid_argument("unsubscribe_url: '" + url + "' is not an http(s) URL");
    // One click revokes (RFC 8058 §3.1): mail clients POST List-Unsubscribe=One-Click to it.
    g_mime_object_set_header(GMIME_OBJECT(mime.get()), "List-Unsubscribe", ("<" + url + ">").c_str(), nullptr);
    // As it is: GMime would RFC 2047-encode a value longer than a line, and a URL must
    // stay readable to the mail client (RFC 2369 §2: it may run past 78 characters).
    GMimeHeader* header = g_mime_header_list_get_header(g_mime_object_get_header_list(GMIME_OBJECT(mime.get())),
                                                        "List-Unsubscribe");
    g_mime_header_set_raw_value(header, (" <" + url + ">\n").c_str());
    g_mime_object_set_header(GMIME_OBJECT(mime.get()), "List-Unsubscribe-Post", "List-Unsubscribe=One-Click", nullptr);
  }
  GMimeObject* body = nullptr;
  if (message.html.empty()) {
    body = text_part("plain", message.text);
  } else {
    // Plainest first (RFC 2046 §5.1.4): a reader shows the last part it can.
    GMimeMultipart* alternative = g_mime_multipart_new_with_subtype("alternative");
    for (auto [subtype, text] : {std::pair{"plain", &message.text}, std::pair{"html", &message.html}}) {
      if (text->empty()) continue;
      GMimeObject* part = text_part(subtype, *text);
      g_mime_multipart_add(alternative, part);
      g_object_unref(part);
    }
    body = GMIME_OBJECT(alternative);
  }
  if (!message.files.empty()) {  // the body first, then each file (RFC 2046 §5.1.3)
    GMimeMultipart* mixed = g_mime_multipart_new_with_subtype("mixed");
    g_mime_multipart_add(mixed, body);
    g_object_unref(body);
    for (const auto& f : message.files) {
      GMimeObject* part = file_part(f);
      g_mime_multipart_add(mixed, part);
      g_object_unref(part);
    }
    body = GMIME_OBJECT(mixed);
  }
  g_mime_message_set_mime_part(mime.get(), body);
  g_object_unref(body);
  GMimeFormatOptions* options = g_mime_format_options_clone(nullptr);
  g_mime_format_options_set_newline_format(options, GMIME_NEWLINE_FORMAT_DOS);
  char* text = g_mime_object_to_string(GMIME_OBJECT(mime.get()), options);
  g_mime_format_options_free(options);
  std::string out(text);
  g_free(text);
  return out;
}

}  // namespace nucleo::email
