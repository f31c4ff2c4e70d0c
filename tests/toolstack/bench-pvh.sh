#!/bin/sh
# The PVH toolstack benchmark's dom0 side (bench/pvh.sh boots it under QEMU
# -icount with SVM; not a test).  Prints "BENCH: <key> <ticks>" lines in
# dom0's TSC (executed instructions under -icount):
#   pvh_create_to_init  before `xl create` of a PVH domU (256 MiB, 2 vCPUs)
#                       -> dom0 sees its /init mark (data/keel-init in its
#                       xenstore directory, through a watch: no polling)
#   pvh_create_cmd      the same `xl create` until it returned
#   pvh_destroy         `xl destroy` of it at rest in /init
#   pv_create_to_init   the same for a PV domU, in the same boot
# Uses the userland branch's helpers (tests/toolstack/lib.sh, keel-tsc).
. /tests/toolstack/lib.sh

tsc() { /usr/bin/keel-tsc; }

watch_start() {
    rm -f "$TS_DIR/watch.fifo"
    mkfifo "$TS_DIR/watch.fifo"
    xenstore-watch /local/domain >"$TS_DIR/watch.fifo" 2>/dev/null &
    watch_pid=$!
    exec 3<"$TS_DIR/watch.fifo"
}

watch_seen() {
    grep -m 1 '/data/keel-init' <&3 >/dev/null
    _t=$(tsc)
    kill "$watch_pid" 2>/dev/null
    exec 3<&-
    wait "$watch_pid" 2>/dev/null
    echo "$_t"
}

cfg() {
    cat >"$TS_DIR/$1.cfg" <<CFG
name = "$1"
type = "$2"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/initrd-domu.gz"
extra = "console=hvc0 quiet keel_mode=idle"
memory = $3
vcpus = 2
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
CFG
}

# measure NAME TYPE MEMORY PREFIX
measure() {
    cfg "$1" "$2" "$3"
    watch_start
    t0=$(tsc)
    domu_create "$1" || echo "BENCH: error create $1: $(create_output "$1")"
    t1=$(tsc)
    ti=$(watch_seen)
    echo "BENCH: ${4}_create_to_init $((ti - t0))"
    echo "BENCH: ${4}_create_cmd $((t1 - t0))"
    wait_console "$1" '^DOMU: ready' 600
    sleep 1
    t0=$(tsc)
    xl destroy "$1"
    t1=$(tsc)
    echo "BENCH: ${4}_destroy $((t1 - t0))"
    wait_gone "$1" 120
}

if ! toolstack_up; then
    echo "BENCH: error toolstack not up"
    exit 1
fi
measure bpvh pvh 256 pvh
measure bpv pv 256 pv
echo "BENCH: done"
