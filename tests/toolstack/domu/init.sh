#!/bin/busybox sh
# The domU's init script (cache/initrd-domu.gz).  /init is bench/keel-rdtsc.c:
# it prints "BOOT-TSC <ticks>" (the benchmark's end mark) and execs this.
# Everything goes to hvc0, which xenconsoled logs in dom0
# (/var/log/xen/console/guest-<name>.log) and `xl console` shows.
#
# Lines the tests in dom0 read (tests/toolstack/lib.sh):
#   DOMU: /init reached
#   DOMU: hypervisor=<type> cpus=<n> memtotal_kb=<n> domid=<id from xenstore> evtchn=<fifo|2l>
#   DOMU: ready
# then the mode chosen with keel_mode= on the command line (xl's extra=):
#   counter (default)  "DOMU: tick <n>" every second, forever
#   idle               nothing more
#   hog                spins on its CPU, forever
#   other names        /modes/<name>.sh (disk and network checks)
# `xl shutdown` / `xl reboot` run /sbin/poweroff or /sbin/reboot (the
# kernel's orderly_poweroff/orderly_reboot); they print
# "DOMU: poweroff"/"DOMU: reboot" and leave at once.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1
# The mark dom0 can wait for without polling (a xenstore watch; the
# benchmark's "/init seen by dom0"): data/ is the guest's to write.
xenstore-write data/keel-init 1 2>/dev/null
echo "DOMU: /init reached"

# Busybox's poweroff would signal an init that is not there: the kernel's
# helpers get scripts that end the domain themselves (they run with no
# open files, hence the console by name).
for act in poweroff reboot halt; do
    rm -f /sbin/$act
    printf '#!/bin/busybox sh\necho "DOMU: %s" >/dev/console\nsync\nexec /bin/busybox %s -f\n' \
        "$act" "$act" >/sbin/$act
    chmod 755 /sbin/$act
done

hv=$(cat /sys/hypervisor/type 2>/dev/null)
cpus=$(grep -c '^processor' /proc/cpuinfo)
mem=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
# A relative path is the domain's own home (/local/domain/<id>); the
# request goes through the xenbus device to xenstored in dom0.
domid=$(xenstore-read domid 2>&1)
# Which event-channel ABI the kernel took (FIFO whenever it is offered).
evtchn=2l
busybox dmesg 2>/dev/null | grep -q 'Using FIFO-based ABI' && evtchn=fifo
echo "DOMU: hypervisor=${hv:-none} cpus=$cpus memtotal_kb=$mem domid=$domid evtchn=$evtchn"
# Event upcalls taken per CPU so far (the "Hypervisor callback" vector,
# per-vCPU or domain-wide alike).
echo "DOMU: hyp $(grep '^ *HYP:' /proc/interrupts | tr -s ' ')"

mode=counter
ipaddr=
for word in $(cat /proc/cmdline); do
    case "$word" in
    keel_mode=*) mode=${word#*=} ;;
    keel_ip=*) ipaddr=${word#*=} ;;
    esac
done

# Front ends only for the devices the toolstack gave this domain.
if ls /sys/bus/xen/devices/ 2>/dev/null | grep -q '^vbd-'; then
    modprobe xen-blkfront && echo "DOMU: disks: $(ls /sys/block | grep xvd | tr '\n' ' ')"
fi
if ls /sys/bus/xen/devices/ 2>/dev/null | grep -q '^vif-'; then
    modprobe xen-netfront
    ip link set lo up
    if [ -n "$ipaddr" ]; then
        ip addr add "$ipaddr/24" dev eth0 && ip link set eth0 up &&
            echo "DOMU: eth0 $ipaddr"
    fi
fi
echo "DOMU: ready mode=$mode"

case "$mode" in
counter)
    n=0
    while :; do
        echo "DOMU: tick $n"
        n=$((n + 1))
        sleep 1
    done
    ;;
idle) ;;
hog)
    # CPU-bound for ever (the scheduling tests): no system calls at all.
    while :; do :; done
    ;;
*)
    if [ -f "/modes/$mode.sh" ]; then
        sh "/modes/$mode.sh"
        echo "DOMU: mode $mode exit $?"
    else
        echo "DOMU: unknown mode $mode"
    fi
    ;;
esac
# PID 1 must not end; `xl shutdown` or `xl destroy` ends the domain.
while :; do sleep 3600; done
