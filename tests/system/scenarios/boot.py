"""Plain boots: both protocols, several CPU counts, options, self-tests."""
from . import HALTED_OK, STARTING, Scenario, DEFAULT_FORBID

# The image path QEMU and GRUB put first on the command line is not an option.
PATH_AS_OPTION = r"unknown option '[^']*keel'"

# Boots that only need the console.  They end on the halt line, because
# whether QEMU exits depends on the command line being read (see the
# selftest and option scenarios for the exit status).
SCENARIOS = [
    Scenario("boot-mb1-smp1", "Multiboot 1 boot (QEMU loader) on one CPU",
             expect=[STARTING, HALTED_OK], smp=1, expect_exit=None),
    Scenario("boot-mb1-smp4", "Multiboot 1 boot (QEMU loader) on four CPUs",
             expect=[STARTING, HALTED_OK], smp=4, expect_exit=None),
    Scenario("boot-grub-mb2", "GRUB CD image, Multiboot 2 entry",
             protocol="grub-mb2", args="debug-exit console=com1",
             expect=[STARTING, HALTED_OK], expect_exit=None),
    Scenario("boot-grub-mb1", "GRUB CD image, Multiboot 1 entry",
             protocol="grub-mb1", args="debug-exit console=com1",
             expect=[STARTING, HALTED_OK], expect_exit=None),

    Scenario("grub-mb2-modules",
             "GRUB passes two Multiboot 2 modules; Keel reports each with its command line",
             protocol="grub-mb2", args="debug-exit console=com1 loglvl=all",
             modules=[("@dummy-kernel", "root=/dev/xvda1 keeltest=kernel-args"),
                      ("@dummy-initrd", "keeltest=initrd-args")],
             expect=[STARTING,
                     r"(?i)mod.*keeltest=kernel-args",
                     r"(?i)mod.*keeltest=initrd-args"],
             forbid=DEFAULT_FORBID + (PATH_AS_OPTION,), expect_exit=None),

    Scenario("selftest-smp4", "Boot self-tests on four CPUs all pass, clean exit",
             args="debug-exit selftest", smp=4,
             expect=[STARTING, r"selftest: [1-9]\d* passed, 0 failed", HALTED_OK],
             forbid=DEFAULT_FORBID + (r"selftest: .*: FAIL", PATH_AS_OPTION)),
    Scenario("smp4-online", "Four CPUs come online",
             args="debug-exit", smp=4,
             expect=[STARTING, r"(?i)\b4 CPUs? (are )?(online|up|running)|brought up 4 CPUs?"]),
    Scenario("maxcpus-2", "maxcpus=2 on a 4-CPU machine brings up only 2 CPUs",
             args="debug-exit maxcpus=2", smp=4,
             expect=[STARTING, r"(?i)\b2 CPUs? (are )?(online|up|running)|brought up 2 CPUs?"],
             forbid=DEFAULT_FORBID + (r"(?i)\b[34] CPUs? (are )?(online|up|running)",)),
    Scenario("cmdline-unknown", "An unknown option gives a warning and the boot goes on",
             args="debug-exit xyz",
             expect=[r"cmdline: unknown option 'xyz' ignored", HALTED_OK],
             forbid=DEFAULT_FORBID + (PATH_AS_OPTION,)),
    # GRUB 2 (both protocols) passes the command line without the image
    # path, QEMU's loader with it: the first word must count as an option.
    Scenario("grub-mb2-cmdline", "GRUB Multiboot 2: the first word is an option, debug-exit honoured",
             protocol="grub-mb2", args="xyz1 debug-exit console=com1",
             expect=[r"cmdline: unknown option 'xyz1' ignored", HALTED_OK]),
    Scenario("grub-mb1-cmdline", "GRUB Multiboot 1: the first word is an option, debug-exit honoured",
             protocol="grub-mb1", args="xyz1 debug-exit console=com1",
             expect=[r"cmdline: unknown option 'xyz1' ignored", HALTED_OK]),
    Scenario("no-dom0", "Without modules Keel says so and boots without dom0",
             args="debug-exit",
             expect=[STARTING, r"No dom0 kernel", HALTED_OK]),
]
