#!/bin/sh
# Memory-management benchmark (issue 13): fork, clone, threads, mmap,
# mremap, mprotect (also as a TLB shootdown to a second vCPU) and a
# page-fault loop in Debian's Linux, natively (1 CPU), as dom0 of Xen 4.17
# and as dom0 of Keel, under QEMU TCG with -icount shift=0,sleep=off
# (ticks count guest instructions: host load does not matter).
# bench/keel-mmbench.c does the work and reads the TSC around each row.
# The one-CPU rows run with one vCPU (-smp 1); mprotect2 needs a second
# vCPU, so each hypervisor boots a second time with -smp 2 for it (native
# Linux does not get past SMP bring-up with 2 CPUs under -icount here).
# Not a test: nothing is asserted.  Prints ticks per operation with
# Keel/Xen and Keel/native; consoles in build/bench/mm-*.log.
#   bench/mm.sh
# Environment: BUILD, XEN, KEEL, KERNEL, ICOUNT, ONLY ("native xen keel"),
#   ROWS (all rows), SCALE (operation counts x SCALE/100; 100),
#   KEEL_ARGS (extra Keel options), TIMEOUT per boot in seconds (1800),
#   LOGS (output directory; build/bench), QEMU_EXTRA (more QEMU options,
#   e.g. a profiling -plugin: see bench/README.md).
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
CACHE=${KEEL_CACHE:-cache}
XEN=${XEN:-$CACHE/xen-4.17.elf}
KEEL=${KEEL:-$BUILD/keel}
KERNEL=${KERNEL:-$CACHE/vmlinuz}
ICOUNT=${ICOUNT:-shift=0,sleep=off}
RTC=${RTC:-base=2026-01-01T00:00:00,clock=vm}
ONLY=${ONLY:-native xen keel}
SCALE=${SCALE:-100}
KEEL_ARGS=${KEEL_ARGS:-}
TIMEOUT=${TIMEOUT:-1800}
LOGS=${LOGS:-$BUILD/bench}
QEMU_EXTRA=${QEMU_EXTRA:-}
mkdir -p "$LOGS"

# Row, operations at SCALE=100, vCPUs it needs.
ROWTABLE="fork 100 1
clone 200 1
thread 400 1
mmap 200 1
mremap 100 1
mprotect 1000 1
vm 50 1
mprotect2 1000 2"
ROWS=${ROWS:-$(echo "$ROWTABLE" | awk '{print $1}')}

scripts/fetch-debian.sh --xen >"$LOGS/fetch.log" 2>&1 || {
    echo "bench/mm.sh: scripts/fetch-debian.sh --xen failed" >&2
    exit 2
}

gcc -static -O2 -nostdlib -ffreestanding -fno-stack-protector -fno-pie -no-pie \
    -Wall -Wextra -Werror -o "$LOGS/keel-mmbench" bench/keel-mmbench.c || exit 2

# rows_for CPUS: "row count" lines of the selected rows needing that many.
rows_for() {
    echo "$ROWTABLE" | while read -r name count cpus; do
        for r in $ROWS; do
            [ "$r" = "$name" ] && [ "$cpus" = "$1" ] &&
                echo "$name $((count * SCALE / 100))"
        done
    done
}

# initrd CPUS: the test initramfs plus the program and a script running
# the rows for that many CPUs.
initrd() {
    rows_for "$1" >"$LOGS/mm-rows-$1"
    python3 - "$LOGS" "$1" <<'EOF' || exit 2
import gzip, sys
sys.path.insert(0, "tests/system")
import testdata
logs, cpus = sys.argv[1], sys.argv[2]
rows = [l.split() for l in open(f"{logs}/mm-rows-{cpus}") if l.strip()]
script = "#!/bin/sh\n" + "".join(f"/mmbench {r} {n}\n" for r, n in rows) + \
    "echo \"MMBENCH done\"\n"
recs, dirs, ino = [], set(), [7000]
testdata._file_newc(recs, dirs, ino, "mmbench", open(f"{logs}/keel-mmbench", "rb").read(),
                    0o100755)
testdata._file_newc(recs, dirs, ino, "bench-mm.sh", script.encode(), 0o100755)
body = b"".join(recs) + testdata._newc("TRAILER!!!", b"", 0, 0)
base = open("cache/initrd.gz", "rb").read()
open(f"{logs}/initrd-mm-{cpus}.gz", "wb").write(base + gzip.compress(body, mtime=0))
EOF
}
initrd 1
initrd 2

LINUX_ARGS="quiet panic=-1 KEEL_TEST=/bench-mm.sh"

# boot NAME CPUS KERNEL APPEND INITRD: until "MMBENCH done" or a dead end.
boot() {
    log=$LOGS/mm-$1.log
    : >"$log"
    [ -s "$LOGS/mm-rows-$2" ] || return 0
    timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu qemu64 -m 1024 -smp "$2" \
        -nographic -no-reboot -monitor none -serial stdio -nic none \
        -icount "$ICOUNT" -rtc "$RTC" $QEMU_EXTRA -kernel "$3" -append "$4" -initrd "$5" \
        </dev/null >"$log" 2>&1 &
    qpid=$!
    while kill -0 "$qpid" 2>/dev/null; do
        if grep -qaE 'MMBENCH (done|error)|Kernel panic|Keel halted|[Pp]anic on CPU' "$log"; then
            sleep 1
            kill "$qpid" 2>/dev/null
            break
        fi
        sleep 2
    done
    wait "$qpid" 2>/dev/null
}

for sys in $ONLY; do
    for cpus in 1 2; do
        hv="console=com1 dom0_mem=512M dom0_max_vcpus=$cpus"
        case $sys in
        native) [ "$cpus" = 1 ] &&
                boot native 1 "$KERNEL" "console=ttyS0 $LINUX_ARGS" "$LOGS/initrd-mm-1.gz" ;;
        xen) boot xen$cpus "$cpus" "$XEN" "$hv" \
                 "$KERNEL console=hvc0 $LINUX_ARGS,$LOGS/initrd-mm-$cpus.gz" ;;
        keel) boot keel$cpus "$cpus" "$KEEL" "debug-exit $hv $KEEL_ARGS" \
                  "$KERNEL console=hvc0 $LINUX_ARGS,$LOGS/initrd-mm-$cpus.gz" ;;
        esac
    done
done

# value SYS ROW: ticks per operation (one decimal) on that system; the
# 2-vCPU rows come from the second boot (native: the one-CPU boot).
value() {
    # Native Linux has one CPU: its mprotect2 is the one-CPU mprotect.
    [ "$1" = native ] && [ "$2" = mprotect2 ] && set -- native mprotect
    for log in "$LOGS/mm-$1.log" "$LOGS/mm-${1}1.log" "$LOGS/mm-${1}2.log"; do
        [ -f "$log" ] || continue
        grep -aoE "MMBENCH $2 n [0-9]+ ticks [0-9]+" "$log" |
            awk '{ if ($4 > 0) printf "%.1f\n", $6 / $4 }'
    done | head -n 1
}

ratio() {
    [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' || echo "-"
}

echo "ticks per operation (qemu -icount $ICOUNT, -cpu qemu64; mprotect2: 2 vCPUs)"
printf '%-10s %8s %12s %12s %12s %9s %11s %10s\n' row ops native xen keel keel/xen keel/native \
    xen/native
for row in $ROWS; do
    ops=$(grep -E "^$row " "$LOGS/mm-rows-1" "$LOGS/mm-rows-2" 2>/dev/null | awk '{print $2}' | head -n 1)
    n=$(value native "$row")
    x=$(value xen "$row")
    k=$(value keel "$row")
    printf '%-10s %8s %12s %12s %12s %9s %11s %10s\n' "$row" "${ops:--}" "${n:--}" "${x:--}" \
        "${k:--}" "$(ratio "$k" "$x")" "$(ratio "$k" "$n")" "$(ratio "$x" "$n")"
done
for log in native xen1 xen2 keel1 keel2; do
    f=$LOGS/mm-$log.log
    [ -s "$f" ] || continue
    grep -qa 'MMBENCH done' "$f" ||
        echo "$log: did not finish ($(grep -aE 'MMBENCH error|Kernel panic|Keel halted' "$f" | head -n 1))"
done
