#!/bin/sh
# Split-driver benchmark (issue 8): Linux's blkback and netback in the
# toolstack dom0 serving one PV domU's blkfront and netfront, on Xen 4.17
# and on Keel, both booted at once under QEMU TCG with -icount (guest time
# counts executed instructions: the figures do not depend on the host's
# load, so the two boots may share the host).  The dom0 side is
# tests/toolstack/bench-splitdrv.sh: 256 MiB direct write and read of xvda
# (dd with 1 MiB blocks) and 256 MiB over TCP (busybox nc) each way
# between dom0 and the domU, in dom0 TSC ticks.  Not a test: nothing is
# asserted.
#   bench/splitdrv.sh [xen] [keel]       (default: both)
# Keel is skipped with KEEL_SPLITDRV=0 (the gate of the splitdrv scenarios).
# Environment: BUILD (build), XEN (cache/xen-4.17.elf), KEEL ($BUILD/keel),
#   MB (256), ICOUNT (shift=0,sleep=off), RTC (base=2026-01-01T00:00:00,
#   clock=vm), TIMEOUT per boot in seconds (3600), REUSE=1 (take a system's
#   figures from its last complete log in $BUILD/bench instead of booting).
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
CACHE=${KEEL_CACHE:-cache}
XEN=${XEN:-$CACHE/xen-4.17.elf}
KEEL=${KEEL:-$BUILD/keel}
KERNEL=$CACHE/vmlinuz
MB=${MB:-256}
ICOUNT=${ICOUNT:-shift=0,sleep=off}
RTC=${RTC:-base=2026-01-01T00:00:00,clock=vm}
TIMEOUT=${TIMEOUT:-3600}
LOGS=$BUILD/bench
HV_ARGS="console=com1 dom0_mem=1024M dom0_max_vcpus=2"
DOM0_ARGS="console=hvc0 quiet KEEL_TEST=/tests/toolstack/bench-splitdrv.sh keel_mb=$MB"
SYSTEMS=${*:-xen keel}
mkdir -p "$LOGS"

. bench/toolstack-lib.sh
BENCH_END='BENCH: done'
bench_inputs bench/splitdrv.sh

pids=""
for sys in $SYSTEMS; do
    case $sys in
    xen | keel) ;;
    *) echo "bench/splitdrv.sh: unknown system '$sys' (xen, keel)" >&2; exit 2 ;;
    esac
    log=$LOGS/splitdrv-$sys.log
    eval "log_$sys=\$log"
    if [ "$sys" = keel ] && [ "${KEEL_SPLITDRV:-}" = 0 ]; then
        echo "skipped: KEEL_SPLITDRV=0" >"$log"
        continue
    fi
    eval "hvfile=\$$(echo "$sys" | tr a-z A-Z)"
    if [ ! -f "$hvfile" ]; then
        echo "missing $hvfile" >"$log"
        continue
    fi
    if [ "${REUSE:-}" = 1 ] && grep -qa 'BENCH: done' "$log" 2>/dev/null; then
        echo "($sys: figures from the earlier run in $log)"
        continue
    fi
    (start=$(date +%s); boot "$sys" "$log"
        echo "($sys: $(($(date +%s) - start)) s of wall time; console in $log)") &
    pids="$pids $!"
done
[ -z "$pids" ] || wait $pids

echo "PV domU (128 MiB, 2 vCPUs) <-> toolstack dom0 (2 vCPUs, 1 GiB): blkback on a loop"
echo "device over a file in dom0's memory, netback on xenbr0; $MB MiB each; dom0 TSC ticks,"
echo "qemu -icount $ICOUNT, -cpu qemu64 -smp 2 -m 2048"
printf '%-18s %12s %12s %11s %11s %9s\n' "" "Xen" "Keel" "Xen/MiB" "Keel/MiB" "Keel/Xen"
fmt() { [ -n "$1" ] && awk -v v="$1" 'BEGIN { printf "%.3e", v }' || echo -; }
per() { [ -n "$1" ] && awk -v v="$1" -v m="$MB" 'BEGIN { printf "%.3e", v / m }' || echo -; }
for key in disk_write disk_read tcp_dom0_to_domu tcp_domu_to_dom0; do
    x=$(value xen "$key")
    k=$(value keel "$key")
    r=-
    [ -n "$x" ] && [ -n "$k" ] && r=$(awk -v a="$k" -v b="$x" 'BEGIN { printf "%.3f", a / b }')
    printf '%-18s %12s %12s %11s %11s %9s\n' "$key" "$(fmt "$x")" "$(fmt "$k")" \
        "$(per "$x")" "$(per "$k")" "$r"
done
for sys in $SYSTEMS; do
    eval "log=\${log_$sys:-/dev/null}"
    grep -aE 'BENCH: error|TOOLSTACK:   ' "$log" 2>/dev/null | tr -d '\r' | sed "s/^/$sys: /"
    if ! grep -qa 'BENCH: done' "$log" 2>/dev/null; then
        echo "$sys: did not finish (last line: $(tr -d '\r' <"$log" | grep -a . | tail -n 1 | cut -c1-100))"
    fi
done
exit 0
