// The plugin side of bench/plugins/host_call.cpp: a route that makes N kernel service
// calls through the SDK (JSON out, across the C ABI, JSON back and parsed) and returns
// the time of each, measured where a plugin author would feel it.
#include <algorithm>
#include <chrono>
#include <nucleo/sdk/plugin.hpp>

namespace {

using nucleo::sdk::Json;

class HostCallBench : public nucleo::sdk::Plugin {
 public:
  void init(nucleo::sdk::Host& host, const Json&) override {
    host.route("POST", "/run", nucleo::sdk::Auth::bearer, [&host](const nucleo::sdk::Request& r) {
      const std::string op = r.body.at("op");
      const int n = r.body.at("n");
      const std::string id = r.body.value("id", "");
      Json nanos = Json::array();
      for (int i = 0; i < n; ++i) {
        auto start = std::chrono::steady_clock::now();
        if (op == "get") host.get(r.call, "contact", id);
        else host.create(r.call, "contact", {{"name", "Bench " + std::to_string(i)}});
        nanos.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
                            .count());
      }
      return nucleo::sdk::Response{200, {{"nanos", nanos}}};
    });
  }
};

}  // namespace

NUCLEO_PLUGIN(HostCallBench, "org.nucleo.bench.host-call", "1.0.0")
