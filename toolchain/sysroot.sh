#!/usr/bin/env bash
# Usage: toolchain/sysroot.sh ARCH        (ARCH = aarch64 | armv7)
#
# Builds a Debian bookworm sysroot for cross-linking and for running under
# qemu-user, at $ROOT/.build-firmware/sysroot/ARCH, and makes sure
# qemu-user-static is installed. armv7 means Debian armhf (hard-float).
#
# The foreign-arch .debs are fetched with `apt-get download` into
# $ROOT/.build-firmware/debs/ARCH (kept between runs) and unpacked with
# `dpkg -x`; nothing foreign is installed on the host. The sysroot is laid
# out merged-/usr like a real bookworm system (lib -> usr/lib) and every
# absolute symlink in it is rewritten to a relative one, so it works both as
# `--sysroot` for clang/lld and as `qemu-*-static -L`.
#
# A stamp file holding a hash of this script marks a finished sysroot; when it
# matches, the script only checks that qemu is there and exits silently.
# Needs root (apt-get, dpkg --add-architecture).
set -euo pipefail

usage() { echo "usage: $0 aarch64|armv7" >&2; exit 2; }
[[ $# -eq 1 ]] || usage
ARCH=$1

case "$ARCH" in
  aarch64) DEB_ARCH=arm64 MULTIARCH=aarch64-linux-gnu   QEMU=qemu-aarch64-static LDSO=ld-linux-aarch64.so.1 ;;
  armv7)   DEB_ARCH=armhf MULTIARCH=arm-linux-gnueabihf QEMU=qemu-arm-static     LDSO=ld-linux-armhf.so.3 ;;
  *) usage ;;
esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
BUILD=$ROOT/.build-firmware
SYSROOT=$BUILD/sysroot/$ARCH
DEBS=$BUILD/debs/$ARCH
STAMP=$SYSROOT/.sysroot-stamp

# Foreign-arch packages unpacked into the sysroot. Beyond the obvious ones:
#   libasound2-data  alsa.conf & friends (so alsa-lib works under qemu)
#   libatomic1       target of libgcc-12-dev's libatomic.so symlink (-latomic)
#   libnss3, libnspr4, libsqlite3-0  Debian's libsrtp2 does its AES and HMAC through NSS; srtp_init
#                    loads NSS's softokn with dlopen, and libsoftokn3.so needs libsqlite3.so.0:
#                    without it srtp_init fails (status 8, cipher_fail: its self-test finds no
#                    AES), under qemu as on a board (the board's image needs libsqlite3 too)
PACKAGES=(
  libc6 libc6-dev linux-libc-dev
  libgcc-s1 libgcc-12-dev libatomic1
  libasound2 libasound2-data libasound2-dev
  libevdev2 libevdev-dev
  libopus0 libopus-dev
  libmbedtls-dev libmbedtls14 libmbedx509-1 libmbedcrypto7
  libsrtp2-1 libsrtp2-dev libnss3 libnspr4 libsqlite3-0
)

# The stamp covers the recipe: editing this script rebuilds the sysroot
# (from the cached .debs, so that is quick).
stamp_value() { echo "$ARCH $(sha256sum < "${BASH_SOURCE[0]}" | cut -d' ' -f1)"; }
is_current() { [[ -f $STAMP && "$(cat "$STAMP")" == "$(stamp_value)" ]]; }

# --- fast path --------------------------------------------------------------
if is_current && command -v "$QEMU" >/dev/null && command -v pkg-config >/dev/null; then
  exit 0
fi

log() { echo "sysroot.sh[$ARCH]: $*" >&2; }

# One apt/dpkg user at a time (both arches may be prepared in parallel).
mkdir -p "$BUILD"
exec 9>"$BUILD/.sysroot.lock"
flock 9

# --- host tools ---------------------------------------------------------------
APT_UPDATED=0
apt_update() {
  if [[ $APT_UPDATED -eq 0 ]]; then
    log "apt-get update"
    # A partial failure (one index of one suite, e.g. a mirror mid-sync) still
    # leaves usable lists; whether our packages are found is checked later.
    apt-get update -qq || { sleep 2; apt-get update -qq; } ||
      log "warning: apt-get update reported errors, carrying on with the lists it got"
    APT_UPDATED=1
  fi
}

apt_install() {
  log "installing $*"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; then
    # Usually "Unable to locate package" on a machine whose lists are empty;
    # a second failure shows apt's message.
    apt_update
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  fi
}

command -v "$QEMU" >/dev/null || apt_install qemu-user-static
command -v pkg-config >/dev/null || apt_install pkgconf

# Another process may have finished the sysroot while we waited for the lock.
is_current && exit 0

# --- foreign architecture -----------------------------------------------------
if ! dpkg --print-foreign-architectures | grep -x "$DEB_ARCH" >/dev/null; then
  log "dpkg --add-architecture $DEB_ARCH"
  dpkg --add-architecture "$DEB_ARCH"
  APT_UPDATED=0                   # an earlier update didn't fetch $DEB_ARCH lists
  apt_update
fi

# --- download (cached) ------------------------------------------------------------
# Arch:all packages (the *-data one) take no :arch qualifier.
qualified=()
for p in "${PACKAGES[@]}"; do
  case "$p" in
    *-data) qualified+=("$p") ;;
    *)      qualified+=("$p:$DEB_ARCH") ;;
  esac
done

# Fills wanted[] with the .deb file names of the candidate versions (from the
# local lists only: `--print-uris` prints  'URI' FILENAME SIZE HASH  lines) and
# downloads those not yet in $DEBS. Returns non-zero if anything failed.
wanted=()
fetch_debs() {
  local uris file
  uris=$(apt-get download --print-uris "${qualified[@]}" 2>/dev/null) || return 1
  wanted=()
  local missing=()
  while read -r _ file _; do
    wanted+=("$file")
    if [[ ! -f $DEBS/$file ]]; then
      # FILENAME is NAME_VERSION_ARCH.deb
      case "$file" in
        *_all.deb) missing+=("${file%%_*}") ;;
        *)         missing+=("${file%%_*}:$DEB_ARCH") ;;
      esac
    fi
  done <<< "$uris"
  [[ ${#missing[@]} -eq 0 ]] && return 0
  log "downloading ${#missing[@]} packages into ${DEBS#"$ROOT"/}"
  # Runs as root: skip apt's _apt sandbox user, which can't write here.
  (cd "$DEBS" && apt-get download -q=2 -o APT::Sandbox::User=root "${missing[@]}") || return 1
  for file in "${wanted[@]}"; do
    [[ -f $DEBS/$file ]] || { log "$file missing after download"; return 1; }
  done
}

mkdir -p "$DEBS"
if ! fetch_debs; then
  apt_update                      # lists for $DEB_ARCH missing or stale
  fetch_debs || { log "could not get the packages: ${PACKAGES[*]}"; exit 1; }
fi

# --- unpack into a fresh tree, then swap it in ------------------------------------
NEW=$SYSROOT.new
rm -rf "$NEW"
mkdir -p "$NEW"
for f in "${wanted[@]}"; do
  dpkg -x "$DEBS/$f" "$NEW"
done

# Merged /usr, as on an installed bookworm system: libc6 still ships
# /lib/$MULTIARCH/* and /lib/ld-linux-*.so.*, the -dev packages /usr/lib/...
# Afterwards /lib/$MULTIARCH and /usr/lib/$MULTIARCH are the same directory.
for d in lib bin sbin; do
  mkdir -p "$NEW/usr/$d"
  if [[ -d $NEW/$d ]]; then
    cp -a "$NEW/$d/." "$NEW/usr/$d/"
    rm -rf "${NEW:?}/$d"
  fi
  ln -s "usr/$d" "$NEW/$d"
done

# Absolute symlinks would point into the host's / (for lld and for qemu);
# make each one relative to its own directory, inside the sysroot.
# e.g. usr/lib/ld-linux-aarch64.so.1 -> /lib/aarch64-linux-gnu/ld-linux-aarch64.so.1
#   becomes                          -> aarch64-linux-gnu/ld-linux-aarch64.so.1
while IFS= read -r -d '' link; do
  target=$(readlink "$link")
  case "$target" in
    /lib/*|/bin/*|/sbin/*) target=/usr$target ;;   # the real dir, not via lib -> usr/lib
  esac
  rel=$(realpath -s -m --relative-to="$(dirname "$link")" "$NEW$target")
  ln -sfn "$rel" "$link"
done < <(find "$NEW" -type l -lname '/*' -print0)

# The link time inputs must all resolve (crt files, libc.so script targets,
# the .so symlinks named by the .pc files, libgcc_s).
check=(
  "lib/$LDSO" "lib/$MULTIARCH/$LDSO"
  "usr/lib/$MULTIARCH/crt1.o" "usr/lib/$MULTIARCH/libc.so" "usr/lib/$MULTIARCH/libc.so.6"
  "usr/lib/$MULTIARCH/libasound.so" "usr/lib/$MULTIARCH/libevdev.so" "usr/lib/$MULTIARCH/libopus.so"
  "usr/lib/$MULTIARCH/libsrtp2.so" "usr/lib/$MULTIARCH/libsoftokn3.so" "usr/lib/$MULTIARCH/libsqlite3.so.0"
  "usr/lib/$MULTIARCH/libm.so" "usr/lib/gcc/$MULTIARCH/12/crtbegin.o"
  "usr/lib/gcc/$MULTIARCH/12/libgcc.a" "usr/lib/gcc/$MULTIARCH/12/libgcc_s.so"
  "usr/lib/gcc/$MULTIARCH/12/libatomic.so"
)
for f in "${check[@]}"; do
  [[ -e $NEW/$f ]] || { log "sysroot is missing $f"; exit 1; }
done

rm -rf "$SYSROOT"
mv "$NEW" "$SYSROOT"
stamp_value > "$STAMP"
log "ready: ${SYSROOT#"$ROOT"/} (${#wanted[@]} packages)"
