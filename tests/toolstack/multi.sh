#!/bin/sh
# Issue 7: four PV domUs at once, each reaching /init under its own domid;
# then all destroyed, and `xl info`'s free memory is back to its starting
# value exactly, as are dom0's event channels and grant mappings.
. /tests/toolstack/lib.sh

if ! toolstack_up; then
    fail toolstack "xenstored or xl does not answer (see the KEEL-DOM0 lines)"
    finish
    exit 1
fi

free0=$(info_field free_memory)
ev0=$(dom0_evtchns)
gm0=$(dom0_gntmaps)
note "before: free_memory=$free0 MiB, dom0 event channels $ev0, gntdev mappings $gm0"

names="m1 m2 m3 m4"
for n in $names; do
    domu_cfg "$n" "keel_mode=idle"
    domu_create "$n"
    rc=$?
    check "create-$n" "exit $rc: $(create_output "$n")" '[ "$rc" = 0 ]'
done
ids=""
for n in $names; do
    wait_console "$n" '^DOMU: ready' 600
    id=$(xl domid "$n" 2>/dev/null)
    seen=$(fact "$n" domid)
    ids="$ids $id"
    check "init-$n" "domid $id, the domU read '$seen' from xenstore" \
        '[ -n "$id" ] && [ "$seen" = "$id" ] && console "$n" | grep -q "^DOMU: ready"'
done
distinct=$(echo $ids | tr ' ' '\n' | sort -u | grep -c .)
check distinct-domids "domids:$ids" '[ "$distinct" = 4 ]'
running=$(xl list | awk 'NR > 1 && $1 ~ /^m[1-4]$/' | grep -c .)
free_mid=$(info_field free_memory)
note "all four up: free_memory=$free_mid MiB, dom0 event channels $(dom0_evtchns), gntdev mappings $(dom0_gntmaps)"
check all-running "$running of 4 in xl list; free memory $free0 -> $free_mid MiB" \
    '[ "$running" = 4 ] && [ "$free_mid" -le $((free0 - 4 * 128)) ]'

for n in $names; do
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
