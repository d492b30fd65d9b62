// A C++ plugin that validates writes (issue #9): deals above `max_amount` are vetoed
// with a reason on the amount field; a contact named "Sneaky" makes the validator try to
// write through the kernel, which a validator may not do.
#include "nucleo/sdk/plugin.hpp"

namespace {

using nucleo::sdk::Json;

class CreditLimit : public nucleo::sdk::Plugin {
 public:
  void init(nucleo::sdk::Host& host, const Json& config) override {
    long max_amount = config.at("max_amount");
    host.validate("deal", [max_amount](const nucleo_call*, const Json& change) {
      std::vector<nucleo::sdk::Reason> reasons;
      const Json& amount = change["after"]["amount"];
      if (amount.is_number_integer() && amount.get<long>() > max_amount)
        reasons.push_back({"amount", "exceeds the credit limit of " + std::to_string(max_amount)});
      return reasons;
    });
    host.validate("contact", [&host](const nucleo_call* call, const Json& change) {
      if (change["after"]["name"] == "Sneaky") host.create(call, "task", {{"title", "written by a validator"}});
      return std::vector<nucleo::sdk::Reason>{};
    });
  }
};

}  // namespace

NUCLEO_PLUGIN(CreditLimit, "org.nucleo.fixtures.credit-limit", "1.0.0")
