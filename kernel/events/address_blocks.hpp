#pragma once

// IP addresses and CIDR blocks an address is checked against, as operators write them
// in the configuration ("127.0.0.1, 10.20.0.0/16, ::1"): outbound.allow (the SSRF
// guard's exceptions) and http.trusted_proxies (whose X-Forwarded-For is believed).
#include <Poco/Net/IPAddress.h>

#include <string>
#include <vector>

namespace nucleo::events {

// Whether `address` lies in network/prefix (both of one family).
bool within(const Poco::Net::IPAddress& address, const Poco::Net::IPAddress& network, unsigned prefix);

class AddressBlocks {
 public:
  AddressBlocks() = default;
  // Throws Error(validation) naming `setting` and the entry that is not an address or a
  // block with a valid prefix length.
  AddressBlocks(const std::vector<std::string>& entries, const std::string& setting);

  bool contains(const Poco::Net::IPAddress& address) const;
  bool contains(const std::string& address) const;  // false for text that is no address
  bool empty() const { return blocks_.empty(); }

 private:
  struct Block {
    Poco::Net::IPAddress network;
    unsigned prefix;
  };
  std::vector<Block> blocks_;
};

}  // namespace nucleo::events
