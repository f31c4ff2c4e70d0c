#!/usr/bin/env python3
"""Run Keel's tests: host unit tests, then QEMU system scenarios in parallel.

Builds nothing (`make check` builds first).  Prints one PASS/FAIL line per
test, the reason and the console tail for each failure, writes every console
to build/logs/<scenario>.log and ends with "N passed, M failed, K skipped".
Scenarios that cannot run here (files not fetched, features gated behind an
environment variable) print "SKIP system/NAME (reason)"; skips do not fail
the run.
"""

import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "system"))

import qemu  # noqa: E402
import testdata  # noqa: E402
from scenarios import EXIT_MEANING, all_scenarios  # noqa: E402

UNIT_TIMEOUT = 120
TAIL = 40
HALT_LINE = re.compile(r"Keel halted \(status (\d+)\)")
RESULT_LINE = re.compile(r"^(PASS|FAIL) (\S+)")


class Tally:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def skip(self, name, reason):
        self.skipped += 1
        print(f"SKIP {name} ({reason})", flush=True)

    def report(self, ok, name, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'PASS' if ok else 'FAIL'} {name}", flush=True)
        if not ok and detail:
            print(detail.rstrip("\n"), flush=True)


def indent(text):
    return "".join(f"    {line}\n" for line in text.splitlines())


# ---------------------------------------------------------------- unit tests

def unit_binaries(build):
    unit_dir = os.path.join(build, "unit")
    names = sorted(os.listdir(unit_dir)) if os.path.isdir(unit_dir) else []
    for name in names:
        path = os.path.join(unit_dir, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            yield path, name


def run_unit(build, pattern, tally):
    for path, name in unit_binaries(build):
        run_unit_binary(path, name, pattern, tally)


def run_unit_binary(path, name, pattern, tally):
    wanted = lambda test: pattern is None or re.search(pattern, test)  # noqa: E731
    try:
        res = subprocess.run([path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, errors="replace", timeout=UNIT_TIMEOUT)
        out, err, rc = res.stdout, res.stderr, res.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err, rc = f"timed out after {UNIT_TIMEOUT}s\n", None
    seen_any = seen_fail = False
    for line in out.splitlines():
        m = RESULT_LINE.match(line)
        if not m or not wanted(m.group(2)):
            continue
        seen_any = True
        seen_fail |= m.group(1) == "FAIL"
        tally.report(m.group(1) == "PASS", m.group(2), indent(err) if m.group(1) == "FAIL" else "")
    # A binary that died (signal, sanitizer report, timeout) or failed without
    # saying which test failed counts as one more failure.
    if rc != 0 and not seen_fail and (seen_any or wanted(f"unit/{name}")):
        why = "timed out" if rc is None else (
            f"killed by signal {-rc}" if rc < 0 else f"exit status {rc}")
        tally.report(False, f"unit/{name}", f"    crashed: {why}\n" + indent(tail(err, TAIL)))


def tail(text, n):
    return "\n".join(text.splitlines()[-n:])


# ---------------------------------------------------------------- fuzz smoke

FUZZ_SECONDS = int(os.environ.get("KEEL_FUZZ_SECONDS", "5"))


def run_fuzz(build, pattern, tally):
    """Each libFuzzer target runs briefly from its corpus: it must start, find
    nothing and exit 0 (a finding or a crash fails).  The seeds kept in the
    tree (tests/fuzz/corpus/<target>/) are read too, so every run starts
    from what earlier campaigns reached.  Longer campaigns:
    `make fuzz FUZZ_TIME=...`."""
    fuzz_dir = os.path.join(build, "fuzz")
    names = sorted(os.listdir(fuzz_dir)) if os.path.isdir(fuzz_dir) else []
    for name in names:
        path = os.path.join(fuzz_dir, name)
        test = f"fuzz/{name}"
        if not (name.startswith("fuzz_") and os.path.isfile(path) and os.access(path, os.X_OK)):
            continue
        if pattern is not None and not re.search(pattern, test):
            continue
        corpus = path + ".corpus"
        os.makedirs(corpus, exist_ok=True)
        seeds = os.path.join(ROOT, "tests", "fuzz", "corpus", name)
        dirs = [corpus] + ([seeds] if os.path.isdir(seeds) else [])
        try:
            res = subprocess.run([path, f"-max_total_time={FUZZ_SECONDS}", "-max_len=16384",
                                  f"-artifact_prefix={path}-"] + dirs,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 errors="replace", timeout=FUZZ_SECONDS + 60)
            ok, out = res.returncode == 0, res.stdout
        except subprocess.TimeoutExpired:
            ok, out = False, "fuzzer did not stop in time\n"
        tally.report(ok, test, "" if ok else indent(tail(out, TAIL)))


# ---------------------------------------------------------------- system tests

class Judge:
    """Follows one scenario's console, line by line, and gives the verdict."""

    def __init__(self, sc):
        self.sc = sc
        self.next = 0  # index of the next expected regex
        self.forbidden = None
        self.halted = None

    def feed(self, line):
        for rx in self.sc.forbid:
            if re.search(rx, line):
                self.forbidden = self.forbidden or (rx, line)
                return "linger"  # keep the rest of a crash report for the log
        if self.next < len(self.sc.expect) and re.search(self.sc.expect[self.next], line):
            self.next += 1
        m = HALT_LINE.search(line)
        if m:
            self.halted = int(m.group(1))
        if self.next == len(self.sc.expect) and self.sc.expect_exit is None:
            return "stop"
        if self.halted is not None:
            return "linger"  # nothing more comes after a halt; QEMU exits or not
        return None

    def verdict(self, res):
        sc = self.sc
        if self.forbidden:
            rx, line = self.forbidden
            return f"forbidden line /{rx}/ seen: {line.strip()}"
        if self.next < len(sc.expect):
            return (f"expected line {self.next + 1}/{len(sc.expect)} /{sc.expect[self.next]}/ "
                    f"not seen; {self.how_it_ended(res)}")
        if sc.expect_exit is None or res.status == sc.expect_exit:
            return None
        if res.status is None:
            if self.halted is not None:
                return (f"Keel halted (status {self.halted}) but QEMU did not exit: "
                        f"debug-exit not read from the command line? (expected exit "
                        f"{describe(sc.expect_exit)})")
            return f"{self.how_it_ended(res)} (expected exit {describe(sc.expect_exit)})"
        return f"QEMU exit status {describe(res.status)}, expected {describe(sc.expect_exit)}"

    def how_it_ended(self, res):
        if res.timed_out:
            return f"timed out after {self.sc.timeout:g}s"
        if res.status is not None:
            return f"QEMU exited with status {describe(res.status)}"
        if self.halted is not None:
            return f"Keel halted (status {self.halted})"
        return "QEMU stopped"


def describe(status):
    meaning = EXIT_MEANING.get(status)
    return f"{status} ({meaning})" if meaning else str(status)


def make_disks(sc, build, where=None):
    """Fresh sparse raw images for the scenario, in build/disks/<where or
    the scenario's name>/; {name: path}."""
    images = {}
    for name, mib, _ in sc.disks:
        path = os.path.join(build, "disks", where or sc.name, f"{name}.img")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.truncate(mib << 20)
        images[name] = path
    return images


def device_args(sc, images):
    args = []
    for i, (name, _, kind) in enumerate(sc.disks):
        drive = f"if=none,id=disk{i},file={images[name]},format=raw"
        if kind == "ahci":
            args += ["-device", f"ahci,id=ahci{i}", "-drive", drive,
                     "-device", f"ide-hd,drive=disk{i},bus=ahci{i}.0"]
        elif kind == "virtio":
            args += ["-drive", drive, "-device", f"virtio-blk-pci,drive=disk{i}"]
        else:
            raise ValueError(f"disk {name}: unknown kind {kind!r}")
    for i in range(sc.nics):
        args += ["-netdev", f"hubport,id=nic{i},hubid=0", "-device", f"e1000,netdev=nic{i}"]
    return args + list(sc.qemu_args)


def make_boot(sc, build, images=None):
    mods = []
    for path, args in sc.modules:
        if path.startswith("@"):
            path = testdata.path(build, path[1:])
        elif path.startswith("build:"):
            path = os.path.join(build, path[len("build:"):])
        mods.append(qemu.Module(path, args))
    return qemu.Boot(protocol=sc.protocol, args=sc.args, modules=mods, smp=sc.smp,
                     mem=sc.mem, cpu=sc.cpu, shim_case=sc.shim_case, build=build,
                     iso=os.path.join(build, "iso", f"{sc.name}.iso"),
                     devices=device_args(sc, images or {}), reboot=sc.reboot,
                     monitor=os.path.join(build, "logs", f"{sc.name}.mon") if sc.monitor else "")


def run_scenario(sc, build):
    """Returns (error or None, console lines, log path, conformance Result or None)."""
    log = os.path.join(build, "logs", f"{sc.name}.log")
    judge = Judge(sc)
    cmd, lines, err, conf = [], [], None, None
    start = time.monotonic()
    try:
        images = make_disks(sc, build)
        boot = make_boot(sc, build, images)
        boot.prepare()
        cmd = boot.command()
        mon = qemu.Monitor(boot.monitor, sc.monitor) if sc.monitor else None
        res = qemu.run(cmd, sc.timeout, on_line=judge.feed, typing=sc.typing, monitor=mon)
        lines = res.lines
        err = judge.verdict(res)
        if err is None and sc.check:
            err = sc.check(lines, images)
        status = res.status
        if err is None and sc.post:
            err, conf = sc.post(lines)
    except (RuntimeError, OSError, ValueError) as e:
        err, status = f"could not boot: {e}", None
    with open(log, "w") as f:
        f.write(f"# scenario {sc.name}: {sc.doc}\n# {' '.join(cmd)}\n")
        f.write(f"# result: {'PASS' if err is None else 'FAIL: ' + err}; QEMU status "
                f"{status}; {time.monotonic() - start:.1f}s\n")
        f.write("\n".join(lines) + "\n")
    return err, lines, log, conf


def run_system(build, pattern, jobs, tally):
    chosen = [s for s in all_scenarios() if pattern is None or re.search(pattern, f"system/{s.name}")]
    for sc in chosen:
        if sc.skip:
            tally.skip(f"system/{sc.name}", sc.skip)
    # Longest first, so the last ones to finish are short and both CPUs
    # stay busy to the end.
    scenarios = sorted((s for s in chosen if not s.skip), key=lambda s: -s.timeout)
    if not scenarios:
        return
    os.makedirs(os.path.join(build, "logs"), exist_ok=True)
    conformance = None
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(run_scenario, sc, build): sc for sc in scenarios}
        for fut in concurrent.futures.as_completed(futures):
            sc = futures[fut]
            err, lines, log, conf = fut.result()
            if conf is not None:
                if conformance is None:
                    conformance = conf
                else:
                    conformance.add(conf)
            detail = ""
            if err:
                detail = f"    {err}\n    console ({log}), last {TAIL} lines:\n"
                detail += indent("\n".join(lines[-TAIL:]) or "(no output)")
            tally.report(err is None, f"system/{sc.name}", detail)
    if conformance is not None:
        print(f"conformance with the recorded Xen 4.17 answers: {conformance.summary()}",
              flush=True)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("-k", dest="pattern", help="run only tests whose name matches this regex")
    ap.add_argument("-j", dest="jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="scenarios run in parallel (default 2, at most the core count)")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    o = ap.parse_args()
    build = os.path.abspath(o.build)
    jobs = max(1, min(o.jobs, os.cpu_count() or 1))

    if o.list:
        for _, name in unit_binaries(build):
            print(f"unit/{name}")
        fuzz_dir = os.path.join(build, "fuzz")
        for name in sorted(os.listdir(fuzz_dir)) if os.path.isdir(fuzz_dir) else []:
            if name.startswith("fuzz_") and "." not in name and "-" not in name:
                print(f"fuzz/{name}")
        for sc in all_scenarios():
            print(f"system/{sc.name:24} {sc.doc}" + (f" [SKIP: {sc.skip}]" if sc.skip else ""))
        return 0

    tally = Tally()
    run_unit(build, o.pattern, tally)
    run_fuzz(build, o.pattern, tally)
    run_system(build, o.pattern, jobs, tally)
    print(f"{tally.passed} passed, {tally.failed} failed, {tally.skipped} skipped", flush=True)
    return 1 if tally.failed or tally.passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
