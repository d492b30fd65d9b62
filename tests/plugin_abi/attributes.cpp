// A C++ plugin declaring attributes on accounts (issue #9), as a finance vertical pack
// would: every account write is checked against them by the kernel.
#include "nucleo/sdk/plugin.hpp"

namespace {

using nucleo::sdk::Json;

class Attributes : public nucleo::sdk::Plugin {
 public:
  void init(nucleo::sdk::Host& host, const Json&) override {
    Json schema = {
        {"finance.segment", {{"type", "string"}, {"required", true}, {"pattern", "^[A-Z]{2}$"}}},
        {"finance.credit_limit", {{"type", "integer"}, {"minimum", 0}, {"maximum", 1000000}}},
        {"finance.rating", {{"type", "string"}, {"enum", {"A", "B", "C"}}}},
        {"finance.parent_cnpj", {{"type", "string"}, {"format", "cnpj"}}},
        {"finance.owner_cpf", {{"type", "string"}, {"format", "cpf"}}},
        {"finance.desk_phone", {{"type", "string"}, {"format", "phone"}}},
        {"finance.desk_email", {{"type", "string"}, {"format", "email"}}},
        {"finance.reviewed_on", {{"type", "string"}, {"format", "date"}}},
        {"finance.exempt", {{"type", "boolean"}}}};
    host.declare_attributes("account", schema);
  }
};

}  // namespace

NUCLEO_PLUGIN(Attributes, "org.nucleo.fixtures.attributes", "1.0.0")
