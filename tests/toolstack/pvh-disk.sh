#!/bin/sh
# Issue 11 with issue 8: a PVH domU (type = "pvh", 2 vCPUs, 256 MiB) with a
# disk served by Linux's blkback in the PV dom0.  Its blkfront grants its
# pages by GFN; blkback maps them.  The domU makes ext4 on xvda, writes
# 64 MiB with a checksum and powers off (keel_mode=disk-write, as in
# disk.sh); dom0 reads the same checksum from the image on a loop mount.
# Runs under -icount like the split-driver groups (libxl's 40-second limit
# on the block script).
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

loops=$($LOSETUP -a 2>/dev/null | wc -l)
check loops-released "loop devices left: $loops" '[ "$loops" = 0 ]'
free1=$(wait_value 60 "$free0" info_field free_memory)
check memory-back "free memory $free0 MiB before, $free1 MiB after" '[ "$free1" = "$free0" ]'

[ -n "${TS_NO_FINISH:-}" ] || finish
