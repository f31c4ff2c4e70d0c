# keel_mode=bench-split (with keel_ip=; xvda and eth0 attached): the
# split-driver benchmark's domU side (tests/toolstack/bench-splitdrv.sh
# in dom0 times it; not a test).  It marks each step by writing a key in
# its xenstore data/ directory, which dom0 watches and stamps with its TSC:
#   bench-w0 / bench-w1    around a 256 MiB direct write of xvda
#   bench-r1               after a 256 MiB direct read of xvda
#   bench-listening        its TCP listener (port 5001) runs
#   bench-rx1 = <bytes>    dom0's 256 MiB arrived and the connection ended
#   bench-tx0              just before sending 256 MiB to dom0's port 5002
# Dom0 starts each part by writing data/bench-go, then data/bench-tx-go.
. /modes/disk-lib.sh
MB=${keel_mb:-256}
for word in $(cat /proc/cmdline); do
    case "$word" in keel_mb=*) MB=${word#*=} ;; esac
done
mark() {
    xenstore-write "data/$1" "${2:-1}"
}
await() {
    until xenstore-read "data/$1" >/dev/null 2>&1; do sleep 0.5; done
}
wait_disk xvda || exit 1
await bench-go
mark bench-w0
dd if=/dev/zero of=/dev/xvda bs=1M count="$MB" oflag=direct 2>/tmp/w.err ||
    echo "DOMU: bench write failed: $(tail -n 1 /tmp/w.err)"
mark bench-w1
dd if=/dev/xvda of=/dev/null bs=1M count="$MB" iflag=direct 2>/tmp/r.err ||
    echo "DOMU: bench read failed: $(tail -n 1 /tmp/r.err)"
mark bench-r1
mkfifo /tmp/hold
(sleep 100000 >/tmp/hold) &
holder=$!
nc -l -p 5001 </tmp/hold | wc -c >/tmp/rx.n &
rx=$!
sleep 1
mark bench-listening
wait "$rx"
mark bench-rx1 "$(cat /tmp/rx.n)"
await bench-tx-go
mark bench-tx0
dd if=/dev/zero bs=1M count="$MB" 2>/dev/null | nc 192.168.77.1 5002
kill "$holder" 2>/dev/null
echo "DOMU: bench-split done"
