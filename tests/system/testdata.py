"""Small generated files the scenarios boot as modules ("@name" in a scenario)."""
import gzip
import lzma
import os
import struct


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


def _bzimage(payload):
    # The parts of a Linux bzImage Keel reads: setup header (boot protocol
    # 2.15, one setup sector) and the payload after the protected-mode start.
    img = bytearray(1024 + 0x200)
    img[0x1f1] = 1
    img[0x1fe:0x200] = b"\x55\xaa"
    img[0x202:0x208] = b"HdrS" + struct.pack("<H", 0x20f)
    img[0x248:0x250] = struct.pack("<II", 0x200, len(payload))
    return bytes(img) + payload


def _guest(build, name):
    with open(os.path.join(build, "guests", f"{name}.elf"), "rb") as f:
        return f.read()


def _bzimage_xz(build):
    # As Linux builds it: xz, CRC32 check, x86 BCJ, size appended.
    elf = _guest(build, "hello")
    xz = lzma.compress(elf, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32,
                       filters=[{"id": lzma.FILTER_X86}, {"id": lzma.FILTER_LZMA2, "preset": 6}])
    return _bzimage(xz + struct.pack("<I", len(elf)))


def _bzimage_gzip(build):
    return _bzimage(gzip.compress(_guest(build, "hello"), mtime=0))


def _bzimage_bzip2(build):
    return _bzimage(b"BZh91AY&SY" + bytes(64))


FILES = {
    "dummy-kernel": _dummy_kernel,
    "dummy-initrd": _dummy_initrd,
}

# Files made from build products (their generator takes the build directory).
BUILD_FILES = {
    "bzimage-hello-xz": _bzimage_xz,
    "bzimage-hello-gzip": _bzimage_gzip,
    "bzimage-bzip2": _bzimage_bzip2,
}


def path(build, name):
    """Path of generated file `name` under build/testdata, (re)writing it if needed."""
    if name not in FILES and name not in BUILD_FILES:
        known = ", ".join(list(FILES) + list(BUILD_FILES))
        raise RuntimeError(f"unknown test file @{name}; known: {known}")
    out = os.path.join(build, "testdata", name)
    data = FILES[name]() if name in FILES else BUILD_FILES[name](build)
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
