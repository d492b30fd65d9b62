#pragma once

// `nucleo demo --vertical education`: the demo tenant's accounts as schools and
// universities with their campuses, programs and academic calendar, and the buying
// committee of their open deals with a sentiment noted for some members.

#include <cstdint>

#include "nucleo/sdk/plugin.hpp"

namespace nucleo::education {

// What it wrote, per collection; the same seed writes the same data.
nucleo::sdk::Json seed_demo(const nucleo::sdk::Host& host, const nucleo_call* call, std::uint32_t seed);

}  // namespace nucleo::education
