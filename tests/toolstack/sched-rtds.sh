#!/bin/sh
# Scheduling through xl (issue 12), RTDS (the hypervisor booted with
# sched=rtds): `xl sched-rtds` lists the pool and the domains' default
# parameters, sets one vCPU's period and budget and lists them back
# (put/getvcpuinfo), and a spinning domU pinned to CPU 1 with a 2.5 ms
# budget every 10 ms and no extratime gets at most 25% of that CPU.
. /tests/toolstack/lib.sh

INTERVAL=5

sched=$(info_field xen_scheduler)
# Debian builds Xen 4.17 without RTDS: it says so and runs credit2.  Then
# there is nothing to test (the reference run reports it; Keel has RTDS).
if [ "$sched" != rtds ] && xl dmesg 2>/dev/null | grep -q "Could not find scheduler: rtds"; then
    pass rtds-absent "the hypervisor has no RTDS (xl dmesg: Could not find scheduler: rtds)"
    finish
    exit
fi
check sched-id "xl info: xen_scheduler=$sched" '[ "$sched" = rtds ]'
out=$(xl sched-rtds 2>&1)
check sched-rtds-list "$(echo "$out" | tr -s ' ' | tr '\n' ';' | cut -c1-160)" \
    'echo "$out" | grep -q "^Cpupool Pool-0: sched=RTDS" &&
     echo "$out" | grep -qE "^Domain-0 +0 +10000 +4000 "'

if ! command -v keel-cputime >/dev/null 2>&1; then
    fail keel-cputime "not in dom0's initramfs (rebuild: scripts/fetch-debian.sh --toolstack)"
    finish
    exit
fi

hog_cfg rt 1
domu_create rt
wait_console rt 'DOMU: ready mode=hog' 600
check hog-up "rt spinning on CPU $(vcpu_field rt 0 4)" 'console rt | grep -q "DOMU: ready mode=hog"'
if ! in_list rt; then
    note "rt: $(create_output rt)"
    finish
    exit
fi

xl sched-rtds -d rt -v 0 -p 10000 -b 2500 -e 0 >"$TS_DIR/rt.set" 2>&1
rc=$?
out=$(xl sched-rtds -d rt -v all 2>&1 | tail -n 1)
check vcpu-params "xl sched-rtds -d rt -v 0 -p 10000 -b 2500 -e 0: rc $rc; $(echo "$out" | tr -s ' ')" \
    '[ "$rc" = 0 ] && echo "$out" | grep -qE "^rt +[0-9]+ +0 +10000 +2500 +no\$"'

sleep 1
set -- $(measure "$(xl domid rt)")
wall=$1 t=$2
share=$(ratio "$t" "$wall")
note "budget 2500 us / period 10000 us, no extratime, over ${wall} ns: ${t} ns, $share of CPU 1"
if steady "$wall"; then
    check budget-holds "rt had $share of one CPU (limit 0.25)" \
        'awk -v c="$share" "BEGIN { exit !(c > 0 && c <= 0.2525) }"'
else
    skip budget-holds "${INTERVAL} s took ${wall} ns: the host starved QEMU, not judged"
fi

xl sched-rtds -d rt -v 0 -p 10000 -b 4000 -e 1 >/dev/null 2>&1
out=$(xl sched-rtds -d rt -v 0 2>&1 | tail -n 1)
check vcpu-params-back "$(echo "$out" | tr -s ' ')" \
    'echo "$out" | grep -qE "^rt +[0-9]+ +0 +10000 +4000 +yes\$"'

xl destroy rt >/dev/null 2>&1
check cleanup "rt destroyed" 'wait_gone rt 60'
finish
