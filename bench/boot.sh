#!/bin/sh
# Boot-to-/init benchmark (issue 4): the same Debian kernel and initramfs
# booted natively (QEMU -kernel), as dom0 of Xen 4.17, and as dom0 of Keel,
# each under QEMU TCG with -icount (guest time counts executed
# instructions, so the numbers do not depend on host load).  The
# initramfs's /init is bench/keel-rdtsc.c: its first instruction reads the
# TSC and it prints "BOOT-TSC <ticks>"; that value, ticks since QEMU's
# reset, is the result.  Not a test: nothing is asserted.  A system that
# does not reach /init is reported with the last line of its console.
#   bench/boot.sh           (or: make bench)
# Environment: BUILD (build), XEN (cache/xen-4.17.elf), KEEL ($BUILD/keel),
#   KERNEL (cache/vmlinuz, the same bzImage for all three; KEEL_KERNEL
#   overrides Keel's, e.g. cache/vmlinux, the unpacked ELF),
#   ICOUNT (shift=0,sleep=off; see bench/README.md), RUNS (1: boots per
#   system; with more, every value is printed and the spread reported),
#   ONLY (e.g. "native xen": a subset), TIMEOUT per boot in seconds (300).
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
CACHE=${KEEL_CACHE:-cache}
XEN=${XEN:-$CACHE/xen-4.17.elf}
KEEL=${KEEL:-$BUILD/keel}
KERNEL=${KERNEL:-$CACHE/vmlinuz}
KEEL_KERNEL=${KEEL_KERNEL:-$KERNEL}
INITRD=$CACHE/initrd-bench.gz
ICOUNT=${ICOUNT:-shift=0,sleep=off}
RTC=${RTC:-base=2026-01-01T00:00:00,clock=vm}
RUNS=${RUNS:-1}
ONLY=${ONLY:-native xen keel}
TIMEOUT=${TIMEOUT:-300}
LOGS=$BUILD/bench
LINUX_ARGS="quiet panic=-1"
HV_ARGS="console=com1 dom0_mem=512M"
mkdir -p "$LOGS"

# Builds (or keeps, it is idempotent) the benchmark initramfs and Xen.
scripts/fetch-debian.sh --bench --xen >"$LOGS/fetch.log" 2>&1 || {
    echo "bench/boot.sh: scripts/fetch-debian.sh --bench --xen failed:" >&2
    tail -n 5 "$LOGS/fetch.log" >&2
    exit 2
}

# boot LOG KERNEL APPEND INITRD-SPEC EXTRA-QEMU-ARGS: boots until the
# BOOT-TSC line or a dead end, then stops QEMU (Xen halts instead of
# powering off); prints the ticks, or nothing.
boot() {
    log=$1
    : >"$log"
    timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu qemu64 -m 1024 -smp 1 \
        -nographic -no-reboot -monitor none -serial stdio -nic none \
        -icount "$ICOUNT" -rtc "$RTC" $5 -kernel "$2" -append "$3" -initrd "$4" \
        </dev/null >"$log" 2>&1 &
    qpid=$!
    while kill -0 "$qpid" 2>/dev/null; do
        if grep -qaE 'BOOT-TSC [0-9]+|Kernel panic|Keel halted|[Pp]anic on CPU|Dom0 (halted|crashed)' "$log"; then
            sleep 1
            kill "$qpid" 2>/dev/null
            break
        fi
        sleep 1
    done
    wait "$qpid" 2>/dev/null
    grep -aoE 'BOOT-TSC [0-9]+' "$log" | head -n 1 | cut -d' ' -f2
}

# The console log's printable lines, without QEMU's own messages.
console_lines() {
    tr -d '\r' <"$1" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' | grep -a '[[:graph:]]' |
        grep -av '^qemu-system-x86_64: terminating' | cut -c1-120
}

# "last line: ..." and, when one precedes it, the first line that reports an
# error (the last line is often only the exit status).
why_stopped() {
    last=$(console_lines "$1" | tail -n 1)
    first_err=$(console_lines "$1" | grep -aE '[Ee]xception|[Pp]anic([^=]|$)|[Cc]rash|[Ff]atal|BUG:|Oops' | head -n 1)
    if [ -n "$first_err" ] && [ "$first_err" != "$last" ]; then
        echo "last line: $last; first error: $first_err"
    else
        echo "last line: $last"
    fi
}

# run SYSTEM: RUNS boots; sets <system>_ticks (first run) and <system>_all.
run() {
    sys=$1
    case $sys in
    native)
        need="$KERNEL" ;;
    xen)
        need="$XEN $KERNEL" ;;
    keel)
        need="$KEEL $KEEL_KERNEL" ;;
    esac
    all=""
    for f in $need "$INITRD"; do
        [ -f "$f" ] || { eval "${sys}_why=\"missing $f\""; eval "${sys}_all=''"; return; }
    done
    i=1
    while [ "$i" -le "$RUNS" ]; do
        log=$LOGS/boot-$sys.$i.log
        case $sys in
        native) t=$(boot "$log" "$KERNEL" "console=ttyS0 $LINUX_ARGS" "$INITRD" "") ;;
        xen) t=$(boot "$log" "$XEN" "$HV_ARGS" \
            "$KERNEL console=hvc0 $LINUX_ARGS,$INITRD" "") ;;
        keel) t=$(boot "$log" "$KEEL" "debug-exit $HV_ARGS" \
            "$KEEL_KERNEL console=hvc0 $LINUX_ARGS,$INITRD" \
            "-device isa-debug-exit,iobase=0xf4,iosize=4") ;;
        esac
        if [ -z "$t" ]; then
            eval "${sys}_why=\"did not reach /init (\$(why_stopped \"\$log\"))\""
            break
        fi
        all="$all $t"
        i=$((i + 1))
    done
    eval "${sys}_all=\"\$all\""
}

native_all=""; xen_all=""; keel_all=""
for sys in $ONLY; do
    case $sys in
    native | xen | keel) run "$sys" ;;
    *) echo "bench/boot.sh: unknown system '$sys' in ONLY" >&2; exit 2 ;;
    esac
done

first() { set -- $1; echo "${1:-}"; }
native_ticks=$(first "$native_all")
xen_ticks=$(first "$xen_all")
keel_ticks=$(first "$keel_all")

echo "boot to /init, guest TSC ticks (qemu -icount $ICOUNT, -cpu qemu64, 1 vCPU, -m 1024)"
for sys in native xen keel; do
    case " $ONLY " in *" $sys "*) ;; *) continue ;; esac
    eval "all=\$${sys}_all; why=\${${sys}_why:-}"
    label=$(echo "$sys" | sed 's/^./\U&/')
    if [ -z "$all" ]; then
        printf '%-7s %s\n' "$label:" "$why"
        continue
    fi
    t=$(first "$all")
    line=$(printf '%-7s %12s  (%s)' "$label:" "$t" "$(awk -v t="$t" 'BEGIN { printf "%.3e", t }')")
    if [ "$RUNS" -gt 1 ]; then
        spread=$(echo $all | tr ' ' '\n' | awk 'NR == 1 || $1 < lo { lo = $1 }
            NR == 1 || $1 > hi { hi = $1 } END { printf "%.4f%%", (hi - lo) * 100 / lo }')
        line="$line  runs:$all  spread $spread"
        [ -n "$why" ] && line="$line  (then: $why)"
    fi
    echo "$line"
done

# ratio NAME A B: A/B to three places, or "-" when either is missing.
ratio() {
    if [ -n "$2" ] && [ -n "$3" ]; then
        awk -v a="$2" -v b="$3" -v n="$1" 'BEGIN { printf "%-12s %.3f\n", n ":", a / b }'
    else
        printf '%-12s %s\n' "$1:" "-"
    fi
}
ratio Keel/Xen "$keel_ticks" "$xen_ticks"
ratio Keel/native "$keel_ticks" "$native_ticks"
ratio Xen/native "$xen_ticks" "$native_ticks"
echo "(logs in $LOGS/boot-*.log)"
