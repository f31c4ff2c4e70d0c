#!/bin/sh
# Issue 11, one dom0 boot (QEMU -cpu qemu64,+svm,+npt): Debian's xl creates
# Debian's Linux as a PVH domU (type = "pvh", 2 vCPUs, 256 MiB).  It must
# reach /init, say in its boot log that it entered through the PVH entry,
# see Xen, 2 CPUs and its own domid through xenbus; then xl pause/unpause,
# xl shutdown, xl destroy, and ts_pvh_cycles (default 10) create -> /init
# -> destroy cycles with free memory, dom0's event channels and grant
# mappings back where they started.  Uses the userland branch's helpers
# (tests/toolstack/lib.sh) and its busybox domU (/boot/initrd-domu.gz).
. /tests/toolstack/lib.sh

if ! toolstack_up; then
    fail toolstack "xenstored or xl does not answer (see the KEEL-DOM0 lines)"
    finish
    exit 1
fi

cycles=10
for word in $(cat /proc/cmdline); do
    case "$word" in ts_pvh_cycles=*) cycles=${word#*=} ;; esac
done

# pvh_cfg NAME EXTRA: a PVH domU.  No earlyprintk: hvc0 then replays the
# whole boot log, "Booting kernel on Xen PVH" included.
pvh_cfg() {
    cat >"$TS_DIR/$1.cfg" <<CFG
name = "$1"
type = "pvh"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/initrd-domu.gz"
extra = "console=hvc0 $2"
memory = 256
vcpus = 2
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
CFG
}

caps=$(xl info 2>/dev/null | awk '$1 == "virt_caps" { $1 = $2 = ""; print }')
check virt-caps "virt_caps:$caps (want hvm and hap)" \
    'echo "$caps" | grep -qw hvm && echo "$caps" | grep -qw hap'

free0=$(info_field free_memory)
ev0=$(dom0_evtchns)
gm0=$(dom0_gntmaps)

# ---- one PVH domU through its life
pvh_cfg pvh ""
domu_create pvh
rc=$?
check create "exit $rc: $(create_output pvh)" '[ "$rc" = 0 ]'
id=$(xl domid pvh 2>/dev/null)
wait_console pvh '^DOMU: ready' 600
check domu-init "domid $id: $(console pvh | grep -m 1 '^DOMU: ' || console pvh | tail -n 3 | tr '\n' '|')" \
    'console pvh | grep -q "^DOMU: ready"'
check pvh-entry "$(console pvh | grep -m 1 'Booting kernel on' | cut -c1-100)" \
    'console pvh | grep -q "Booting kernel on Xen PVH"'
hv=$(fact pvh hypervisor)
cpus=$(fact pvh cpus)
seen_id=$(fact pvh domid)
check domu-hypervisor "/sys/hypervisor/type=$hv" '[ "$hv" = xen ]'
check domu-cpus "cpus=$cpus (want 2)" '[ "$cpus" = 2 ]'
check domu-xenbus "xenstore-read domid in the domU: '$seen_id', xl domid: '$id'" \
    '[ -n "$id" ] && [ "$seen_id" = "$id" ]'
# Each CPU has taken event upcalls (its timer at least): with Xen 4.17's
# per-vCPU upcall vectors each arrives through that CPU's own local APIC.
hyp=$(console pvh | grep -m 1 '^DOMU: hyp ' | cut -d' ' -f3-)
hyp_ok=$(echo "$hyp" | awk '{ print ($2 > 0 && $3 > 0) ? "yes" : "no" }')
check domu-upcalls "HYP line: '$hyp'" '[ "$hyp_ok" = yes ]'
line=$(xl list 2>/dev/null | awk 'NR > 1 && $1 == "pvh"')
read -r _ _ u_mem u_vcpus _ <<LIST
$line
LIST
check xl-list "'$line' (want 256 MiB, 2 vCPUs)" '[ "$u_mem" = 256 ] && [ "$u_vcpus" = 2 ]'

wait_console pvh '^DOMU: tick 1$' 120
xl pause pvh
sleep 1
t1=$(last_tick pvh)
state=$(list_field pvh 5)
sleep 4
t2=$(last_tick pvh)
check pause "state $state; tick $t1, four seconds later $t2" \
    '[ "$t1" -ge 0 ] && [ "$t1" = "$t2" ] && echo "$state" | grep -q p'
xl unpause pvh
wait_console pvh "^DOMU: tick $((t2 + 2))\$" 120
t3=$(last_tick pvh)
check unpause "tick $t2 before, $t3 after" '[ "$t3" -ge $((t2 + 2)) ]'

# Ballooning: xl mem-set writes the domU's memory/target; Linux's balloon
# driver gives frames back (decrease_reservation on its physical space)
# and takes them again (populate_physmap).  xl list shows what it holds.
wait_mem() { # NAME TEST: waits up to a minute for `xl list`'s memory to pass TEST
    _wm_end=$(($(now) + $(limit 60)))
    while _wm=$(list_field "$1" 3) && ! [ "${_wm:-0}" $2 ] && [ "$(now)" -le "$_wm_end" ]; do
        sleep 1
    done
    echo "${_wm:-none}"
}
xl mem-set pvh 192
m_down=$(wait_mem pvh "-le 193")
check balloon-down "xl mem-set pvh 192: xl list says $m_down MiB" '[ "$m_down" -le 193 ]'
xl mem-set pvh 256
m_up=$(wait_mem pvh "-ge 255")
check balloon-up "xl mem-set pvh 256: xl list says $m_up MiB" '[ "$m_up" -ge 255 ]'

xl shutdown -w pvh >"$TS_DIR/shutdown.out" 2>&1
rc=$?
wait_gone pvh 180
gone=$?
check shutdown "xl shutdown -w exit $rc; domU said '$(console pvh | grep '^DOMU: poweroff')'; gone: $gone (0 = yes)" \
    '[ "$rc" = 0 ] && [ "$gone" = 0 ]'

pvh_cfg gone ""
domu_create gone
wait_console gone '^DOMU: tick 0$' 600
xl destroy gone
rc=$?
wait_gone gone 60
gone=$?
check destroy "xl destroy exit $rc; gone: $gone (0 = yes)" \
    '[ "$rc" = 0 ] && [ "$gone" = 0 ] && console gone | grep -q "^DOMU: tick 0$"'

# ---- cycles
i=1
ok=0
ids=""
first_bad=""
while [ "$i" -le "$cycles" ]; do
    n=p$i
    pvh_cfg "$n" "keel_mode=idle"
    domu_create "$n"
    rc=$?
    id=$(xl domid "$n" 2>/dev/null)
    wait_console "$n" '^DOMU: ready' 600
    seen=$(fact "$n" domid)
    if [ -z "$first_bad" ] && [ "$seen" != "$id" ]; then
        # Why it never got ready: the domU's own last words.
        console "$n" | tail -n 40 | sed "s/^/TOOLSTACK:   $n console: /"
    fi
    xl destroy "$n"
    drc=$?
    wait_gone "$n" 60
    gone=$?
    ids="$ids $id"
    if [ "$rc" = 0 ] && [ -n "$id" ] && [ "$seen" = "$id" ] && [ "$drc" = 0 ] && [ "$gone" = 0 ]; then
        ok=$((ok + 1))
    elif [ -z "$first_bad" ]; then
        first_bad="cycle $i: create exit $rc, domid '$id', domU saw '$seen', destroy exit $drc, gone $gone; $(create_output "$n")"
    fi
    note "cycle $i: domid $id, free_memory $(info_field free_memory) MiB"
    i=$((i + 1))
done
check cycles "$ok of $cycles cycles reached /init and were destroyed${first_bad:+; first failure: $first_bad}" \
    '[ "$ok" = "$cycles" ]'
free1=$(wait_value 60 "$free0" info_field free_memory)
check memory-back "free memory $free0 MiB before, $free1 MiB after" '[ "$free1" = "$free0" ]'
ev1=$(wait_value 30 "$ev0" dom0_evtchns)
check evtchns-back "dom0 event channels $ev0 before, $ev1 after" '[ "$ev1" = "$ev0" ]'
gm1=$(wait_value 30 "$gm0" dom0_gntmaps)
check grants-back "dom0 gntdev mappings $gm0 before, $gm1 after" '[ "$gm1" = "$gm0" ]'

[ -n "${TS_NO_FINISH:-}" ] || finish
