#pragma once

#include <string>
#include <vector>

#include "kernel/http/exchange.hpp"

namespace nucleo::http {

// Method + path template matching. Templates are literal segments and `{name}`
// segments; a literal beats a parameter, so /v1/deals/{id}/stage and
// /v1/deals/{id}/restore coexist with /v1/deals/{id}.
class Router {
 public:
  // A bearer route must name at least one role and a scope; a route without
  // credentials must say so (Access::of_anyone()). Anything else is refused.
  void add(Route route, Access access);

  struct Match {
    const Route* route = nullptr;
    std::map<std::string, std::string> params;
    std::vector<std::string> allowed_methods;  // when the path matched but not the method
  };
  Match match(const std::string& method, const std::string& path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
  std::vector<std::vector<std::string>> route_segments_;  // routes_[i].path split at '/'
};

}  // namespace nucleo::http
