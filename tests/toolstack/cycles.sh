#!/bin/sh
# Issue 7: 25 create -> /init -> destroy cycles of a PV domU.  Afterwards
# free memory, dom0's event channels and its grant mappings are back to
# their starting values, no domid was handed out twice, and dom0 still
# answers.  Knob: ts_cycles=N on dom0's command line (default 25).
. /tests/toolstack/lib.sh

if ! toolstack_up; then
    fail toolstack "xenstored or xl does not answer (see the KEEL-DOM0 lines)"
    finish
    exit 1
fi

cycles=25
# The unpacked kernel: the bzImage's XZ decoding in dom0 would be half of
# each create (the other groups use the bzImage).
[ -f /boot/vmlinux ] && TS_KERNEL=/boot/vmlinux
for word in $(cat /proc/cmdline); do
    case "$word" in ts_cycles=*) cycles=${word#*=} ;; esac
done

free0=$(info_field free_memory)
ev0=$(dom0_evtchns)
gm0=$(dom0_gntmaps)
note "kernel $TS_KERNEL; before: free_memory=$free0 MiB, dom0 event channels $ev0, gntdev mappings $gm0"

i=1
ok=0
ids=""
first_bad=""
while [ "$i" -le "$cycles" ]; do
    n=c$i
    domu_cfg "$n" "keel_mode=idle"
    domu_create "$n"
    rc=$?
    id=$(xl domid "$n" 2>/dev/null)
    wait_console "$n" '^DOMU: ready' 300
    seen=$(fact "$n" domid)
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
    note "cycle $i: domid $id, free_memory $(info_field free_memory) MiB, event channels $(dom0_evtchns), gntdev mappings $(dom0_gntmaps)"
    i=$((i + 1))
done
check cycles "$ok of $cycles cycles reached /init and were destroyed${first_bad:+; first failure: $first_bad}" \
    '[ "$ok" = "$cycles" ]'

distinct=$(echo $ids | tr ' ' '\n' | sort -u | grep -c .)
check domids-fresh "$distinct distinct domids in $cycles cycles:$ids" '[ "$distinct" = "$cycles" ]'
free1=$(wait_value 60 "$free0" info_field free_memory)
check memory-back "free memory $free0 MiB before, $free1 MiB after" '[ "$free1" = "$free0" ]'
ev1=$(wait_value 30 "$ev0" dom0_evtchns)
check evtchns-back "dom0 event channels $ev0 before, $ev1 after" '[ "$ev1" = "$ev0" ]'
gm1=$(wait_value 30 "$gm0" dom0_gntmaps)
check grants-back "dom0 gntdev mappings $gm0 before, $gm1 after" '[ "$gm1" = "$gm0" ]'
dom0=$(xl list 2>&1 | awk 'NR > 1 { n++ } END { print n + 0 }')
check dom0-answers "xl list shows $dom0 domain(s); xenstore answers: $(xenstore-read /local/domain/0/name 2>&1)" \
    '[ "$dom0" = 1 ] && [ "$(xenstore-read /local/domain/0/name 2>&1)" = Domain-0 ]'

finish
