# Shared by the disk modes.  wait_disk NAME: until /dev/NAME exists (the
# front end connects after the toolstack's hotplug script ran in dom0).
wait_disk() {
    i=0
    while [ ! -b "/dev/$1" ]; do
        i=$((i + 1))
        [ "$i" -le 120 ] || { echo "DOMU: no /dev/$1"; return 1; }
        sleep 0.5
    done
    echo "DOMU: /dev/$1 $(cat /sys/block/$1/size) sectors"
}
