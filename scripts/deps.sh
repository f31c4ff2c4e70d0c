#!/bin/sh
# Install every Debian package Keel's build, tests and tools need.
# Fast no-op when all of them are already installed, so `make check` can
# call it every time.  Runs as root (CI) or through sudo when available.
set -eu

PACKAGES="
binutils
busybox-static
ca-certificates
clang
cpio
gcc
grub-common
grub-pc-bin
libc6-dev
libclang-rt-dev
libxen-dev
make
mtools
python3
qemu-system-x86
xorriso
"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
    *" installed") ;;
    *) missing="$missing $p" ;;
    esac
done

[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "deps: not root and no sudo; install these packages by hand:$missing" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# shellcheck disable=SC2086 # word splitting of the package list is wanted
$SUDO apt-get install -y --no-install-recommends $missing
