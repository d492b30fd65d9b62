#!/usr/bin/env python3
"""A kernel module includes only the headers of the modules it links (docs/architecture.md §1).

Each kernel/<module>/CMakeLists.txt declares `nucleo_kernel_module(NAME <module> … DEPS …)`;
the DEPS line is the layering rule. The linker alone enforces it for symbols, not for
headers: an inline function or a struct can be used across a layer without a link. This
check reads every kernel source and header and fails when one includes
`kernel/<other>/…` for a module <other> that its module does not link, directly or
through its dependencies, or a header under `kernel/<other>/internal/`, which is for
<other> alone.

    include_check.py <repository root>      check the tree
    include_check.py --self-test            prove the check finds what it must
"""
import os
import re
import sys
import tempfile

MODULE = re.compile(r"nucleo_kernel_module\s*\((.*?)\)", re.S)
INCLUDE = re.compile(r'^\s*#\s*include\s+"kernel/([a-z_]+)/([^"]+)"', re.M)
KEYWORDS = {"NAME", "SOURCES", "DEPS", "LIBS"}


def declared_modules(root):
    """{module: set of direct DEPS} from kernel/*/CMakeLists.txt."""
    modules = {}
    kernel = os.path.join(root, "kernel")
    for folder in sorted(os.listdir(kernel)):
        path = os.path.join(kernel, folder, "CMakeLists.txt")
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as f:
            match = MODULE.search(f.read())
        if not match:
            continue
        words, section, name, deps = match.group(1).split(), None, None, set()
        for word in words:
            if word in KEYWORDS:
                section = word
            elif section == "NAME":
                name = word
            elif section == "DEPS":
                deps.add(word)
        modules[name or folder] = deps
    return modules


def linked(modules, module):
    """The modules `module` links: itself and its dependencies, transitively."""
    seen, waiting = {module}, list(modules.get(module, ()))
    while waiting:
        dep = waiting.pop()
        if dep not in seen:
            seen.add(dep)
            waiting.extend(modules.get(dep, ()))
    return seen


def violations(root):
    modules = declared_modules(root)
    found = []
    for module in sorted(modules):
        allowed = linked(modules, module)
        for folder, _, files in os.walk(os.path.join(root, "kernel", module)):
            for file in sorted(files):
                if not file.endswith((".cpp", ".hpp", ".h")):
                    continue
                path = os.path.join(folder, file)
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                for other, header in INCLUDE.findall(text):
                    where = os.path.relpath(path, root)
                    if other in modules and other not in allowed:
                        found.append(f"{where}: includes kernel/{other}/{header}, but {module} does not link {other}"
                                     f" (its DEPS reach {', '.join(sorted(allowed - {module})) or 'nothing'})")
                    elif other != module and header.startswith("internal/"):
                        found.append(f"{where}: includes kernel/{other}/{header}, internal to {other}")
    return found


def self_test():
    with tempfile.TemporaryDirectory() as root:
        def write(path, text):
            full = os.path.join(root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w", encoding="utf-8") as f:
                f.write(text)
        write("kernel/low/CMakeLists.txt", "nucleo_kernel_module(NAME low\n  SOURCES a.cpp)\n")
        write("kernel/mid/CMakeLists.txt", "nucleo_kernel_module(NAME mid\n  SOURCES b.cpp\n  DEPS low)\n")
        write("kernel/top/CMakeLists.txt", "nucleo_kernel_module(NAME top SOURCES c.cpp DEPS mid LIBS X)\n")
        write("kernel/low/a.cpp", '#include "kernel/low/a.hpp"\n#include "kernel/mid/b.hpp"\n')
        write("kernel/mid/b.cpp", '#include "kernel/low/internal/secret.hpp"\n#include "kernel/low/a.hpp"\n')
        write("kernel/top/c.cpp", '#include "kernel/low/a.hpp"\n#include "kernel/mid/b.hpp"\n')
        found = violations(root)
        expected = ["kernel/low/a.cpp: includes kernel/mid/b.hpp, but low does not link mid",
                    "kernel/mid/b.cpp: includes kernel/low/internal/secret.hpp, internal to low"]
        for e in expected:
            if not any(v.startswith(e) for v in found):
                print(f"self-test: missed {e!r}; found {found}")
                return 1
        if len(found) != len(expected):
            print(f"self-test: expected {len(expected)} findings, got {found}")
            return 1
    print("self-test: the check finds an upward include and an internal header used from outside")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) != 2:
        print(__doc__)
        return 2
    modules = declared_modules(argv[1])
    if not modules:
        print(f"no kernel modules under {argv[1]}/kernel")
        return 2
    found = violations(argv[1])
    for line in found:
        print(line)
    print(f"{len(modules)} modules checked, {len(found)} include(s) outside their layer")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
