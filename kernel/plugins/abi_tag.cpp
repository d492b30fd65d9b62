#include "kernel/plugins/abi_tag.hpp"

#include <elf.h>

#include <cstring>
#include <fstream>
#include <vector>

#include "kernel/domain/error.hpp"
#include "nucleo/plugin_abi.h"

namespace nucleo::plugins {
namespace {

constexpr char tag_section[] = ".nucleo_abi";
constexpr char tag_prefix[] = "nucleo-abi ";

// Reads `size` bytes at `offset`, or throws naming the file.
std::string read_at(std::ifstream& file, const std::string& path, std::uint64_t offset, std::uint64_t size) {
  if (size > (64u << 20)) throw Error(ErrorCode::validation, path + " is not a plugin library (an ELF table is too large)");
  std::string bytes(size, '\0');
  file.seekg(static_cast<std::streamoff>(offset));
  if (!file.read(bytes.data(), static_cast<std::streamsize>(size)))
    throw Error(ErrorCode::validation, path + " is not a plugin library (truncated ELF file)");
  return bytes;
}

template <class T>
T struct_at(const std::string& bytes, std::size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

std::optional<AbiVersion> parse_tag(const std::string& bytes) {
  std::string text(bytes.c_str());  // up to the first NUL
  if (text.rfind(tag_prefix, 0) != 0) return std::nullopt;
  AbiVersion v;
  if (std::sscanf(text.c_str() + sizeof tag_prefix - 1, "%d.%d", &v.major, &v.minor) != 2) return std::nullopt;
  return v;
}

}  // namespace

// ELF64 little-endian only: the platforms the kernel is built for (amd64, arm64).
std::optional<AbiVersion> read_abi_tag(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(ErrorCode::validation, "cannot read the plugin library " + path);
  std::string header = read_at(file, path, 0, sizeof(Elf64_Ehdr));
  auto eh = struct_at<Elf64_Ehdr>(header, 0);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_shentsize != sizeof(Elf64_Shdr))
    throw Error(ErrorCode::validation, path + " is not a 64-bit ELF shared library");
  if (eh.e_shnum == 0 || eh.e_shstrndx >= eh.e_shnum) return std::nullopt;
  std::string table = read_at(file, path, eh.e_shoff, std::uint64_t{eh.e_shnum} * sizeof(Elf64_Shdr));
  auto names = struct_at<Elf64_Shdr>(table, eh.e_shstrndx * sizeof(Elf64_Shdr));
  std::string name_bytes = read_at(file, path, names.sh_offset, names.sh_size);
  for (std::size_t i = 0; i < eh.e_shnum; ++i) {
    auto section = struct_at<Elf64_Shdr>(table, i * sizeof(Elf64_Shdr));
    if (section.sh_name >= name_bytes.size() || std::strcmp(name_bytes.c_str() + section.sh_name, tag_section) != 0)
      continue;
    return parse_tag(read_at(file, path, section.sh_offset, std::min<std::uint64_t>(section.sh_size, 64)) + '\0');
  }
  return std::nullopt;
}

std::optional<std::string> abi_incompatibility(const AbiVersion& built) {
  std::string ours = std::to_string(NUCLEO_ABI_MAJOR) + "." + std::to_string(NUCLEO_ABI_MINOR);
  if (built.major != NUCLEO_ABI_MAJOR)
    return "built for plugin ABI " + built.text() + "; this kernel speaks " + std::to_string(NUCLEO_ABI_MAJOR) + ".x";
  if (built.minor > NUCLEO_ABI_MINOR)
    return "built for plugin ABI " + built.text() + ", newer than this kernel's " + ours;
  return std::nullopt;
}

}  // namespace nucleo::plugins
