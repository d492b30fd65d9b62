// The e-mail channel parses every message a synced mailbox holds (plugins/email/inbound.hpp):
// whatever the bytes, it must answer — never crash, hang or throw — and everything it
// answers must be valid UTF-8, since it goes into JSON.
#include <glib.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "inbound.hpp"

namespace {
void require_utf8(const std::string& s) {
  if (!g_utf8_validate(s.data(), static_cast<gssize>(s.size()), nullptr)) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string raw(reinterpret_cast<const char*>(data), size);
  nucleo::email::Incoming in = nucleo::email::parse_incoming(raw);
  for (const auto* s : {&in.message_id, &in.from.name, &in.from.address, &in.reply_to, &in.subject, &in.text, &in.html})
    require_utf8(*s);
  for (const auto& r : in.references) require_utf8(r);
  for (const auto& a : in.attachments) require_utf8(a.name), require_utf8(a.type);
  for (const auto& p : in.problems) require_utf8(p);
  if (in.bounce) {
    require_utf8(in.bounce->original_message_id);
    require_utf8(in.bounce->recipient);
    require_utf8(in.bounce->status);
    require_utf8(in.bounce->diagnostic);
  }
  if (in.subject.size() > 500 || in.text.size() > 100000) std::abort();
  return 0;
}
