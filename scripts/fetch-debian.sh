#!/bin/sh
# Fetch the Debian material Keel's system tests and benchmarks run: the
# distribution kernel (a Xen PV capable 6.1), a busybox initramfs, and on
# request Debian's Xen 4.17 as the reference hypervisor.
#
# Everything comes from the system's apt sources through `apt-get download`
# (no other network source) and lands in cache/ (git-ignored):
#   cache/vmlinuz        kernel from the package linux-image-amd64 depends on
#   cache/vmlinux        the ELF inside cache/vmlinuz (bzImage payload, unpacked)
#   cache/initrd.gz      busybox initramfs; /init prints "KEEL-INIT: /init reached"
#   cache/xen-4.17.elf   (--xen) Xen 4.17, gunzipped: a Multiboot1 ELF for QEMU -kernel
#   cache/initrd-bench.gz (--bench) cache/initrd.gz plus a second archive in
#                        which /init is bench/keel-rdtsc.c (built here with the
#                        host gcc): it prints "BOOT-TSC <ticks>", then runs the
#                        usual init script, installed as /init.sh
#   cache/pkg/e2fsprogs, ...   mke2fs and the libraries it needs (the hardware
#                        scenario copies them into its initramfs: busybox's
#                        mke2fs makes only ext2)
#   cache/debs/, cache/pkg/<name>/   the .deb files and their dpkg -x trees
#
# The script is idempotent: what is already there is kept.  --force rebuilds
# the initramfs (downloads are still reused).
#
# /init runs, after printing its marker, the script named by KEEL_TEST
# (kernel command line "KEEL_TEST=/path", or "keel_test=/path"), printing
# "KEEL-INIT: test exit <status>" and powering off; without one it starts a
# shell on the console.  Extra files for the initramfs can be placed in
# cache/initrd-extra/ (copied over the root, e.g. cache/initrd-extra/tests/x.sh).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${KEEL_CACHE:-$ROOT/cache}
WANT_XEN=0
WANT_BENCH=0
FORCE=0

usage() {
    echo "usage: $0 [--xen] [--bench] [--force]" >&2
    exit 2
}

for arg in "$@"; do
    case "$arg" in
    --xen) WANT_XEN=1 ;;
    --bench) WANT_BENCH=1 ;;
    --force) FORCE=1 ;;
    -h | --help) usage ;;
    *) echo "fetch-debian: unknown argument '$arg'" >&2; usage ;;
    esac
done

die() {
    echo "fetch-debian: $*" >&2
    exit 1
}

log() {
    echo "fetch-debian: $*"
}

for tool in apt-get apt-cache dpkg dpkg-deb cpio gzip find; do
    command -v "$tool" >/dev/null 2>&1 || die "missing tool '$tool' (run scripts/deps.sh)"
done

mkdir -p "$CACHE/debs" "$CACHE/pkg"

# The package lists may never have been fetched on a fresh machine.
ensure_lists() {
    if apt-cache show linux-image-amd64 >/dev/null 2>&1; then
        return
    fi
    log "package lists lack linux-image-amd64: running apt-get update"
    if [ "$(id -u)" -ne 0 ]; then
        die "apt-get update needs root; run it once as root, then retry"
    fi
    apt-get update -q || die "apt-get update failed"
    apt-cache show linux-image-amd64 >/dev/null 2>&1 ||
        die "linux-image-amd64 is not available from the configured apt sources"
}

# Download one package's .deb (the candidate version) unless it is present.
download() {
    pkg=$1
    if ls "$CACHE/debs/${pkg}_"*.deb >/dev/null 2>&1; then
        return
    fi
    log "downloading $pkg"
    # apt drops privileges to _apt when run as root; the directory must be
    # writable for it or apt warns and falls back to root, which is fine.
    (cd "$CACHE/debs" && apt-get download -q "$pkg") || die "apt-get download $pkg failed"
    ls "$CACHE/debs/${pkg}_"*.deb >/dev/null 2>&1 || die "no .deb for $pkg after download"
}

# Unpack a downloaded package into cache/pkg/<pkg> unless already done.
extract() {
    pkg=$1
    dest="$CACHE/pkg/$pkg"
    if [ -f "$dest/.extracted" ]; then
        return
    fi
    deb=$(ls "$CACHE/debs/${pkg}_"*.deb | sort | tail -n 1)
    log "extracting $(basename "$deb")"
    rm -rf "$dest"
    mkdir -p "$dest"
    dpkg -x "$deb" "$dest" || die "dpkg -x $deb failed"
    touch "$dest/.extracted"
}

fetch_kernel() {
    kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
    [ -n "$kpkg" ] || die "cannot resolve the kernel package linux-image-amd64 depends on"
    log "kernel package: $kpkg"
    download "$kpkg"
    extract "$kpkg"
    if [ -f "$CACHE/vmlinuz" ] && [ -f "$CACHE/vmlinuz.pkg" ] &&
        [ "$(cat "$CACHE/vmlinuz.pkg")" = "$kpkg" ]; then
        return
    fi
    img=$(ls "$CACHE/pkg/$kpkg/boot/vmlinuz-"* 2>/dev/null | head -n 1)
    [ -n "$img" ] || die "no boot/vmlinuz-* in $kpkg"
    cp "$img" "$CACHE/vmlinuz.tmp" && mv "$CACHE/vmlinuz.tmp" "$CACHE/vmlinuz"
    echo "$kpkg" >"$CACHE/vmlinuz.pkg"
    log "cache/vmlinuz <- $(basename "$img")"
}

# The bzImage wraps the ELF kernel (what a PV loader reads) in a compressed
# payload; its setup header gives where: setup_sects at 0x1f1, payload_offset
# and payload_length at 0x248/0x24c (x86 boot protocol >= 2.08).
unpack_vmlinux() {
    [ -f "$CACHE/vmlinux" ] && [ "$CACHE/vmlinux" -nt "$CACHE/vmlinuz" ] && return
    command -v xz >/dev/null 2>&1 || { log "xz missing: cache/vmlinux not built"; return; }
    le32() { od -An -tu4 -j "$1" -N4 "$CACHE/vmlinuz" | tr -d ' '; }
    sects=$(od -An -tu1 -j 497 -N1 "$CACHE/vmlinuz" | tr -d ' ')
    [ "$sects" -eq 0 ] && sects=4
    start=$(((sects + 1) * 512 + $(le32 584)))
    len=$(le32 588)
    tail -c +"$((start + 1))" "$CACHE/vmlinuz" | head -c "$len" >"$CACHE/vmlinux.xz"
    # xz may complain about padding after the stream; the ELF magic decides.
    xz -dc "$CACHE/vmlinux.xz" >"$CACHE/vmlinux.tmp" 2>/dev/null || true
    if [ "$(head -c 4 "$CACHE/vmlinux.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
        mv "$CACHE/vmlinux.tmp" "$CACHE/vmlinux"
        log "cache/vmlinux unpacked ($(wc -c <"$CACHE/vmlinux") bytes)"
    else
        rm -f "$CACHE/vmlinux.tmp"
        log "cache/vmlinux: payload is not XZ; skipped"
    fi
    rm -f "$CACHE/vmlinux.xz"
}

fetch_xen() {
    download xen-hypervisor-4.17-amd64
    extract xen-hypervisor-4.17-amd64
    [ -f "$CACHE/xen-4.17.elf" ] && return
    gz=$(ls "$CACHE/pkg/xen-hypervisor-4.17-amd64/boot/xen-"*.gz 2>/dev/null | head -n 1)
    [ -n "$gz" ] || die "no boot/xen-*.gz in xen-hypervisor-4.17-amd64"
    gzip -dc "$gz" >"$CACHE/xen-4.17.elf.tmp" && mv "$CACHE/xen-4.17.elf.tmp" "$CACHE/xen-4.17.elf"
    log "cache/xen-4.17.elf <- $(basename "$gz")"
}

# mke2fs for the Linux hardware scenario (tests/system/testdata.py picks
# the binary, its libraries and /etc/mke2fs.conf out of these trees).
HW_TOOL_PKGS="e2fsprogs libext2fs2 libcom-err2 libblkid1 libuuid1 libc6"
fetch_hwtools() {
    for pkg in $HW_TOOL_PKGS; do
        download "$pkg"
        extract "$pkg"
    done
}

write_init() {
    cat >"$1" <<'EOF'
#!/bin/busybox sh
# Keel test initramfs: mount the pseudo file systems, print the marker the
# test runners wait for, then run the requested test or a shell.
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1
echo "KEEL-INIT: /init reached"
hv=none
[ -r /sys/hypervisor/type ] && hv=$(cat /sys/hypervisor/type)
echo "KEEL-INIT: hypervisor type: $hv"
test_path=${KEEL_TEST:-}
if [ -z "$test_path" ]; then
    for word in $(cat /proc/cmdline); do
        case "$word" in
        KEEL_TEST=* | keel_test=*) test_path=${word#*=} ;;
        esac
    done
fi
if [ -n "$test_path" ]; then
    if [ -f "$test_path" ]; then
        echo "KEEL-INIT: running $test_path"
        sh "$test_path"
        echo "KEEL-INIT: test exit $?"
    else
        echo "KEEL-INIT: test script $test_path not found"
    fi
    sync
    poweroff -f
fi
echo "KEEL-INIT: starting shell"
exec setsid cttyhack sh
EOF
    chmod 755 "$1"
}

build_initrd() {
    if [ -f "$CACHE/initrd.gz" ] && [ "$FORCE" -eq 0 ]; then
        return
    fi
    download busybox-static
    extract busybox-static
    bb="$CACHE/pkg/busybox-static/bin/busybox"
    [ -x "$bb" ] || die "busybox-static has no bin/busybox"
    stage="$CACHE/initrd.root"
    rm -rf "$stage"
    mkdir -p "$stage/bin" "$stage/dev" "$stage/proc" "$stage/sys" "$stage/tmp" "$stage/tests"
    cp "$bb" "$stage/bin/busybox"
    ln -s busybox "$stage/bin/sh"
    write_init "$stage/init"
    # The kernel opens /dev/console before /init runs; without the node the
    # early output of /init is lost.  mknod needs root; /init also remounts
    # /dev via devtmpfs and reopens the console, so this is a best effort.
    mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
    if [ -d "$CACHE/initrd-extra" ]; then
        cp -a "$CACHE/initrd-extra/." "$stage/"
    fi
    (cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
        gzip -9 >"$CACHE/initrd.gz.tmp"
    mv "$CACHE/initrd.gz.tmp" "$CACHE/initrd.gz"
    rm -rf "$stage"
    log "cache/initrd.gz built ($(wc -c <"$CACHE/initrd.gz") bytes)"
}

# The boot benchmark's initramfs: the kernel unpacks concatenated archives
# in order and a later file replaces an earlier one, so a small second
# archive swaps /init for the TSC reader and keeps everything else equal.
build_bench_initrd() {
    src="$ROOT/bench/keel-rdtsc.c"
    out="$CACHE/initrd-bench.gz"
    if [ -f "$out" ] && [ "$FORCE" -eq 0 ] && [ "$out" -nt "$CACHE/initrd.gz" ] &&
        [ "$out" -nt "$src" ]; then
        return
    fi
    command -v gcc >/dev/null 2>&1 || die "--bench needs gcc to build $src"
    # Private scratch space: two benchmark runs may build at the same time.
    work=$(mktemp -d "$CACHE/initrd-bench.XXXXXX") || die "mktemp failed"
    stage="$work/root"
    mkdir -p "$stage"
    gcc -static -O2 -nostdlib -ffreestanding -fno-pie -no-pie -fno-stack-protector \
        -Wall -Wextra -Werror -o "$stage/init" "$src" || { rm -rf "$work"; die "cannot build $src"; }
    write_init "$stage/init.sh"
    # Byte-identical rebuilds (fixed times, no inode numbers): the benchmark
    # counts the instructions that unpack this archive too.
    find "$stage" -exec touch -h -d @0 {} +
    (cd "$stage" && find . | LC_ALL=C sort |
        cpio -o -H newc --quiet -R 0:0 --reproducible) |
        gzip -9 -n >"$work/overlay.gz"
    cat "$CACHE/initrd.gz" "$work/overlay.gz" >"$work/initrd-bench.gz"
    mv "$work/initrd-bench.gz" "$out"
    rm -rf "$work"
    log "cache/initrd-bench.gz built ($(wc -c <"$out") bytes)"
}

ensure_lists
fetch_kernel
unpack_vmlinux
build_initrd
fetch_hwtools
[ "$WANT_BENCH" -eq 1 ] && build_bench_initrd
[ "$WANT_XEN" -eq 1 ] && fetch_xen
log "done: $(cd "$CACHE" && ls vmlinuz vmlinux initrd.gz initrd-bench.gz xen-4.17.elf 2>/dev/null | tr '\n' ' ')"
