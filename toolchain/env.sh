#!/usr/bin/env bash
# Cross-build environment for one target (bash). Two ways to use it:
#
#   . toolchain/env.sh aarch64              # source it: exports the variables
#   eval "$(toolchain/env.sh armv7)"        # run it: prints `export X=...` lines
#
# ARCH = aarch64 | armv7 (armv7 = Debian armhf, hard-float). It only computes
# paths and flags; build the sysroot first with `toolchain/sysroot.sh ARCH`.
# When sourced it sets no shell options and only defines the variables below.
#
#   CLANG_TARGET     clang --target triple: aarch64-linux-gnu | arm-linux-gnueabihf
#   DEB_ARCH         Debian architecture:   arm64 | armhf
#   MULTIARCH        multiarch dir name (usr/lib/$MULTIARCH): = CLANG_TARGET here
#   SYSROOT          $ROOT/.build-firmware/sysroot/ARCH
#   CROSS_ARCH_FLAGS code-generation flags for the CPU (empty for aarch64)
#   CROSS_CFLAGS     --target --sysroot and CROSS_ARCH_FLAGS, for clang
#   CROSS_LDFLAGS    extra link flags, for clang as linker driver: -fuse-ld=lld
#   PKG_CONFIG_LIBDIR, PKG_CONFIG_SYSROOT_DIR
#                    make `pkg-config --cflags --libs alsa libevdev opus`
#                    answer for the sysroot; PKG_CONFIG_PATH is emptied so the
#                    host's .pc files can't leak in.
#   PKG_CONFIG_SYSTEM_INCLUDE_PATH, PKG_CONFIG_SYSTEM_LIBRARY_PATH
#                    the sysroot's usr/include and usr/lib/$MULTIARCH, which
#                    pkgconf then leaves out (as natively with /usr/include);
#                    so the flags assume --sysroot=$SYSROOT on the compiler.
#
# Compile and link a C program:
#   /opt/swift/usr/bin/clang $CROSS_CFLAGS $CROSS_LDFLAGS x.c \
#       $(pkg-config --cflags --libs alsa libevdev opus) -o x
# With --sysroot clang finds crt*.o, libgcc and libgcc_s in the sysroot by
# itself (usr/lib/gcc/$MULTIARCH/12), so no -B/--gcc-toolchain is needed.

_DESKPHONE_ENV_VARS=(CLANG_TARGET DEB_ARCH MULTIARCH SYSROOT CROSS_ARCH_FLAGS
  CROSS_CFLAGS CROSS_LDFLAGS PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH
  PKG_CONFIG_SYSTEM_INCLUDE_PATH PKG_CONFIG_SYSTEM_LIBRARY_PATH)

# shellcheck disable=SC2034  # all exported through _DESKPHONE_ENV_VARS
_deskphone_env() {
  local arch=$1 root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P) || return 1
  case "$arch" in
    aarch64)
      CLANG_TARGET=aarch64-linux-gnu DEB_ARCH=arm64
      CROSS_ARCH_FLAGS=""
      ;;
    armv7)
      CLANG_TARGET=arm-linux-gnueabihf DEB_ARCH=armhf
      # Without -march clang's arm-linux-gnueabihf default is an ARMv6-class
      # CPU; -mfloat-abi=hard is already implied by the "hf" triple but is
      # kept explicit. NEON + VFPv4 (Cortex-A7 and later) is the baseline
      # we assume for the device; Debian armhf itself only assumes VFPv3-D16.
      CROSS_ARCH_FLAGS="-march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard"
      ;;
    *)
      echo "env.sh: usage: env.sh aarch64|armv7" >&2
      return 2
      ;;
  esac
  MULTIARCH=$CLANG_TARGET
  SYSROOT=$root/.build-firmware/sysroot/$arch
  CROSS_CFLAGS="--target=$CLANG_TARGET --sysroot=$SYSROOT${CROSS_ARCH_FLAGS:+ $CROSS_ARCH_FLAGS}"
  CROSS_LDFLAGS="-fuse-ld=lld"
  PKG_CONFIG_LIBDIR=$SYSROOT/usr/lib/$MULTIARCH/pkgconfig:$SYSROOT/usr/share/pkgconfig
  PKG_CONFIG_SYSROOT_DIR=$SYSROOT
  PKG_CONFIG_PATH=
  # pkgconf drops these dirs from -I/-L, as it does natively for /usr/include;
  # an -I$SYSROOT/usr/include would otherwise come before clang's own headers.
  PKG_CONFIG_SYSTEM_INCLUDE_PATH=$SYSROOT/usr/include
  PKG_CONFIG_SYSTEM_LIBRARY_PATH=$SYSROOT/usr/lib/$MULTIARCH:$SYSROOT/usr/lib
  export "${_DESKPHONE_ENV_VARS[@]}"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  # Executed: print the assignments.
  set -euo pipefail
  [[ $# -eq 1 ]] || { echo "usage: $0 aarch64|armv7" >&2; exit 2; }
  _deskphone_env "$1"
  for _v in "${_DESKPHONE_ENV_VARS[@]}"; do
    printf 'export %s=%q\n' "$_v" "${!_v}"
  done
else
  # Sourced.
  if [[ $# -ne 1 ]]; then
    echo "usage: . toolchain/env.sh aarch64|armv7" >&2
    return 2
  fi
  if _deskphone_env "$1"; then
    unset -f _deskphone_env; unset _DESKPHONE_ENV_VARS
  else
    unset -f _deskphone_env; unset _DESKPHONE_ENV_VARS
    return 2
  fi
fi
