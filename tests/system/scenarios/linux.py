"""Debian's Linux 6.1 as a PV dom0 on Keel (issue 4), booted the way GRUB's
Xen entries give it: the distribution's bzImage (cache/vmlinuz, XZ payload)
as the first module, the busybox initramfs (cache/initrd.gz) as the second.
scripts/fetch-debian.sh provides both.

linux-dom0-smoke is the issue's acceptance run: two vCPUs, 512 MiB, and
tests/linux/smoke.sh (appended to the initramfs, see testdata.py) checks
/sys/hypervisor/type, the vCPU count, the memory size, a fork/exec loop,
~200 MB touched and freed, a tmpfs file read back with a checksum; then
/init's `poweroff -f` must end the run through Keel (ACPI S5 -> exit 1).

They are part of `make check` (which fetches the files first); without
cache/vmlinuz and cache/initrd.gz they are reported as skipped, as they are
with KEEL_LINUX=0.
"""
import hashlib
import os
import subprocess

from . import DEFAULT_FORBID, HALTED_OK, STARTING, Scenario, missing_files

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CACHE = os.environ.get("KEEL_CACHE", os.path.join(ROOT, "cache"))
KERNEL = os.path.join(CACHE, "vmlinuz")
INITRD = os.path.join(CACHE, "initrd.gz")
DOM0_ARGS = "console=hvc0 earlyprintk=xen"

# Milestones, in the order Linux prints them.
LINUX_BOOT = [
    STARTING,
    r"dom0: bzImage .*xz payload .* -> ELF",
    r"Linux version 6\.1",
    r"Command line: console=hvc0",  # the arguments only, no image path (as Xen)
    r"Booting (paravirtualized )?kernel on Xen",
    # Linux takes FIFO event channels whenever the hypervisor offers them.
    r"xen:events: Using FIFO-based ABI",
    r"Freeing unused kernel image",
    r"KEEL-INIT: /init reached",
    r"KEEL-INIT: hypervisor type: xen",
]

# What a dying Linux prints: fail fast on it instead of waiting for the timeout.
LINUX_FORBID = DEFAULT_FORBID + (r"Kernel panic - not syncing", r"\bBUG: ", r"Oops: ")


def _skip():
    if os.environ.get("KEEL_LINUX") == "0":
        return "KEEL_LINUX=0"
    return missing_files(KERNEL, INITRD)


# The hardware scenario: both boots, in order (tests/linux/hw.sh).
HW_CHECKS_BOOT1 = ["probe", "mkfs-ext4", "write-data", "remount-verify", "pirq-msi-msix",
                   "net-e1000", "hwclock", "rtc-irq", "msi-hostile"]
HW_EXPECT = [STARTING,
             r"irq: \d+ GSIs",
             r"KEEL-INIT: running /tests/linux/hw\.sh",
             r"HW: first boot"] + \
    [rf"HW: {c}: PASS" for c in HW_CHECKS_BOOT1[:-1]] + \
    [r"pci 00:0\d\.0: dom0's write .* refused: MSI is Keel's \(logged once\)",
     rf"HW: {HW_CHECKS_BOOT1[-1]}: PASS"] + \
    [r"HW: 9 passed, 0 failed",
     r"HW: rebooting",
     r"Keel resetting the machine",
     STARTING,
     r"HW: second boot",
     r"HW: second-boot-data: PASS",
     r"HW: waiting for the power button",
     r"HW: power-button: PASS",
     r"HW: 2 passed, 0 failed",
     r"dom0 asked for ACPI S5",
     r"Keel: powering off through ACPI"]
# Linux under Xen prints these when physical interrupts fail.
HW_FORBID = (r"HW: .*FAIL", r"map irq failed", r"Failed to setup GSI", r"ACPI Error",
             r"failed to register GSI", r"Failed to obtain physical IRQ")


def _check_hw_images(lines, images):
    """The host reads the file dom0 wrote back from the image (debugfs)."""
    sums = [ln.split() for ln in lines if ln.startswith("HW: data md5 vda")]
    if not sums:
        return "no 'HW: data md5' line from dom0"
    want = {"vda": sums[-1][4], "sda": sums[-1][6]}
    for name, path in images.items():
        try:
            data = subprocess.run(["debugfs", "-R", "cat /data", path], capture_output=True,
                                  check=True).stdout
        except (OSError, subprocess.CalledProcessError) as e:
            return f"debugfs on {path} failed: {e}"
        # As hw.sh sums it: md5 of the md5s of its 32 MiB pieces.
        piece = 32 << 20
        sums = "".join(hashlib.md5(data[i:i + piece]).hexdigest() + "\n"
                       for i in range(0, len(data), piece))
        got = hashlib.md5(sums.encode()).hexdigest()
        if got != want[name]:
            return f"{name}: /data in {path} has md5 {got}, dom0 wrote {want[name]}"
    return None



SCENARIOS = [
    Scenario("linux-dom0-boot",
             "Debian's Linux 6.1 bzImage boots as PV dom0 to the initramfs' /init",
             args="debug-exit console=com1 dom0_mem=512M loglvl=all",
             modules=[(KERNEL, DOM0_ARGS), (INITRD, "")],
             mem=1024,
             expect=LINUX_BOOT,
             forbid=LINUX_FORBID,
             # /init starts a shell: the run ends once every line was seen.
             expect_exit=None,
             timeout=300),
    Scenario("linux-dom0-smoke",
             "Linux dom0 with 2 vCPUs runs tests/linux/smoke.sh and powers off through Keel",
             args="debug-exit console=com1 dom0_mem=512M dom0_max_vcpus=2 loglvl=all",
             modules=[(KERNEL, DOM0_ARGS + " KEEL_TEST=/tests/linux/smoke.sh"
                       " smoke_vcpus=2 smoke_mem_mb=512"),
                      ("@linux-initrd", "")],
             smp=2,
             mem=1024,
             expect=[STARTING,
                     r"Linux version 6\.1",
                     r"xen:events: Using FIFO-based ABI",
                     r"smp: Brought up 1 node, 2 CPUs",
                     # Keel mediates dom0's PCI configuration space.
                     r"PCI: Using configuration type 1 for base access",
                     r"pci 0000:00:00\.0: \[8086:1237\]",
                     # swiotlb-xen got its machine-contiguous buffer
                     # through XENMEM_exchange.
                     r"software IO TLB: mapped \[mem .*\] \(64MB\)",
                     r"KEEL-INIT: running /tests/linux/smoke\.sh",
                     r"SMOKE: hypervisor-type: PASS",
                     r"SMOKE: vcpus: PASS",
                     r"SMOKE: memory: PASS",
                     r"SMOKE: fork-exec: PASS",
                     r"SMOKE: big-memory: PASS",
                     r"SMOKE: tmpfs-checksum: PASS",
                     r"SMOKE: 6 passed, 0 failed",
                     r"KEEL-INIT: test exit 0",
                     r"dom0 asked for ACPI S5",
                     HALTED_OK],
             forbid=LINUX_FORBID + (r"SMOKE: .*FAIL", r"ACPI Error"),
             timeout=300),
    # Linux's own page-table churn (fork/exec, 200 MB touched and freed,
    # two vCPUs) with a 6-bit TLB-flush clock and every 5th preemption
    # check forced: the clock wraps thousands of times, long hypercalls
    # continue (libxc-style multicalls included) in a real kernel.
    Scenario("linux-dom0-stress-paths",
             "Linux dom0 smoke test with a 6-bit TLB clock and forced preemption",
             args="debug-exit console=com1 dom0_mem=512M dom0_max_vcpus=2 loglvl=all "
                  "tlbclock_bits=6 preempt_every=5",
             modules=[(KERNEL, DOM0_ARGS + " KEEL_TEST=/tests/linux/smoke.sh"
                       " smoke_vcpus=2 smoke_mem_mb=512"),
                      ("@linux-initrd", "")],
             smp=2,
             mem=1024,
             expect=[STARTING,
                     r"TLB clock: 6 bits",
                     r"Linux version 6\.1",
                     r"software IO TLB: mapped \[mem .*\] \(64MB\)",
                     r"SMOKE: 6 passed, 0 failed",
                     r"dom0 asked for ACPI S5",
                     HALTED_OK],
             forbid=LINUX_FORBID + (r"SMOKE: .*FAIL", r"have not taken a cross-CPU call"),
             timeout=300),
    Scenario("linux-dom0-console",
             "Typed input reaches dom0's shell on hvc0 (UART poll, VIRQ_CONSOLE, CONSOLEIO_read)",
             args="debug-exit console=com1 dom0_mem=512M loglvl=all",
             modules=[(KERNEL, DOM0_ARGS), (INITRD, "")],
             mem=1024,
             expect=[STARTING,
                     r"KEEL-INIT: starting shell",
                     # The shell expands what it was sent: only a command
                     # typed through the console prints 42.
                     r"^KEEL-TYPED-42$",
                     r"dom0 asked for ACPI S5",
                     HALTED_OK],
             forbid=LINUX_FORBID,
             # Typed once the shell sits idle at its prompt: then only
             # VIRQ_CONSOLE can tell Linux that input arrived.
             typing=[(r"Enter 'help' for a list", "echo KEEL-TYPED-$((6*7))\r", 3.0),
                     (r"^KEEL-TYPED-42$", "poweroff -f\r", 0.5)],
             timeout=300),
    Scenario("linux-dom0-hw",
             "dom0 drives QEMU's AHCI, virtio-blk, two e1000s, the RTC and the power "
             "button through PIRQs (GSI, MSI, MSI-X); data survives a reboot",
             args="console=com1 dom0_mem=512M dom0_max_vcpus=2 loglvl=all",
             modules=[(KERNEL, DOM0_ARGS + " KEEL_TEST=/tests/linux/hw.sh"),
                      ("@linux-hw-initrd", "")],
             smp=2,
             mem=1024,
             disks=[("vda", 512, "virtio"), ("sda", 64, "ahci")],
             nics=2,
             reboot=True,
             expect=HW_EXPECT,
             forbid=LINUX_FORBID + HW_FORBID,
             monitor=[(r"HW: waiting for the power button", "system_powerdown", 1.0)],
             check=_check_hw_images,
             # QEMU powers off (ACPI S5, no debug-exit): status 0.
             expect_exit=0,
             timeout=900),
] + [
    # The same smoke run under the other scheduling policies (sched=, as
    # on Xen): two vCPUs on two CPUs that credit2 (one shared runqueue) and
    # RTDS move between CPUs, with their timers, as they see fit.
    Scenario(f"linux-dom0-smoke-{policy}",
             f"Linux dom0 with 2 vCPUs runs tests/linux/smoke.sh under sched={policy}",
             args=f"debug-exit console=com1 dom0_mem=512M dom0_max_vcpus=2 loglvl=all sched={policy}",
             modules=[(KERNEL, DOM0_ARGS + " KEEL_TEST=/tests/linux/smoke.sh"
                       " smoke_vcpus=2 smoke_mem_mb=512"),
                      ("@linux-initrd", "")],
             smp=2,
             mem=1024,
             expect=[STARTING,
                     rf"sched: {name}",
                     r"Linux version 6\.1",
                     r"smp: Brought up 1 node, 2 CPUs",
                     r"SMOKE: 6 passed, 0 failed",
                     r"KEEL-INIT: test exit 0",
                     r"dom0 asked for ACPI S5",
                     HALTED_OK],
             forbid=LINUX_FORBID + (r"SMOKE: .*FAIL", r"ACPI Error", r"unknown scheduler"),
             timeout=300)
    for policy, name in (("credit2", "credit2"), ("rtds", "RTDS"))
]
for _sc in SCENARIOS:
    _sc.skip = _skip()
