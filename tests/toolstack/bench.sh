#!/bin/sh
# The toolstack benchmark's dom0 side (bench/toolstack.sh boots it under
# QEMU -icount; not a test).  Prints "BENCH: <key> <ticks>" lines, ticks
# being dom0's TSC, which under -icount counts executed instructions:
#   create_to_init     before `xl create` -> dom0 sees the domU's /init mark
#   create_cmd         the same `xl create` until it returned
#   create_paused      `xl create -p`: the toolstack's whole build, up to the
#                      point where it would unpause
#   unpause_to_init    before `xl unpause` -> dom0 sees the /init mark
#   destroy            `xl destroy` of a domU at rest in its /init
#   create_to_init_elf create_to_init with the unpacked kernel (no XZ
#                      decoding by libxenguest in dom0)
#   cycles10           10 sequential create -> /init seen -> destroy cycles
# The /init mark: the domU's init script writes data/keel-init in its
# xenstore directory right after mounting /proc, /sys and /dev; dom0 has a
# xenstore watch on /local/domain running before the command and reads its
# TSC when the watch reports that key -- no polling.  (The domU's own
# BOOT-TSC is not used: on Xen 4.17 under qemu64 it is not dom0's clock --
# it came out 4.07e9 *before* dom0's reading taken ahead of `xl create`.)
# The domU is the tests' one (128 MiB, 2 vCPUs, keel_mode=idle).
. /tests/toolstack/lib.sh

tsc() {
    /usr/bin/keel-tsc
}

# watch_start: a xenstore watch on every domain's keys, before a command.
# watch_seen: waits until some domU wrote data/keel-init; prints dom0's TSC
# at that moment.
watch_start() {
    rm -f "$TS_DIR/watch.fifo"
    mkfifo "$TS_DIR/watch.fifo"
    xenstore-watch /local/domain >"$TS_DIR/watch.fifo" 2>/dev/null &
    watch_pid=$!
    exec 3<"$TS_DIR/watch.fifo"
}

watch_seen() {
    grep -m 1 '/data/keel-init' <&3 >/dev/null
    t=$(tsc)
    kill "$watch_pid" 2>/dev/null
    exec 3<&-
    wait "$watch_pid" 2>/dev/null
    echo "$t"
}

# Waits until the domU's init script is idle (its init work no longer runs
# beside the next measurement).
settle() {
    wait_console "$1" '^DOMU: ready' 600
    sleep 1
}

report() {
    echo "BENCH: $1 $2"
}

if ! toolstack_up; then
    echo "BENCH: error toolstack not up"
    exit 1
fi

# 1. xl create -> /init, then xl destroy.
domu_cfg b1 "keel_mode=idle"
watch_start
t0=$(tsc)
domu_create b1 || echo "BENCH: error create b1: $(create_output b1)"
t1=$(tsc)
ti=$(watch_seen)
report create_to_init $((ti - t0))
report create_cmd $((t1 - t0))
settle b1
t0=$(tsc)
xl destroy b1
t1=$(tsc)
report destroy $((t1 - t0))
wait_gone b1 120

# 2. The same split at the unpause: xl create -p, then xl unpause.
domu_cfg b2 "keel_mode=idle"
t0=$(tsc)
xl create -p "$TS_DIR/b2.cfg" >"$TS_DIR/b2.create" 2>&1 || echo "BENCH: error create -p b2"
t1=$(tsc)
watch_start
t2=$(tsc)
xl unpause b2
ti=$(watch_seen)
report create_paused $((t1 - t0))
report unpause_to_init $((ti - t2))
settle b2
xl destroy b2
wait_gone b2 120

# 3. The unpacked kernel: what the XZ decoding in dom0 costs.
if [ -f /boot/vmlinux ]; then
    TS_KERNEL=/boot/vmlinux
    domu_cfg b3 "keel_mode=idle"
    TS_KERNEL=/boot/vmlinuz
    watch_start
    t0=$(tsc)
    domu_create b3 || echo "BENCH: error create b3: $(create_output b3)"
    ti=$(watch_seen)
    report create_to_init_elf $((ti - t0))
    settle b3
    xl destroy b3
    wait_gone b3 120
fi

# 4. Ten cycles, each until the domU's /init has run its script.
t0=$(tsc)
i=1
while [ "$i" -le 10 ]; do
    domu_cfg "r$i" "keel_mode=idle"
    watch_start
    domu_create "r$i" || echo "BENCH: error create r$i: $(create_output "r$i")"
    watch_seen >/dev/null
    xl destroy "r$i"
    i=$((i + 1))
done
t1=$(tsc)
report cycles10 $((t1 - t0))
echo "BENCH: done"
