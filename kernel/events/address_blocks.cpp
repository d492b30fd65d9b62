#include "kernel/events/address_blocks.hpp"

#include <algorithm>
#include <cctype>

#include "kernel/domain/error.hpp"

namespace nucleo::events {

using Poco::Net::IPAddress;

bool within(const IPAddress& address, const IPAddress& network, unsigned prefix) {
  if (address.length() != network.length()) return false;
  const auto* a = static_cast<const unsigned char*>(address.addr());
  const auto* n = static_cast<const unsigned char*>(network.addr());
  for (unsigned i = 0; i < prefix; ++i) {
    unsigned byte = i / 8, shift = 7 - i % 8;
    if (((a[byte] >> shift) & 1) != ((n[byte] >> shift) & 1)) return false;
  }
  return true;
}

AddressBlocks::AddressBlocks(const std::vector<std::string>& entries, const std::string& setting) {
  for (const auto& entry : entries) {
    auto slash = entry.find('/');
    IPAddress network;
    if (!IPAddress::tryParse(entry.substr(0, slash), network))
      throw Error(ErrorCode::validation, setting + ": '" + entry + "' is not an IP address or CIDR block",
                  {{setting, "expected addresses or CIDR blocks such as 127.0.0.1, 10.20.0.0/16, ::1"}});
    unsigned bits = static_cast<unsigned>(network.length() * 8), prefix = bits;
    if (slash != std::string::npos) {
      std::string text = entry.substr(slash + 1);
      bool digits = !text.empty() && text.size() <= 3 && std::all_of(text.begin(), text.end(), ::isdigit);
      prefix = digits ? static_cast<unsigned>(std::stoul(text)) : bits + 1;
      if (prefix > bits)
        throw Error(ErrorCode::validation, setting + ": '" + entry + "' has an invalid prefix length",
                    {{setting, "prefix length 0 to " + std::to_string(bits)}});
    }
    blocks_.push_back({network, prefix});
  }
}

bool AddressBlocks::contains(const IPAddress& address) const {
  return std::any_of(blocks_.begin(), blocks_.end(),
                     [&](const Block& b) { return within(address, b.network, b.prefix); });
}

bool AddressBlocks::contains(const std::string& address) const {
  IPAddress parsed;
  return IPAddress::tryParse(address, parsed) && contains(parsed);
}

}  // namespace nucleo::events
