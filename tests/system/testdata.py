"""Small generated files the scenarios boot as modules ("@name" in a scenario)."""
import glob
import gzip
import lzma
import os
import struct
import threading

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


def _cache(name):
    cache = os.environ.get("KEEL_CACHE", os.path.join(ROOT, "cache"))
    with open(os.path.join(cache, name), "rb") as f:
        return f.read()


def _files_newc(entries):
    # (archive path, host file) pairs, with the directories they need.
    recs, ino, dirs = b"", 5000, set()
    for name, host in entries:
        parts = name.split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in dirs:
                dirs.add(d)
                recs += _newc(d, b"", ino, 0o040755)
                ino += 1
        with open(host, "rb") as f:
            recs += _newc(name, f.read(), ino, 0o100755)
        ino += 1
    return recs


TOOLSTACK = os.path.join(ROOT, "tests", "toolstack")


# PV test guests (build/guests/NAME.elf) carried in dom0 as /boot/NAME.elf.
TOOLSTACK_GUESTS = ["fuzz-domu"]


def _toolstack_initrd(build):
    # Dom0 with Debian's Xen userland (cache/initrd-dom0.gz, see
    # scripts/fetch-debian.sh --toolstack) and one more archive from the
    # tree under test: dom0's /init, the sample configs, the test scripts
    # in /tests/toolstack/ and the domU's initramfs, itself the cached one
    # plus the tree's tests/toolstack/domu/ (init script and modes).  So
    # the scripts always come from the tree, whatever the cache holds.
    # One gzip stream: libxenguest unpacks a gzip ramdisk itself and sizes
    # it from the last member's trailer, so two members would not load.
    domu = gzip.compress(gzip.decompress(_cache("initrd-domu.gz"))
                         + _dir_newc(os.path.join(TOOLSTACK, "domu"), "")
                         + _newc("TRAILER!!!", b"", 0, 0), compresslevel=6, mtime=0)
    entries = [("init", os.path.join(TOOLSTACK, "dom0", "init"))]
    for name in sorted(os.listdir(TOOLSTACK)):
        host = os.path.join(TOOLSTACK, name)
        if name.endswith(".cfg"):
            entries.append((f"etc/xen/{name}", host))
        elif name.endswith(".sh") and not name.startswith("run-"):
            entries.append((f"tests/toolstack/{name}", host))
    body = _files_newc(entries)
    body += _newc("boot/initrd-domu.gz", domu, 9000, 0o100644)
    # Test kernels dom0 starts as domUs (the hostile group's fuzz guest),
    # when the build has them.
    for guest in TOOLSTACK_GUESTS:
        elf = os.path.join(build, "guests", f"{guest}.elf")
        if os.path.exists(elf):
            with open(elf, "rb") as f:
                body += _newc(f"boot/{guest}.elf", f.read(), 9001 + TOOLSTACK_GUESTS.index(guest),
                              0o100644)
    body += _newc("TRAILER!!!", b"", 0, 0)
    return _cache("initrd-dom0.gz") + gzip.compress(body, mtime=0)
# Modules the hardware scenario loads (dependencies first, found from each
# module's .modinfo), from the kernel package scripts/fetch-debian.sh unpacked.
HW_MODULES = ("ahci", "sd_mod", "virtio_pci", "virtio_blk", "e1000", "ext4",
              "crc32c_generic", "button", "evdev")
# mke2fs and what it needs at run time (busybox's mke2fs makes only ext2).
HW_FILES = (("e2fsprogs", "sbin/mke2fs"), ("e2fsprogs", "etc/mke2fs.conf"),
            ("libext2fs2", "lib/x86_64-linux-gnu/libext2fs.so.2"),
            ("libext2fs2", "lib/x86_64-linux-gnu/libe2p.so.2"),
            ("libcom-err2", "lib/x86_64-linux-gnu/libcom_err.so.2"),
            ("libblkid1", "usr/lib/x86_64-linux-gnu/libblkid.so.1"),
            ("libuuid1", "usr/lib/x86_64-linux-gnu/libuuid.so.1"),
            ("libc6", "lib/x86_64-linux-gnu/libc.so.6"),
            ("libc6", "lib64/ld-linux-x86-64.so.2"))


def _modinfo(path):
    # The NUL-separated key=value strings of an ELF64 module's .modinfo.
    with open(path, "rb") as f:
        data = f.read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    secs = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = secs[shstrndx][4]
    for name, _, _, _, off, size in secs:
        end = data.index(b"\0", strtab + name)
        if data[strtab + name:end] == b".modinfo":
            pairs = data[off:off + size].decode("latin-1").split("\0")
            return dict(kv.split("=", 1) for kv in pairs if "=" in kv)
    return {}


def _module_order(kdir, wanted):
    index = {}
    for base, _, files in os.walk(kdir):
        for f in files:
            if f.endswith(".ko"):
                index[f[:-3].replace("-", "_")] = os.path.join(base, f)
    order = []

    def add(name):
        name = name.replace("-", "_")
        if name in order:
            return
        if name not in index:
            raise RuntimeError(f"module {name} not in {kdir}")
        for dep in filter(None, _modinfo(index[name]).get("depends", "").split(",")):
            add(dep)
        order.append(name)
    for m in wanted:
        add(m)
    return [(m, index[m]) for m in order]


def _file_newc(recs, dirs, ino, name, data, mode):
    parts = name.split("/")
    for i in range(1, len(parts)):
        d = "/".join(parts[:i])
        if d not in dirs:
            dirs.add(d)
            recs.append(_newc(d, b"", ino[0], 0o040755))
            ino[0] += 1
    recs.append(_newc(name, data, ino[0], mode))
    ino[0] += 1


def _linux_hw_initrd():
    # The smoke initramfs plus the kernel modules and mke2fs the hardware
    # scenario needs, all from the cache (nothing built from them is kept
    # in the tree).
    cache = os.environ.get("KEEL_CACHE", os.path.join(ROOT, "cache"))
    kdirs = [d for d in glob.glob(os.path.join(cache, "pkg", "linux-image-*", "lib", "modules", "*"))
             if os.path.isdir(os.path.join(d, "kernel"))]
    if not kdirs:
        raise RuntimeError("no kernel modules in cache/pkg: run scripts/fetch-debian.sh")
    recs, dirs, ino = [], set(), [5000]
    order = _module_order(os.path.join(sorted(kdirs)[-1], "kernel"), HW_MODULES)
    for name, path in order:
        with open(path, "rb") as f:
            _file_newc(recs, dirs, ino, f"lib/modules/keel/{name}.ko", f.read(), 0o100644)
    _file_newc(recs, dirs, ino, "lib/modules/keel/order",
               "".join(f"{n}\n" for n, _ in order).encode(), 0o100644)
    for pkg, rel in HW_FILES:
        path = os.path.join(cache, "pkg", pkg, rel)
        if not os.path.exists(path):
            raise RuntimeError(f"missing {path}: run scripts/fetch-debian.sh")
        with open(os.path.realpath(path), "rb") as f:
            data = f.read()
        dest = rel.replace("usr/lib/", "lib/")
        _file_newc(recs, dirs, ino, dest, data, 0o100755 if "bin" in rel or ".so" in rel else 0o100644)
    body = _dir_newc(os.path.join(ROOT, "tests", "linux"), "tests/linux")
    body += b"".join(recs) + _newc("TRAILER!!!", b"", 0, 0)
    with open(os.path.join(cache, "initrd.gz"), "rb") as f:
        base = f.read()
    return base + gzip.compress(body, compresslevel=6, mtime=0)


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
    "linux-initrd": _linux_initrd,
    "linux-hw-initrd": _linux_hw_initrd,
}

# Files made from build products (their generator takes the build directory).
BUILD_FILES = {
    "toolstack-initrd": _toolstack_initrd,
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
    # Scenarios run in threads of one process: each writer its own file.
    tmp = f"{out}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, out)
    return out


if __name__ == "__main__":
    # tests/system/testdata.py NAME [BUILD]: writes the file, prints its path
    # (for shell scripts such as tests/toolstack/run-on-xen.sh).
    import sys
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: testdata.py NAME [BUILD-DIR]")
    print(path(os.path.abspath(sys.argv[2] if len(sys.argv) == 3 else
                               os.path.join(ROOT, "build")), sys.argv[1]))
