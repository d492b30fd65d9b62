#pragma once

// Meta's Graph API for sending (docs/channels/whatsapp.md, "Sending"): the request a
// message becomes, and what Graph's answer means for it. Pure functions, unit-tested.

#include <string>

#include <nlohmann/json.hpp>

namespace nucleo::whatsapp {

using Json = nlohmann::json;

inline constexpr const char* default_base_url = "https://graph.facebook.com";
inline constexpr const char* default_api_version = "v21.0";

// The host http request for an outbound message: POST
// {base_url}/{api_version}/{phone_number_id}/messages with the account's access token.
// `outbound` is what the kernel hands the channel's send: {"message_id",
// "channel_account": {"external_id", "config", "secrets"}, "to", "content"}, content
// being {"text" | "template", "reply_to"?} (a contact's message) or a plain string.
// Throws std::invalid_argument naming what is missing (no access token, no text).
Json graph_request(const Json& outbound);

// What Graph answered, for the kernel: sent (with the wamid), to retry later (429, 5xx,
// throughput limits), or failed for good with a line a person can act on.
struct SendOutcome {
  enum class Kind { sent, retry, failed } kind = Kind::failed;
  std::string external_id;  // sent: the wamid
  std::string error;        // retry / failed: why
  bool token_problem = false;  // failed because the access token is invalid or expired (190)
};
SendOutcome interpret(int http_status, const std::string& body);

}  // namespace nucleo::whatsapp
