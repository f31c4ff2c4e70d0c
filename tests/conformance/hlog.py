"""The hypercall logs of the PV test guests, and comparing two of them.

A guest prints one line per hypercall (tests/guests/rt/hlog.c):

    @h<vcpu> <nr> <arg>... =<result>

Machine addresses and times are already written as what they mean (p<pfn>,
si, m?, T, M).  Here the lines of one run become, per vCPU, a list of
(call, result); polling loops are folded (a block of up to four calls
repeated back to back counts once: how often a guest polls is timing), and
two runs are aligned on their calls (difflib) so that every call either
matches one on the other side (same result or not) or exists on one side
only.  Differences named in allowed.txt are Keel's deliberate ones.
"""

import difflib
import fnmatch
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
XEN_DIR = os.path.join(HERE, "xen")
ALLOWED = os.path.join(HERE, "allowed.txt")
LINE = re.compile(r"@h(\d+) (\d+)((?: \S+)*) =(\S+)\s*$")
FOLD_MAX = 4

HYPERCALLS = {
    0: "set_trap_table", 1: "mmu_update", 2: "set_gdt", 3: "stack_switch",
    4: "set_callbacks", 5: "fpu_taskswitch", 6: "sched_op_compat", 7: "platform_op",
    8: "set_debugreg", 9: "get_debugreg", 10: "update_descriptor", 12: "memory_op",
    13: "multicall", 14: "update_va_mapping", 15: "set_timer_op",
    16: "event_channel_op_compat", 17: "xen_version", 18: "console_io",
    19: "physdev_op_compat", 20: "grant_table_op", 21: "vm_assist",
    22: "update_va_mapping_otherdomain", 23: "iret", 24: "vcpu_op",
    25: "set_segment_base", 26: "mmuext_op", 27: "xsm_op", 28: "nmi_op", 29: "sched_op",
    30: "callback_op", 31: "xenoprof_op", 32: "event_channel_op", 33: "physdev_op",
    34: "hvm_op", 35: "sysctl", 36: "domctl", 37: "kexec_op", 38: "tmem_op",
    39: "argo_op", 40: "xenpmu_op", 41: "dm_op", 42: "hypfs_op",
}

# Sub-operation names of the multiplexed hypercalls (first argument).
SUBOPS = {
    "event_channel_op": ["bind_interdomain", "bind_virq", "bind_pirq", "close", "send",
                         "status", "alloc_unbound", "bind_ipi", "bind_vcpu", "unmask",
                         "reset", "init_control", "expand_array", "set_priority",
                         "reset_cont"],
    "grant_table_op": ["map_grant_ref", "unmap_grant_ref", "setup_table", "dump_table",
                       "transfer", "copy", "query_size", "unmap_and_replace",
                       "set_version", "get_status_frames", "get_version",
                       "swap_grant_ref", "cache_flush"],
    "sched_op": ["yield", "block", "shutdown", "poll", "remote_shutdown",
                 "shutdown_code", "watchdog", "pin_override"],
    "vcpu_op": ["initialise", "up", "down", "is_up", "get_runstate_info",
                "register_runstate_memory_area", "set_periodic_timer",
                "stop_periodic_timer", "set_singleshot_timer", "stop_singleshot_timer",
                "register_vcpu_info", "send_nmi", "get_physid",
                "register_vcpu_time_memory_area"],
    "memory_op": ["increase_reservation", "decrease_reservation", "maximum_ram_page",
                  "current_reservation", "maximum_reservation", "machphys_mfn_list",
                  "populate_physmap", "add_to_physmap", "exchange", "memory_map",
                  "machine_memory_map", "set_memory_map", "machphys_mapping",
                  "set_pod_target", "get_pod_target", "maximum_gpfn",
                  "get_sharing_freed_pages", "get_sharing_shared_pages"],
    "physdev_op": ["eoi", "apic_read", "apic_write", "assign_vector", "set_iopl",
                   "set_iobitmap", "irq_status_query", "map_pirq", "unmap_pirq",
                   "manage_pci_add", "manage_pci_remove", "restore_msi",
                   "manage_pci_add_ext", "setup_gsi", "get_free_pirq",
                   "pci_mmcfg_reserved", "pci_device_add", "pci_device_remove",
                   "restore_msi_ext", "prepare_msix", "release_msix",
                   "dbgp_op", "pirq_eoi_gmfn_v2", "map_pirq"],
    "callback_op": ["register", "unregister"],
    "console_io": ["write", "read"],
    "xen_version": ["version", "extraversion", "compile_info", "capabilities",
                    "changeset", "platform_parameters", "get_features", "pagesize",
                    "guest_handle", "commandline", "build_id"],
}


class Call:
    """One logged hypercall."""

    def __init__(self, nr, args, result):
        self.nr, self.args, self.result = nr, tuple(args), result

    @property
    def key(self):
        return (self.nr,) + self.args

    def name(self):
        hc = HYPERCALLS.get(self.nr, f"hypercall{self.nr}")
        args = list(self.args)
        subs = SUBOPS.get(hc)
        if subs and args and re.fullmatch(r"[0-9a-f]+", args[0]):
            # memory_op keeps the continuation above bit 12 of its command.
            n = int(args[0], 16) & (0xfff if hc in ("memory_op",) else ~0)
            if n < len(subs):
                args[0] = subs[n]
        return f"{hc}({', '.join(args)})"

    def __repr__(self):
        return f"{self.name()} = {self.result}"


def parse(lines):
    """{vcpu: [Call]} from console lines (anything else is ignored)."""
    out = {}
    for line in lines:
        m = LINE.search(line.strip("\r"))
        if not m:
            continue
        vcpu, nr, args, result = m.groups()
        out.setdefault(int(vcpu), []).append(Call(int(nr), args.split(), result))
    return out


def fold(calls):
    """Folds blocks of up to FOLD_MAX calls repeated back to back (polling)."""
    out = []
    for c in calls:
        out.append(c)
        for k in range(1, FOLD_MAX + 1):
            if len(out) >= 2 * k and all(
                    out[-i].key == out[-i - k].key and out[-i].result == out[-i - k].result
                    for i in range(1, k + 1)):
                del out[-k:]
                break
    return out


class Allowed:
    """allowed.txt: `guest-glob | call-glob | xen | keel | reason` per line;
    xen/keel are results, `*` for any, `-` for "no such call on that side"."""

    def __init__(self, path=ALLOWED):
        self.rules = []
        if not os.path.exists(path):
            return
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                parts = [p.strip() for p in line.split("|")]
                if len(parts) != 5 or not parts[4]:
                    raise ValueError(f"{path}:{n}: want 5 fields with a reason: {line}")
                self.rules.append(parts)

    def match(self, guest, call, xen, keel):
        for g, c, x, k, reason in self.rules:
            if (fnmatch.fnmatchcase(guest, g) and fnmatch.fnmatchcase(call, c) and
                    x in ("*", xen) and k in ("*", keel)):
                return reason
        return None


class Diff:
    def __init__(self, guest, vcpu, call, xen, keel, reason=None):
        self.guest, self.vcpu, self.call = guest, vcpu, call
        self.xen, self.keel, self.reason = xen, keel, reason

    def __str__(self):
        v = f" (vCPU {self.vcpu})" if self.vcpu else ""
        s = f"{self.guest}{v}: {self.call}: Xen {self.xen}, Keel {self.keel}"
        return s + (f"  [allowed: {self.reason}]" if self.reason else "")


class Result:
    def __init__(self):
        self.same = 0
        self.diffs = []

    @property
    def allowed(self):
        return [d for d in self.diffs if d.reason]

    @property
    def unexpected(self):
        return [d for d in self.diffs if not d.reason]

    def add(self, other):
        self.same += other.same
        self.diffs += other.diffs

    def summary(self):
        return (f"{self.same} same, {len(self.diffs)} different "
                f"({len(self.allowed)} allowed, {len(self.unexpected)} not)")


def compare(guest, xen_lines, keel_lines, allowed=None):
    """Aligns two runs' calls, vCPU by vCPU; returns a Result."""
    allowed = allowed or Allowed()
    xen, keel = parse(xen_lines), parse(keel_lines)
    res = Result()

    def diff(vcpu, call, x, k):
        res.diffs.append(Diff(guest, vcpu, call, x, k, allowed.match(guest, call, x, k)))

    for vcpu in sorted(set(xen) | set(keel)):
        a, b = fold(xen.get(vcpu, [])), fold(keel.get(vcpu, []))
        sm = difflib.SequenceMatcher(None, [c.key for c in a], [c.key for c in b],
                                     autojunk=False)
        for op, i1, i2, j1, j2 in sm.get_opcodes():
            if op == "equal":
                for x, k in zip(a[i1:i2], b[j1:j2]):
                    if x.result == k.result:
                        res.same += 1
                    else:
                        diff(vcpu, x.name(), x.result, k.result)
                continue
            for x in a[i1:i2]:
                diff(vcpu, x.name(), x.result, "-")
            for k in b[j1:j2]:
                diff(vcpu, k.name(), "-", k.result)
    return res


def recorded(guest):
    """The Xen 4.17 log kept in the tree for `guest`, or None."""
    path = os.path.join(XEN_DIR, f"{guest}.hlog")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return f.read().splitlines()


def record(guest, lines):
    os.makedirs(XEN_DIR, exist_ok=True)
    with open(os.path.join(XEN_DIR, f"{guest}.hlog"), "w") as f:
        for line in lines:
            m = LINE.search(line.strip("\r"))
            if m:
                f.write(line[m.start():].strip("\r") + "\n")


def check_keel(guest, keel_lines):
    """For `make check`: Keel's run of `guest` against the recorded Xen log.
    Returns (error or None, Result)."""
    xen = recorded(guest)
    if xen is None:
        return (f"no recorded Xen 4.17 log tests/conformance/xen/{guest}.hlog: "
                "run make conformance", Result())
    res = compare(guest, xen, keel_lines)
    if res.unexpected:
        shown = "\n    ".join(str(d) for d in res.unexpected[:20])
        more = len(res.unexpected) - 20
        return (f"conformance with Xen 4.17: {res.summary()}:\n    {shown}" +
                (f"\n    ... and {more} more" if more > 0 else ""), res)
    return None, res
