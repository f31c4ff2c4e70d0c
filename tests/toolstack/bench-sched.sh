#!/bin/sh
# The scheduling benchmark's dom0 side (bench/toolstack.sh GROUP=sched boots
# it under QEMU -icount with sched=credit2 on both hypervisors; not a
# test).  keel-pingpong passes a byte between two dom0 processes pinned to
# dom0's two vCPUs; each round wakes a blocked vCPU on each side through
# the hypervisor.  Prints "BENCH: <key> <ticks per round>":
#   wake_idle      dom0's vCPUs on CPUs 0 and 1, nothing else running
#   wake_hogs      the same with two CPU-bound domUs pinned to CPU 1: the
#                  woken vCPU 1 must get CPU 1 from a hog (the issue's
#                  "wake-up latency of an event-driven vCPU under two hogs")
#   wake_hogs_rl0  wake_hogs with credit2's rate limit off (xl sched-credit2
#                  -s -r 0): without the 1 ms a hog keeps its CPU, what is
#                  left is the hypervisor's wake-up and preemption path
#   switch_onecpu  both of dom0's vCPUs on CPU 1, no hogs: every round is
#                  two switches between vCPUs sharing one CPU
. /tests/toolstack/lib.sh

ROUNDS=2000

report() {
    echo "BENCH: $1 $2"
}

pingpong() {
    out=$(keel-pingpong "$ROUNDS" 0 1 2>&1)
    case $out in
    ticks_per_round\ *) report "$1" "${out#ticks_per_round }" ;;
    *) echo "BENCH: error $1: $out" ;;
    esac
}

if ! toolstack_up; then
    echo "BENCH: error toolstack not up"
    exit 1
fi

xl vcpu-pin 0 0 0 >/dev/null 2>&1
xl vcpu-pin 0 1 1 >/dev/null 2>&1
sleep 1
pingpong wake_idle

for h in hog1 hog2; do
    hog_cfg "$h" 1
    domu_create "$h" || echo "BENCH: error create $h: $(create_output "$h")"
done
for h in hog1 hog2; do
    wait_console "$h" 'DOMU: ready mode=hog' 600 || echo "BENCH: error $h not spinning"
done
sleep 1
pingpong wake_hogs
xl sched-credit2 -s -r 0 >/dev/null 2>&1
pingpong wake_hogs_rl0
xl sched-credit2 -s -r 1000 >/dev/null 2>&1
for h in hog1 hog2; do xl destroy "$h" >/dev/null 2>&1; done
for h in hog1 hog2; do wait_gone "$h" 120; done

xl vcpu-pin 0 0 1 >/dev/null 2>&1
sleep 1
pingpong switch_onecpu
xl vcpu-pin 0 all all >/dev/null 2>&1
echo "BENCH: done"
