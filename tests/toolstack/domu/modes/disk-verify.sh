# keel_mode=disk-verify: mounts /dev/xvda (read-only) and prints
# "DOMU: disk-verify sum=<sha256> bytes=<n>" of /mnt/data, then powers off.
. /modes/disk-lib.sh
wait_disk xvda || exit 1
mount -t ext4 -o ro /dev/xvda /mnt || { echo "DOMU: disk-verify mount failed"; exit 1; }
echo "DOMU: disk-verify sum=$(sha256sum </mnt/data | cut -d' ' -f1) bytes=$(wc -c </mnt/data)"
umount /mnt
echo "DOMU: disk-verify done"
/sbin/poweroff
