// A C++ plugin whose init throws: the SDK must turn it into a status and a message.
#include <stdexcept>

#include "nucleo/sdk/plugin.hpp"

class Thrower : public nucleo::sdk::Plugin {
 public:
  void init(nucleo::sdk::Host&, const nucleo::sdk::Json&) override {
    throw std::runtime_error("cannot reach the mailbox");
  }
};

NUCLEO_PLUGIN(Thrower, "org.nucleo.fixtures.thrower", "1.0.0")
