# keel_mode=net-abrupt (with keel_ip=): TCP both ways at once with dom0
# (192.168.77.1), without end: dom0 sends to this domU's port 5004 and
# this domU sends zeros to dom0's port 5003 until dom0 destroys the domain
# in the middle of both transfers (tests/toolstack/net.sh).  Prints
# "DOMU: net-abrupt listening" once its listener runs, then
# "DOMU: net-abrupt sending".
mkfifo /tmp/hold
(sleep 100000 >/tmp/hold) &
nc -l -p 5004 </tmp/hold >/dev/null &
sleep 1
echo "DOMU: net-abrupt listening"
echo "DOMU: net-abrupt sending"
nc 192.168.77.1 5003 </dev/zero >/dev/null
echo "DOMU: net-abrupt send ended ($?)"
