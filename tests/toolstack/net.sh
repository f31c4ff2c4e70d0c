#!/bin/sh
# Issue 8, network: Linux's netback in dom0 serves netfront in PV domUs on
# the bridge xenbr0 (dom0 192.168.77.1); xl runs Debian's
# /etc/xen/scripts/vif-bridge (bash, iproute2) for `vif = ['bridge=xenbr0']`.
#   - dom0 and a domU ping each other
#   - 64 MiB over TCP (busybox nc) each way, with checksums
#   - two domUs talk to each other through the bridge
#   - xl network-attach / network-detach on a running domU
#   - abrupt end: xl destroy of a domU in the middle of TCP both ways;
#     its vif and back end go, dom0 and the first domU still talk
#   - afterwards: no vif left on the bridge or in xenstore, memory back
. /tests/toolstack/lib.sh

if ! toolstack_up; then
    fail toolstack "xenstored or xl does not answer (see the KEEL-DOM0 lines)"
    finish
    exit 1
fi
free0=$(info_field free_memory)
VIF="vif = ['bridge=xenbr0']"
net_listen

domu_cfg n1 "keel_mode=net keel_ip=192.168.77.2" "$VIF"
domu_create n1
rc=$?
wait_console n1 '^DOMU: (eth0 |ready)' 600
id1=$(xl domid n1 2>/dev/null)
check vif-up "xl create exit $rc; domU: '$(console n1 | grep -m 1 '^DOMU: eth0')'; bridge ports: $(brif)" \
    '[ "$rc" = 0 ] && console n1 | grep -q "^DOMU: eth0 192.168.77.2" && brif | grep -q "vif$id1.0"'

net_exchange n1 ""

# Two domUs through the bridge.
domu_cfg n2 "keel_mode=ping keel_ip=192.168.77.3 keel_peer=192.168.77.2" "$VIF"
domu_create n2
wait_console n2 '^DOMU: ping-peer ' 600
line=$(console n2 | grep -m 1 '^DOMU: ping-peer ')
check domu-to-domu "$line" 'echo "$line" | grep -q "ping-peer ok"'
xl destroy n2
wait_gone n2 60

# Hot-plug of a network card.
domu_cfg hp "keel_mode=hotplug"
domu_create hp
wait_console hp '^DOMU: hotplug watching' 600
xl network-attach hp bridge=xenbr0 >"$TS_DIR/nattach.out" 2>&1
arc=$?
wait_console hp '^DOMU: dev\+ eth' 120
added=$(console hp | grep -m 1 '^DOMU: dev+ eth')
ports=$(brif)
check network-attach "xl network-attach exit $arc; domU: '$added'; bridge ports: $ports" \
    '[ "$arc" = 0 ] && [ -n "$added" ]'
dev=$(xl network-list hp 2>/dev/null | awk 'NR == 2 { print $1 }')
xl network-detach hp "${dev:-0}" >"$TS_DIR/ndetach.out" 2>&1
drc=$?
wait_console hp '^DOMU: dev- eth' 120
removed=$(console hp | grep -m 1 '^DOMU: dev- eth')
check network-detach "xl network-detach exit $drc; domU: '$removed' $(tr '\n' ' ' <"$TS_DIR/ndetach.out")" \
    '[ "$drc" = 0 ] && [ -n "$removed" ]'
xl destroy hp
wait_gone hp 60

# Abrupt end: a domU destroyed in the middle of TCP transfers both ways
# (dom0 -> domU port 5004, domU -> dom0 port 5003, neither ever ends).
# A Xen user expects what pulling a machine's cable gives: dom0's
# connections stall (they are killed here), netback and the vif go, and
# the bridge keeps serving the other domU.
bad0=$(dmesg_bad)
mkfifo "$TS_DIR/hold2"
(sleep 100000 >"$TS_DIR/hold2") &
holder2=$!
nc -l -p 5003 <"$TS_DIR/hold2" >/dev/null &
lis=$!
domu_cfg na "keel_mode=net-abrupt keel_ip=192.168.77.4" "$VIF"
domu_create na
wait_console na '^DOMU: net-abrupt listening' 600
ida=$(xl domid na 2>/dev/null)
nc 192.168.77.4 5004 </dev/zero >/dev/null &
snd=$!
# Both directions under way: at least 8 MiB each way through the vif
# (dom0's rx on vifN.0 is what the domU sent).
rxb=0
txb=0
end=$(($(now) + $(limit 300)))
while [ "$(now)" -le "$end" ]; do
    rxb=$(cat /sys/class/net/vif$ida.0/statistics/rx_bytes 2>/dev/null || echo 0)
    txb=$(cat /sys/class/net/vif$ida.0/statistics/tx_bytes 2>/dev/null || echo 0)
    [ "$rxb" -ge 8388608 ] && [ "$txb" -ge 8388608 ] && break
    sleep 0.5
done
xl destroy na
xrc=$?
wait_gone na 60
end=$(($(now) + $(limit 60)))
while brif | grep -q "vif$ida\." && [ "$(now)" -le "$end" ]; do sleep 1; done
ports=$(brif)
left=$(backend_left "${ida:-none}")
check net-abrupt-destroy "xl destroy exit $xrc with $rxb bytes in from the domU and $txb out; back-end dirs left: '$left'; bridge ports: $ports" \
    '[ "$xrc" = 0 ] && [ "$rxb" -ge 8388608 ] && [ "$txb" -ge 8388608 ] && [ -z "$left" ] && ! echo "$ports" | grep -q "vif$ida\."'
kill "$snd" "$lis" "$holder2" 2>/dev/null
wait "$snd" "$lis" 2>/dev/null
ping -c 3 -W 10 192.168.77.2 >"$TS_DIR/ping2.out" 2>&1
prc=$?
bad1=$(dmesg_bad)
toolstack_up
up=$?
check net-abrupt-dom0 "dom0's toolstack answers: $([ "$up" = 0 ] && echo yes || echo no); dom0 -> the first domU: $(grep -o '[0-9]* packets received' "$TS_DIR/ping2.out"); kernel problem lines in dom0's dmesg: $bad0 -> $bad1" \
    '[ "$up" = 0 ] && [ "$prc" = 0 ] && [ "$bad1" = "$bad0" ]'
[ "$bad1" = "$bad0" ] || dmesg | grep -E -A3 'Oops|WARNING:|BUG:|Call Trace' | tail -n 20 | sed 's/^/TOOLSTACK:   dmesg: /'

xl destroy n1
wait_gone n1 60
end=$(($(now) + $(limit 60)))
while [ -n "$(brif | tr -d ' ')" ] && [ "$(now)" -le "$end" ]; do sleep 1; done
doms=$(xl list 2>&1 | awk 'NR > 1 { n++ } END { print n + 0 }')
free1=$(wait_value 60 "$free0" info_field free_memory)
vifs=$(xenstore-list /local/domain/0/backend/vif 2>/dev/null | tr '\n' ' ')
check net-clean "bridge ports left: '$(brif)'; domains: $doms; vif back ends: '$vifs'; free memory $free0 -> $free1 MiB" \
    '[ -z "$(brif | tr -d " ")" ] && [ "$doms" = 1 ] && [ -z "$vifs" ] && [ "$free1" = "$free0" ]'
finish
