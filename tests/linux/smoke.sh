#!/bin/sh
# Issue 4 acceptance, run by the initramfs' /init (KEEL_TEST=/tests/linux/smoke.sh).
# Each check prints "SMOKE: <name>: PASS" or "SMOKE: <name>: FAIL (<why>)";
# the last line is "SMOKE: N passed, M failed".  Expected values come from the
# kernel command line: smoke_vcpus=N, smoke_mem_mb=N (dom0_mem on Keel's line).
pass=0
fail=0
ok() { echo "SMOKE: $1: PASS"; pass=$((pass + 1)); }
bad() { echo "SMOKE: $1: FAIL ($2)"; fail=$((fail + 1)); }

want_vcpus=1
want_mem_mb=0
for word in $(cat /proc/cmdline); do
    case "$word" in
    smoke_vcpus=*) want_vcpus=${word#*=} ;;
    smoke_mem_mb=*) want_mem_mb=${word#*=} ;;
    esac
done

# 1. The hypervisor Linux found.
hv=$(cat /sys/hypervisor/type 2>/dev/null)
[ "$hv" = xen ] && ok hypervisor-type || bad hypervisor-type "read '$hv'"

# 2. vCPUs.
ncpu=$(grep -c '^processor' /proc/cpuinfo)
[ "$ncpu" = "$want_vcpus" ] && ok vcpus || bad vcpus "cpuinfo shows $ncpu, want $want_vcpus"

# 3. Memory: MemTotal within [2/3, 100%] of dom0_mem: the kernel keeps its
#    image and page structures, and swiotlb-xen 64 MiB (as on Xen).
total_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
free -m | sed 's/^/SMOKE:   /'
if [ "$want_mem_mb" -gt 0 ]; then
    lo=$((want_mem_mb * 1024 * 2 / 3))
    hi=$((want_mem_mb * 1024))
    if [ "$total_kb" -ge "$lo" ] && [ "$total_kb" -le "$hi" ]; then
        ok memory
    else
        bad memory "MemTotal ${total_kb} kB, want ${lo}..${hi}"
    fi
else
    bad memory "no smoke_mem_mb= on the command line"
fi

# 4. fork/exec loop: every child must run and report back.
n=0
i=0
while [ $i -lt 200 ]; do
    out=$(/bin/busybox echo "child $i") || break
    [ "$out" = "child $i" ] && n=$((n + 1))
    i=$((i + 1))
done
[ $n -eq 200 ] && ok fork-exec || bad fork-exec "$n of 200 children answered"

# 5. A few hundred MB touched and freed: fill a tmpfs file with non-zero
#    data, check it, drop it, and check the memory came back.
mkdir -p /mnt/big
mount -t tmpfs -o size=320m tmpfs /mnt/big
before_kb=$(awk '/^MemFree:/ {print $2}' /proc/meminfo)
if dd if=/dev/urandom of=/mnt/big/chunk bs=1M count=16 2>/dev/null; then
    j=0
    while [ $j -lt 12 ]; do
        cat /mnt/big/chunk > /mnt/big/f$j || break
        j=$((j + 1))
    done
    used_kb=$(( before_kb - $(awk '/^MemFree:/ {print $2}' /proc/meminfo) ))
    sum0=$(md5sum < /mnt/big/chunk)
    sum1=$(md5sum < /mnt/big/f11)
    rm -f /mnt/big/f* /mnt/big/chunk
    umount /mnt/big
    after_kb=$(awk '/^MemFree:/ {print $2}' /proc/meminfo)
    back_kb=$((before_kb - after_kb))
    echo "SMOKE:   touched ${used_kb} kB, $((back_kb)) kB not yet back"
    if [ $j -eq 12 ] && [ "$used_kb" -ge 190000 ] && [ "$sum0" = "$sum1" ] && [ "$back_kb" -lt 65536 ]; then
        ok big-memory
    else
        bad big-memory "files $j/12, used ${used_kb} kB, sums '$sum0' '$sum1', ${back_kb} kB not back"
    fi
else
    bad big-memory "dd failed"
    umount /mnt/big
fi

# 6. A file in tmpfs written and read back with a checksum.
mkdir -p /tmp/smoke
mount -t tmpfs tmpfs /tmp/smoke
seq 1 20000 > /tmp/smoke/numbers
want=$(seq 1 20000 | md5sum)
got=$(md5sum < /tmp/smoke/numbers)
lines=$(wc -l < /tmp/smoke/numbers)
umount /tmp/smoke
[ "$want" = "$got" ] && [ "$lines" -eq 20000 ] && ok tmpfs-checksum || bad tmpfs-checksum "'$got' vs '$want', $lines lines"

echo "SMOKE: $pass passed, $fail failed"
[ $fail -eq 0 ]
