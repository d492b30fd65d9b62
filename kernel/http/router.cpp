#include "kernel/http/router.hpp"

#include <sstream>

namespace nucleo::http {
namespace {

std::vector<std::string> segments(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream in(path);
  for (std::string s; std::getline(in, s, '/');)
    if (!s.empty()) out.push_back(s);
  return out;
}

bool is_parameter(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Number of literal segments: more literals = more specific.
int match_template(const std::vector<std::string>& tmpl, const std::vector<std::string>& path,
                   std::map<std::string, std::string>& params) {
  if (tmpl.size() != path.size()) return -1;
  int literals = 0;
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    if (is_parameter(tmpl[i])) {
      params[tmpl[i].substr(1, tmpl[i].size() - 2)] = path[i];
    } else if (tmpl[i] == path[i]) {
      ++literals;
    } else {
      return -1;
    }
  }
  return literals;
}

}  // namespace

void Router::add(Route route) {
  routes_.push_back(std::move(route));
}

Router::Match Router::match(const std::string& method, const std::string& path) const {
  Match best;
  int best_score = -1;
  auto path_segments = segments(path);
  for (const auto& route : routes_) {
    std::map<std::string, std::string> params;
    int score = match_template(segments(route.path), path_segments, params);
    if (score < 0) continue;
    if (route.method != method) {
      best.allowed_methods.push_back(route.method);
      continue;
    }
    if (score > best_score) {
      best_score = score;
      best.route = &route;
      best.params = std::move(params);
    }
  }
  return best;
}

}  // namespace nucleo::http
