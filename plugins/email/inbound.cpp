#include "inbound.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "gmime_support.hpp"

namespace nucleo::email {
namespace {

struct GFree {
  void operator()(void* p) const { g_free(p); }
};
using GText = std::unique_ptr<char, GFree>;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string text_or_empty(const char* s) { return s ? valid_utf8(s) : ""; }

// The decoded bytes of a leaf part (base64 and quoted-printable undone).
std::string decoded_bytes(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (!content) return "";
  Owned<GMimeStream> out(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(content, out.get());
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

std::size_t decoded_size(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (!content) return 0;
  Owned<GMimeStream> counter(g_mime_stream_null_new());
  g_mime_data_wrapper_write_to_stream(content, counter.get());
  return static_cast<std::size_t>(GMIME_STREAM_NULL(counter.get())->written);
}

// Cut at a character boundary: `text` is UTF-8.
std::string cut(std::string text, std::size_t max, const char* what, Incoming& in) {
  if (text.size() <= max) return text;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  in.problems.push_back(std::string(what) + " of " + std::to_string(text.size()) + " bytes cut to " +
                        std::to_string(end));
  text.resize(end);
  return text;
}

// A text part's words in UTF-8: converted from its charset; without one, UTF-8 when the
// bytes are, else Windows-1252 (what unlabelled 8-bit mail in Portuguese mostly is). An
// unknown charset is reported and its bytes kept aside, undecoded.
std::string text_of(GMimePart* part, Incoming& in) {
  std::string bytes = decoded_bytes(part);
  GMimeContentType* type = g_mime_object_get_content_type(GMIME_OBJECT(part));
  const char* declared = type ? g_mime_content_type_get_parameter(type, "charset") : nullptr;
  std::string charset = declared ? lower(declared) : "";
  if (charset.empty() || charset == "utf-8" || charset == "us-ascii" || charset == "ascii") {
    if (g_utf8_validate(bytes.data(), static_cast<gssize>(bytes.size()), nullptr)) return bytes;
    if (!charset.empty()) in.problems.push_back("a text part said " + charset + " but is not: invalid bytes replaced");
    charset = charset.empty() ? "windows-1252" : "";
    if (charset.empty()) return valid_utf8(bytes);
  }
  const char* iconv_name = g_mime_charset_iconv_name(charset.c_str());
  GIConv probe = g_iconv_open("UTF-8", iconv_name);
  if (probe == reinterpret_cast<GIConv>(-1)) {
    in.problems.push_back("unknown charset " + valid_utf8(charset) + ": the text part is kept as bytes");
    in.undecoded.push_back(bytes);
    return valid_utf8(bytes);
  }
  g_iconv_close(probe);
  gsize written = 0;
  GError* error = nullptr;
  GText converted(g_convert(bytes.data(), static_cast<gssize>(bytes.size()), "UTF-8", iconv_name, nullptr, &written,
                            &error));
  if (error) g_error_free(error);
  if (converted) return valid_utf8(std::string(converted.get(), written));
  in.problems.push_back("a text part in " + valid_utf8(charset) + " has invalid bytes: replaced");
  return valid_utf8(bytes);
}

// The words of an HTML body, for a message that came without a text alternative: tags
// dropped (script and style with their content), a line break for each block's end.
// Scanned by hand — std::regex recurses per character and a large body overflows it.
std::string text_of_html(const std::string& html) {
  std::string text;
  std::string lowered = lower(html);
  for (std::size_t at = 0; at < html.size();) {
    if (html[at] != '<') {
      std::size_t next = html.find('<', at);
      text.append(html, at, next == std::string::npos ? std::string::npos : next - at);
      at = next == std::string::npos ? html.size() : next;
      continue;
    }
    std::size_t close = html.find('>', at);
    if (close == std::string::npos) break;
    std::string tag = lowered.substr(at + 1, std::min<std::size_t>(close - at - 1, 10));
    for (const char* hidden : {"script", "style"})
      if (tag.rfind(hidden, 0) == 0) {
        std::size_t end = lowered.find(std::string("</") + hidden, close);
        close = end == std::string::npos ? html.size() - 1 : lowered.find('>', end);
        if (close == std::string::npos) close = html.size() - 1;
      }
    for (const char* block : {"br", "/p", "/div", "/li", "/tr", "/h"})
      if (tag.rfind(block, 0) == 0) {
        text += '\n';
        break;
      }
    at = close + 1;
  }
  for (auto [entity, with] : {std::pair{"&nbsp;", " "}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"},
                              {"&amp;", "&"}})
    for (std::size_t at = 0; (at = text.find(entity, at)) != std::string::npos; at += std::strlen(with))
      text.replace(at, std::strlen(entity), with);
  return text;
}

Mailbox first_mailbox(InternetAddressList* list) {
  if (!list) return {};
  for (int i = 0; i < internet_address_list_length(list); ++i) {
    InternetAddress* a = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
      const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
      if (addr && std::strchr(addr, '@')) return {text_or_empty(internet_address_get_name(a)), text_or_empty(addr)};
    } else if (INTERNET_ADDRESS_IS_GROUP(a)) {
      Mailbox m = first_mailbox(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)));
      if (!m.address.empty()) return m;
    }
  }
  return {};
}

void add_references(GMimeObject* message, const char* header, bool newest_first, std::vector<std::string>& out) {
  const char* value = g_mime_object_get_header(message, header);
  if (!value) return;
  GMimeReferences* refs = g_mime_references_parse(nullptr, value);
  if (!refs) return;
  std::vector<std::string> ids;
  for (int i = 0; i < g_mime_references_length(refs); ++i) ids.push_back(text_or_empty(g_mime_references_get_message_id(refs, i)));
  g_mime_references_free(refs);
  if (newest_first) std::reverse(ids.begin(), ids.end());
  for (auto& id : ids)
    if (!id.empty() && id.size() <= 300 && std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
}

// "Name: value" fields of a delivery-status body, lines unfolded, in order.
std::vector<std::pair<std::string, std::string>> report_fields(const std::string& body) {
  std::vector<std::pair<std::string, std::string>> fields;
  std::size_t at = 0;
  while (at < body.size()) {
    std::size_t end = body.find('\n', at);
    std::string line = body.substr(at, end == std::string::npos ? std::string::npos : end - at);
    at = end == std::string::npos ? body.size() : end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t') && !fields.empty()) {
      std::size_t start = line.find_first_not_of(" \t");  // a blank continuation adds nothing
      if (start != std::string::npos) fields.back().second += " " + line.substr(start);
    } else if (auto colon = line.find(':'); colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      std::size_t start = value.find_first_not_of(" \t");
      fields.emplace_back(lower(line.substr(0, colon)), start == std::string::npos ? "" : value.substr(start));
    }
  }
  return fields;
}

// "rfc822; ana@example.com" → "ana@example.com"
std::string after_type(const std::string& value) {
  std::size_t semi = value.find(';');
  std::string v = semi == std::string::npos ? value : value.substr(semi + 1);
  std::size_t start = v.find_first_not_of(" \t<");
  std::size_t end = v.find_last_not_of(" \t>");
  return start == std::string::npos ? "" : v.substr(start, end - start + 1);
}

void read_delivery_status(const std::string& body, Bounce& b) {
  std::string recipient, action, status, diagnostic;
  auto settle = [&] {  // one recipient's block: the first failed (or delayed) one wins
    if (recipient.empty() || !b.recipient.empty()) return;
    if (action != "failed" && action != "delayed") return;
    b.recipient = recipient;
    b.status = status;
    b.diagnostic = diagnostic;
    b.delayed = action == "delayed";
    b.hard = action == "failed" && !status.empty() && status[0] == '5';
  };
  for (const auto& [name, value] : report_fields(body)) {
    if (name == "final-recipient") {
      settle();
      recipient = after_type(value);
      action = status = diagnostic = "";
    } else if (name == "action") {
      action = lower(value.substr(0, value.find_first_of(" ;(")));
    } else if (name == "status") {
      status = value.substr(0, value.find_first_of(" ;("));
    } else if (name == "diagnostic-code") {
      diagnostic = after_type(value);
    }
  }
  settle();
}

// The id on a "Message-ID: <…>" line of a returned message's headers quoted in text.
std::string message_id_in_text(const std::string& text) {
  std::string lowered = lower(text);
  for (std::size_t at = 0; (at = lowered.find("message-id:", at)) != std::string::npos; at += 11) {
    if (at > 0 && lowered[at - 1] != '\n') continue;
    std::size_t open = text.find_first_not_of(" \t", at + 11);
    if (open == std::string::npos || text[open] != '<') continue;
    std::size_t close = text.find('>', open);
    std::string id = close == std::string::npos ? "" : text.substr(open + 1, close - open - 1);
    if (!id.empty() && id.size() <= 300 && id.find_first_of(" \t\r\n<") == std::string::npos) return id;
  }
  return "";
}

struct Walk {
  const ParseOptions& options;
  Incoming& in;
  bool report = false;                 // inside a multipart/report
  std::string delivery_status;         // its machine-readable part
  std::string returned_message_id;     // the original it returns
  std::string returned_recipient;
  std::string all_text;                // every text part, for a mailer-daemon's plain report
  int depth = 0;

  void object(GMimeObject* o) {
    if (++depth > 20) {
      in.problems.push_back("MIME nested more than 20 levels deep: the rest skipped");
      --depth;
      return;
    }
    if (GMIME_IS_MULTIPART(o)) {
      GMimeMultipart* mp = GMIME_MULTIPART(o);
      GMimeContentType* type = g_mime_object_get_content_type(o);
      if (type && g_mime_content_type_is_type(type, "multipart", "report")) report = true;
      for (int i = 0; i < g_mime_multipart_get_count(mp); ++i) object(g_mime_multipart_get_part(mp, i));
    } else if (GMIME_IS_MESSAGE_PART(o)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
      if (inner && returned_message_id.empty()) {
        returned_message_id = text_or_empty(g_mime_message_get_message_id(inner));
        returned_recipient = first_mailbox(g_mime_message_get_addresses(inner, GMIME_ADDRESS_TYPE_TO)).address;
      }
      if (inner && !report) attachment(o, "message.eml", g_mime_message_part_get_message(GMIME_MESSAGE_PART(o)));
    } else if (GMIME_IS_PART(o)) {
      part(GMIME_PART(o));
    }
    --depth;
  }

  void attachment(GMimeObject* o, const std::string& name, GMimeMessage* message) {
    Attachment a;
    a.name = name;
    a.type = "message/rfc822";
    Owned<GMimeStream> out(g_mime_stream_mem_new());
    g_mime_object_write_to_stream(GMIME_OBJECT(message), nullptr, out.get());
    GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
    a.size = bytes->len;
    if (options.keep_attachment_content) a.content.assign(reinterpret_cast<const char*>(bytes->data), bytes->len);
    (void)o;
    in.attachments.push_back(std::move(a));
  }

  void part(GMimePart* p) {
    GMimeObject* o = GMIME_OBJECT(p);
    GMimeContentType* type = g_mime_object_get_content_type(o);
    GText mime(type ? g_mime_content_type_get_mime_type(type) : g_strdup("application/octet-stream"));
    std::string kind = lower(mime ? mime.get() : "application/octet-stream");
    GMimeContentDisposition* disposition = g_mime_object_get_content_disposition(o);
    bool attached = disposition && g_mime_content_disposition_is_attachment(disposition);
    if (kind == "message/delivery-status" || kind == "message/global-delivery-status") {
      delivery_status = decoded_bytes(p);
      return;
    }
    if (kind == "text/rfc822-headers") {
      std::string headers = decoded_bytes(p);
      if (returned_message_id.empty()) returned_message_id = valid_utf8(message_id_in_text(headers));
      return;
    }
    if (!attached && (kind == "text/plain" || kind == "text/html")) {
      std::string text = text_of(p, in);
      if (all_text.size() < 200000) all_text.append(text, 0, 200000 - all_text.size()).append("\n");
      std::string& body = kind == "text/plain" ? in.text : in.html;
      if (body.empty()) {
        body = cut(std::move(text), options.max_text_bytes, kind == "text/plain" ? "the text" : "the HTML", in);
        return;
      }
      if (!report) return;  // a second alternative of the same kind: the first is the body
    }
    if (report && !attached) return;  // a report's human-readable text is in all_text
    Attachment a;
    a.name = text_or_empty(g_mime_part_get_filename(p));
    a.type = valid_utf8(kind);
    if (options.keep_attachment_content) {
      a.content = decoded_bytes(p);
      a.size = a.content.size();
    } else {
      a.size = decoded_size(p);
    }
    in.attachments.push_back(std::move(a));
  }
};

bool from_mailer_daemon(const Incoming& in) {
  std::string local = lower(in.from.address.substr(0, in.from.address.find('@')));
  if (local == "mailer-daemon" || local == "postmaster" || local == "mail-daemon") return true;
  std::string subject = lower(in.subject);
  for (const char* said : {"undeliver", "delivery status notification", "mail delivery failed", "returned mail",
                           "delivery failure", "não foi possível entregar", "falha na entrega"})
    if (subject.find(said) != std::string::npos) return true;
  return false;
}

// A mailer-daemon's report in plain words: the first enhanced status (5.1.1) or, without
// one, SMTP reply (550) it quotes, and the line that says it.
Bounce plain_bounce(const std::string& text) {
  auto digit = [&](std::size_t i) { return i < text.size() && text[i] >= '0' && text[i] <= '9'; };
  auto boundary = [&](std::size_t i) { return i >= text.size() || !(std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '.'); };
  std::size_t found = std::string::npos, length = 0;
  for (std::size_t i = 0; i + 4 < text.size() && found == std::string::npos; ++i) {
    if ((text[i] != '4' && text[i] != '5') || (i > 0 && !boundary(i - 1)) || text[i + 1] != '.') continue;
    std::size_t j = i + 2, a = j;
    while (digit(j) && j - a < 3) ++j;
    if (j == a || j >= text.size() || text[j] != '.') continue;
    std::size_t b = ++j;
    while (digit(j) && j - b < 3) ++j;
    if (j > b && boundary(j)) found = i, length = j - i;
  }
  for (std::size_t i = 0; i + 3 < text.size() && found == std::string::npos; ++i)
    if ((text[i] == '4' || text[i] == '5') && (i == 0 || !digit(i - 1)) && digit(i + 1) && digit(i + 2) &&
        (text[i + 3] == ' ' || text[i + 3] == '-'))
      found = i, length = 0;
  Bounce b;
  if (found == std::string::npos) return b;
  b.status = text.substr(found, length);
  b.hard = text[found] == '5';
  std::size_t start = text.rfind('\n', found);
  start = start == std::string::npos ? 0 : start + 1;
  std::size_t end = text.find('\n', found);
  b.diagnostic = text.substr(start, std::min<std::size_t>((end == std::string::npos ? text.size() : end) - start, 500));
  while (!b.diagnostic.empty() && (b.diagnostic.back() == '\r' || b.diagnostic.back() == ' ')) b.diagnostic.pop_back();
  return b;
}

}  // namespace

std::string to_base64(const std::string& bytes) {
  GText text(g_base64_encode(reinterpret_cast<const guchar*>(bytes.data()), bytes.size()));
  return text.get();
}

std::optional<std::string> from_base64(const std::string& text) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
  if (text.size() % 4 != 0 || text.find_first_not_of(alphabet) != std::string::npos) return std::nullopt;
  gsize size = 0;
  GText bytes(reinterpret_cast<char*>(g_base64_decode(text.c_str(), &size)));
  return std::string(bytes.get() ? bytes.get() : "", size);
}

std::string sha256_hex(const std::string& bytes) {
  GText hex(g_compute_checksum_for_data(G_CHECKSUM_SHA256, reinterpret_cast<const guchar*>(bytes.data()), bytes.size()));
  return hex.get();
}

std::string rfc3339_utc(std::int64_t micros) {
  std::int64_t seconds = micros / 1'000'000 - (micros % 1'000'000 < 0 ? 1 : 0);
  GDateTime* t = g_date_time_new_from_unix_utc(seconds);
  if (!t) return "1970-01-01T00:00:00Z";
  GText text(g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ"));
  g_date_time_unref(t);
  return text.get();
}

std::string valid_utf8(const std::string& text) {
  // NUL is valid UTF-8 but no database keeps it in text: dropped.
  std::string clean = text.find('\0') == std::string::npos ? text : std::string();
  if (clean.empty() && !text.empty())
    for (char c : text)
      if (c != '\0') clean += c;
  if (g_utf8_validate(clean.data(), static_cast<gssize>(clean.size()), nullptr)) return clean;
  GText fixed(g_utf8_make_valid(clean.data(), static_cast<gssize>(clean.size())));
  return fixed ? std::string(fixed.get()) : std::string();
}

Incoming parse_incoming(const std::string& raw, const ParseOptions& options) {
  use_gmime();
  Incoming in;
  Owned<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  Owned<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  Owned<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), nullptr));
  if (!message) {
    in.problems.push_back("not an e-mail message: no header block could be read");
    return in;
  }
  GMimeObject* top = GMIME_OBJECT(message.get());
  in.message_id = text_or_empty(g_mime_message_get_message_id(message.get()));
  if (in.message_id.size() > 300) {
    in.problems.push_back("a Message-ID of " + std::to_string(in.message_id.size()) + " bytes: ignored");
    in.message_id.clear();
  }
  in.from = first_mailbox(g_mime_message_get_from(message.get()));
  if (in.from.address.empty()) in.from = first_mailbox(g_mime_message_get_sender(message.get()));
  in.reply_to = first_mailbox(g_mime_message_get_reply_to(message.get())).address;
  in.subject = cut(text_or_empty(g_mime_message_get_subject(message.get())), 500, "the subject", in);
  for (auto& c : in.subject)
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
  if (GDateTime* date = g_mime_message_get_date(message.get()))
    in.date_micros = g_date_time_to_unix(date) * 1'000'000 + g_date_time_get_microsecond(date);
  add_references(top, "In-Reply-To", false, in.references);
  add_references(top, "References", true, in.references);

  Walk walk{options, in};
  if (GMimeObject* body = g_mime_message_get_mime_part(message.get())) walk.object(body);
  if (in.text.empty() && !in.html.empty()) in.text = cut(text_of_html(in.html), options.max_text_bytes, "the text", in);

  if (walk.report && !walk.delivery_status.empty()) {
    Bounce b;
    read_delivery_status(walk.delivery_status, b);
    b.original_message_id = walk.returned_message_id;
    if (b.recipient.empty()) b.recipient = walk.returned_recipient;
    if (!b.recipient.empty() || !b.original_message_id.empty()) in.bounce = b;
  } else if (from_mailer_daemon(in)) {
    Bounce b = plain_bounce(walk.all_text);
    b.original_message_id =
        !walk.returned_message_id.empty() ? walk.returned_message_id : valid_utf8(message_id_in_text(walk.all_text));
    b.recipient = walk.returned_recipient;
    if (!b.original_message_id.empty()) in.bounce = b;
  }
  if (in.bounce) {
    in.bounce->diagnostic = valid_utf8(in.bounce->diagnostic.substr(0, 500));
    in.bounce->recipient = valid_utf8(in.bounce->recipient);
    in.bounce->status = valid_utf8(in.bounce->status);
  }
  return in;
}

}  // namespace nucleo::email
