#!/usr/bin/env python3
"""Builds the deskphone firmware as Embedded Swift for one architecture.

usage: toolchain/build-firmware.py ARCH [--opt=-Osize|-O] [--no-lto] [--product=NAME] [--verbose]
       ARCH = x86_64 | aarch64 | armv7

Writes .build-firmware/ARCH/deskphone (and deskphone.stripped). The firmware is exactly the
`deskphone` executable target of Package.swift and the targets it depends on (--product
builds another firmware-style executable the same way, e.g. deskphone-codec-bench): the module
graph is read with `swift package dump-package`, so a new firmware module needs no change
here. Swift targets are compiled whole-module in Embedded mode, C targets with clang, system
libraries through pkg-config (pointed into the sysroot for ARM). A firmware target that
depends on a Swift package product is an error: firmware modules take no packages.
See toolchain/README.md for the method.
"""
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SWIFT_BIN = Path(os.environ.get("SWIFT_BIN", "/opt/swift/usr/bin"))
SWIFTC = SWIFT_BIN / "swiftc"
CLANG = SWIFT_BIN / "clang"
OBJCOPY = SWIFT_BIN / "llvm-objcopy"
EMBEDDED_LIB = SWIFT_BIN.parent / "lib" / "swift" / "embedded"

# Per architecture: the Swift target (one the Embedded stdlib ships for), the clang target
# of the Linux board, and code-generation flags.
ARCHES = {
    "x86_64": {
        "swift_target": "x86_64-unknown-linux-gnu",
        "clang_target": "x86_64-linux-gnu",
        "cpu_flags": [],
        "sysroot": False,
    },
    "aarch64": {
        "swift_target": "aarch64-none-none-elf",
        "clang_target": "aarch64-linux-gnu",
        "cpu_flags": [],
        "sysroot": True,
    },
    "armv7": {
        "swift_target": "armv7-none-none-eabi",
        "clang_target": "arm-linux-gnueabihf",
        # Thumb-2 (-mthumb): 28% smaller than ARM code; Swift's code generation takes it
        # from the importer's flags.
        "cpu_flags": ["-march=armv7-a", "-mfpu=neon-vfpv4", "-mfloat-abi=hard", "-mthumb"],
        "sysroot": True,
    },
}

FIRMWARE_EXECUTABLE = "deskphone"

# Size flags (toolchain/README.md, "Optimisation (footprint)", has what each one is worth). With LTO the
# Swift modules are compiled to bitcode and lld optimizes and generates code for them as one
# module; the machine outliner runs in that code generation.
LTO_LINK_FLAGS = ["-flto=full", "-Wl,-mllvm,-enable-machine-outliner"]
LINK_FLAGS = ["-Wl,--gc-sections", "-Wl,--icf=safe", "-Wl,-z,pack-relative-relocs"]


class BuildError(Exception):
    pass


def run(cmd, verbose, env=None):
    if verbose:
        print("+ " + " ".join(shlex.quote(str(c)) for c in cmd), flush=True)
    result = subprocess.run([str(c) for c in cmd], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise BuildError(f"{Path(str(cmd[0])).name} failed (exit {result.returncode})")
    return result.stdout


def package_targets():
    out = subprocess.run(
        [str(SWIFT_BIN / "swift"), "package", "--package-path", str(ROOT), "dump-package"],
        capture_output=True, text=True, check=True,
    ).stdout
    return {t["name"]: t for t in json.loads(out)["targets"]}


def firmware_order(targets, product):
    """The executable target's dependency closure, dependencies first."""
    order, visiting = [], set()

    def visit(name, via):
        if name in order:
            return
        if name not in targets:
            raise BuildError(f"{via} depends on unknown target {name}")
        if name in visiting:
            raise BuildError(f"dependency cycle through {name}")
        visiting.add(name)
        for dep in targets[name].get("dependencies", []):
            if "product" in dep:
                raise BuildError(
                    f"firmware target {name} depends on package product {dep['product'][0]}: "
                    "firmware modules may not use Swift packages")
            dep_name = (dep.get("byName") or dep.get("target"))[0]
            visit(dep_name, name)
        visiting.discard(name)
        order.append(name)

    if targets.get(product, {}).get("type") != "executable":
        raise BuildError(f"{product} is not an executable target of Package.swift")
    visit(product, "firmware")
    return order


def target_dir(target):
    return ROOT / (target.get("path") or f"Sources/{target['name']}")


def cross_env(arch, sysroot):
    env = dict(os.environ)
    if ARCHES[arch]["sysroot"]:
        multiarch = ARCHES[arch]["clang_target"]
        env["PKG_CONFIG_LIBDIR"] = f"{sysroot}/usr/lib/{multiarch}/pkgconfig:{sysroot}/usr/share/pkgconfig"
        env["PKG_CONFIG_SYSROOT_DIR"] = str(sysroot)
        env["PKG_CONFIG_PATH"] = ""
        env["PKG_CONFIG_SYSTEM_INCLUDE_PATH"] = f"{sysroot}/usr/include"
        env["PKG_CONFIG_SYSTEM_LIBRARY_PATH"] = f"{sysroot}/usr/lib/{multiarch}:{sysroot}/usr/lib"
    return env


def pkg_config(package, what, env, verbose):
    return shlex.split(run(["pkg-config", what, package], verbose, env))


def modulemap_links(tdir):
    """-l flags for the `link "name"` lines of a system library's module.modulemap."""
    text = (tdir / "module.modulemap").read_text()
    return ["-l" + line.split('"')[1] for line in text.splitlines() if line.strip().startswith("link ")]


def build(arch, opt, product, verbose, lto=True):
    spec = ARCHES[arch]
    out = ROOT / ".build-firmware" / arch
    objdir = out / "obj"
    objdir.mkdir(parents=True, exist_ok=True)
    sysroot = ROOT / ".build-firmware" / "sysroot" / arch
    if spec["sysroot"]:
        run([ROOT / "toolchain" / "sysroot.sh", arch], verbose)
    env = cross_env(arch, sysroot)

    # C flags for clang proper and for Swift's clang importer.
    c_flags = [f"--target={spec['clang_target']}", *spec["cpu_flags"]]
    importer_flags = ["-D__linux__", "-D__unix__", "-D__gnu_linux__", *spec["cpu_flags"]]
    if spec["sysroot"]:
        multiarch = spec["clang_target"]
        c_flags.append(f"--sysroot={sysroot}")
        importer_flags += [
            "-isystem", f"{sysroot}/usr/include/{multiarch}",
            "-isystem", f"{sysroot}/usr/include",
        ]
    c_flags += ["-Os", "-ffunction-sections", "-fdata-sections", "-fPIC"]

    targets = package_targets()
    order = firmware_order(targets, product)
    module_search = ["-I", str(objdir)]
    objects, link_libs = [], []
    for name in order:
        target = targets[name]
        tdir = target_dir(target)
        kind = target["type"]
        if kind == "system":
            module_search += ["-I", str(tdir)]
            package = target.get("pkgConfig")
            if package:
                for flag in pkg_config(package, "--cflags", env, verbose):
                    importer_flags.append(flag)
                link_libs += pkg_config(package, "--libs", env, verbose)
            else:
                link_libs += modulemap_links(tdir)  # no .pc (mbedTLS): the module map's `link` lines
            continue
        swift_sources = sorted(tdir.rglob("*.swift"))
        c_sources = sorted(tdir.rglob("*.c"))
        if kind == "executable" and name != product:
            raise BuildError(f"{product} depends on executable target {name}")
        if c_sources and not swift_sources:
            include = tdir / "include"
            module_search += ["-I", str(include)]
            for source in c_sources:
                obj = objdir / f"{name}-{source.stem}.o"
                run([CLANG, *c_flags, "-I", include, "-c", source, "-o", obj], verbose)
                objects.append(obj)
            continue
        if not swift_sources:
            raise BuildError(f"target {name} has no sources in {tdir}")
        obj = objdir / f"{name}.o"
        cmd = [
            SWIFTC, "-target", spec["swift_target"], "-enable-experimental-feature", "Embedded",
            "-wmo", opt, "-swift-version", "6", "-module-name", name.replace("-", "_"),
            "-Xfrontend", "-function-sections", "-Xcc", "-fPIC",
            *module_search,
        ]
        for flag in importer_flags:
            cmd += ["-Xcc", flag]
        # Executables use @main, so every target is parsed as a library.
        cmd += ["-parse-as-library", "-c", "-o", obj]
        if lto:
            cmd.append("-lto=llvm-full")
        if kind != "executable":
            cmd += ["-emit-module", "-emit-module-path", objdir / f"{name}.swiftmodule"]
        cmd += swift_sources
        run(cmd, verbose)
        objects.append(obj)

    # Strong replacements for Embedded runtime functions this toolchain gets wrong
    # (toolchain/embedded-runtime-fixes.c says which and why).
    fixes = objdir / "embedded-runtime-fixes.o"
    run([CLANG, *c_flags, "-c", ROOT / "toolchain" / "embedded-runtime-fixes.c", "-o", fixes], verbose)
    objects.append(fixes)

    binary = out / product
    unicode_tables = EMBEDDED_LIB / spec["swift_target"] / "libswiftUnicodeDataTables.a"
    link = [CLANG, *c_flags, "-fuse-ld=lld", *(LTO_LINK_FLAGS if lto else []), *LINK_FLAGS,
            "-o", binary, *objects]
    if unicode_tables.exists():
        link.append(unicode_tables)
    seen = set()
    for lib in link_libs:
        if lib not in seen:
            link.append(lib)
            seen.add(lib)
    link.append("-lm")
    run(link, verbose)
    stripped = out / f"{product}.stripped"
    run([OBJCOPY, "--strip-all", binary, stripped], verbose)
    print(f"{product} {arch}: {binary.relative_to(ROOT)} "
          f"({binary.stat().st_size} bytes, stripped {stripped.stat().st_size} bytes)")


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    opt = "-Osize"
    product = FIRMWARE_EXECUTABLE
    for a in argv[1:]:
        if a.startswith("--opt="):
            opt = a.split("=", 1)[1]
        elif a.startswith("--product="):
            product = a.split("=", 1)[1]
    verbose = "--verbose" in argv
    if len(args) != 1 or args[0] not in ARCHES:
        sys.stderr.write(__doc__)
        return 2
    try:
        build(args[0], opt, product, verbose, lto="--no-lto" not in argv)
    except (BuildError, subprocess.CalledProcessError) as error:
        sys.stderr.write(f"build-firmware: {error}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
