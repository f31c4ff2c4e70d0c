"""Small generated files the scenarios boot as modules ("@name" in a scenario)."""
import gzip
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _dummy_kernel():
    # Not a real kernel: a recognisable blob, enough to be carried as a module.
    text = b"Keel test module: dummy kernel\n"
    return text + bytes(4096 - len(text))


def _newc(name, data, ino, mode):
    # One cpio "newc" record: ASCII header, name, data, each padded to 4 bytes.
    name_b = name.encode() + b"\0"
    fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0)
    hdr = b"070701" + b"".join(b"%08x" % f for f in fields)
    rec = hdr + name_b
    rec += bytes(-len(rec) % 4) + data
    return rec + bytes(-len(rec) % 4)


def _dummy_initrd():
    body = _newc("init", b"#!/bin/sh\necho keel test initrd\n", 1, 0o100755)
    body += _newc("TRAILER!!!", b"", 0, 0)
    return body + bytes(-len(body) % 512)


def _dir_newc(top, prefix):
    # Every file under `top`, as cpio records named prefix/relative-path,
    # with the directories they need (sorted, so the archive is stable).
    recs, ino, dirs = b"", 100, set()
    for base, subdirs, files in sorted(os.walk(top)):
        subdirs.sort()
        for name in sorted(files):
            rel = os.path.relpath(os.path.join(base, name), top)
            parts = os.path.join(prefix, rel).split("/")
            for i in range(1, len(parts)):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    recs += _newc(d, b"", ino, 0o040755)
                    ino += 1
            with open(os.path.join(base, name), "rb") as f:
                recs += _newc("/".join(parts), f.read(), ino, 0o100755)
            ino += 1
    return recs


def _linux_initrd():
    # The Debian busybox initramfs from the cache with the repository's
    # tests/linux/ appended as a second (gzip) archive: Linux unpacks
    # concatenated archives in order, so /tests/linux/*.sh come from the
    # tree under test while the cached part stays shared and untouched.
    cache = os.environ.get("KEEL_CACHE", os.path.join(ROOT, "cache"))
    with open(os.path.join(cache, "initrd.gz"), "rb") as f:
        base = f.read()
    body = _dir_newc(os.path.join(ROOT, "tests", "linux"), "tests/linux")
    body += _newc("TRAILER!!!", b"", 0, 0)
    return base + gzip.compress(body, mtime=0)


FILES = {
    "dummy-kernel": _dummy_kernel,
    "dummy-initrd": _dummy_initrd,
    "linux-initrd": _linux_initrd,
}


def path(build, name):
    """Path of generated file `name` under build/testdata, (re)writing it if needed."""
    if name not in FILES:
        raise RuntimeError(f"unknown test file @{name}; known: {', '.join(FILES)}")
    out = os.path.join(build, "testdata", name)
    data = FILES[name]()
    try:
        with open(out, "rb") as f:
            if f.read() == data:
                return out
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = f"{out}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, out)
    return out
