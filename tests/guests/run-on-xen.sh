#!/bin/sh
# Reference check: boots every guest of tests/guests/MANIFEST as dom0 of
# Debian's Xen 4.17 under QEMU TCG and prints a PASS/FAIL table.
#   tests/guests/run-on-xen.sh [name...]     (default: every guest)
# Environment: BUILD (default build), XEN (default cache/xen-4.17.elf),
# TIMEOUT seconds per guest (default 90).  Logs: $BUILD/guests/logs/.
# MANIFEST's optional fifth column is QEMU's -cpu for that guest.
# Exit status 0 iff every selected guest printed its expected verdict.
#
# Xen halts (it does not power QEMU off) when dom0 shuts down, so QEMU is
# stopped as soon as the verdict line, or Xen's own "Dom0 ... halted/
# crashed" message, shows up.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
XEN=${XEN:-cache/xen-4.17.elf}
TIMEOUT=${TIMEOUT:-90}
XEN_BASE_ARGS="console=com1 dom0_mem=64M loglvl=all guest_loglvl=all"
MANIFEST=tests/guests/MANIFEST
LOGS=$BUILD/guests/logs

[ -f "$XEN" ] || { echo "no $XEN: run scripts/fetch-debian.sh" >&2; exit 2; }
make -s guests BUILD="$BUILD" >/dev/null || { echo "make guests failed" >&2; exit 2; }
mkdir -p "$LOGS"

# boot_one NAME HVARGS GUESTARGS LOG [QEMU ARGS]: runs QEMU until a verdict
# or the end.
boot_one() {
    elf=$BUILD/guests/$1.elf
    initrd=$elf
    [ -n "$3" ] && initrd="$elf $3"
    : > "$4"
    timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu qemu64 -m 512 -smp 1 \
        -nographic -no-reboot -monitor none -serial stdio \
        -kernel "$XEN" -append "$XEN_BASE_ARGS $2" -initrd "$initrd" $5 \
        </dev/null >"$4" 2>&1 &
    qpid=$!
    while kill -0 "$qpid" 2>/dev/null; do
        if grep -qE '^TEST [^:]*: |Dom0 (halted|crashed)|Panic on CPU|Keel halted|[Pp]anic' "$4"; then
            sleep 1     # let the rest of the line (and Xen's reaction) arrive
            kill "$qpid" 2>/dev/null
            break
        fi
        sleep 1
    done
    wait "$qpid" 2>/dev/null
}

want="$*"
total=0; failed=0
printf '%-15s %-6s %s\n' GUEST RESULT "VERDICT LINE"
while IFS='|' read -r name hvargs gargs regex qemuargs; do
    name=$(echo "$name" | xargs)
    case "$name" in ''|'#'*) continue ;; esac
    if [ -n "$want" ]; then
        case " $want " in *" $name "*) ;; *) continue ;; esac
    fi
    hvargs=$(echo "$hvargs" | xargs); [ "$hvargs" = - ] && hvargs=
    gargs=$(echo "$gargs" | xargs); [ "$gargs" = - ] && gargs=
    regex=$(echo "$regex" | sed 's/^ *//; s/ *$//')
    qemuargs=$(echo "$qemuargs" | xargs)
    log=$LOGS/$name.xen.log
    boot_one "$name" "$hvargs" "$gargs" "$log" "$qemuargs"
    line=$(grep -aE '^TEST [^:]*: ' "$log" | head -n1 | tr -d '\r')
    total=$((total + 1))
    if printf '%s\n' "$line" | grep -qE "$regex"; then
        res=PASS
    else
        res=FAIL; failed=$((failed + 1))
        [ -n "$line" ] || line="(no verdict; see $log)"
    fi
    printf '%-15s %-6s %s\n' "$name" "$res" "$line"
done < "$MANIFEST"
echo "$((total - failed))/$total guests as expected on Xen 4.17"
[ "$failed" -eq 0 ]
