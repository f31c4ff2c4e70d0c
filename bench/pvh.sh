#!/bin/sh
# PVH benchmarks (issue 11), Keel against Xen 4.17 in one run, under QEMU TCG
# with -icount (ticks = executed instructions) and -cpu qemu64,+svm,+npt.
# Not a test: nothing is asserted.
#  1. From inside a PVH domU (the pvh test guest's "bench" area, built by
#     the mini toolstack in tests/guests/pvh): a null hypercall through the
#     hypercall page (VMMCALL), and an event round trip (EVTCHNOP_send to
#     itself -> the callback vector's handler ran); mean ticks over 2000.
#  2. Debian's xl in a Linux dom0: `xl create` of a PVH domU (256 MiB,
#     2 vCPUs) until its /init runs, and of a PV one in the same boot
#     (tests/toolstack/bench-pvh.sh).  Needs the userland branch's dom0
#     initramfs and helpers (cache/initrd-dom0.gz, tests/toolstack/lib.sh);
#     skipped without them.
#   bench/pvh.sh [micro] [xl]      (default: both)
# Environment: BUILD, XEN, KEEL, ICOUNT, RTC (as bench/run.sh), TIMEOUT
# per boot (micro 300 s, xl 3600 s).
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
XEN=${XEN:-cache/xen-4.17.elf}
KEEL=${KEEL:-$BUILD/keel}
ICOUNT=${ICOUNT:-shift=0,sleep=off}
RTC=${RTC:-base=2026-01-01T00:00:00,clock=vm}
CPU=qemu64,+svm,+npt
LOGS=$BUILD/bench
WHAT=${*:-micro xl}
mkdir -p "$LOGS"

# boot SYSTEM LOG TIMEOUT MEM SMP HVARGS INITRD-ARG STOP-REGEX
boot() {
    case $1 in
    xen) hv=$XEN; args=$6; extra="" ;;
    keel) hv=$KEEL; args="debug-exit $6"
        extra="-device isa-debug-exit,iobase=0xf4,iosize=4" ;;
    esac
    : >"$2"
    timeout "$3" qemu-system-x86_64 -accel tcg -cpu "$CPU" -m "$4" -smp "$5" \
        -nographic -no-reboot -monitor none -serial stdio -nic none \
        -icount "$ICOUNT" -rtc "$RTC" $extra -kernel "$hv" -append "$args" \
        -initrd "$7" </dev/null >"$2" 2>&1 &
    qpid=$!
    while kill -0 "$qpid" 2>/dev/null; do
        if grep -qaE "$8|Keel halted|Panic on CPU|Dom0 (halted|crashed)" "$2"; then
            sleep 2
            kill "$qpid" 2>/dev/null
            break
        fi
        sleep 2
    done
    wait "$qpid" 2>/dev/null
}

ratio() {
    if [ -n "$1" ] && [ -n "$2" ] && [ "$2" -gt 0 ] 2>/dev/null; then
        awk -v k="$1" -v x="$2" 'BEGIN { printf "%.2f", k / x }'
    else
        echo -
    fi
}

micro() {
    make -s "$BUILD/guests/pvh.elf" BUILD="$BUILD" >/dev/null || { echo "cannot build the pvh guest"; return; }
    for s in xen keel; do
        boot $s "$LOGS/pvh-micro-$s.log" "${TIMEOUT:-300}" 512 1 "console=com1 dom0_mem=64M" \
            "$BUILD/guests/pvh.elf bench" '^TEST pvh: '
    done
    printf '%-22s %14s %14s %8s\n' BENCH xen keel keel/xen
    for k in "null hypercall" "event round trip"; do
        x=$(grep -a '^pvh bench:' "$LOGS/pvh-micro-xen.log" | tr -d '\r' | sed -n "s/.*$k \([0-9]*\) ticks.*/\1/p")
        y=$(grep -a '^pvh bench:' "$LOGS/pvh-micro-keel.log" | tr -d '\r' | sed -n "s/.*$k \([0-9]*\) ticks.*/\1/p")
        printf '%-22s %14s %14s %8s\n' "$k" "${x:--}" "${y:--}" "$(ratio "$y" "$x")"
    done
}

xl_bench() {
    if [ ! -f cache/initrd-dom0.gz ] || [ ! -f tests/toolstack/lib.sh ]; then
        echo "xl: skipped (needs the userland branch: cache/initrd-dom0.gz, tests/toolstack/lib.sh)"
        return
    fi
    tmp=$(mktemp -d)
    mkdir -p "$tmp/tests/toolstack"
    cp tests/toolstack/lib.sh tests/toolstack/bench-pvh.sh "$tmp/tests/toolstack/"
    (cd "$tmp" && find . | cpio -o -H newc 2>/dev/null | gzip) >"$tmp/extra.gz"
    cat cache/initrd-dom0.gz "$tmp/extra.gz" >"$LOGS/initrd-pvh-bench.gz"
    rm -rf "$tmp"
    for s in xen keel; do
        boot $s "$LOGS/pvh-xl-$s.log" "${TIMEOUT:-3600}" 2048 2 \
            "console=com1 dom0_mem=1024M dom0_max_vcpus=2" \
            "cache/vmlinuz console=hvc0 quiet KEEL_TEST=/tests/toolstack/bench-pvh.sh,$LOGS/initrd-pvh-bench.gz" \
            'BENCH: (done|error)|KEEL-INIT: test exit|Kernel panic'
    done
    printf '%-22s %14s %14s %8s\n' BENCH xen keel keel/xen
    for k in pvh_create_to_init pvh_create_cmd pvh_destroy pv_create_to_init; do
        x=$(grep -a "^BENCH: $k " "$LOGS/pvh-xl-xen.log" | tr -d '\r' | awk '{ print $3 }')
        y=$(grep -a "^BENCH: $k " "$LOGS/pvh-xl-keel.log" | tr -d '\r' | awk '{ print $3 }')
        printf '%-22s %14s %14s %8s\n' "$k" "${x:--}" "${y:--}" "$(ratio "$y" "$x")"
    done
}

for w in $WHAT; do
    case $w in
    micro) micro ;;
    xl) xl_bench ;;
    esac
done
echo "(ticks, qemu -cpu $CPU -icount $ICOUNT; logs in $LOGS/)"
