#!/bin/sh
# Boots the benchmark guest (tests/guests/bench, built as
# $BUILD/guests/bench.elf) as dom0 on Xen 4.17 and on Keel, under QEMU with
# -icount shift=0 (one instruction = 1 ns of virtual time: the numbers are
# instruction counts in TSC ticks, repeatable and independent of host load),
# and prints both results and the ratio Keel/Xen.  Not a test: nothing is
# asserted.  A hypervisor that fails to run the guest is reported with the
# tail of its log, and the other one's numbers are still printed.
#   bench/run.sh            (or: make bench)
# Environment: BUILD (build), XEN (cache/xen-4.17.elf), KEEL ($BUILD/keel),
# TIMEOUT per boot in seconds (150), ICOUNT (shift=0,sleep=off) and RTC
# (base=2026-01-01T00:00:00,clock=vm): the same choices as bench/boot.sh,
# which make repeat runs agree exactly (bench/README.md).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
XEN=${XEN:-cache/xen-4.17.elf}
KEEL=${KEEL:-$BUILD/keel}
TIMEOUT=${TIMEOUT:-150}
ICOUNT=${ICOUNT:-shift=0,sleep=off}
RTC=${RTC:-base=2026-01-01T00:00:00,clock=vm}
GUEST=$BUILD/guests/bench.elf
LOGS=$BUILD/bench
HV_ARGS="console=com1 dom0_mem=64M"
mkdir -p "$LOGS"
make -s "$GUEST" BUILD="$BUILD" >/dev/null || { echo "cannot build $GUEST" >&2; exit 2; }

# run NAME KERNEL EXTRA-APPEND EXTRA-QEMU-ARGS: boots until the verdict line
# (Xen halts instead of powering off, so QEMU is stopped by us).
run() {
    log=$LOGS/$1.log
    : > "$log"
    if [ ! -f "$2" ]; then
        echo "no $2" > "$log"
        return 1
    fi
    timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu qemu64 -m 512 -smp 1 \
        -nographic -no-reboot -monitor none -serial stdio -icount "$ICOUNT" -rtc "$RTC" $4 \
        -kernel "$2" -append "$HV_ARGS $3" -initrd "$GUEST" \
        </dev/null >"$log" 2>&1 &
    qpid=$!
    while kill -0 "$qpid" 2>/dev/null; do
        grep -qaE '^TEST bench: |Keel halted|[Pp]anic|Dom0 (halted|crashed)' "$log" && { sleep 1; kill "$qpid" 2>/dev/null; break; }
        sleep 1
    done
    wait "$qpid" 2>/dev/null
    grep -qaE '^TEST bench: PASS' "$log"
}

# field LOG BENCHNAME KEY -> value or empty
field() {
    grep -a "^BENCH $2 " "$1" | tr -d '\r' | tr ' ' '\n' | sed -n "s/^$3=//p" | head -n1
}

xen_ok=0; keel_ok=0
run xen "$XEN" "" "" && xen_ok=1
run keel "$KEEL" "debug-exit" "-device isa-debug-exit,iobase=0xf4,iosize=4" && keel_ok=1

for hv in xen keel; do
    eval ok=\$${hv}_ok
    if [ "$ok" = 1 ]; then
        echo "$hv: ok"
    else
        echo "$hv run failed; got (tail of $LOGS/$hv.log):"
        tail -n 8 "$LOGS/$hv.log" | sed 's/^/    /'
    fi
done

printf '%-16s %12s %12s %12s %12s %8s\n' BENCH xen.min xen.median keel.min keel.median ratio
for b in null_hypercall evtchn_upcall timer_late; do
    xm=$(field "$LOGS/xen.log" $b min); xd=$(field "$LOGS/xen.log" $b median)
    km=$(field "$LOGS/keel.log" $b min); kd=$(field "$LOGS/keel.log" $b median)
    ratio=-
    if [ -n "$xd" ] && [ -n "$kd" ] && [ "$xd" -gt 0 ] 2>/dev/null; then
        ratio=$(awk -v k="$kd" -v x="$xd" 'BEGIN { printf "%.2f", k / x }')
    fi
    printf '%-16s %12s %12s %12s %12s %8s\n' $b "${xm:--}" "${xd:--}" \
        "${km:--}" "${kd:--}" "$ratio"
done
echo "(ticks, qemu -icount $ICOUNT; ratio = keel median / xen median; logs in $LOGS/)"
