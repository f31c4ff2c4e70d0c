"""Small generated files the scenarios boot as modules ("@name" in a scenario)."""
import os


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


FILES = {
    "dummy-kernel": _dummy_kernel,
    "dummy-initrd": _dummy_initrd,
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
