#!/usr/bin/env python3
"""Boot Keel in QEMU (TCG), either for a test or on this terminal.

Library: `Boot` describes one boot (protocol, arguments, modules, CPUs,
memory); `Boot.command()` gives the QEMU command line and `run()` runs it,
feeding each console line to a callback that may stop the run early.

CLI:
    tests/system/qemu.py --interactive            # what `make run` does
    tests/system/qemu.py -- selftest maxcpus=2    # boot, print the console
    tests/system/qemu.py --make-iso build/keel.iso

Protocols:
    mb1       QEMU's own Multiboot 1 loader: -kernel build/keel, -append, -initrd
    grub-mb2  a GRUB CD image (scripts/mkiso.sh) booting Keel with multiboot2
    grub-mb1  the same image's Multiboot 1 entry
    shim      build/mbshim with "case=<name>": crafted boot information
"""

import argparse
import glob
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QEMU = "qemu-system-x86_64"
DEBUG_EXIT = ["-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
PROTOCOLS = ("mb1", "grub-mb2", "grub-mb1", "shim")

# Terminal control sequences from the firmware and GRUB, and stray CRs.
_ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|[()][A-Z0-9]|[=>c])")


def clean_line(raw):
    return _ANSI.sub("", raw).replace("\r", "")


@dataclass
class Module:
    path: str
    args: str = ""

    def spec(self):
        return f"{self.path} {self.args}".strip()


@dataclass
class Boot:
    protocol: str = "mb1"
    args: str = ""
    modules: list = field(default_factory=list)
    smp: int = 1
    mem: int = 256  # MiB
    cpu: str = "qemu64"
    shim_case: str = ""
    build: str = os.path.join(ROOT, "build")
    iso: str = ""  # for grub-*: where to write the image
    kernel: str = ""  # mb1: boot this instead of Keel (e.g. Xen, for comparisons)
    devices: list = field(default_factory=list)  # extra QEMU arguments (disks, NICs)
    reboot: bool = False  # a reset restarts the machine (else QEMU exits)
    monitor: str = ""  # path of a QEMU monitor socket to create

    def keel(self):
        return self.kernel or os.path.join(self.build, "keel")

    def prepare(self):
        """Make what the boot needs beyond `make` (the GRUB image); raise on failure."""
        missing = [p for p in self._inputs() if not os.path.isfile(p)]
        if missing:
            raise RuntimeError(f"missing {', '.join(missing)}: run make (make check builds all)")
        if self.protocol.startswith("grub-"):
            make_iso(self.iso, self.keel(), self.protocol[len("grub-"):], self.args,
                     self.modules)

    def _inputs(self):
        files = [self.keel()] + [m.path for m in self.modules]
        if self.protocol == "shim":
            files.append(os.path.join(self.build, "mbshim"))
        return files

    def command(self, interactive=False):
        cmd = [QEMU, "-accel", "tcg", "-cpu", self.cpu, "-smp", str(self.smp),
               "-m", str(self.mem), "-nographic", "-nic", "none"] + DEBUG_EXIT
        if not self.reboot:
            cmd.append("-no-reboot")
        if not interactive:
            # The console goes to our stdout pipe; the monitor, if any, to
            # a socket of its own.
            mon = f"unix:{self.monitor},server=on,wait=off" if self.monitor else "none"
            cmd += ["-monitor", mon, "-serial", "stdio"]
        return cmd + self.devices + self._boot_args()

    def _boot_args(self):
        if self.protocol == "mb1":
            args = ["-kernel", self.keel(), "-append", self.args]
            if self.modules:
                args += ["-initrd", ",".join(qemu_escape(m.spec()) for m in self.modules)]
            return args
        if self.protocol == "shim":
            mods = [Module(self.keel(), self.args)] + self.modules
            return ["-kernel", os.path.join(self.build, "mbshim"),
                    "-append", f"case={self.shim_case}",
                    "-initrd", ",".join(qemu_escape(m.spec()) for m in mods)]
        if self.protocol in ("grub-mb2", "grub-mb1"):
            return ["-cdrom", self.iso, "-boot", "d"]
        raise ValueError(f"unknown protocol {self.protocol!r}; use one of {PROTOCOLS}")


def qemu_escape(s):
    """QEMU splits -initrd at commas; a literal comma is written twice."""
    return s.replace(",", ",,")


def make_iso(out, keel, proto, args, modules):
    cmd = [os.path.join(ROOT, "scripts", "mkiso.sh"), "-o", out, "-k", keel, "-p", proto,
           "-a", args]
    for m in modules:
        cmd += ["-m", m.spec()]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if res.returncode:
        raise RuntimeError(f"mkiso.sh failed:\n{res.stdout}")


@dataclass
class RunResult:
    status: object  # QEMU's exit status, or None when we killed it
    lines: list
    timed_out: bool  # the timeout ran out (not a stop asked by on_line)


class Monitor:
    """Commands for a QEMU monitor socket, sent when a console line asks."""

    def __init__(self, path, actions):
        self.path = path
        self.todo = [(re.compile(rx), text, delay) for rx, text, delay in actions]
        self.sock = None

    def send(self, text):
        try:
            if self.sock is None:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(self.path)
            self.sock.sendall(text.encode() + b"\n")
        except OSError:
            pass  # QEMU has gone; its status tells the rest

    def close(self):
        if self.sock is not None:
            self.sock.close()


def run(cmd, timeout, on_line=None, linger=5.0, typing=(), monitor=None):
    """Run QEMU, collecting console lines (cleaned of terminal codes).

    typing: (regex, text, delay) triples, in order: `delay` seconds after a
    console line matches the next triple's regex, its text is typed on the
    serial console (QEMU's standard input).  The delay lets a prompt that
    ends in no newline reach the screen first.  Without typing, standard
    input is closed.

    on_line(line) returns None to go on, "stop" to end the run now, or
    "linger" to end it `linger` seconds later unless QEMU exits first (to
    keep e.g. a crash dump, or to see the exit status after Keel halted).
    Lines that come after a "stop" are still collected, not judged.

    monitor: a Monitor whose (regex, command, delay) actions go to QEMU's
    monitor the same way typing goes to the console.
    """
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if typing else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    to_type = [(re.compile(rx), text, delay) for rx, text, delay in typing]
    due = []  # (monotonic time, text) matched and waiting to be typed
    lines, partial = [], b""
    deadline = time.monotonic() + timeout
    timed_out = stopping = eof = False

    def judge(line):
        nonlocal deadline, stopping
        lines.append(line)
        if to_type and to_type[0][0].search(line):
            _, text, delay = to_type.pop(0)
            due.append((time.monotonic() + delay, text))
        if monitor and monitor.todo and monitor.todo[0][0].search(line):
            _, text, delay = monitor.todo.pop(0)
            due.append((time.monotonic() + delay, (monitor, text)))
        due.sort(key=lambda d: d[0])
        verdict = on_line(line) if on_line and deadline > 0 else None
        if verdict == "stop":
            deadline = 0
        elif verdict == "linger" and not stopping:
            stopping = True
            deadline = min(deadline, time.monotonic() + linger)

    def type_due():
        while due and due[0][0] <= time.monotonic():
            what = due.pop(0)[1]
            if isinstance(what, tuple):
                what[0].send(what[1])
                continue
            try:
                proc.stdin.write(what.encode())
                proc.stdin.flush()
            except OSError:
                pass  # QEMU has gone; its status tells the rest

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = deadline > 0 and not stopping
                break
            type_due()
            if not sel.select(timeout=min(left, 0.1 if due else 1.0)):
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                eof = True
                break
            partial += chunk
            *done, partial = partial.split(b"\n")
            for raw in done:
                judge(clean_line(raw.decode("utf-8", "replace")))
    finally:
        sel.close()
        if monitor:
            monitor.close()
    if partial:
        judge(clean_line(partial.decode("utf-8", "replace")))
    return RunResult(_finish(proc, eof), lines, timed_out)


def _finish(proc, eof):
    """Reap QEMU if it ended by itself; otherwise kill its process group."""
    if eof:
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    return None


# ---------------------------------------------------------------- interactive

DOM0_KERNEL_GLOBS = ("vmlinuz*", "*/vmlinuz*")
# The toolstack dom0 first (Debian's xl, xenstored, xenconsoled started by
# its /init; tests/toolstack/), then the plain busybox one; never the
# benchmark's or the domU's.
DOM0_INITRD_GLOBS = ("initrd-dom0.gz", "initrd.gz", "initrd*", "initramfs*", "*/initrd*",
                     "*/initramfs*")
DOM0_INITRD_SKIP = ("initrd-bench.gz", "initrd-domu.gz")
DOM0_ARGS = "console=hvc0 earlyprintk=xen"
TOOLSTACK_INITRD = "initrd-dom0.gz"


def find_dom0(cache):
    """The dom0 kernel and initrd scripts/fetch-debian.sh leaves in cache/, if any."""
    def first(patterns):
        for pat in patterns:
            hits = sorted(p for p in glob.glob(os.path.join(cache, pat)) if os.path.isfile(p)
                          and os.path.basename(p) not in DOM0_INITRD_SKIP)
            if hits:
                return hits[0]
        return None
    kernel = first(DOM0_KERNEL_GLOBS)
    if not kernel:
        return []
    mods = [Module(kernel, DOM0_ARGS)]
    initrd = first(DOM0_INITRD_GLOBS)
    if initrd:
        mods.append(Module(initrd))
    return mods


def dom0_hint(cache):
    return (f"No dom0 kernel in {cache}/: booting Keel alone. Run scripts/fetch-debian.sh "
            "to fetch a Debian kernel and initramfs, then try again.")


def interactive(boot):
    boot.prepare()
    cmd = boot.command(interactive=True)
    print("Booting Keel in QEMU: " + " ".join(cmd), flush=True)
    print("(Ctrl-A X quits QEMU; Ctrl-A C toggles its monitor.)", flush=True)
    status = subprocess.call(cmd)
    return 0 if status == 1 else status  # 1: Keel halted cleanly (debug-exit)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--cache", default=os.path.join(ROOT, "cache"))
    ap.add_argument("--protocol", choices=PROTOCOLS, default="mb1")
    ap.add_argument("--shim-case", default="", help="for --protocol shim")
    ap.add_argument("--smp", type=int, default=None)
    ap.add_argument("-m", "--mem", type=int, default=None, help="MiB")
    ap.add_argument("--cpu", default="qemu64")
    ap.add_argument("--module", action="append", default=[], metavar="'FILE ARGS'",
                    help="a boot module (repeatable)")
    ap.add_argument("--no-dom0", action="store_true", help="do not add the cached dom0")
    ap.add_argument("--interactive", action="store_true",
                    help="serial console on this terminal (make run)")
    ap.add_argument("--make-iso", metavar="OUT", help="only write a GRUB image")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("args", nargs="*", help="Keel's command line")
    o = ap.parse_args(argv)

    modules = [Module(*(s.split(" ", 1) + [""])[:2]) for s in o.module]
    if not modules and not o.no_dom0 and (o.interactive or o.make_iso):
        modules = find_dom0(o.cache)
        if not modules:
            print(dom0_hint(os.path.relpath(o.cache)), flush=True)
    # debug-exit: when dom0 powers off (or Keel halts), QEMU ends too.
    # The toolstack dom0 gets 1 GiB and 2 vCPUs, and room for domUs.
    toolstack = any(os.path.basename(m.path) == TOOLSTACK_INITRD for m in modules)
    default_args = "debug-exit console=com1" + (
        " dom0_mem=1024M dom0_max_vcpus=2" if toolstack else " dom0_mem=512M" if modules else "")
    boot = Boot(protocol=o.protocol, args=" ".join(o.args) or default_args, modules=modules,
                smp=o.smp or (2 if o.interactive else 1),
                mem=o.mem or (2048 if toolstack else 1024 if modules else 256), cpu=o.cpu,
                shim_case=o.shim_case, build=o.build,
                iso=os.path.join(o.build, "iso", "run.iso"))
    try:
        if o.make_iso:
            make_iso(o.make_iso, boot.keel(), "mb2", boot.args, modules)
            print(f"Wrote {o.make_iso} (GRUB, Multiboot 2 by default; serial console)")
            return 0
        if o.interactive:
            return interactive(boot)
        boot.prepare()
        res = run(boot.command(), o.timeout, on_line=show_line)
    except RuntimeError as e:
        print(f"qemu.py: {e}", file=sys.stderr)
        return 2
    if res.timed_out:
        print(f"qemu.py: timed out after {o.timeout:g}s", file=sys.stderr)
        return 124
    if res.status is None:
        print("qemu.py: Keel halted; QEMU stopped (add debug-exit to get its status)",
              file=sys.stderr)
        return 0
    return res.status


def show_line(line):
    print(line, flush=True)
    # After a halt nothing more comes: give QEMU a moment to exit, then stop it.
    return "linger" if "Keel halted (status" in line else None


if __name__ == "__main__":
    sys.exit(main())
