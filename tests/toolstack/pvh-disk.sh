#!/bin/sh
# Issue 11 with issue 8: PVH domUs (type = "pvh", 2 vCPUs, 256 MiB) served
# by the split-driver back ends of the PV dom0, in one dom0 boot.
#   - disk: Linux's blkback serves xvda.  The domU's blkfront grants its
#     pages by GFN; blkback maps them.  The domU makes ext4 on xvda, writes
#     64 MiB with a checksum and powers off (keel_mode=disk-write, as in
#     disk.sh); dom0 reads the same checksum from the image on a loop mount.
#   - network: Linux's netback serves the domU's netfront on the bridge
#     xenbr0 (dom0 192.168.77.1), as net.sh does for PV domUs: netback
#     grant-copies to and from the domU's pages by GFN.  dom0 and the domU
#     ping each other, then 64 MiB over TCP each way with checksums
#     (keel_mode=net); the domU's vif leaves the bridge when it is destroyed.
# Runs under -icount like the split-driver groups (libxl's 40-second limit
# on the hotplug scripts).
. /tests/toolstack/lib.sh

if ! toolstack_up; then
    fail toolstack "xenstored or xl does not answer (see the KEEL-DOM0 lines)"
    finish
    exit 1
fi
free0=$(info_field free_memory)
LOSETUP=/sbin/losetup

img=$TS_DIR/pvhd.img
dd if=/dev/zero of="$img" bs=1M count=0 seek=256 2>/dev/null
cat >"$TS_DIR/pvhd.cfg" <<CFG
name = "pvhd"
type = "pvh"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/initrd-domu.gz"
extra = "console=hvc0 keel_mode=disk-write"
memory = 256
vcpus = 2
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
disk = ['format=raw,vdev=xvda,access=rw,target=$img']
CFG
domu_create pvhd
rc=$?
check create "exit $rc: $(create_output pvhd)" '[ "$rc" = 0 ]'
wait_console pvhd '^DOMU: disk-write (done|.*failed)' 900
wait_gone pvhd 600 || { note "pvhd still running"; xl destroy pvhd; }
end=$(($(now) + $(limit 60)))
while $LOSETUP -a 2>/dev/null | grep -q "$img" && [ "$(now)" -le "$end" ]; do sleep 1; done

wsum=$(console pvhd | sed -n 's/^DOMU: disk-write sum=\([0-9a-f]*\) bytes=\([0-9]*\)$/\1/p')
wbytes=$(console pvhd | sed -n 's/^DOMU: disk-write sum=[0-9a-f]* bytes=\([0-9]*\)$/\1/p')
check pvh-disk-write "domU wrote $wbytes bytes, sha256 $wsum; $(console pvhd | grep -m 1 '^DOMU: /dev/xvda')$(console pvhd | grep -m 1 'Booting kernel on' | cut -c1-60)" \
    '[ "$wbytes" = 67108864 ] && [ -n "$wsum" ] && console pvhd | grep -q "^DOMU: disk-write done" && console pvhd | grep -q "Booting kernel on Xen PVH"'

mkdir -p "$TS_DIR/mnt"
dsum=none
if dev=$($LOSETUP -f --show "$img"); then
    if mount -t ext4 -o ro "$dev" "$TS_DIR/mnt"; then
        dsum=$(sha256sum <"$TS_DIR/mnt/data" | cut -d' ' -f1)
        umount "$TS_DIR/mnt"
    fi
    $LOSETUP -d "$dev"
fi
check pvh-disk-dom0 "dom0's loop mount read sha256 $dsum" '[ -n "$wsum" ] && [ "$dsum" = "$wsum" ]'

# ---- network: a PVH domU's netfront on dom0's bridge (as net.sh's n1)
net_listen
cat >"$TS_DIR/pvhn.cfg" <<CFG
name = "pvhn"
type = "pvh"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/initrd-domu.gz"
extra = "console=hvc0 keel_mode=net keel_ip=192.168.77.2"
memory = 256
vcpus = 2
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
vif = ['bridge=xenbr0']
CFG
domu_create pvhn
rc=$?
# Its console goes to dom0's as well, prefixed: a stall shows where it is.
tail -f "$CONLOG/guest-pvhn.log" | sed 's/^/PVHN: /' >/dev/console &
conpipe=$!
# Where netfront and netback stand if eth0 is slow to come up (it takes
# a few seconds): both ends' xenbus states and the domU's vCPUs.
if ! wait_console pvhn '^DOMU: (eth0 |ready)' 60; then
    idn=$(xl domid pvhn 2>/dev/null)
    note "vif front end: $(xenstore-ls "/local/domain/${idn:-none}/device/vif/0" 2>&1 | grep -E '^ *(state|event-channel|tx-ring-ref|rx-ring-ref|multi-queue)' | tr -s ' \n' ' ' | cut -c1-300)"
    note "vif back end: $(xenstore-ls "/local/domain/0/backend/vif/${idn:-none}/0" 2>&1 | grep -E '^ *(state|hotplug-status)' | tr -s ' \n' ' ')"
    note "vCPUs: $(xl vcpu-list pvhn 2>&1 | tail -n +2 | tr -s ' \n' ' ')"
    wait_console pvhn '^DOMU: (eth0 |ready)' 540
fi
idn=$(xl domid pvhn 2>/dev/null)
check pvh-vif-up "xl create exit $rc; domU: '$(console pvhn | grep -m 1 '^DOMU: eth0')' $(console pvhn | grep -m 1 'Booting kernel on' | cut -c1-60); bridge ports: $(brif)" \
    '[ "$rc" = 0 ] && console pvhn | grep -q "^DOMU: eth0 192.168.77.2" && brif | grep -q "vif$idn.0" && console pvhn | grep -q "Booting kernel on Xen PVH"'

net_exchange pvhn pvh-

xl destroy pvhn
wait_gone pvhn 60
end=$(($(now) + $(limit 60)))
while [ -n "$(brif | tr -d ' ')" ] && [ "$(now)" -le "$end" ]; do sleep 1; done
left=$(backend_left "${idn:-none}")
kill "$conpipe" 2>/dev/null
check pvh-vif-gone "bridge ports left: '$(brif)'; back-end dirs left: '$left'" \
    '[ -z "$(brif | tr -d " ")" ] && [ -z "$left" ]'

loops=$($LOSETUP -a 2>/dev/null | wc -l)
check loops-released "loop devices left: $loops" '[ "$loops" = 0 ]'
free1=$(wait_value 60 "$free0" info_field free_memory)
check memory-back "free memory $free0 MiB before, $free1 MiB after" '[ "$free1" = "$free0" ]'

[ -n "${TS_NO_FINISH:-}" ] || finish
