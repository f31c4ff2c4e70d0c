# keel_mode=hotplug: reports block devices and network interfaces as they
# come and go (dom0 runs xl block-attach/-detach, network-attach/-detach):
#   DOMU: dev+ xvdb size=<sectors> read=<dd status>    DOMU: dev- xvdb
#   DOMU: dev+ eth1                                   DOMU: dev- eth1
modprobe xen-blkfront
modprobe xen-netfront
devices() {
    ls /sys/block 2>/dev/null | grep '^xvd'
    ls /sys/class/net 2>/dev/null | grep '^eth'
}
seen=$(devices | tr '\n' ' ')
echo "DOMU: hotplug watching (present: $seen)"
while :; do
    now=$(devices | tr '\n' ' ')
    for d in $now; do
        case " $seen " in *" $d "*) continue ;; esac
        case "$d" in
        xvd*)
            dd if=/dev/$d of=/dev/null bs=1M count=1 2>/dev/null
            echo "DOMU: dev+ $d size=$(cat /sys/block/$d/size) read=$?" ;;
        *) echo "DOMU: dev+ $d" ;;
        esac
    done
    for d in $seen; do
        case " $now " in *" $d "*) continue ;; esac
        echo "DOMU: dev- $d"
    done
    seen=$now
    sleep 0.5
done
