#pragma once

// The ABI a plugin library was built for, read from its file without loading it
// (plugin_abi.h NUCLEO_PLUGIN_ABI_TAG: "nucleo-abi <major>.<minor>" in the ELF section
// .nucleo_abi). `nucleo plugins inspect` must not run plugin code, and the descriptor
// that also carries the versions is only reachable by calling the library's entry.

#include <optional>
#include <string>

namespace nucleo::plugins {

struct AbiVersion {
  int major = 0, minor = 0;
  std::string text() const { return std::to_string(major) + "." + std::to_string(minor); }
};

// The library's tag; nullopt when it has none (built before ABI 1.2, or a C plugin
// without the macro). Throws Error(validation) when the file cannot be read or is not
// an ELF shared object, naming the path.
std::optional<AbiVersion> read_abi_tag(const std::string& library_path);

// Why a plugin built for `built` cannot run on this kernel (major differs, or a newer
// minor), or nullopt when it can. One rule for the loader and `plugins inspect`.
std::optional<std::string> abi_incompatibility(const AbiVersion& built);

}  // namespace nucleo::plugins
