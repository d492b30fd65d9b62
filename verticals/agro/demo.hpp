#pragma once

// `nucleo demo --vertical agro`: producers, cooperatives, farms and fields around the
// demo tenant's accounts, ZARC tables and a sowing calendar for their municipalities,
// and crop plans for the last safra and the current one (a first crop and the second
// crop after it).

#include <cstdint>
#include <functional>

#include "nucleo/sdk/plugin.hpp"

namespace nucleo::agro {

// Plans a crop on a field as POST /fields/{field_id}/crop-plans does.
using PlanCrop = std::function<nucleo::sdk::Json(const std::string& field_id, const nucleo::sdk::Json& plan)>;

// What it wrote, per collection; the same seed writes the same data.
nucleo::sdk::Json seed_demo(const nucleo::sdk::Host& host, const nucleo_call* call, std::uint32_t seed, const PlanCrop& plan);

}  // namespace nucleo::agro
