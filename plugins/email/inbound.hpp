#pragma once

// E-mail as the channel receives it (docs/channels/email.md, "What is synced"): one
// RFC 5322 message parsed by GMime into what the kernel records — sender, subject,
// text, the ids that thread it, attachments' metadata, and whether it is a bounce.
// Whatever the bytes, parsing never throws: what could not be read is said in
// `problems` and the rest is kept. Every string is valid UTF-8.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "message.hpp"

namespace nucleo::email {

struct Attachment {
  std::string name;  // the file name it came with ("" when none)
  std::string type;  // "application/pdf"
  std::size_t size = 0;  // decoded bytes
  std::string content;   // decoded bytes; kept only when parse() was asked to
};

// A delivery failure report about a message we sent: an RFC 3464 DSN
// (multipart/report; report-type=delivery-status) or a mailer-daemon's plain text.
struct Bounce {
  std::string original_message_id;  // without <>; "" when the report does not say
  std::string recipient;            // the address that failed
  std::string status;               // "5.1.1"; "" when not given
  std::string diagnostic;           // the remote server's words
  bool hard = false;                // permanent (5.x.x): the address does not work
  bool delayed = false;             // "Action: delayed": still trying, not a failure
};

struct Incoming {
  std::string message_id;  // without <>; "" when the message has none
  Mailbox from;            // address "" when missing or unreadable
  std::string reply_to;    // the Reply-To address, if any
  std::string subject;
  std::int64_t date_micros = 0;  // the Date header; 0 when missing or unreadable
  std::string text;              // the text/plain body (or the HTML's text when only HTML came)
  std::string html;
  // Ids of earlier messages this one answers, most relevant first: In-Reply-To, then
  // References newest first (without <>, no repeats).
  std::vector<std::string> references;
  std::vector<Attachment> attachments;
  std::optional<Bounce> bounce;
  std::vector<std::string> problems;  // for the log: an unknown charset, broken MIME, …
  // Bytes of text parts whose charset could not be converted (kept as they came).
  std::vector<std::string> undecoded;
};

struct ParseOptions {
  bool keep_attachment_content = false;
  std::size_t max_text_bytes = 100000;  // longer text and HTML are cut (said in problems)
};

Incoming parse_incoming(const std::string& raw, const ParseOptions& options = {});

// Standard base64 with padding (GLib's encoder).
std::string to_base64(const std::string& bytes);

// The bytes of standard base64 (GLib's decoder); nullopt when `text` is not base64.
std::optional<std::string> from_base64(const std::string& text);

// The hex SHA-256 of `bytes`: the id of a message that came without a Message-ID.
std::string sha256_hex(const std::string& bytes);

// "2026-12-04T10:15:00Z" for µs since the epoch (whole seconds: a Date header's precision).
std::string rfc3339_utc(std::int64_t micros);

// `text` with every invalid UTF-8 sequence replaced by U+FFFD.
std::string valid_utf8(const std::string& text);

}  // namespace nucleo::email
