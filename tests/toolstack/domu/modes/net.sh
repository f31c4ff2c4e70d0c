# keel_mode=net (with keel_ip= on the command line; the domU's init brought
# eth0 up): ping dom0 (192.168.77.1), receive 64 MiB from dom0 on TCP port
# 5001, send 64 MiB of random data to dom0's port 5002, with checksums:
#   DOMU: ping-dom0 ok|fail    DOMU: rx-listening    DOMU: rx sum=<sha256>
#   DOMU: tx sum=<sha256>      DOMU: net done
# busybox nc: a listener whose standard input ends stops at once, so a
# fifo held open stands in for it.
peer=${keel_peer:-192.168.77.1}
for word in $(cat /proc/cmdline); do
    case "$word" in keel_peer=*) peer=${word#*=} ;; esac
done
if ping -c 3 -W 10 "$peer" >/tmp/ping.out 2>&1; then
    echo "DOMU: ping-dom0 ok ($(grep -o '[0-9]* packets received' /tmp/ping.out))"
else
    echo "DOMU: ping-dom0 fail ($(tail -n 2 /tmp/ping.out | tr '\n' ' '))"
fi
mkfifo /tmp/hold /tmp/txsum
(sleep 100000 >/tmp/hold) &
holder=$!
(nc -l -p 5001 </tmp/hold | sha256sum | cut -d' ' -f1 >/tmp/rx.sum) &
sleep 1
echo "DOMU: rx-listening"
while [ ! -s /tmp/rx.sum ]; do sleep 0.5; done
echo "DOMU: rx sum=$(cat /tmp/rx.sum)"
# Sending: dom0 listens on 5002 from the start.
(sha256sum </tmp/txsum | cut -d' ' -f1 >/tmp/tx.sum) &
dd if=/dev/urandom bs=1M count=64 2>/dev/null | tee /tmp/txsum | nc "$peer" 5002
while [ ! -s /tmp/tx.sum ]; do sleep 0.5; done
echo "DOMU: tx sum=$(cat /tmp/tx.sum)"
kill "$holder" 2>/dev/null
echo "DOMU: net done"
