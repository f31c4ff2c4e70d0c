# keel_mode=ping (with keel_ip= and keel_peer=): pings the peer through
# dom0's bridge: "DOMU: ping-peer ok|fail (...)".
peer=
for word in $(cat /proc/cmdline); do
    case "$word" in keel_peer=*) peer=${word#*=} ;; esac
done
if ping -c 3 -W 10 "$peer" >/tmp/ping.out 2>&1; then
    echo "DOMU: ping-peer ok ($(grep -o '[0-9]* packets received' /tmp/ping.out))"
else
    echo "DOMU: ping-peer fail ($(tail -n 2 /tmp/ping.out | tr '\n' ' '))"
fi
