# keel_mode=disk-write: an ext4 file system on /dev/xvda (Debian's mke2fs),
# 64 MiB of random data in /mnt/data, its checksum, sync, unmount, power
# off.  Prints "DOMU: disk-write sum=<sha256> bytes=<n>", then
# "DOMU: disk-write done".
. /modes/disk-lib.sh
wait_disk xvda || exit 1
/sbin/mke2fs -q -F -t ext4 /dev/xvda || { echo "DOMU: disk-write mke2fs failed"; exit 1; }
mount -t ext4 /dev/xvda /mnt || { echo "DOMU: disk-write mount failed"; exit 1; }
dd if=/dev/urandom of=/mnt/data bs=1M count=64 2>/dev/null
sync
echo "DOMU: disk-write sum=$(sha256sum </mnt/data | cut -d' ' -f1) bytes=$(wc -c </mnt/data)"
umount /mnt || { echo "DOMU: disk-write umount failed"; exit 1; }
echo "DOMU: disk-write done"
/sbin/poweroff
