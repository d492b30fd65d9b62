// A C++ plugin using the record store (issue #9): a "visits" collection (indexed by
// day, a string, and minutes, an integer) behind bearer routes:
//   PUT /visits/{id} {document}   GET /visits/{id}   DELETE /visits/{id}
//   POST /visits/query {query}
#include "nucleo/sdk/plugin.hpp"

namespace {

using nucleo::sdk::Json;
using nucleo::sdk::Request;
using nucleo::sdk::Response;

class Store : public nucleo::sdk::Plugin {
 public:
  void init(nucleo::sdk::Host& host, const Json&) override {
    auto id = [](const Request& r) { return r.json["params"]["id"].get<std::string>(); };
    host.route("PUT", "/visits/{id}", nucleo::sdk::Auth::bearer, [&host, id](const Request& r) {
      return Response{200, host.store_put(r.call, "visits", id(r), r.body)};
    });
    host.route("GET", "/visits/{id}", nucleo::sdk::Auth::bearer, [&host, id](const Request& r) {
      return Response{200, host.store_get(r.call, "visits", id(r))};
    });
    host.route("DELETE", "/visits/{id}", nucleo::sdk::Auth::bearer, [&host, id](const Request& r) {
      host.store_delete(r.call, "visits", id(r));
      return Response{200, {{"deleted", id(r)}}};
    });
    host.route("POST", "/visits/query", nucleo::sdk::Auth::bearer, [&host](const Request& r) {
      return Response{200, host.store_query(r.call, "visits", r.body)};
    });
    host.route("POST", "/undeclared", nucleo::sdk::Auth::bearer, [&host](const Request& r) {
      return Response{200, host.store_put(r.call, "secrets", "x", r.body)};
    });
  }
};

}  // namespace

NUCLEO_PLUGIN(Store, "org.nucleo.fixtures.store", "1.0.0")
