#!/bin/sh
# Issue 7, one dom0 boot: xl info / list / dmesg, then one PV domU through
# its life: create, /init facts (hypervisor, CPUs, memory, domid through
# xenbus), xl console, pause/unpause of its counter, shutdown; a second one
# destroyed while running; a third rebooted.  Free memory returns.
. /tests/toolstack/lib.sh

if ! toolstack_up; then
    fail toolstack "xenstored or xl does not answer (see the KEEL-DOM0 lines)"
    finish
    exit 1
fi

# ---- the host as xl sees it
nr_cpus=$(info_field nr_cpus)
total=$(info_field total_memory)
free0=$(info_field free_memory)
note "xl info: nr_cpus=$nr_cpus total_memory=$total free_memory=$free0" \
    "scheduler=$(info_field xen_scheduler) version=$(info_field xen_version)"
check xl-info "nr_cpus=$nr_cpus (want $ts_cpus) total=${total}MiB free=${free0}MiB" \
    '[ "$nr_cpus" = "$ts_cpus" ] && [ "${total:-0}" -gt "$ts_dom0_mb" ] &&
     [ "${free0:-0}" -gt 0 ] && [ "$free0" -lt "$total" ]'

dom0_line=$(xl list 2>&1 | awk 'NR > 1 && $1 == "Domain-0"')
dom0_vcpus=$(grep -c '^processor' /proc/cpuinfo)
read -r _ d0_id d0_mem d0_vcpus _ <<EOF
$dom0_line
EOF
check xl-list "'$dom0_line' (want id 0, $ts_dom0_mb MiB, $dom0_vcpus vCPUs)" \
    '[ "$d0_id" = 0 ] && [ "$d0_mem" = "$ts_dom0_mb" ] && [ "$d0_vcpus" = "$dom0_vcpus" ]'

xl dmesg >"$TS_DIR/dmesg" 2>&1
lines=$(wc -l <"$TS_DIR/dmesg")
banner=$(grep -m 1 -E 'Xen version [0-9]|Keel hypervisor starting' "$TS_DIR/dmesg")
check xl-dmesg "$lines lines; '$banner'" '[ "$lines" -ge 5 ] && [ -n "$banner" ]'

# ---- one domU through its life
domu_cfg life ""
domu_create life
rc=$?
check create "exit $rc: $(create_output life)" '[ "$rc" = 0 ]'
id=$(xl domid life 2>/dev/null)
wait_console life '^DOMU: ready' 300
check domu-init "domid $id: $(console life | grep -m 1 '^DOMU: ' || console life | tail -n 3 | tr '\n' '|')" \
    'console life | grep -q "^DOMU: ready"'
hv=$(fact life hypervisor)
cpus=$(fact life cpus)
mem=$(fact life memtotal_kb)
seen_id=$(fact life domid)
abi=$(fact life evtchn)
check domu-hypervisor "/sys/hypervisor/type=$hv" '[ "$hv" = xen ]'
check domu-cpus "cpus=$cpus (want 2)" '[ "$cpus" = 2 ]'
# 128 MiB less what the kernel keeps for itself (its image, page tables).
check domu-memory "MemTotal ${mem} kB (want 65536..131072)" \
    '[ "${mem:-0}" -ge 65536 ] && [ "${mem:-0}" -le 131072 ]'
check domu-domid "xenstore-read domid in the domU: '$seen_id', xl domid: '$id'" \
    '[ -n "$id" ] && [ "$seen_id" = "$id" ]'
check domu-fifo "event channels: $abi (want fifo, as on Xen 4.17)" '[ "$abi" = fifo ]'

line=$(xl list 2>/dev/null | awk 'NR > 1 && $1 == "life"')
read -r _ _ u_mem u_vcpus u_state _ <<EOF
$line
EOF
check xl-list-domu "'$line' (want 128 MiB, 2 vCPUs, alive: running, blocked or runnable)" \
    '[ "$u_mem" = 128 ] && [ "$u_vcpus" = 2 ] && echo "$u_state" | grep -qE "^[rb-]{6}$"'

# xl console: xenconsole on the domU's pty, its stdin held open by a fifo.
wait_console life '^DOMU: tick 1$' 60
mkfifo "$TS_DIR/con.in"
(sleep 60 >"$TS_DIR/con.in") &
holder=$!
xl console life <"$TS_DIR/con.in" >"$TS_DIR/con.out" 2>&1 &
cpid=$!
end=$(($(now) + $(limit 30)))
until grep -q '^DOMU: tick' "$TS_DIR/con.out" || [ "$(now)" -gt "$end" ]; do sleep 0.5; done
kill "$cpid" "$holder" 2>/dev/null
wait "$cpid" 2>/dev/null
check xl-console "read '$(grep '^DOMU: tick' "$TS_DIR/con.out" | tail -n 1 | tr -d '\r')'" \
    'grep -q "^DOMU: tick" "$TS_DIR/con.out"'

# Pause: the counter stops and the state says so; unpause: it goes on.
xl pause life
sleep 1
t1=$(last_tick life)
state=$(list_field life 5)
sleep 4
t2=$(last_tick life)
check pause "state $state; tick $t1, four seconds later $t2" \
    '[ "$t1" -ge 0 ] && [ "$t1" = "$t2" ] && echo "$state" | grep -q p'
xl unpause life
wait_console life "^DOMU: tick $((t2 + 2))\$" 60
t3=$(last_tick life)
check unpause "tick $t2 before, $t3 after" '[ "$t3" -ge $((t2 + 2)) ]'

# Shutdown: xl writes control/shutdown, the domU's kernel runs
# /sbin/poweroff, the domain shuts down and xl's monitor destroys it.
xl shutdown -w life >"$TS_DIR/shutdown.out" 2>&1
rc=$?
wait_gone life 120
gone=$?
check shutdown "xl shutdown -w exit $rc; domU said '$(console life | grep '^DOMU: poweroff')'; gone from xl list: $gone (0 = yes)" \
    '[ "$rc" = 0 ] && [ "$gone" = 0 ] && console life | grep -q "^DOMU: poweroff"'

# Destroy, while it counts.
domu_cfg gone ""
domu_create gone
wait_console gone '^DOMU: tick 0$' 300
xl destroy gone
rc=$?
wait_gone gone 60
gone=$?
check destroy "xl destroy exit $rc; gone from xl list: $gone (0 = yes)" \
    '[ "$rc" = 0 ] && [ "$gone" = 0 ] && console gone | grep -q "^DOMU: tick 0$"'

# Reboot: the domU reboots itself; xl's monitor (on_reboot=restart) builds
# it again under a new domid and /init runs a second time.
domu_cfg again "keel_mode=idle"
domu_create again
wait_console again '^DOMU: ready' 300
id1=$(xl domid again 2>/dev/null)
xl reboot again >"$TS_DIR/reboot.out" 2>&1
rc=$?
end=$(($(now) + $(limit 300)))
until [ "$(count_console again '^DOMU: ready')" -ge 2 ] || [ "$(now)" -gt "$end" ]; do
    sleep 1
done
id2=$(xl domid again 2>/dev/null)
n=$(count_console again '^DOMU: ready')
check reboot "xl reboot exit $rc; domid $id1 -> $id2; /init ran $n times; domU said '$(console again | grep -m 1 '^DOMU: reboot')'" \
    '[ "$rc" = 0 ] && [ "$n" -ge 2 ] && [ -n "$id2" ] && [ "$id2" != "$id1" ] &&
     console again | grep -q "^DOMU: reboot"'
xl destroy again 2>/dev/null
wait_gone again 60

free1=$(wait_value 60 "$free0" info_field free_memory)
check memory-back "free memory $free0 MiB before, $free1 MiB after" '[ "$free1" = "$free0" ]'

finish
