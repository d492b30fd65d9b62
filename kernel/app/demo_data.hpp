#pragma once

// `nucleo demo` (docs/sales-process.md, "A demo tenant"): a new tenant with users, an
// admin key, one of the shipped pipeline templates and six simulated months of a
// Brazilian B2B sales team — accounts with valid CNPJs, contacts with valid phones,
// deals moved stage by stage through the real gates (checklists done, committees met,
// approvals given by a manager), interactions of every type, open and overdue tasks.
// Everything goes through the services; the records and their audit events carry the
// simulated dates.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "kernel/services/record_service.hpp"

namespace nucleo::app {

struct DemoOptions {
  std::string tenant_name = "Demo — Suprimentos Hospitalares";
  std::string template_name = "hospital-supply";  // a file of config/examples/pipelines/, without .json
  std::uint32_t seed = 20261203;                   // the same seed gives the same data set
  std::size_t accounts = 24;
  // What the accounts are called and who their three contacts are (a vertical's demo
  // names its own); empty: hospitals, their buyer, pharmacist and clinical director.
  std::vector<std::string> account_names, contact_titles;
};

struct DemoResult {
  std::string tenant_id;
  std::string admin_user_id;
  std::string admin_key_secret;  // shown once
  std::map<std::string, std::size_t> counts;  // "accounts" → 24, …
};

// The pipeline templates compiled into the binary, by name ("hospital-supply").
std::vector<std::string> demo_template_names();

DemoResult create_demo_tenant(services::ServiceDependencies deps, const DemoOptions& options,
                              const std::function<void(const std::string&)>& progress);

}  // namespace nucleo::app
