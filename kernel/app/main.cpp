#include <iostream>

#include "kernel/app/commands.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  return nucleo::app::run_cli(nucleo::app::all_commands(), args, std::cout, std::cerr);
}
