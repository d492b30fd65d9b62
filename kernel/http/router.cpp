#include "kernel/http/router.hpp"

#include <stdexcept>
#include <string_view>

namespace nucleo::http {
namespace {

std::vector<std::string> segments(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    std::size_t slash = path.find('/');
    std::string_view segment = path.substr(0, slash);
    if (!segment.empty()) out.emplace_back(segment);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool is_parameter(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Number of literal segments (more literals = more specific), or -1 when the path does not fit.
int match_score(const std::vector<std::string>& tmpl, const std::vector<std::string>& path) {
  if (tmpl.size() != path.size()) return -1;
  int literals = 0;
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    if (is_parameter(tmpl[i])) continue;
    if (tmpl[i] != path[i]) return -1;
    ++literals;
  }
  return literals;
}

}  // namespace

void Router::add(Route route, Access access) {
  bool declared = access.anyone ? access.roles.empty() && route.auth == AuthMode::none
                                : !access.roles.empty() && access.scope.find(':') != std::string::npos &&
                                      route.auth == AuthMode::bearer;
  if (!declared)
    throw std::logic_error(route.method + " " + route.path +
                           ": a bearer route declares its roles and scope; a route without credentials, anyone");
  route.access = std::move(access);
  // Split once here: match() runs on every request.
  route_segments_.push_back(segments(route.path));
  routes_.push_back(std::move(route));
}

Router::Match Router::match(const std::string& method, const std::string& path) const {
  Match best;
  int best_score = -1;
  const std::vector<std::string>* best_template = nullptr;
  auto path_segments = segments(path);
  for (std::size_t r = 0; r < routes_.size(); ++r) {
    int score = match_score(route_segments_[r], path_segments);
    if (score < 0) continue;
    if (routes_[r].method != method) {
      best.allowed_methods.push_back(routes_[r].method);
      continue;
    }
    if (score > best_score) {
      best_score = score;
      best.route = &routes_[r];
      best_template = &route_segments_[r];
    }
  }
  if (best_template != nullptr)
    for (std::size_t i = 0; i < best_template->size(); ++i)
      if (is_parameter((*best_template)[i]))
        best.params[(*best_template)[i].substr(1, (*best_template)[i].size() - 2)] = path_segments[i];
  return best;
}

}  // namespace nucleo::http
