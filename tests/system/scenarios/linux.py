"""Debian's Linux 6.1 as a PV dom0 on Keel (issue 4), booted the way GRUB's
Xen entries give it: the distribution's bzImage (cache/vmlinuz, XZ payload)
as the first module, the busybox initramfs (cache/initrd.gz) as the second.
scripts/fetch-debian.sh provides both.

Not part of the default run yet: Linux does not get through boot on Keel.
Set KEEL_LINUX=1 to include it (`KEEL_LINUX=1 python3 tests/run.py
--build build -k linux`); it is absent whenever cache/vmlinuz is missing.
"""
import os

from . import DEFAULT_FORBID, STARTING, Scenario

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
    r"Command line: .*console=hvc0",
    r"Booting (paravirtualized )?kernel on Xen",
    r"Freeing unused kernel image",
    r"KEEL-INIT: /init reached",
    r"KEEL-INIT: hypervisor type: xen",
]

# What a dying Linux prints: fail fast on it instead of waiting for the timeout.
LINUX_FORBID = DEFAULT_FORBID + (r"Kernel panic - not syncing", r"\bBUG: ", r"Oops: ")


def _enabled():
    return os.environ.get("KEEL_LINUX") == "1" and os.path.isfile(KERNEL) \
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
] if _enabled() else []
