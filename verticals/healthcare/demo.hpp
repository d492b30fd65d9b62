#pragma once

// The pack's part of `nucleo demo --vertical healthcare` (the pack's "demo" job): the demo
// tenant's institutions get CNES registrations, units and a hierarchy, and a history of
// contracts, tenders, orders, people's roles and clinical events, all written through
// the host like any of the pack's own writes.

#include <cstdint>

#include "nucleo/sdk/plugin.hpp"

namespace nucleo::healthcare {

// Returns what it wrote, by collection ({"establishments": 40, …}).
nucleo::sdk::Json seed_demo(const nucleo::sdk::Host& host, const nucleo_call* call, std::uint32_t seed);

}  // namespace nucleo::healthcare
