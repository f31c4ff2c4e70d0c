#!/bin/sh
# Build a GRUB CD image (BIOS boot) that starts Keel, for QEMU or real machines.
#
#   scripts/mkiso.sh -o OUT.iso [-k build/keel] [-p mb2|mb1] [-a "keel args"]
#                    [-m "FILE [module args]"]...
#
# The default menu entry uses the protocol given with -p (Multiboot 2 when
# omitted); a second entry boots the same files with the other protocol.
# GRUB talks on the first serial port, so the whole boot shows on a console.
set -eu

usage() {
    sed -n '2,10s/^# \{0,1\}//p' "$0" >&2
    exit 2
}

out=""
keel="build/keel"
proto="mb2"
args=""
modules=""
nl='
'
while getopts "o:k:p:a:m:h" opt; do
    case "$opt" in
    o) out="$OPTARG" ;;
    k) keel="$OPTARG" ;;
    p) proto="$OPTARG" ;;
    a) args="$OPTARG" ;;
    m) modules="$modules$OPTARG$nl" ;;
    *) usage ;;
    esac
done
[ -n "$out" ] || usage
case "$proto" in mb1|mb2) ;; *) echo "mkiso: -p must be mb1 or mb2" >&2; exit 2 ;; esac
[ -f "$keel" ] || { echo "mkiso: $keel not found: run make" >&2; exit 1; }
command -v grub-mkrescue >/dev/null || { echo "mkiso: grub-mkrescue missing: run scripts/deps.sh" >&2; exit 1; }

stage=$(mktemp -d "${TMPDIR:-/tmp}/keel-iso.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/boot/grub"
cp "$keel" "$stage/boot/keel"

# Module lines for both protocols; each file is copied under /boot.
mod2=""
mod1=""
printf '%s' "$modules" | {
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        file=${line%% *}
        rest=""
        [ "$file" = "$line" ] || rest=" ${line#* }"
        name=$(basename "$file")
        [ -f "$file" ] || { echo "mkiso: module $file not found" >&2; exit 1; }
        [ ! -e "$stage/boot/$name" ] || { echo "mkiso: two modules named $name" >&2; exit 1; }
        cp "$file" "$stage/boot/$name"
        mod2="$mod2    module2 /boot/$name$rest$nl"
        mod1="$mod1    module /boot/$name$rest$nl"
    done
    printf '%s' "$mod2" >"$stage/mod2"
    printf '%s' "$mod1" >"$stage/mod1"
}

entry_mb2() {
    printf 'menuentry "Keel (Multiboot 2)" {\n    multiboot2 /boot/keel %s\n' "$args"
    cat "$stage/mod2"
    printf '}\n'
}

entry_mb1() {
    printf 'menuentry "Keel (Multiboot 1)" {\n    multiboot /boot/keel %s\n' "$args"
    cat "$stage/mod1"
    printf '}\n'
}

{
    printf 'serial --unit=0 --speed=115200\n'
    printf 'terminal_input serial\nterminal_output serial\n'
    printf 'set timeout=0\nset default=0\n'
    if [ "$proto" = mb2 ]; then entry_mb2; entry_mb1; else entry_mb1; entry_mb2; fi
} >"$stage/boot/grub/grub.cfg"
cp "$stage/boot/grub/grub.cfg" "$out.cfg" 2>/dev/null || true
rm -f "$stage/mod1" "$stage/mod2"

mkdir -p "$(dirname "$out")"
if ! grub-mkrescue -o "$out" "$stage" >"$stage.log" 2>&1; then
    cat "$stage.log" >&2
    rm -f "$stage.log"
    echo "mkiso: grub-mkrescue failed" >&2
    exit 1
fi
rm -f "$stage.log"
