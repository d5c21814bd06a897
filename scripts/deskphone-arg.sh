#!/usr/bin/env bash
# The DESKPHONE argument of a test script (scripts/cli-tests-*.sh): prints it as an absolute path,
# or the script's usage line and exits 2 when it is not one executable file.
# usage (in a script): deskphone=$("$root/scripts/deskphone-arg.sh" "$0" "$@") || exit 2
script=$1
shift
if [ $# -ne 1 ] || [ ! -x "$1" ] || [ -d "$1" ]; then
  echo "usage: $script DESKPHONE (an executable deskphone binary, e.g. .build-firmware/x86_64/deskphone)" >&2
  exit 2
fi
echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
