# Sourced by the benchmarks that boot the toolstack dom0 on Xen 4.17 and on
# Keel under -icount (bench/toolstack.sh, bench/splitdrv.sh): fetching their
# inputs, one boot, and reading a figure back.  The caller sets BUILD, LOGS,
# XEN, KEEL, KERNEL, HV_ARGS, DOM0_ARGS, ICOUNT, RTC, TIMEOUT and BENCH_END
# (the console line that ends a boot, an extended regex).

# bench_inputs NAME: Xen, the toolstack initramfs and dom0's tests; sets INITRD.
bench_inputs() {
    scripts/fetch-debian.sh --xen --toolstack >"$LOGS/fetch.log" 2>&1 || {
        echo "$1: scripts/fetch-debian.sh --xen --toolstack failed:" >&2
        tail -n 5 "$LOGS/fetch.log" >&2
        exit 2
    }
    INITRD=$(python3 tests/system/testdata.py toolstack-initrd "$BUILD") || exit 2
}

# boot SYSTEM LOG: one boot until BENCH_END or a dead end.
boot() {
    case $1 in
    xen) hv=$XEN; args=$HV_ARGS; extra="" ;;
    keel) hv=$KEEL; args="debug-exit $HV_ARGS"
        extra="-device isa-debug-exit,iobase=0xf4,iosize=4" ;;
    esac
    : >"$2"
    timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu qemu64 -m 2048 -smp 2 \
        -nographic -no-reboot -monitor none -serial stdio -nic none \
        -icount "$ICOUNT" -rtc "$RTC" $extra -kernel "$hv" -append "$args" \
        -initrd "$KERNEL $DOM0_ARGS,$INITRD" </dev/null >"$2" 2>&1 &
    qpid=$!
    while kill -0 "$qpid" 2>/dev/null; do
        if grep -qaE "$BENCH_END|KEEL-INIT: test exit|Kernel panic|Keel halted|Panic on CPU|Dom0 (halted|crashed)" "$2"; then
            sleep 2
            kill "$qpid" 2>/dev/null
            break
        fi
        sleep 2
    done
    wait "$qpid" 2>/dev/null
}

# value SYSTEM KEY: the first "BENCH: KEY N" of that system's log (log_SYSTEM).
value() {
    eval "log=\${log_$1:-/dev/null}"
    grep -aoE "^BENCH: $2 [0-9-]+" "$log" 2>/dev/null | head -n 1 | cut -d' ' -f3
}
