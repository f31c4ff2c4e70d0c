"""Debian's Linux 6.1 as a PV dom0 on Keel (issue 4), booted the way GRUB's
Xen entries give it: the distribution's bzImage (cache/vmlinuz, XZ payload)
as the first module, the busybox initramfs (cache/initrd.gz) as the second.
scripts/fetch-debian.sh provides both.

linux-dom0-smoke is the issue's acceptance run: two vCPUs, 512 MiB, and
tests/linux/smoke.sh (appended to the initramfs, see testdata.py) checks
/sys/hypervisor/type, the vCPU count, the memory size, a fork/exec loop,
~200 MB touched and freed, a tmpfs file read back with a checksum; then
/init's `poweroff -f` must end the run through Keel (ACPI S5 -> exit 1).

They are part of `make check` whenever cache/vmlinuz and cache/initrd.gz
exist (absent otherwise: a machine without the Debian files skips them);
KEEL_LINUX=0 leaves them out on purpose.
"""
import os

from . import DEFAULT_FORBID, HALTED_OK, STARTING, Scenario

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
    r"Freeing unused kernel image",
    r"KEEL-INIT: /init reached",
    r"KEEL-INIT: hypervisor type: xen",
]

# What a dying Linux prints: fail fast on it instead of waiting for the timeout.
LINUX_FORBID = DEFAULT_FORBID + (r"Kernel panic - not syncing", r"\bBUG: ", r"Oops: ")


def _enabled():
    return os.environ.get("KEEL_LINUX") != "0" and os.path.isfile(KERNEL) \
        and os.path.isfile(INITRD)


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
] if _enabled() else []
