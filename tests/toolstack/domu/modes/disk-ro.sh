# keel_mode=disk-ro: /dev/xvda is attached read-only.  Reports what the
# block layer says (ro flag), whether a direct write to the device is
# refused, and the checksum of /mnt/data through a read-only mount:
# "DOMU: disk-ro ro=<0|1> write=<refused|accepted> sum=<sha256>".
. /modes/disk-lib.sh
wait_disk xvda || exit 1
ro=$(cat /sys/block/xvda/ro)
if dd if=/dev/zero of=/dev/xvda bs=4096 count=1 seek=100 oflag=direct 2>/dev/null; then
    write=accepted
else
    write=refused
fi
sum=none
mount -t ext4 -o ro /dev/xvda /mnt && sum=$(sha256sum </mnt/data | cut -d' ' -f1) && umount /mnt
echo "DOMU: disk-ro ro=$ro write=$write sum=$sum"
/sbin/poweroff
