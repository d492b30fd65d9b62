#pragma once

// `nucleo demo --vertical retail`: the demo tenant's first accounts as retailers with
// stores and a distribution centre, a catalogue of products, and twelve weeks of sell-in,
// sell-out and inventory (written as the imports would, through facts.write).

#include <cstdint>

#include "nucleo/sdk/plugin.hpp"

namespace nucleo::retail {

// What it wrote, per collection and fact set; the same seed writes the same data.
nucleo::sdk::Json seed_demo(const nucleo::sdk::Host& host, const nucleo_call* call, std::uint32_t seed);

// A GS1 identifier: `body` and its check digit (a GTIN-13 or GLN from 12 digits).
std::string with_gs1_check_digit(const std::string& body);

}  // namespace nucleo::retail
