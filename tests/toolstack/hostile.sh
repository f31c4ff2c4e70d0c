#!/bin/sh
# Issue 7, a hostile domU: beside a Linux domU that counts on its console,
# `xl create` starts the fuzz guest as a PV domU (tests/guests/fuzz-domu,
# /boot/fuzz-domu.elf in this initramfs).  It first aims at everything
# outside itself (dom0's and the Linux domU's ids, grant refs, ports and
# frames, domctl/sysctl, ids nobody has) and checks that each call failed
# as on Xen 4.17, then throws its seeded random calls, then prints its
# verdict on its console ring (xenconsoled's log).  Afterwards the
# hypervisor, dom0 and the Linux domU must be healthy, and everything must
# come back once both domUs are gone.
. /tests/toolstack/lib.sh

if ! toolstack_up; then
    fail toolstack "xenstored or xl does not answer (see the KEEL-DOM0 lines)"
    finish
    exit 1
fi
if [ ! -f /boot/fuzz-domu.elf ]; then
    fail fuzz-kernel "/boot/fuzz-domu.elf is missing (make guests, then rebuild the initramfs)"
    finish
    exit 1
fi

free0=$(info_field free_memory)
ev0=$(dom0_evtchns)
gm0=$(dom0_gntmaps)
oops0=$(dmesg | grep -cE 'BUG:|Oops|general protection|WARNING:')
note "before: free_memory=$free0 MiB, dom0 event channels $ev0, gntdev mappings $gm0"

# ---- the victim: a Linux domU counting once a second
domu_cfg peer ""
domu_create peer
rc=$?
check create-linux "exit $rc: $(create_output peer)" '[ "$rc" = 0 ]'
wait_console peer '^DOMU: tick 1$' 600
peer=$(xl domid peer 2>/dev/null)
check linux-counting "domid $peer, last tick $(last_tick peer)" '[ "$(last_tick peer)" -ge 1 ]'
[ "$(last_tick peer)" -ge 1 ] || console peer | tail -n 8 | sed 's/^/TOOLSTACK:   linux says: /'

# ---- the attacker
cat >"$TS_DIR/fuzz.cfg" <<EOF
name = "fuzz"
type = "pv"
kernel = "/boot/fuzz-domu.elf"
extra = "peer=$peer"
memory = 32
vcpus = 2
on_poweroff = "preserve"
on_reboot = "destroy"
on_crash = "preserve"
EOF
domu_create fuzz
rc=$?
check create-fuzz "exit $rc: $(create_output fuzz)" '[ "$rc" = 0 ]'
fuzz=$(xl domid fuzz 2>/dev/null)
wait_console fuzz '^TEST fuzz-domu: ' 900
console fuzz | grep -E '^fuzz-domu: |^fuzz: [0-9]+ calls|check failed' | head -n 400 |
    sed 's/^/TOOLSTACK:   fuzz says: /'
verdict=$(console fuzz | grep -m 1 '^TEST fuzz-domu: ')
check fuzz-verdict "domid $fuzz: '$verdict'" '[ "$verdict" = "TEST fuzz-domu: PASS" ]'
probes=$(console fuzz | sed -n 's/^fuzz-domu: \([0-9]*\) probes of other domains, \([0-9]*\) answered wrongly$/\1/p')
wrong=$(console fuzz | sed -n 's/^fuzz-domu: \([0-9]*\) probes of other domains, \([0-9]*\) answered wrongly$/\2/p')
check fuzz-probes "$probes probes at other domains, $wrong answered otherwise than Xen 4.17 does" \
    '[ "${probes:-0}" -ge 1000 ] && [ "$wrong" = 0 ]'
# It powered itself off (on_poweroff = preserve keeps it listed): not a crash.
state=$(list_field fuzz 5)
check fuzz-shutdown "state '$state' (want s, not c)" \
    'echo "$state" | grep -q s && ! echo "$state" | grep -q c'

# ---- everybody else is fine
check xl-responds "xl info: $(info_field nr_cpus) CPUs, free $(info_field free_memory) MiB; xl dmesg $(xl dmesg 2>/dev/null | wc -l) lines" \
    '[ -n "$(info_field free_memory)" ] && [ "$(xl dmesg 2>/dev/null | wc -l)" -ge 5 ]'
d0=$(xl list 2>/dev/null | awk 'NR > 1 && $1 == "Domain-0" { print $2 " " $3 " " $4 }')
check dom0-listed "Domain-0: id, MiB, vCPUs: '$d0'" '[ "$d0" = "0 $ts_dom0_mb 2" ]'
check xenstore "xenstore answers: domU's domid $(xenstore-read /local/domain/$peer/domid 2>&1)" \
    '[ "$(xenstore-read /local/domain/$peer/domid 2>/dev/null)" = "$peer" ]'
oops1=$(dmesg | grep -cE 'BUG:|Oops|general protection|WARNING:')
check dom0-kernel "kernel warnings $oops0 before, $oops1 after" '[ "$oops1" = "$oops0" ]'
t1=$(last_tick peer)
wait_console peer "^DOMU: tick $((t1 + 3))\$" 60
t2=$(last_tick peer)
check linux-still-counting "tick $t1, then $t2; its console: $(console peer | grep -cE 'BUG|Oops|panic') oops lines" \
    '[ "$t2" -ge $((t1 + 3)) ] && ! console peer | grep -qE "BUG|Oops|panic"'
# '------' is Xen's "runnable, waiting for a CPU" (getdomaininfo sets
# neither running nor blocked then): with dom0 busy running xl on both CPUs
# that is a normal answer.  Alive means: not paused, shut down, crashed or dying.
state=$(list_field peer 5)
check linux-running "state '$state'" 'echo "$state" | grep -qE "^[rb-]{6}$"'

# ---- both gone, everything back
for n in fuzz peer; do
    xl destroy "$n"
    rc=$?
    wait_gone "$n" 60
    gone=$?
    check "destroy-$n" "xl destroy exit $rc; gone from xl list: $gone (0 = yes)" \
        '[ "$rc" = 0 ] && [ "$gone" = 0 ]'
done
free1=$(wait_value 60 "$free0" info_field free_memory)
check memory-back "free memory $free0 MiB before, $free1 MiB after" '[ "$free1" = "$free0" ]'
ev1=$(wait_value 30 "$ev0" dom0_evtchns)
check evtchns-back "dom0 event channels $ev0 before, $ev1 after" '[ "$ev1" = "$ev0" ]'
gm1=$(wait_value 30 "$gm0" dom0_gntmaps)
check grants-back "dom0 gntdev mappings $gm0 before, $gm1 after" '[ "$gm1" = "$gm0" ]'

finish
