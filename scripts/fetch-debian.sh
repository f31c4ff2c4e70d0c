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
#   cache/initrd-dom0.gz (--toolstack) dom0 with Debian's Xen 4.17 userland:
#                        xen-utils-4.17 (xl, C xenstored, xenconsoled),
#                        xen-utils-common, xenstore-utils, what the hotplug
#                        scripts run (bash, ip/bridge, losetup, flock, logger,
#                        mke2fs, stat, readlink), the shared libraries all of
#                        them need, the kernel's Xen backend/bridge/loop/ext4
#                        modules, /boot/vmlinuz and /boot/initrd-domu.gz for
#                        domUs, sample xl configs in /etc/xen; its /init is
#                        tests/toolstack/dom0/init (starts the daemons)
#   cache/initrd-domu.gz (--toolstack) busybox domU: /init is
#                        bench/keel-rdtsc.c (prints BOOT-TSC), then
#                        tests/toolstack/domu/init.sh; xenstore-read with its
#                        libraries, xen-blkfront/netfront and ext4 modules
#   cache/pkg/e2fsprogs, ...   mke2fs and the libraries it needs (the hardware
#                        scenario copies them into its initramfs: busybox's
#                        mke2fs makes only ext2)
#   cache/debs/, cache/pkg/<name>/   the .deb files and their dpkg -x trees
#
# The script is idempotent: what is already there is kept.  --force rebuilds
# the initramfs (downloads are still reused).  The toolstack initramfs are
# rebuilt by themselves when this script or the repository files they carry
# change (a checksum kept in cache/initrd-dom0.sum).
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
WANT_TOOLSTACK=0
FORCE=0

usage() {
    echo "usage: $0 [--xen] [--bench] [--toolstack] [--force]" >&2
    exit 2
}

for arg in "$@"; do
    case "$arg" in
    --xen) WANT_XEN=1 ;;
    --bench) WANT_BENCH=1 ;;
    --toolstack) WANT_TOOLSTACK=1 ;;
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

for tool in apt-get apt-cache dpkg dpkg-deb cpio gzip find cksum; do
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

# ---------------------------------------------------------------- toolstack
# Debian's Xen 4.17 userland in a busybox dom0 (issue 7) and a busybox domU.
# Which files come from which package is listed here; the shared libraries
# they need are not: stage_libs follows each ELF file's NEEDED entries and
# program interpreter to the package that ships them, searching only the
# Depends/Pre-Depends of the package the file came from (Section: libs).

# package:path-inside-the-package, one per word; directories are copied whole.
DOM0_FILES="
xen-utils-4.17:usr/lib/xen-4.17/bin
xen-utils-common:etc xen-utils-common:usr/lib/xen-common
xen-utils-common:usr/sbin xen-utils-common:usr/bin xen-utils-common:var
xenstore-utils:usr/bin
bash:bin/bash
iproute2:bin/ip iproute2:sbin/ip iproute2:sbin/bridge iproute2:etc/iproute2
util-linux:usr/bin/flock
mount:sbin/losetup
bsdutils:usr/bin/logger
e2fsprogs:sbin/mke2fs e2fsprogs:sbin/mkfs.ext4 e2fsprogs:sbin/e2fsck e2fsprogs:etc/mke2fs.conf
coreutils:bin/readlink coreutils:usr/bin/stat
"
DOMU_FILES="
xenstore-utils:usr/bin/xenstore-read xenstore-utils:usr/bin/xenstore-write
xenstore-utils:usr/bin/xenstore-ls
e2fsprogs:sbin/mke2fs e2fsprogs:sbin/mkfs.ext4 e2fsprogs:sbin/e2fsck e2fsprogs:etc/mke2fs.conf
"
# Libraries loaded with dlopen, which no NEEDED entry names: OWNER:SONAME.
# glibc loads libgcc_s for pthread_cancel (xl aborts at exit without it).
DOM0_DLOPEN="libc6:libgcc_s.so.1"
# Modules (their dependencies follow from modules.dep).  crc32c_generic is
# what ext4 asks the crypto API for; nothing in modules.dep says so.
DOM0_MODULES="xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-blkback
xen-netback loop bridge ext4 crc32c_generic"
DOMU_MODULES="xen-blkfront xen-netfront ext4 crc32c_generic"
# Busybox applets that must not exist in dom0: vif-bridge uses brctl
# whenever one is on PATH, and Debian's iproute2 should do that work.
DOM0_NO_APPLETS="brctl"
TOOLSTACK_SRC="tests/toolstack"

# PKG's dependencies (every alternative, no versions) that are libraries
# (Section: libs), from its downloaded .deb and one apt-cache query, kept
# in $work (apt-cache takes most of a second per call).
lib_deps() {
    memo="$work/libdeps.$1"
    if [ ! -f "$memo" ]; then
        deb=$(ls "$CACHE/debs/${1}_"*.deb | sort | tail -n 1)
        deps=$(dpkg-deb -f "$deb" Depends Pre-Depends | sed 's/^[A-Za-z-]*://' |
            sed 's/([^)]*)//g; s/[|,]/ /g; s/:any\b//g')
        if [ -n "$(echo $deps)" ]; then
            # Virtual names make apt-cache complain; the others still print.
            apt-cache show --no-all-versions $deps 2>/dev/null |
                awk '/^Package:/ { p = $2 } /^Section: libs$/ { print p }'
        fi >"$memo.tmp"
        mv "$memo.tmp" "$memo"
    fi
    cat "$memo"
}

is_elf() {
    [ -f "$1" ] && [ ! -L "$1" ] &&
        [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]
}

# stage_take STAGE PKG:PATH...: copies the paths (with their directories)
# and records every ELF file among them, with its package, in STAGE.elfs.
stage_take() {
    stage=$1
    shift
    for spec in "$@"; do
        pkg=${spec%%:*}
        path=${spec#*:}
        download "$pkg"
        extract "$pkg"
        [ -e "$CACHE/pkg/$pkg/$path" ] || [ -L "$CACHE/pkg/$pkg/$path" ] ||
            die "$pkg has no $path"
        (cd "$CACHE/pkg/$pkg" && cp -a --parents "$path" "$stage/") ||
            die "cannot copy $pkg:$path"
        (cd "$stage" && find "$path" -type f) | while read -r f; do
            if is_elf "$stage/$f"; then echo "$f $pkg"; fi
        done >>"$stage.elfs"
    done
}

# The library directories ld.so searches (Debian's multiarch layout).
have_lib() {
    for d in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu lib64 lib usr/lib; do
        if [ -e "$1/$d/$2" ] || [ -L "$1/$d/$2" ]; then return 0; fi
    done
    return 1
}

# copy_chain STAGE PKG PATH: a library and every symlink leading to it.
copy_chain() {
    path=$3
    while :; do
        (cd "$CACHE/pkg/$2" && cp -a --parents "$path" "$1/") || die "cannot copy $2:$path"
        [ -L "$CACHE/pkg/$2/$path" ] || break
        target=$(readlink "$CACHE/pkg/$2/$path")
        case "$target" in
        /*) path=${target#/} ;;
        *) path=$(cd "$CACHE/pkg/$2" &&
            realpath -m -s --relative-to=. "$(dirname "$path")/$target") ;;
        esac
    done
    echo "$path $2" >>"$1.elfs"
}

# find_provider STAGE WHAT OWNER FILE: WHAT is a soname (searched in the
# library directories) or an absolute path (the program interpreter); the
# package must be among OWNER's dependencies.
find_provider() {
    for dep in $(lib_deps "$3"); do
        download "$dep"
        extract "$dep"
        case "$2" in
        /*) if [ -e "$CACHE/pkg/$dep$2" ] || [ -L "$CACHE/pkg/$dep$2" ]; then
                copy_chain "$1" "$dep" "${2#/}"
                return
            fi ;;
        *) hit=$(cd "$CACHE/pkg/$dep" && find lib usr/lib lib64 -name "$2" \
                \( -type f -o -type l \) 2>/dev/null | head -n 1)
            if [ -n "$hit" ]; then
                copy_chain "$1" "$dep" "$hit"
                return
            fi ;;
        esac
    done
    die "$4 (from $3) needs $2, which none of $3's library dependencies ships"
}

# stage_libs STAGE: the NEEDED closure of every ELF file recorded so far.
stage_libs() {
    i=1
    while :; do
        line=$(sed -n "${i}p" "$1.elfs")
        [ -n "$line" ] || break
        f=${line% *}
        owner=${line##* }
        interp=$(readelf -l "$1/$f" 2>/dev/null |
            sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
        if [ -n "$interp" ] && [ ! -e "$1$interp" ] && [ ! -L "$1$interp" ]; then
            find_provider "$1" "$interp" "$owner" "$f"
        fi
        for so in $(objdump -p "$1/$f" | awk '$1 == "NEEDED" { print $2 }'); do
            have_lib "$1" "$so" || find_provider "$1" "$so" "$owner" "$f"
        done
        i=$((i + 1))
    done
}

# stage_modules STAGE MODULE...: the modules and their dependencies from
# the kernel package, with a modules.dep (and aliases) made for them.
stage_modules() {
    stage=$1
    shift
    bb="$CACHE/pkg/busybox-static/bin/busybox"
    kroot="$CACHE/pkg/$kpkg"
    kver=$(ls "$kroot/lib/modules" | head -n 1)
    kmods="$kroot/lib/modules/$kver"
    # The package has no modules.dep; busybox's depmod writes one.
    [ -f "$kmods/modules.dep" ] || "$bb" depmod -b "$kroot" "$kver" ||
        die "depmod on $kpkg failed"
    want=""
    for m in "$@"; do
        m=$(echo "$m" | tr _ -)
        line=$(tr _ - <"$kmods/modules.dep" | grep -n "/$m\.ko:" | head -n 1 | cut -d: -f1)
        [ -n "$line" ] || die "module $m not in $kpkg"
        want="$want $(sed -n "${line}p" "$kmods/modules.dep" | tr -d :)"
    done
    # Each line lists a module's whole dependency chain.
    mkdir -p "$stage/lib/modules/$kver"
    for f in $want; do
        (cd "$kmods" && cp --parents "$f" "$stage/lib/modules/$kver/") || die "no $f"
    done
    cp "$kmods/modules.builtin" "$kmods/modules.order" "$stage/lib/modules/$kver/"
    "$bb" depmod -b "$stage" "$kver" || die "depmod on the initramfs failed"
}

# stage_busybox STAGE [NO-APPLET...]: busybox and its applet links, except
# where a Debian program of that name exists in any PATH directory.
stage_busybox() {
    stage=$1
    shift
    bb="$CACHE/pkg/busybox-static/bin/busybox"
    mkdir -p "$stage/bin" "$stage/sbin" "$stage/usr/bin" "$stage/usr/sbin"
    cp "$bb" "$stage/bin/busybox"
    for path in $("$bb" --list-full); do
        name=${path##*/}
        case " $* " in *" $name "*) continue ;; esac
        taken=0
        for d in bin sbin usr/bin usr/sbin; do
            if [ -e "$stage/$d/$name" ] || [ -L "$stage/$d/$name" ]; then taken=1; fi
        done
        [ "$taken" -eq 0 ] && ln -s /bin/busybox "$stage/$path"
    done
    [ -e "$stage/bin/sh" ] || ln -s busybox "$stage/bin/sh"
}

# build_tool NAME OUT: one of tests/toolstack/tools/NAME.c, no libc.
build_tool() {
    command -v gcc >/dev/null 2>&1 || die "--toolstack needs gcc to build $1"
    gcc -static -O2 -nostdlib -ffreestanding -fno-pie -no-pie -fno-stack-protector \
        -Wall -Wextra -Werror -o "$2" "$ROOT/$TOOLSTACK_SRC/tools/$1.c" ||
        die "cannot build $TOOLSTACK_SRC/tools/$1.c"
}

pack_stage() {
    # Fixed times: a rebuild of the same inputs gives the same archive.
    find "$1" -exec touch -h -d @0 {} +
    (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 --reproducible) |
        gzip -6 -n >"$2.tmp"
    mv "$2.tmp" "$2"
}

build_domu_initrd() {
    out="$CACHE/initrd-domu.gz"
    stage="$work/domu"
    mkdir -p "$stage/dev" "$stage/proc" "$stage/sys" "$stage/tmp" "$stage/run" "$stage/mnt"
    : >"$stage.elfs"
    # Debian's files first: busybox links only go where no file is.
    stage_take "$stage" $DOMU_FILES
    stage_libs "$stage"
    stage_busybox "$stage"
    stage_modules "$stage" $DOMU_MODULES
    gcc -static -O2 -nostdlib -ffreestanding -fno-pie -no-pie -fno-stack-protector \
        -Wall -Wextra -Werror -o "$stage/init" "$ROOT/bench/keel-rdtsc.c" ||
        die "cannot build bench/keel-rdtsc.c"
    cp -a "$ROOT/$TOOLSTACK_SRC/domu/." "$stage/"
    mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
    pack_stage "$stage" "$out"
    log "cache/initrd-domu.gz built ($(wc -c <"$out") bytes)"
}

build_dom0_initrd() {
    out="$CACHE/initrd-dom0.gz"
    stage="$work/dom0"
    mkdir -p "$stage/dev" "$stage/proc" "$stage/sys" "$stage/tmp" "$stage/run" \
        "$stage/boot" "$stage/var/lib/keel" "$stage/usr/lib/keel"
    : >"$stage.elfs"
    stage_take "$stage" $DOM0_FILES
    stage_libs "$stage"
    for spec in $DOM0_DLOPEN; do
        have_lib "$stage" "${spec#*:}" ||
            find_provider "$stage" "${spec#*:}" "${spec%%:*}" "dlopen"
    done
    stage_libs "$stage"
    stage_busybox "$stage" $DOM0_NO_APPLETS
    stage_modules "$stage" $DOM0_MODULES
    build_tool keel-seedrng "$stage/usr/lib/keel/keel-seedrng"
    build_tool keel-tsc "$stage/usr/bin/keel-tsc"
    build_tool keel-cputime "$stage/usr/bin/keel-cputime"
    build_tool keel-pingpong "$stage/usr/bin/keel-pingpong"
    # The seed a Debian system would have saved at its last shutdown.
    head -c 512 /dev/urandom >"$stage/var/lib/keel/random-seed"
    cp "$CACHE/vmlinuz" "$stage/boot/vmlinuz"
    # The same kernel unpacked (ELF): xl loads it without libxenguest's XZ
    # decoding, which is half the work of a create.  Long create loops use it.
    if [ -f "$CACHE/vmlinux" ]; then cp "$CACHE/vmlinux" "$stage/boot/vmlinux"; fi
    cp "$CACHE/initrd-domu.gz" "$stage/boot/initrd-domu.gz"
    cp -a "$ROOT/$TOOLSTACK_SRC/dom0/." "$stage/"
    cp "$ROOT/$TOOLSTACK_SRC/"*.cfg "$stage/etc/xen/"
    mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
    pack_stage "$stage" "$out"
    log "cache/initrd-dom0.gz built ($(wc -c <"$out") bytes)"
}

# What the two archives are made from: this script, the repository files
# they carry, the kernel package.  A change rebuilds them.  (The test
# scripts are not in them: tests/system/testdata.py appends those.)
toolstack_sum() {
    (cat "$0" "$ROOT/bench/keel-rdtsc.c" "$CACHE/vmlinuz.pkg"
        [ -f "$CACHE/vmlinux" ] && echo vmlinux
        cd "$ROOT" && find "$TOOLSTACK_SRC/dom0" "$TOOLSTACK_SRC/domu" "$TOOLSTACK_SRC/tools" \
            "$TOOLSTACK_SRC"/*.cfg -type f | LC_ALL=C sort |
            while read -r f; do echo "$f"; cat "$f"; done) | cksum
}

build_toolstack() {
    sum=$(toolstack_sum)
    if [ "$FORCE" -eq 0 ] && [ -f "$CACHE/initrd-dom0.gz" ] && [ -f "$CACHE/initrd-domu.gz" ] &&
        [ "$(cat "$CACHE/initrd-dom0.sum" 2>/dev/null)" = "$sum" ]; then
        return
    fi
    for tool in objdump readelf gcc; do
        command -v "$tool" >/dev/null 2>&1 || die "--toolstack needs '$tool' (run scripts/deps.sh)"
    done
    download busybox-static
    extract busybox-static
    work=$(mktemp -d "$CACHE/toolstack.XXXXXX") || die "mktemp failed"
    build_domu_initrd
    build_dom0_initrd
    rm -rf "$work"
    echo "$sum" >"$CACHE/initrd-dom0.sum"
}

ensure_lists
fetch_kernel
unpack_vmlinux
build_initrd
fetch_hwtools
[ "$WANT_BENCH" -eq 1 ] && build_bench_initrd
[ "$WANT_XEN" -eq 1 ] && fetch_xen
[ "$WANT_TOOLSTACK" -eq 1 ] && build_toolstack
log "done: $(cd "$CACHE" && ls vmlinuz vmlinux initrd.gz initrd-bench.gz initrd-dom0.gz \
    initrd-domu.gz xen-4.17.elf 2>/dev/null | tr '\n' ' ')"
