# Helpers for the toolstack tests, sourced by tests/toolstack/*.sh, which
# dom0's /init runs (KEEL_TEST=/tests/toolstack/NAME.sh on dom0's command
# line).  They drive Debian's unmodified xl and read what the domUs print
# from xenconsoled's logs (/var/log/xen/console/guest-<name>.log).
#
# Every check prints "TOOLSTACK: <name>: PASS|FAIL <detail>"; finish prints
# "TOOLSTACK: N passed, M failed" and returns non-zero after a failure.
# Timeouts are wall-clock seconds and generous: QEMU's TCG on a loaded
# 2-core machine; they only bound a hang, never judge speed.
#
# Knobs from dom0's command line: ts_cpus=N (physical CPUs the hypervisor
# has; default 2), ts_dom0_mb=N (dom0_mem; default 1024), ts_scale=N
# (multiplies every timeout; default 1).

# (Sourced again by a second script in the same boot: the counts go on.)
TS_PASS=${TS_PASS:-0}
TS_FAIL=${TS_FAIL:-0}
TS_FAILED=${TS_FAILED:-}
TS_DIR=/tmp/ts
CONLOG=/var/log/xen/console
mkdir -p "$TS_DIR"

ts_cpus=2
ts_dom0_mb=1024
ts_scale=1
for word in $(cat /proc/cmdline); do
    case "$word" in
    ts_cpus=* | ts_dom0_mb=* | ts_scale=*) eval "${word%%=*}=\${word#*=}" ;;
    esac
done

pass() {
    echo "TOOLSTACK: $1: PASS${2:+ $2}"
    TS_PASS=$((TS_PASS + 1))
}

fail() {
    echo "TOOLSTACK: $1: FAIL${2:+ $2}"
    TS_FAIL=$((TS_FAIL + 1))
    TS_FAILED="$TS_FAILED $1"
}

# check NAME DETAIL CONDITION: PASS when the shell condition (a string,
# evaluated here) holds.
check() {
    if eval "$3"; then pass "$1" "$2"; else fail "$1" "$2"; fi
}

finish() {
    [ "$TS_FAIL" -eq 0 ] || show_logs
    echo "TOOLSTACK: $TS_PASS passed, $TS_FAIL failed${TS_FAILED:+ (failed:$TS_FAILED)}"
    [ "$TS_FAIL" -eq 0 ]
}

note() {
    echo "TOOLSTACK:   $*"
}

# Seconds since boot (whole), for timeouts.
now() {
    cut -d. -f1 /proc/uptime
}

limit() {
    echo $(($1 * ts_scale))
}

# domu_cfg NAME EXTRA [LINE...]: /tmp/ts/NAME.cfg, the sample domU
# (/etc/xen/domu.cfg: 128 MiB, 2 vCPUs, Debian's kernel, the busybox
# initramfs) named NAME, with EXTRA added to its kernel command line and
# the LINEs appended.  The kernel is $TS_KERNEL: the bzImage by default,
# /boot/vmlinux (the same kernel unpacked) where a script says so.
TS_KERNEL=/boot/vmlinuz
domu_cfg() {
    _cfg=$TS_DIR/$1.cfg
    cat >"$_cfg" <<EOF
name = "$1"
type = "pv"
kernel = "$TS_KERNEL"
ramdisk = "/boot/initrd-domu.gz"
extra = "console=hvc0 quiet $2"
memory = 128
vcpus = 2
on_poweroff = "destroy"
on_reboot = "restart"
on_crash = "destroy"
EOF
    shift 2
    for _line in "$@"; do
        echo "$_line" >>"$_cfg"
    done
}

# domu_create NAME: xl create of /tmp/ts/NAME.cfg; its output goes to
# /tmp/ts/NAME.create.  A stale console log of that name is removed first.
domu_create() {
    rm -f "$CONLOG/guest-$1.log"
    xl create "$TS_DIR/$1.cfg" >"$TS_DIR/$1.create" 2>&1
}

create_output() {
    tr '\n' ' ' <"$TS_DIR/$1.create" | cut -c1-300
}

# show_logs: the end of what xl's hotplug scripts and xl's monitor said.
show_logs() {
    tail -n 15 /var/log/messages 2>/dev/null | sed 's/^/TOOLSTACK:   syslog: /'
    for _f in /var/log/xen/xl-*.log; do
        [ -f "$_f" ] && tail -n 3 "$_f" | sed "s|^|TOOLSTACK:   $(basename "$_f"): |"
    done
}

# console NAME: what domU NAME printed so far.
console() {
    cat "$CONLOG/guest-$1.log" 2>/dev/null | tr -d '\r'
}

# wait_console NAME REGEX SECONDS: until the domU's console has a line
# matching REGEX (extended).  Gives up early once domain NAME is gone (it is
# looked up every few seconds: each xl run costs dom0 real work).
# (Helpers' own variables start with an underscore: the scripts that source
# this file use plain names such as n, end, t.)
wait_console() {
    _wc_end=$(($(now) + $(limit "$3")))
    _wc_n=0
    while [ "$(now)" -le "$_wc_end" ]; do
        console "$1" | grep -qE "$2" && return 0
        _wc_n=$((_wc_n + 1))
        if [ $((_wc_n % 10)) = 0 ] && ! in_list "$1"; then
            sleep 1
            console "$1" | grep -qE "$2"
            return
        fi
        sleep 0.5
    done
    return 1
}

# count_console NAME REGEX: lines matching REGEX so far.
count_console() {
    console "$1" | grep -cE "$2"
}

# last_tick NAME: the counter domU NAME printed last (-1 before the first).
last_tick() {
    _lt=$(console "$1" | sed -n 's/^DOMU: tick \([0-9]*\)$/\1/p' | tail -n 1)
    echo "${_lt:--1}"
}

# fact NAME KEY: a KEY=value from the domU's "DOMU: hypervisor=..." line.
fact() {
    console "$1" | grep '^DOMU: hypervisor=' | tail -n 1 | tr ' ' '\n' |
        sed -n "s/^$2=//p"
}

# in_list NAME: domain NAME is in `xl list`.
in_list() {
    xl list 2>/dev/null | awk -v n="$1" 'NR > 1 && $1 == n { f = 1 } END { exit !f }'
}

# wait_gone NAME SECONDS
wait_gone() {
    _wg_end=$(($(now) + $(limit "$2")))
    while [ "$(now)" -le "$_wg_end" ]; do
        in_list "$1" || return 0
        sleep 0.5
    done
    return 1
}

# list_field NAME COLUMN: a column of NAME's `xl list` line (2 id, 3 MiB,
# 4 vCPUs, 5 state).
list_field() {
    xl list 2>/dev/null | awk -v n="$1" -v c="$2" 'NR > 1 && $1 == n { print $c }'
}

# info_field KEY: a value from `xl info`.
info_field() {
    xl info 2>/dev/null | awk -v k="$1" '$1 == k { print $3 }'
}

# What dom0 holds for the domUs: event channels bound in dom0's kernel
# (Xen dynamic IRQs in /proc/interrupts) and grant mappings made through
# gntdev by the daemons (xenstored, xenconsoled) and anything else.
dom0_evtchns() {
    grep -c 'xen-dyn' /proc/interrupts
}

dom0_gntmaps() {
    cat /proc/[0-9]*/maps 2>/dev/null | grep -c '/dev/xen/gntdev'
}

# wait_value SECONDS WANT COMMAND...: until COMMAND prints WANT; prints the
# last value seen.
wait_value() {
    _wv_end=$(($(now) + $(limit "$1")))
    _wv_want=$2
    shift 2
    while :; do
        _wv_got=$("$@")
        [ "$_wv_got" = "$_wv_want" ] && break
        [ "$(now)" -le "$_wv_end" ] || break
        sleep 1
    done
    echo "$_wv_got"
}

toolstack_up() {
    xenstore-read -s / >/dev/null 2>&1 && xl list >/dev/null 2>&1
}

# ------------------------------------------------------------- scheduling
# (sched.sh, sched-rtds.sh)

# hog_cfg NAME CPUS: /tmp/ts/NAME.cfg, a 1-vCPU domU (128 MiB) spinning
# (keel_mode=hog) with hard affinity CPUS (xl's cpus=).
hog_cfg() {
    cat >"$TS_DIR/$1.cfg" <<EOF
name = "$1"
type = "pv"
kernel = "$TS_KERNEL"
ramdisk = "/boot/initrd-domu.gz"
extra = "console=hvc0 quiet keel_mode=hog"
memory = 128
vcpus = 1
cpus = "$2"
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
EOF
}

# vcpu_field DOM VCPU COLUMN: a column of `xl vcpu-list DOM` for VCPU
# (4 CPU, 5 state, 7 hard affinity, 9 soft affinity).
vcpu_field() {
    xl vcpu-list "$1" 2>/dev/null | awk -v v="$2" -v c="$3" 'NR > 1 && $3 == v { print $c }'
}

# measure DOMID...: cpu_time of each over $INTERVAL seconds; prints
# "WALL_NS D1_NS D2_NS ..." (empty if keel-cputime failed).
measure() {
    _m_a=$(keel-cputime "$@") || return 1
    sleep "$INTERVAL"
    _m_b=$(keel-cputime "$@") || return 1
    printf '%s\n---\n%s\n' "$_m_a" "$_m_b" | awk '
        $1 == "---" { second = 1; next }
        !second { a[$1] = $2; order[++n] = $1; next }
        { b[$1] = $2 }
        END { line = b["now"] - a["now"]
              for (i = 2; i <= n; i++) line = line " " (b[order[i]] - a[order[i]])
              print line }'
}

# within SHARE WANT PCT: SHARE is within PCT% (relative) of WANT.
within() {
    awk -v s="$1" -v w="$2" -v p="$3" 'BEGIN { d = s - w; if (d < 0) d = -d; exit !(d <= p / 100 * w) }'
}

# steady WALL_NS: the measured interval took at most 1.2 x $INTERVAL s.
# A longer one means QEMU's CPU threads were starved by the host; the time
# a starved CPU stood still is charged to the vCPU it was running, so run
# time shares say nothing about the scheduler then: those checks skip.
steady() {
    awk -v w="$1" -v i="$INTERVAL" 'BEGIN { exit !(w <= 1.2 * i * 1e9) }'
}

# skip NAME DETAIL: a check that could not be judged (not counted).
skip() {
    echo "TOOLSTACK: $1: SKIP${2:+ $2}"
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", (b > 0 ? a / b : 0) }'
}

# ------------------------------------------------------- abrupt end (issue 8)
# (disk.sh, net.sh: a domU destroyed in the middle of I/O)

# dmesg_bad: how many of dom0's kernel messages tell of a kernel problem.
dmesg_bad() {
    dmesg 2>/dev/null | grep -cE 'Oops|WARNING:|BUG:|Call Trace|general protection|refcount_t'
}

# backend_left DOMID: the back-end directories dom0's xenstore still has
# for that domain, and its own directory if still there (empty: none).
backend_left() {
    for _bl in vbd vbd3 qdisk vif console; do
        xenstore-exists "/local/domain/0/backend/$_bl/$1" 2>/dev/null && printf '%s ' "backend/$_bl/$1"
    done
    xenstore-exists "/local/domain/$1" 2>/dev/null && printf '%s ' "/local/domain/$1"
}

# only_dom0: `xl list` lists Domain-0 and nothing else.
only_dom0() {
    [ "$(xl list 2>/dev/null | awk 'NR > 1 { printf "%s ", $1 }')" = "Domain-0 " ]
}

# ------------------------------------------------ network (net.sh, pvh-disk.sh)
brif() {
    ls /sys/class/net/xenbr0/brif 2>/dev/null | tr '\n' ' '
}

# net_listen: dom0 listens on port 5002 for a domU's 64 MiB from the start
# (busybox nc: its standard input is a fifo held open, or it would stop at
# once).  net_exchange ends it.
net_listen() {
    mkfifo "$TS_DIR/hold" "$TS_DIR/txsum"
    (sleep 100000 >"$TS_DIR/hold") &
    net_holder=$!
    (nc -l -p 5002 <"$TS_DIR/hold" | sha256sum | cut -d' ' -f1 >"$TS_DIR/rx.sum") &
}

# net_exchange DOMU PREFIX: pings both ways, then 64 MiB of TCP each way,
# checksums compared (the domU's keel_mode=net runs its side of each in
# turn).  Checks PREFIXping-dom0-to-domu, PREFIXping-domu-to-dom0,
# PREFIXtcp-dom0-to-domu and PREFIXtcp-domu-to-dom0.
net_exchange() {
    ping -c 3 -W 10 192.168.77.2 >"$TS_DIR/ping.out" 2>&1
    _ne_rc=$?
    check "$2ping-dom0-to-domu" "$(grep -o '[0-9]* packets received' "$TS_DIR/ping.out")" \
        '[ "$_ne_rc" = 0 ]'
    wait_console "$1" '^DOMU: ping-dom0 ' 120
    _ne_line=$(console "$1" | grep -m 1 '^DOMU: ping-dom0 ')
    check "$2ping-domu-to-dom0" "$_ne_line" 'echo "$_ne_line" | grep -q "ping-dom0 ok"'

    wait_console "$1" '^DOMU: rx-listening' 120
    (sha256sum <"$TS_DIR/txsum" | cut -d' ' -f1 >"$TS_DIR/tx.sum") &
    dd if=/dev/urandom bs=1M count=64 2>/dev/null | tee "$TS_DIR/txsum" | nc 192.168.77.2 5001
    wait_console "$1" '^DOMU: rx sum=' 600
    sleep 1
    _ne_sent=$(cat "$TS_DIR/tx.sum")
    _ne_got=$(console "$1" | sed -n 's/^DOMU: rx sum=\([0-9a-f]*\)$/\1/p')
    check "$2tcp-dom0-to-domu" "64 MiB sent with sha256 $_ne_sent, the domU received $_ne_got" \
        '[ -n "$_ne_sent" ] && [ "$_ne_got" = "$_ne_sent" ]'

    wait_console "$1" '^DOMU: tx sum=' 600
    _ne_end=$(($(now) + $(limit 60)))
    while [ ! -s "$TS_DIR/rx.sum" ] && [ "$(now)" -le "$_ne_end" ]; do sleep 0.5; done
    _ne_sent=$(console "$1" | sed -n 's/^DOMU: tx sum=\([0-9a-f]*\)$/\1/p')
    _ne_got=$(cat "$TS_DIR/rx.sum" 2>/dev/null)
    check "$2tcp-domu-to-dom0" "the domU sent 64 MiB with sha256 $_ne_sent, dom0 received $_ne_got" \
        '[ -n "$_ne_sent" ] && [ "$_ne_got" = "$_ne_sent" ]'
    kill "$net_holder" 2>/dev/null
}
