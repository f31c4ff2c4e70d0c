#!/bin/sh
# Issue 8, disks: Linux's blkback in dom0 serves blkfront in PV domUs; xl
# runs Debian's /etc/xen/scripts/block (bash, losetup, flock, ...) for
# `disk = ['format=raw,vdev=xvda,access=rw,target=FILE']`.
#   - a domU makes ext4 on xvda, writes 64 MiB with a checksum, powers off;
#     a new domU verifies the checksum; dom0 verifies it on a loop mount
#   - a read-only disk: the domU sees it read-only and a write is refused
#   - two domUs with their own disks at once
#   - xl block-attach / block-detach on a running domU
#   - abrupt end: xl destroy of a domU writing to its ext4; nothing of it
#     left in dom0; a new domU finds the file system clean after the
#     journal replay, with every chunk the first saw synced
#   - afterwards: no loop device or vbd back end left, free memory back
. /tests/toolstack/lib.sh

if ! toolstack_up; then
    fail toolstack "xenstored or xl does not answer (see the KEEL-DOM0 lines)"
    finish
    exit 1
fi
free0=$(info_field free_memory)
LOSETUP=/sbin/losetup  # Debian's; busybox's shell would run its own applet

# new_image NAME: a sparse 256 MiB file in dom0's memory.
new_image() {
    rm -f "$TS_DIR/$1.img"
    dd if=/dev/zero of="$TS_DIR/$1.img" bs=1M count=0 seek=256 2>/dev/null
    echo "$TS_DIR/$1.img"
}

disk_line() {
    echo "disk = ['format=raw,vdev=xvda,access=$2,target=$1']"
}

# run_disk_domu NAME MODE IMAGE ACCESS: creates the domU and waits until it
# powered itself off and xl's block remove script released the image.
run_disk_domu() {
    domu_cfg "$1" "keel_mode=$2" "$(disk_line "$3" "$4")"
    domu_create "$1" || { note "$1: xl create failed: $(create_output "$1")"; show_logs; return 1; }
}

# finish_domu NAME IMAGE: waits for the domU's end, then for the loop device.
finish_domu() {
    wait_gone "$1" 600 || { note "$1 still running"; xl destroy "$1"; }
    _fd_end=$(($(now) + $(limit 60)))
    while $LOSETUP -a 2>/dev/null | grep -q "$2" && [ "$(now)" -le "$_fd_end" ]; do sleep 1; done
}

# dom0_sum IMAGE: sha256 of /data in the image's file system, loop-mounted.
dom0_sum() {
    mkdir -p "$TS_DIR/mnt"
    _ds_dev=$($LOSETUP -f --show "$1") || { echo "losetup-failed"; return; }
    if mount -t ext4 -o ro "$_ds_dev" "$TS_DIR/mnt"; then
        sha256sum <"$TS_DIR/mnt/data" | cut -d' ' -f1
        umount "$TS_DIR/mnt"
    else
        echo "mount-failed"
    fi
    $LOSETUP -d "$_ds_dev"
}

# ---- write in one domU, verify in another and in dom0
img=$(new_image d1)
run_disk_domu dw disk-write "$img" rw
wait_console dw '^DOMU: disk-write (done|.*failed)' 600
finish_domu dw "$img"
wsum=$(console dw | sed -n 's/^DOMU: disk-write sum=\([0-9a-f]*\) bytes=\([0-9]*\)$/\1/p')
wbytes=$(console dw | sed -n 's/^DOMU: disk-write sum=[0-9a-f]* bytes=\([0-9]*\)$/\1/p')
check disk-write "domU wrote $wbytes bytes, sha256 $wsum; $(console dw | grep -m 1 '^DOMU: /dev/xvda')" \
    '[ "$wbytes" = 67108864 ] && [ -n "$wsum" ] && console dw | grep -q "^DOMU: disk-write done"'

run_disk_domu dv disk-verify "$img" rw
wait_console dv '^DOMU: disk-verify (done|.*failed)' 600
finish_domu dv "$img"
vsum=$(console dv | sed -n 's/^DOMU: disk-verify sum=\([0-9a-f]*\) .*/\1/p')
check disk-verify-domu "a second domU read sha256 $vsum" '[ -n "$wsum" ] && [ "$vsum" = "$wsum" ]'

dsum=$(dom0_sum "$img")
check disk-verify-dom0 "dom0's loop mount read sha256 $dsum" '[ -n "$wsum" ] && [ "$dsum" = "$wsum" ]'

# ---- read-only
run_disk_domu dro disk-ro "$img" ro
wait_console dro '^DOMU: disk-ro ' 600
finish_domu dro "$img"
line=$(console dro | grep -m 1 '^DOMU: disk-ro ')
check disk-readonly "$line" \
    'echo "$line" | grep -q "ro=1 write=refused sum=$wsum"'

# ---- two domUs, each with its own disk, at once
img2=$(new_image d2)
img3=$(new_image d3)
run_disk_domu dw2 disk-write "$img2" rw
run_disk_domu dw3 disk-write "$img3" rw
wait_console dw2 '^DOMU: disk-write (done|.*failed)' 600
wait_console dw3 '^DOMU: disk-write (done|.*failed)' 600
finish_domu dw2 "$img2"
finish_domu dw3 "$img3"
s2=$(console dw2 | sed -n 's/^DOMU: disk-write sum=\([0-9a-f]*\) .*/\1/p')
s3=$(console dw3 | sed -n 's/^DOMU: disk-write sum=\([0-9a-f]*\) .*/\1/p')
d2=$(dom0_sum "$img2")
d3=$(dom0_sum "$img3")
check disk-two-domus "domU sums ${s2:-none} ${s3:-none}; dom0 read $d2 $d3" \
    '[ -n "$s2" ] && [ -n "$s3" ] && [ "$s2" != "$s3" ] && [ "$d2" = "$s2" ] && [ "$d3" = "$s3" ]'
rm -f "$img2" "$img3"

# ---- hot-plug
img4=$(new_image d4)
domu_cfg hp "keel_mode=hotplug"
domu_create hp
wait_console hp '^DOMU: hotplug watching' 600
xl block-attach hp "format=raw,vdev=xvdb,access=rw,target=$img4" >"$TS_DIR/attach.out" 2>&1
arc=$?
wait_console hp '^DOMU: dev\+ xvdb ' 120
added=$(console hp | grep -m 1 '^DOMU: dev+ xvdb')
xl block-detach hp xvdb >"$TS_DIR/detach.out" 2>&1
drc=$?
wait_console hp '^DOMU: dev- xvdb' 120
removed=$(console hp | grep -m 1 '^DOMU: dev- xvdb')
check block-attach "xl block-attach exit $arc; domU: '$added' $(tr '\n' ' ' <"$TS_DIR/attach.out")" \
    '[ "$arc" = 0 ] && echo "$added" | grep -q "size=524288 read=0"'
check block-detach "xl block-detach exit $drc; domU: '$removed' $(tr '\n' ' ' <"$TS_DIR/detach.out")" \
    '[ "$drc" = 0 ] && [ -n "$removed" ]'
xl destroy hp
finish_domu hp "$img4"
rm -f "$img4"

# ---- abrupt end: xl destroy in the middle of a write
# The domU grows a file on its ext4 by 4 MiB chunks, each fsync'ed before
# it says so; dom0 destroys it while the chunk after the third is being
# written (blkback then has requests in flight on the loop device).  A
# Xen user then expects what a power cut gives: dom0's back end and loop
# device gone, and a file system that the next mount's journal replay
# leaves clean -- e2fsck -f -n finds nothing to repair -- with every
# chunk the domU saw synced still there.
bad0=$(dmesg_bad)
img5=$(new_image d5)
run_disk_domu da disk-abrupt "$img5" rw
wait_console da '^DOMU: disk-abrupt (chunk 3 synced|.*failed)' 600
ida=$(xl domid da 2>/dev/null)
stat=$(cat /sys/bus/xen-backend/devices/vbd-$ida-51712/statistics/wr_req 2>/dev/null)
xl destroy da
xrc=$?
wait_gone da 60
finish_domu da "$img5"
synced=$(console da | sed -n 's/^DOMU: disk-abrupt chunk \([0-9]*\) synced$/\1/p' | tail -n 1)
left=$(backend_left "${ida:-none}")
loops=$($LOSETUP -a 2>/dev/null | grep -c "$img5")
check disk-abrupt-destroy "xl destroy exit $xrc after ${synced:-no} chunks synced (blkback wr_req ${stat:-?}); back-end dirs left: '$left'; loop devices on the image: $loops; xl list: $(xl list 2>/dev/null | awk 'NR > 1 { printf "%s ", $1 }')" \
    '[ "$xrc" = 0 ] && [ "${synced:-0}" -ge 3 ] && [ -z "$left" ] && [ "$loops" = 0 ] && only_dom0'

run_disk_domu df disk-fsck "$img5" rw
wait_console df '^DOMU: disk-fsck (done|.*failed)' 600
finish_domu df "$img5"
line=$(console df | grep -m 1 '^DOMU: disk-fsck mount=')
fbytes=$(echo "$line" | sed -n 's/.* bytes=\([0-9]*\) .*/\1/p')
check disk-abrupt-fsck "a new domU on the same image: $line (at least $((${synced:-0} * 4)) MiB synced)" \
    'echo "$line" | grep -q "mount=1 .* fsck=0$" && [ "${fbytes:-0}" -ge $((${synced:-0} * 4194304)) ]'
rm -f "$img5"
bad1=$(dmesg_bad)
toolstack_up
up=$?
check disk-abrupt-dom0 "dom0's toolstack answers: $([ "$up" = 0 ] && echo yes || echo no); kernel problem lines in dom0's dmesg: $bad0 -> $bad1" \
    '[ "$up" = 0 ] && [ "$bad1" = "$bad0" ]'
[ "$bad1" = "$bad0" ] || dmesg | grep -E -A3 'Oops|WARNING:|BUG:|Call Trace' | tail -n 20 | sed 's/^/TOOLSTACK:   dmesg: /'

# ---- nothing left behind
loops=$($LOSETUP -a 2>/dev/null | grep -c .)
doms=$(xl list 2>&1 | awk 'NR > 1 { n++ } END { print n + 0 }')
free1=$(wait_value 60 "$free0" info_field free_memory)
vbds=$(xenstore-list /local/domain/0/backend/vbd 2>/dev/null | tr '\n' ' ')
check disk-clean "loop devices in use: $loops; domains: $doms; vbd back ends: '$vbds'; free memory $free0 -> $free1 MiB" \
    '[ "$loops" = 0 ] && [ "$doms" = 1 ] && [ -z "$vbds" ] && [ "$free1" = "$free0" ]'
finish
