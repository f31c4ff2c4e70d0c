#!/bin/sh
# Reference run: the toolstack test groups of tests/toolstack/MANIFEST on
# Debian's Xen 4.17 under QEMU TCG, each in its own boot of the dom0
# toolstack initramfs, JOBS at a time.  Prints one line per group (verdict,
# wall seconds, its summary line) and exits 0 iff every group passed.
#   tests/toolstack/run-on-xen.sh [name|gate...]   (default: every group)
# e.g. `run-on-xen.sh toolstack` (issue 7's groups), `run-on-xen.sh disk`.
# Environment: BUILD (build), XEN (cache/xen-4.17.elf), JOBS (2), TIMEOUT
# seconds per group (default: the MANIFEST's), DOM0_VCPUS (2), QEMU_MEM
# MiB (2048), ICOUNT (QEMU's -icount for the splitdrv groups, as Keel's
# scenarios run them: shift=0,sleep=off; `none` for real time, which also
# drops the groups' own qemu: words).
# Logs: $BUILD/toolstack/<name>.xen.log (the whole serial console).
set -u
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
XEN=${XEN:-cache/xen-4.17.elf}
KERNEL=${KEEL_CACHE:-cache}/vmlinuz
JOBS=${JOBS:-2}
TIMEOUT=${TIMEOUT:-}
DOM0_VCPUS=${DOM0_VCPUS:-2}
QEMU_MEM=${QEMU_MEM:-2048}
ICOUNT=${ICOUNT:-shift=0,sleep=off}
MANIFEST=tests/toolstack/MANIFEST
LOGS=$BUILD/toolstack
XEN_ARGS="console=com1 dom0_mem=1024M dom0_max_vcpus=$DOM0_VCPUS loglvl=all guest_loglvl=all"
mkdir -p "$LOGS"

# manifest_line NAME: "script|args|timeout" for a group.
manifest_line() {
    awk -F'|' -v n="$1" '!/^#/ { gsub(/ /, "", $1) } $1 == n {
        for (i = 3; i <= 5; i++) gsub(/^ +| +$/, "", $i); print $3 "|" $4 "|" $5 }' "$MANIFEST"
}

# run_one NAME INITRD: one boot; writes $LOGS/NAME.xen.log and NAME.result.
run_one() {
    name=$1
    line=$(manifest_line "$name")
    [ -n "$line" ] || { echo "$name: not in $MANIFEST" >"$LOGS/$name.result"; return; }
    script=${line%%|*}
    rest=${line#*|}
    args=${rest%%|*}
    limit=${TIMEOUT:-${rest#*|}}
    [ "$args" = - ] && args=
    # As tests/system/scenarios/toolstack.py: the split-driver groups count
    # guest time in instructions (libxl's 40-second hotplug limit).
    icount=
    gate=$(awk -F'|' -v n="$name" '!/^#/ { gsub(/ /, "", $1); gsub(/ /, "", $2) }
        $1 == n { print $2 }' "$MANIFEST")
    [ "$gate" = splitdrv ] && [ "$ICOUNT" != none ] && icount="-icount $ICOUNT"
    # hv:WORD goes to Xen's command line (e.g. sched=rtds), qemu:WORD to
    # QEMU's (qemu:-icount qemu:shift=0,sleep=off), the rest to dom0's.
    hv=
    dom0=
    for w in $args; do
        case "$w" in
        hv:*) hv="$hv ${w#hv:}" ;;
        qemu:*) [ "$ICOUNT" != none ] && icount="$icount ${w#qemu:}" ;;
        *) dom0="$dom0 $w" ;;
        esac
    done
    args=$dom0
    log=$LOGS/$name.xen.log
    start=$(date +%s)
    : >"$log"
    cpu=qemu64
    [ "$script" = pvh.sh ] && cpu=qemu64,+svm,+npt # PVH domUs need AMD-V with nested paging
    timeout "$limit" qemu-system-x86_64 -accel tcg -cpu "$cpu" -m "$QEMU_MEM" -smp 2 \
        -nographic -no-reboot -monitor none -serial stdio -nic none $icount \
        -kernel "$XEN" -append "$XEN_ARGS$hv" \
        -initrd "$KERNEL console=hvc0 KEEL_TEST=/tests/toolstack/$script ts_cpus=2 ts_dom0_mb=1024 $args,$2" \
        </dev/null >"$log" 2>&1 &
    qpid=$!
    # Xen powers the machine off after dom0 does; stop QEMU anyway once the
    # test has ended or Xen or dom0 died.
    while kill -0 "$qpid" 2>/dev/null; do
        if grep -qaE 'KEEL-INIT: test exit|Kernel panic|Panic on CPU|Dom0 (halted|crashed)' "$log"; then
            sleep 3
            kill "$qpid" 2>/dev/null
            break
        fi
        sleep 1
    done
    wait "$qpid" 2>/dev/null
    secs=$(($(date +%s) - start))
    summary=$(grep -aE '^TOOLSTACK: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 | tr -d '\r')
    if echo "$summary" | grep -q ' 0 failed' && grep -qa 'KEEL-INIT: test exit 0' "$log"; then
        verdict=PASS
    else
        verdict=FAIL
        [ -n "$summary" ] || summary="(no summary; last line: $(tr -d '\r' <"$log" | grep -a . | tail -n 1 | cut -c1-100))"
    fi
    printf '%-8s %-5s %5ss  %s\n' "$name" "$verdict" "$secs" "$summary" >"$LOGS/$name.result"
    grep -aE 'TOOLSTACK: .*: FAIL' "$log" | tr -d '\r' | sed 's/^/         /' >>"$LOGS/$name.result"
}

# The whole run is a function: the shell has read all of it before it
# starts, so editing this file while it runs cannot derail it.
main() {
    if [ "${1:-}" = --one ]; then
        run_one "$2" "$3"
        return 0
    fi

    [ -f "$XEN" ] && [ -f "$KERNEL" ] || {
        scripts/fetch-debian.sh --xen --toolstack >"$LOGS/fetch.log" 2>&1 ||
            { echo "scripts/fetch-debian.sh --xen --toolstack failed (see $LOGS/fetch.log)" >&2; exit 2; }
    }
    # Idempotent: rebuilds the initramfs only if their inputs changed.
    scripts/fetch-debian.sh --toolstack >"$LOGS/fetch.log" 2>&1 ||
        { echo "scripts/fetch-debian.sh --toolstack failed (see $LOGS/fetch.log)" >&2; exit 2; }
    initrd=$(python3 tests/system/testdata.py toolstack-initrd "$BUILD") || exit 2

    # Arguments name groups or gates (toolstack, splitdrv); none: all.
    names=$(awk -F'|' -v want=" $* " '!/^#/ && NF > 1 { gsub(/ /, "", $1); gsub(/ /, "", $2)
        if (want == "  " || index(want, " " $1 " ") || index(want, " " $2 " ")) print $1 }' "$MANIFEST")
    [ -n "$names" ] || { echo "no group matches '$*' in $MANIFEST" >&2; return 2; }
    for n in $names; do rm -f "$LOGS/$n.result"; done
    start=$(date +%s)
    printf '%s\n' $names | xargs -P "$JOBS" -I{} "$SELF" --one {} "$initrd"
    failed=0
    for n in $names; do
        cat "$LOGS/$n.result" 2>/dev/null || echo "$n: no result"
        grep -q "^$n *PASS" "$LOGS/$n.result" 2>/dev/null || failed=$((failed + 1))
    done
    echo "$(($(echo $names | wc -w) - failed))/$(echo $names | wc -w) groups passed on Xen 4.17" \
        "in $(($(date +%s) - start))s (logs in $LOGS/)"
    [ "$failed" -eq 0 ]
}

main "$@"
exit $?
