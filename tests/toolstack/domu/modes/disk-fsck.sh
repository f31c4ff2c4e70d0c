# keel_mode=disk-fsck: the checks a Xen user's next boot makes of a disk
# whose domain was destroyed mid-write: mounting ext4 replays its journal
# (as after a power cut), the size of /mnt/data is read, the file system
# is unmounted, then a forced read-only check (e2fsck -f -n) must find
# nothing to repair.  Prints
#   "DOMU: disk-fsck mount=<0|1> bytes=<n> fsck=<exit code>", then
#   "DOMU: disk-fsck done" and powers off.
. /modes/disk-lib.sh
wait_disk xvda || exit 1
bytes=none
mounted=0
if mount -t ext4 /dev/xvda /mnt; then
    mounted=1
    bytes=$(wc -c </mnt/data)
    umount /mnt || mounted=2
fi
/sbin/e2fsck -f -n /dev/xvda >/tmp/fsck.out 2>&1
rc=$?
[ "$rc" = 0 ] || sed 's/^/DOMU: e2fsck: /' /tmp/fsck.out | tail -n 12
echo "DOMU: disk-fsck mount=$mounted bytes=$bytes fsck=$rc"
echo "DOMU: disk-fsck done"
/sbin/poweroff
