#!/bin/sh
# Toolstack benchmark (issue 7): Debian's xl in the toolstack dom0 creating
# and destroying the tests' PV domU, on Xen 4.17 and on Keel, under QEMU TCG
# (GROUP=sched: the scheduling benchmark of issue 12 instead, both
# hypervisors booted with sched=credit2: tests/toolstack/bench-sched.sh)
# with -icount (guest time counts executed instructions: the figures do not
# depend on the host's load).  The dom0 side is tests/toolstack/bench.sh; it
# reads the TSC around each xl command (keel-tsc) and takes the domU's
# BOOT-TSC, printed by the first instruction of its /init.  Not a test:
# nothing is asserted.
#   bench/toolstack.sh [xen] [keel]       (default: both)
# Keel is left out with KEEL_TOOLSTACK=0 (the gate of the toolstack
# scenarios); otherwise, or when its dom0 does not get the toolstack up, its
# column says why.
# Environment: BUILD (build), XEN (cache/xen-4.17.elf), KEEL ($BUILD/keel),
#   DOM0_VCPUS (2), ICOUNT (shift=0,sleep=off), RTC (base=2026-01-01T00:00:00,
#   clock=vm), TIMEOUT per boot in seconds (3600), REUSE=1 (take a system's
#   figures from its last complete log in $BUILD/bench instead of booting).
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
CACHE=${KEEL_CACHE:-cache}
XEN=${XEN:-$CACHE/xen-4.17.elf}
KEEL=${KEEL:-$BUILD/keel}
KERNEL=$CACHE/vmlinuz
DOM0_VCPUS=${DOM0_VCPUS:-2}
ICOUNT=${ICOUNT:-shift=0,sleep=off}
RTC=${RTC:-base=2026-01-01T00:00:00,clock=vm}
TIMEOUT=${TIMEOUT:-3600}
LOGS=$BUILD/bench
GROUP=${GROUP:-toolstack}
HV_ARGS="console=com1 dom0_mem=1024M dom0_max_vcpus=$DOM0_VCPUS"
case $GROUP in
toolstack) SCRIPT=bench.sh
    KEYS="create_to_init create_cmd create_paused unpause_to_init destroy create_to_init_elf cycles10" ;;
sched) SCRIPT=bench-sched.sh HV_ARGS="$HV_ARGS sched=credit2"
    KEYS="wake_idle wake_hogs wake_hogs_rl0 switch_onecpu" ;;
*) echo "bench/toolstack.sh: unknown GROUP '$GROUP' (toolstack, sched)" >&2; exit 2 ;;
esac
DOM0_ARGS="console=hvc0 quiet KEEL_TEST=/tests/toolstack/$SCRIPT"
SYSTEMS=${*:-xen keel}
mkdir -p "$LOGS"

. bench/toolstack-lib.sh
BENCH_END='BENCH: (done|error)'
bench_inputs bench/toolstack.sh

for sys in $SYSTEMS; do
    case $sys in
    xen | keel) ;;
    *) echo "bench/toolstack.sh: unknown system '$sys' (xen, keel)" >&2; exit 2 ;;
    esac
    log=$LOGS/$GROUP-$sys.log
    eval "log_$sys=\$log"
    eval "why_$sys="
    if [ "$sys" = keel ] && [ "${KEEL_TOOLSTACK:-}" = 0 ]; then
        eval "why_$sys='skipped: KEEL_TOOLSTACK=0'"
        : >"$log"
        continue
    fi
    eval "hvfile=\$$(echo "$sys" | tr a-z A-Z)"
    if [ ! -f "$hvfile" ]; then
        eval "why_$sys='missing $hvfile'"
        : >"$log"
        continue
    fi
    if [ "${REUSE:-}" = 1 ] && grep -qa 'BENCH: done' "$log" 2>/dev/null; then
        echo "($sys: figures from the earlier run in $log)"
        continue
    fi
    start=$(date +%s)
    boot "$sys" "$log"
    echo "($sys: $(($(date +%s) - start)) s of wall time; console in $log)"
    if ! grep -qa 'BENCH: done' "$log"; then
        why=$(grep -aE 'BENCH: error|KEEL-DOM0: toolstack FAILED' "$log" | head -n 1 | tr -d '\r')
        [ -n "$why" ] || why="last line: $(tr -d '\r' <"$log" | grep -a . | tail -n 1 | cut -c1-100)"
        eval "why_$sys=\"did not finish (\$why)\""
    fi
done

case $GROUP in
toolstack) echo "xl on the toolstack dom0 ($DOM0_VCPUS vCPUs, 1 GiB), PV domU 128 MiB / 2 vCPUs;" ;;
sched) echo "credit2; dom0 ($DOM0_VCPUS vCPUs) ping-pong between its vCPUs, ticks per round; hogs: 1-vCPU PV domUs;" ;;
esac
echo "guest TSC ticks, qemu -icount $ICOUNT, -cpu qemu64 -smp 2 -m 2048"
printf '%-20s %14s %14s %9s\n' "" Xen Keel Keel/Xen
for key in $KEYS; do
    x=$(value xen "$key")
    k=$(value keel "$key")
    r=-
    [ -n "$x" ] && [ -n "$k" ] && r=$(awk -v a="$k" -v b="$x" 'BEGIN { printf "%.3f", a / b }')
    fmt() { [ -n "$1" ] && awk -v v="$1" 'BEGIN { printf "%.3e", v }' || echo -; }
    printf '%-20s %14s %14s %9s\n' "$key" "$(fmt "$x")" "$(fmt "$k")" "$r"
done
for sys in $SYSTEMS; do
    eval "why=\${why_$sys:-}"
    [ -n "$why" ] && echo "$sys: $why"
done
exit 0
