#pragma once

#include <string>

#include "kernel/domain/entity.hpp"

namespace nucleo {

// Who acts (docs/architecture.md §1): an API key, a user, a plugin, an automation rule or the
// system itself; an integration key may act on behalf of a user.
struct Actor {
  std::string type;          // key | user | plugin | rule | system
  std::string id;            // key_…, usr_…, plugin id, rule id, "cli"
  std::string on_behalf_of;  // usr_… or empty

  Json to_json() const {
    return {{"type", type}, {"id", id}, {"on_behalf_of", on_behalf_of.empty() ? Json() : Json(on_behalf_of)}};
  }
};

}  // namespace nucleo
