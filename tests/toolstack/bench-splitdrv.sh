#!/bin/sh
# The split-driver benchmark's dom0 side (bench/splitdrv.sh boots it under
# QEMU -icount on Xen 4.17 and on Keel; not a test).  One PV domU (128 MiB,
# 2 vCPUs) with xvda on a loop device over a file in dom0's memory
# (Debian's block script, blkback) and a vif on xenbr0 (vif-bridge,
# netback) runs tests/toolstack/domu/modes/bench-split.sh.  Prints
# "BENCH: <key> <ticks>", ticks being dom0's TSC (= executed instructions
# under -icount, idle time skipped):
#   disk_write  256 MiB dd oflag=direct to xvda, 1 MiB blocks
#   disk_read   256 MiB dd iflag=direct from xvda
#   tcp_dom0_to_domu  busybox nc, dom0 starts sending -> the domU's nc ended
#   tcp_domu_to_dom0  the domU starts sending -> dom0's nc ended
# The domU's steps are timed from a xenstore watch on its data/ directory
# (it writes a key at each step): no polling inside a measured interval.
# keel_mb=N on dom0's command line changes the 256 MiB.
. /tests/toolstack/lib.sh

MB=256
for word in $(cat /proc/cmdline); do
    case "$word" in keel_mb=*) MB=${word#*=} ;; esac
done
tsc() {
    /usr/bin/keel-tsc
}
report() {
    echo "BENCH: $1 $2"
}
if ! toolstack_up; then
    echo "BENCH: error toolstack not up"
    exit 1
fi
echo "BENCH: mib $MB"

img=$TS_DIR/bench.img
dd if=/dev/zero of="$img" bs=1M count=0 seek=$((MB + 64)) 2>/dev/null
# dom0's listener for the domU's data, stamped as it ends.
mkfifo "$TS_DIR/hold" "$TS_DIR/watch.fifo"
(sleep 100000 >"$TS_DIR/hold") &
holder=$!
(nc -l -p 5002 <"$TS_DIR/hold" | wc -c >"$TS_DIR/rx.n"; tsc >"$TS_DIR/rx.tsc") &

domu_cfg bs "keel_mode=bench-split keel_ip=192.168.77.2 keel_mb=$MB" \
    "disk = ['format=raw,vdev=xvda,access=rw,target=$img']" "vif = ['bridge=xenbr0']"
domu_create bs || { echo "BENCH: error xl create: $(create_output bs)"; exit 1; }
id=$(xl domid bs)
dir=/local/domain/$id/data
xenstore-watch "$dir" >"$TS_DIR/watch.fifo" 2>/dev/null &
wpid=$!
while read -r path rest; do
    echo "$(tsc) $path"
done <"$TS_DIR/watch.fifo" >"$TS_DIR/stamps" &

# stamp KEY: dom0's TSC when the domU wrote data/KEY (waits for it).
stamp() {
    _s_end=$(($(now) + $(limit 3600)))
    while [ "$(now)" -le "$_s_end" ]; do
        _s=$(awk -v k="$dir/$1" '$2 == k { print $1; exit }' "$TS_DIR/stamps")
        [ -n "$_s" ] && { echo "$_s"; return 0; }
        in_list bs || break
        sleep 1
    done
    echo "BENCH: error no $1 from the domU ($(console bs | tail -n 3 | tr '\n' ' '))" >&2
    return 1
}

wait_console bs '^DOMU: /dev/xvda ' 600
wait_console bs '^DOMU: eth0 ' 600
sleep 2
xenstore-write "$dir/bench-go" 1
w0=$(stamp bench-w0) && w1=$(stamp bench-w1) && r1=$(stamp bench-r1) &&
    report disk_write $((w1 - w0)) && report disk_read $((r1 - w1))
stamp bench-listening >/dev/null
t0=$(tsc)
dd if=/dev/zero bs=1M count="$MB" 2>/dev/null | nc 192.168.77.2 5001
t1=$(stamp bench-rx1) && report tcp_dom0_to_domu $((t1 - t0))
note "the domU received $(xenstore-read "$dir/bench-rx1") bytes"
xenstore-write "$dir/bench-tx-go" 1
t0=$(stamp bench-tx0)
end=$(($(now) + $(limit 3600)))
while [ ! -s "$TS_DIR/rx.tsc" ] && [ "$(now)" -le "$end" ]; do sleep 1; done
t1=$(cat "$TS_DIR/rx.tsc")
[ -n "$t0" ] && [ -n "$t1" ] && report tcp_domu_to_dom0 $((t1 - t0))
note "dom0 received $(cat "$TS_DIR/rx.n") bytes"
console bs | grep 'failed' | sed 's/^/BENCH: error /'
kill "$wpid" "$holder" 2>/dev/null
xl destroy bs
echo "BENCH: done"
