#pragma once

// E-mail messages as the e-mail channel sends them (docs/adr/0028): RFC 5322 with MIME,
// built by GMime — UTF-8 headers encoded per RFC 2047, bodies in quoted-printable when
// they are not plain ASCII, text and HTML as multipart/alternative — and the Message-ID
// that names the interaction, so a reply's In-Reply-To or References leads back to it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nucleo::email {

struct Mailbox {
  std::string name;     // display name, UTF-8 (may be empty)
  std::string address;  // addr-spec: ana@example.com
};

struct OutgoingFile {
  std::string name;   // UTF-8 file name
  std::string type;   // media type: application/pdf
  std::string bytes;  // the file
};

struct Outgoing {
  Mailbox from, to;
  std::string subject;  // UTF-8
  std::string text;     // text/plain, UTF-8
  std::string html;     // text/html, UTF-8; empty: text only
  std::string interaction_id;  // the outbound interaction: encoded in the Message-ID
  // Message-IDs of the thread answered, oldest first (without <>): References; the last
  // is In-Reply-To. Empty: a new thread.
  std::vector<std::string> references;
  std::int64_t date_micros = 0;  // the Date header, µs since the epoch
  std::vector<OutgoingFile> files;  // attachments: the message becomes multipart/mixed
  // An https or http URL that revokes the purpose the message was sent for with one POST
  // (RFC 8058): List-Unsubscribe and List-Unsubscribe-Post. Empty: neither header.
  std::string unsubscribe_url;
};

// The whole message, CRLF line ends, ready for SMTP's DATA. Throws std::invalid_argument
// naming a field that cannot be sent (an address that is not one, an empty body).
std::string compose(const Outgoing& message);

// "nucleo.<interaction id>@<the sender's domain>" — unique per interaction, and ours.
std::string message_id_for(const std::string& interaction_id, const std::string& from_address);

// The interaction a Message-ID (with or without <>) of ours names; nullopt for another's.
std::optional<std::string> interaction_of(const std::string& message_id);

// Whether `address` is an addr-spec this channel sends to or from: one @, a dotted
// domain, no spaces, control characters or angle brackets.
bool is_address(const std::string& address);

}  // namespace nucleo::email
