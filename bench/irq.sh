#!/bin/sh
# Device-interrupt benchmark (issue 14): the same Debian kernel and
# initramfs natively, as dom0 of Xen 4.17 and as dom0 of Keel, under QEMU
# TCG with -icount (ticks count guest instructions; host load does not
# matter), with QEMU's edu device, a virtio-blk disk and an AHCI disk.
# bench/keel-irqbench.c measures, in the guest:
#   - interrupt latency: edu's INTx (a level GSI; a PIRQ under Xen and
#     Keel) from the device write that raises it until uio_pci_generic's
#     read() returns in user space (min and median of LAT_N rounds);
#   - sequential O_DIRECT reads of 32 and 256 MiB from each disk (virtio-blk
#     interrupts by MSI-X, AHCI by MSI), the fastest of PASSES (3).
# Not a test: nothing is asserted.  Prints a table with Keel/Xen and
# Keel/native ratios; consoles in build/bench/irq-*.log.
#   bench/irq.sh
# Environment: BUILD, XEN, KEEL, KERNEL, ICOUNT, ONLY ("native xen keel"),
#   LAT_N (1000), PASSES (3), TIMEOUT per boot in seconds (900).
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
CACHE=${KEEL_CACHE:-cache}
XEN=${XEN:-$CACHE/xen-4.17.elf}
KEEL=${KEEL:-$BUILD/keel}
KERNEL=${KERNEL:-$CACHE/vmlinuz}
# Sleep on: a vCPU waiting for the disk lets virtual time follow the host
# (with sleep=off it would jump to the next timer, seconds away when the
# kernel is tickless); the latency rounds never wait, so they stay exact.
ICOUNT=${ICOUNT:-shift=0}
RTC=${RTC:-base=2026-01-01T00:00:00,clock=vm}
ONLY=${ONLY:-native xen keel}
LAT_N=${LAT_N:-1000}
PASSES=${PASSES:-3}
TIMEOUT=${TIMEOUT:-900}
LOGS=$BUILD/bench
mkdir -p "$LOGS"

scripts/fetch-debian.sh --xen >"$LOGS/fetch.log" 2>&1 || {
    echo "bench/irq.sh: scripts/fetch-debian.sh --xen failed" >&2
    exit 2
}

# The measuring program (no binary is committed) and the initramfs: the
# test initramfs plus the modules, the program and the script that runs it.
gcc -static -O2 -nostdlib -ffreestanding -fno-stack-protector -fno-pie -no-pie \
    -Wall -Wextra -Werror -o "$LOGS/keel-irqbench" bench/keel-irqbench.c || exit 2
python3 - "$LOGS" "$LAT_N" "$PASSES" <<'EOF' || exit 2
import gzip, os, sys
sys.path.insert(0, "tests/system")
import testdata
logs, lat_n, passes = sys.argv[1], sys.argv[2], sys.argv[3]
kdir = sorted(d for d in __import__("glob").glob("cache/pkg/linux-image-*/lib/modules/*")
              if os.path.isdir(d + "/kernel"))[-1] + "/kernel"
order = testdata._module_order(kdir, ("uio_pci_generic", "virtio_pci", "virtio_blk",
                                      "ahci", "sd_mod"))
script = f"""#!/bin/sh
for m in {' '.join(n for n, _ in order)}; do insmod /lib/modules/keel/$m.ko; done
dev=$(dirname "$(grep -l 0x11e8 /sys/bus/pci/devices/*/device | head -n 1)")
echo 1234 11e8 > /sys/bus/pci/drivers/uio_pci_generic/new_id
i=0; while [ ! -e /dev/sda ] || [ ! -e /dev/vda ] || ! ls $dev/uio >/dev/null 2>&1; do
    sleep 1; i=$((i + 1)); [ $i -gt 60 ] && break; done
uio=/dev/$(ls $dev/uio)
echo "IRQBENCH devices: $dev $uio $(ls /sys/block | tr '\\n' ' ')"
/irqbench lat $uio $dev {lat_n}
for d in vda sda; do for mib in 32 256; do /irqbench read /dev/$d $mib {passes}; done; done
echo "IRQBENCH done"
""".encode()
recs, dirs, ino = [], set(), [7000]
for name, path in order:
    testdata._file_newc(recs, dirs, ino, f"lib/modules/keel/{name}.ko", open(path, "rb").read(),
                        0o100644)
testdata._file_newc(recs, dirs, ino, "irqbench", open(f"{logs}/keel-irqbench", "rb").read(),
                    0o100755)
testdata._file_newc(recs, dirs, ino, "bench-irq.sh", script, 0o100755)
body = b"".join(recs) + testdata._newc("TRAILER!!!", b"", 0, 0)
base = open("cache/initrd.gz", "rb").read()
open(f"{logs}/initrd-irq.gz", "wb").write(base + gzip.compress(body, mtime=0))
EOF
INITRD=$LOGS/initrd-irq.gz
DISKS="-device edu \
 -drive if=none,id=v,file=$LOGS/irq-vda.img,format=raw -device virtio-blk-pci,drive=v \
 -device ahci,id=a -drive if=none,id=s,file=$LOGS/irq-sda.img,format=raw \
 -device ide-hd,drive=s,bus=a.0"
LINUX_ARGS="quiet panic=-1 KEEL_TEST=/bench-irq.sh"
HV_ARGS="console=com1 dom0_mem=512M"

# boot NAME KERNEL APPEND INITRD-SPEC: until "IRQBENCH done" or a dead end.
boot() {
    log=$LOGS/irq-$1.log
    rm -f "$LOGS/irq-vda.img" "$LOGS/irq-sda.img"
    truncate -s 300M "$LOGS/irq-vda.img" "$LOGS/irq-sda.img"
    : >"$log"
    timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu qemu64 -m 1024 -smp 1 \
        -nographic -no-reboot -monitor none -serial stdio -nic none \
        -icount "$ICOUNT" -rtc "$RTC" $DISKS -kernel "$2" -append "$3" -initrd "$4" \
        </dev/null >"$log" 2>&1 &
    qpid=$!
    while kill -0 "$qpid" 2>/dev/null; do
        if grep -qaE 'IRQBENCH (done|error)|Kernel panic|Keel halted|[Pp]anic on CPU' "$log"; then
            sleep 1
            kill "$qpid" 2>/dev/null
            break
        fi
        sleep 2
    done
    wait "$qpid" 2>/dev/null
    rm -f "$LOGS/irq-vda.img" "$LOGS/irq-sda.img"
}

for sys in $ONLY; do
    case $sys in
    native) boot native "$KERNEL" "console=ttyS0 $LINUX_ARGS" "$INITRD" ;;
    xen) boot xen "$XEN" "$HV_ARGS" "$KERNEL console=hvc0 $LINUX_ARGS,$INITRD" ;;
    keel) boot keel "$KEEL" "debug-exit $HV_ARGS" "$KERNEL console=hvc0 $LINUX_ARGS,$INITRD" ;;
    esac
done

# value SYS KEY: a number from that system's IRQBENCH lines.
value() {
    log=$LOGS/irq-$1.log
    [ -f "$log" ] || return
    case $2 in
    lat-min) grep -aoE 'IRQBENCH lat min [0-9]+' "$log" | awk '{print $4}' ;;
    lat-med) grep -aoE 'IRQBENCH lat .* median [0-9]+' "$log" | awk '{print $6}' ;;
    *) grep -aoE "IRQBENCH read /dev/${2%-*} ${2#*-} .* ticks [0-9]+" "$log" | awk '{print $NF}' ;;
    esac
}

ratio() {
    [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' || echo "-"
}

printf '%-16s %14s %14s %14s %10s %12s\n' measure native xen keel keel/xen keel/native
for key in lat-min lat-med vda-32 vda-256 sda-32 sda-256; do
    n=$(value native $key)
    x=$(value xen $key)
    k=$(value keel $key)
    printf '%-16s %14s %14s %14s %10s %12s\n' "$key" "${n:--}" "${x:--}" "${k:--}" \
        "$(ratio "$k" "$x")" "$(ratio "$k" "$n")"
done
for sys in $ONLY; do
    grep -qa 'IRQBENCH done' "$LOGS/irq-$sys.log" 2>/dev/null ||
        echo "$sys: did not finish ($(grep -aE 'IRQBENCH error' "$LOGS/irq-$sys.log" | head -n 1))"
done
