# keel_mode=disk-abrupt: an ext4 file system on /dev/xvda, then /mnt/data
# grows by 4 MiB chunks of random data, each made durable (conv=fsync)
# before "DOMU: disk-abrupt chunk <n> synced" is printed; it never stops:
# dom0 destroys the domain in the middle of a chunk (tests/toolstack/disk.sh).
. /modes/disk-lib.sh
wait_disk xvda || exit 1
/sbin/mke2fs -q -F -t ext4 /dev/xvda || { echo "DOMU: disk-abrupt mke2fs failed"; exit 1; }
mount -t ext4 /dev/xvda /mnt || { echo "DOMU: disk-abrupt mount failed"; exit 1; }
echo "DOMU: disk-abrupt writing"
n=0
while :; do
    dd if=/dev/urandom of=/mnt/data bs=1M count=4 seek=$((n * 4)) conv=notrunc,fsync 2>/dev/null ||
        { echo "DOMU: disk-abrupt write failed"; exit 1; }
    n=$((n + 1))
    echo "DOMU: disk-abrupt chunk $n synced"
done
