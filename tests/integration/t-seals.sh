#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# user.regionfs.seals, memfd's seals for named regions: every seal ("shrink",
# "grow", "write", "future-write") against every operation (truncate and
# ftruncate up and down, fallocate growing, KEEP_SIZE past the end and
# punching, writes inside, past the end and appending, opens for writing,
# shared writable mappings), the size unchanged after each EPERM; adding
# "write" while a file is open for writing or mapped writable with its fd
# closed: EBUSY, then fine once they are gone; "future-write" with a writer
# that keeps writing (write(2) and its mapping); "grow" and "write" with a
# reader open (passthrough: EBUSY, the documented conservative probe; cache:
# fine); the value's rules (fixed order, blanks, EINVAL for unknown names
# and empty items, "seal" refuses every later addition, removal EPERM);
# directories (ENODATA reading, EISDIR writing); never listed, so that
# "cp --preserve=xattr" copies a region unsealed; uid 2001 may not seal a
# region it may not write (EACCES) and may seal its own; a sealed region
# cannot be bound; and with store=, a remount keeps the seals and their
# enforcement. Exact errnos throughout.
#
# Usage: t-seals.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_regionfs_only "user.regionfs.seals is a regionfs feature"
rfs_init "$@"
rfs_user_python
S=$RFS_TMP/store
mkdir -p "$S"
printf 'file data' >"$RFS_TMP/bound.dat"
rfs_mount "size=64M,mode=1777,allow_other"

cat >"$RFS_TMP/sealcommon.py" <<'EOF'
import ctypes, errno, mmap, os, stat, time
from rfscheck import *

NAME = "user.regionfs.seals"
PT = DATAPATH == "passthrough"
N = 8192
KEEP, PUNCH = 1, 2
_c = ctypes.CDLL(None, use_errno=True)
_c.fallocate64.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]


def fallocate(fd, mode, off, length):
    if _c.fallocate64(fd, mode, off, length) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def seals(p):
    return os.getxattr(p, NAME).decode()


def add(p, value, seconds=20):
    """Add seals, waiting out EBUSY from RELEASEs still on their way; raises otherwise."""
    t0 = time.monotonic()
    while True:
        try:
            os.setxattr(p, NAME, value.encode())
            return
        except OSError as e:
            if e.errno != errno.EBUSY or time.monotonic() - t0 > seconds:
                raise
            time.sleep(0.05)


def add_ok(p, value, msg):
    try:
        add(p, value)
        ok(True, msg)
    except OSError as e:
        ok(False, "%s (got %s)" % (msg, ename(e.errno)))
EOF

# The Python on stdin, with sealcommon's names (and sys: sys.argv[2] is RFS_TMP).
seal_py()
{
	{ printf 'import sys\nsys.path.insert(0, sys.argv[2])\nfrom sealcommon import *\n'; cat; } |
		rfs_py "$RFS_TMP"
}

# Remount the store, then seal_py.
remount_py()
{
	rfs_umount
	rfs_mount "size=64M,mode=1777,allow_other,store=$S"
	seal_py
}

seal_py <<'EOF'
seq = [0]


def region(data=b"x" * N):
    seq[0] += 1
    p = P("r%d" % seq[0])
    write_file(p, data)
    return p


def expect(err, fn, *args, msg, path, size):
    """err None: succeeds; else exactly err and the size unchanged."""
    if err is None:
        succeeds(fn, *args, msg=msg)
    else:
        raises(err, fn, *args, msg=msg)
        eq(os.stat(path).st_size, size, msg + ": size unchanged")


def mmap_write(fd, off, data):
    m = mmap.mmap(fd, N, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    m[off:off + len(data)] = data
    m.flush()
    m.close()


def setfl_append_write(fd):
    import fcntl
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_APPEND)
    return os.write(fd, b"appended")


# ---- every seal against every operation
for s in ["shrink", "grow", "write", "future-write"]:
    def E(*which, err=errno.EPERM):
        return err if s in which else None

    # Path operations.
    p = region(); add_ok(p, s, "%s: sealed" % s)
    eq(seals(p), s, "%s: reads back" % s)
    expect(E("grow"), os.truncate, p, 2 * N, msg="%s: truncate up" % s, path=p, size=N)
    p = region(); add(p, s)
    expect(E("shrink"), os.truncate, p, N // 2, msg="%s: truncate down" % s, path=p, size=N)
    p = region(); add(p, s)
    expect(E("shrink"), os.truncate, p, 0, msg="%s: truncate to 0" % s, path=p, size=N)
    p = region(); add(p, s)
    succeeds(os.truncate, p, N, msg="%s: truncate to the same size" % s)
    for flags, what in [(os.O_WRONLY, "O_WRONLY"), (os.O_RDWR, "O_RDWR"),
                        (os.O_WRONLY | os.O_TRUNC, "O_WRONLY|O_TRUNC")]:
        p = region(); add(p, s)
        e = E("write", "future-write")
        if e is None and (flags & os.O_TRUNC) and s == "shrink":
            e = errno.EPERM  # truncating shrinks
        if e is None:
            fd = succeeds(os.open, p, flags, msg="%s: open %s" % (s, what))
            if fd is not None:
                os.close(fd)
        else:
            expect(e, os.open, p, flags, msg="%s: open %s" % (s, what), path=p, size=N)
    p = region(); add(p, s)
    fd = succeeds(os.open, p, os.O_RDONLY, msg="%s: open O_RDONLY" % s)
    if fd is not None:
        eq(os.pread(fd, 4, 0), b"xxxx", "%s: reads" % s)
        os.close(fd)

    # Through a writable fd: opened before the seal for "future-write" (an
    # existing writer), after it for the others ("write" has none).
    if s == "write":
        p = region(); add(p, s)
        fd = os.open(p, os.O_RDONLY)
        raises(errno.EACCES, mmap.mmap, fd, N, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE,
               msg="write: shared writable mapping of a read-only fd")
        m = mmap.mmap(fd, N, mmap.MAP_SHARED, mmap.PROT_READ)
        eq(m[:4], b"xxxx", "write: a read-only mapping works")
        m.close()
        raises(errno.EBADF, fallocate, fd, 0, 0, 2 * N, msg="write: fallocate on a read-only fd")
        os.close(fd)
        continue

    def writer():
        p = region()
        if s == "future-write":
            fd = os.open(p, os.O_RDWR)
            add(p, s)
        else:
            add(p, s)
            fd = os.open(p, os.O_RDWR)
        return p, fd

    cases = [
        ("ftruncate up", lambda fd: os.ftruncate(fd, 2 * N), E("grow")),
        ("ftruncate down", lambda fd: os.ftruncate(fd, N // 2), E("shrink")),
        ("fallocate growing", lambda fd: fallocate(fd, 0, N, 4096), E("grow")),
        ("fallocate KEEP_SIZE past the end", lambda fd: fallocate(fd, KEEP, N, 4096), E("grow")),
        ("fallocate KEEP_SIZE inside", lambda fd: fallocate(fd, KEEP, 0, 4096), None),
        ("fallocate punch inside", lambda fd: fallocate(fd, PUNCH | KEEP, 0, 4096), E("future-write")),
        ("pwrite inside", lambda fd: os.pwrite(fd, b"in", 10), None),
        ("pwrite past the end", lambda fd: os.pwrite(fd, b"out", N), E("grow")),
        ("pwrite across the end writes up to it", lambda fd: (eq(os.pwrite(fd, b"across", N - 3), 3 if s == "grow" else 6, "%s: count" % s),
                    eq(os.fstat(fd).st_size, N if s == "grow" else N + 3, "%s: size after" % s)), None),
        ("append", setfl_append_write, E("grow")),
        ("mmap PROT_WRITE and store inside", lambda fd: mmap_write(fd, 100, b"mapped"), None),
    ]
    for what, fn, err in cases:
        p, fd = writer()
        expect(err, fn, fd, msg="%s: %s" % (s, what), path=p, size=N)
        if what == "mmap PROT_WRITE and store inside" and err is None:
            eq(read_file(p)[100:106], b"mapped", "%s: the mapping's store is in the region" % s)
        os.close(fd)

# In the cache path a writer open before "grow" stays a writer: its write past the end is refused too.
if not PT:
    p = region()
    fd = os.open(p, os.O_RDWR)
    add_ok(p, "grow", "cache: grow with a writer open")
    raises(errno.EPERM, os.pwrite, fd, b"out", N, msg="cache: the earlier writer's pwrite past the end")
    raises(errno.EPERM, os.ftruncate, fd, 2 * N, msg="cache: the earlier writer's ftruncate up")
    eq(os.pwrite(fd, b"in", 0), 2, "cache: the earlier writer writes inside")
    os.close(fd)
    eq(os.stat(p).st_size, N, "cache: size unchanged")

# ---- EBUSY: "write" while open for writing, or mapped writable with the fd closed
p = region()
fd = os.open(p, os.O_RDWR)
raises(errno.EBUSY, os.setxattr, p, NAME, b"write", msg="write while open O_RDWR")
eq(seals(p), "", "...nothing added")
os.close(fd)
add_ok(p, "write", "write once that fd is closed")

p = region()
fd = os.open(p, os.O_WRONLY)
raises(errno.EBUSY, os.setxattr, p, NAME, b"write", msg="write while open O_WRONLY")
os.close(fd)

p = region()
fd = os.open(p, os.O_RDWR)
m = mmap.mmap(fd, N, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
os.close(fd)
busy = True
# The mapping keeps it busy for good, after the fd's RELEASE too: ask for a while.
for i in range(20):
    try:
        os.setxattr(p, NAME, b"write")
        busy = False
        break
    except OSError as e:
        if e.errno != errno.EBUSY:
            break
    time.sleep(0.05)
ok(busy, "write while mapped writable, fd closed -> EBUSY")
m[0:5] = b"still"
m.close()
add_ok(p, "write", "write once unmapped")
eq(read_file(p)[:5], b"still", "the mapping's last store is there")
raises(errno.EPERM, os.open, p, os.O_RDWR, msg="then O_RDWR")

# Mapped read-only from a read-write fd (mprotect could make it writable): busy too.
p = region()
fd = os.open(p, os.O_RDWR)
m = mmap.mmap(fd, N, mmap.MAP_SHARED, mmap.PROT_READ)
os.close(fd)
try:
    os.setxattr(p, NAME, b"write")
    r = "ok"
except OSError as e:
    r = ename(e.errno)
eq(r, "EBUSY", "write while mapped read-only through a writable fd, fd closed")
m.close()

# Others using it: "write" waits for writers; in passthrough "write" and
# "grow" wait for everyone, readers and mappings too (README: conservative).
for s in ["write", "grow"]:
    for flags, what in [(os.O_RDONLY, "a reader open"), (os.O_RDWR, "a writer open"),
                        (None, "a read-only mapping, fd closed")]:
        p = region()
        m = None
        if flags is None:
            fd = os.open(p, os.O_RDONLY)
            m = mmap.mmap(fd, N, mmap.MAP_SHARED, mmap.PROT_READ)
            os.close(fd)
        else:
            fd = os.open(p, flags)
        busy = PT or (s == "write" and flags == os.O_RDWR)
        tag = "%s: %s with %s" % (DATAPATH, s, what)
        if busy:
            raises(errno.EBUSY, os.setxattr, p, NAME, s.encode(), msg=tag)
            eq(seals(p), "", tag + ": nothing added")
        else:
            add_ok(p, s, tag)  # retries EBUSY: region()'s own writer may not be released yet
        if m is not None:
            m.close()
        else:
            os.close(fd)
        add_ok(p, s, "%s once it is gone" % tag)

# ---- future-write: the writer that had it open keeps writing
p = region()
fd = os.open(p, os.O_RDWR)
m = mmap.mmap(fd, N, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
add_ok(p, "future-write", "future-write with a writer and its mapping")
raises(errno.EPERM, os.open, p, os.O_RDWR, msg="future-write: a new O_RDWR")
raises(errno.EPERM, os.open, p, os.O_WRONLY, msg="future-write: a new O_WRONLY")
for i in range(3):
    eq(os.pwrite(fd, b"w%d" % i, 16 * i), 2, "future-write: the old fd writes (%d)" % i)
    m[1000 + i] = ord("m")
m.flush()
data = read_file(p)
eq(data[:2], b"w0", "future-write: its write(2) landed")
eq(data[1000:1003], b"mmm", "future-write: its mapping's stores landed")
succeeds(os.ftruncate, fd, 2 * N, msg="future-write: the old fd may still resize")
m.close()
os.close(fd)

# ---- the value
p = region()
eq(seals(p), "", "no seal: empty")
eq(getxattr_size(p, NAME, 0), 0, "no seal: length 0")
add_ok(p, "", "an empty value")
add_ok(p, " \n", "blanks only")
eq(seals(p), "", "...add nothing")
for bad in [b"bogus", b"grow,,shrink", b"grow,", b",grow", b"Grow", b"grow shrink", b"grow\0"]:
    raises(errno.EINVAL, os.setxattr, p, NAME, bad, msg="value %r" % bad)
eq(seals(p), "", "nothing added by the refusals")
add_ok(p, " grow , shrink\n", "blanks around names")
eq(seals(p), "shrink,grow", "fixed order")
add_ok(p, "grow", "adding one it has")
add_ok(p, "future-write,write,seal", "adding the rest")
eq(seals(p), "seal,shrink,grow,write,future-write", "all, in order")
eq(getxattr_size(p, NAME, 0), len("seal,shrink,grow,write,future-write"), "size query")
raises(errno.ERANGE, getxattr_size, p, NAME, 4, msg="a 4-byte buffer")
raises(errno.EPERM, os.removexattr, p, NAME, msg="removexattr")
p = region()
add(p, "grow")
raises(errno.EPERM, os.removexattr, p, NAME, msg="removexattr of grow")
eq(seals(p), "grow", "still sealed")
add(p, "seal")
for v in [b"shrink", b"grow", b"seal", b""]:
    raises(errno.EPERM, os.setxattr, p, NAME, v, msg="after seal: adding %r" % v)
eq(seals(p), "seal,grow", "unchanged")
p = region()
add(p, "seal")
succeeds(os.truncate, p, 2 * N, msg="seal alone seals nothing else")

# ---- directories and listing
os.mkdir(P("d"))
for d in [P("d"), P()]:
    raises(errno.ENODATA, os.getxattr, d, NAME, msg="getxattr on directory %s" % d)
    raises(errno.EISDIR, os.setxattr, d, NAME, b"grow", msg="setxattr on directory %s" % d)
    raises(errno.EISDIR, os.removexattr, d, NAME, msg="removexattr on directory %s" % d)
    ok(NAME not in os.listxattr(d), "not listed on %s" % d)
p = region()
add(p, "grow,write")
ok(NAME not in os.listxattr(p), "not listed on a sealed region")

# ---- a sealed region cannot be bound
seq[0] += 1
p = P("r%d" % seq[0])
os.close(os.open(p, os.O_CREAT | os.O_RDONLY, 0o644))
add(p, "grow")
raises(errno.EPERM, os.setxattr, p, "user.regionfs.backing", sys.argv[2].encode() + b"/bound.dat",
       msg="bind a sealed region")
eq(os.stat(p).st_size, 0, "still empty")
done()
EOF

# cp --preserve=xattr of a sealed region: the copy has data and no seal.
M=$RFS_MNT
printf 'data' >"$M/cpsrc"
setfattr -n user.note -v kept "$M/cpsrc"
# The RELEASE of printf's fd may still be on its way (EBUSY meanwhile): poll.
for i in $(seq 200); do
	setfattr -n user.regionfs.seals -v grow,shrink,write "$M/cpsrc" 2>/dev/null && break
	sleep 0.05
done
check_eq "shell: getfattr shows the seals" "shrink,grow,write" \
	"$(getfattr --absolute-names --only-values -n user.regionfs.seals "$M/cpsrc" 2>&1)"
check "cp --preserve=xattr of a sealed region" cp --preserve=xattr "$M/cpsrc" "$M/cpdst"
check_eq "...the copy keeps user.note" kept "$(getfattr --absolute-names --only-values -n user.note "$M/cpdst" 2>&1)"
check_eq "...and has no seal" "" "$(getfattr --absolute-names --only-values -n user.regionfs.seals "$M/cpdst" 2>&1)"
check "...and can grow" truncate -s 1M "$M/cpdst"
check_errno "truncate of the sealed one" EPERM "os.truncate(P('cpsrc'), 1 << 20)"

# uid 2001: not on root's 0644 region (EACCES, the kernel's user.* check), not on root's 0666
# one (EPERM: only the owner seals, as chmod); on its own, yes.
printf 'root' >"$M/rootreg"
chmod 644 "$M/rootreg"
printf 'root' >"$M/rootopen"
chmod 666 "$M/rootopen"
setpriv --reuid 2001 --regid 2001 --clear-groups sh -c 'printf mine >"$1"' sh "$M/userreg"
rfs_run_prog setpriv --reuid 2001 --regid 2001 --clear-groups \
	env PYTHONPATH="$RFS_TMP" PYTHONDONTWRITEBYTECODE=1 RFS_DATAPATH="$RFS_DATAPATH" \
	"$PY" - "$M" "$RFS_TMP" <<'EOF'
import sys
sys.path.insert(0, sys.argv[2])
from sealcommon import *

eq(os.getuid(), 2001, "running as 2001")
raises(errno.EACCES, os.setxattr, P("rootreg"), NAME, b"grow", msg="2001 seals root's 0644 region")
eq(seals(P("rootreg")), "", "2001 reads its seals: none")
raises(errno.EACCES, os.removexattr, P("rootreg"), NAME, msg="2001 removes root's region's seals (no write access)")
raises(errno.EPERM, os.setxattr, P("rootopen"), NAME, b"write,seal",
       msg="2001 seals root's 0666 region it may write: only the owner seals (EPERM)")
eq(seals(P("rootopen")), "", "...root's region has no seal")
add_ok(P("userreg"), "grow,shrink", "2001 seals its own region")
eq(seals(P("userreg")), "shrink,grow", "...and reads them")
raises(errno.EPERM, os.truncate, P("userreg"), 0, msg="2001 shrinks it")
done()
EOF
check_errno "root cannot shrink it either" EPERM "os.truncate(P('userreg'), 0)"

# ---- a store keeps seals, and they are enforced again after a remount
remount_py <<'EOF'
for name, value in [("fixed", "shrink,grow"), ("ro", "write"), ("fw", "future-write"),
                    ("all", "seal,shrink,grow,write,future-write"), ("none", None)]:
    write_file(P(name), b"y" * N)
    if value:
        add_ok(P(name), value, "store: seal %s with %s" % (name, value))
os.mknod(P("bound"), 0o644 | stat.S_IFREG)  # never opened: nothing to wait for before binding
succeeds(os.setxattr, P("bound"), "user.regionfs.backing", sys.argv[2].encode() + b"/bound.dat",
         msg="store: bind a region")
add_ok(P("bound"), "grow,shrink", "store: seal the bound region")
eq(seals(P("bound")), "shrink,grow", "store: bound region's seals")
done()
EOF
remount_py <<'EOF'
eq(seals(P("fixed")), "shrink,grow", "remount: fixed")
eq(seals(P("ro")), "write", "remount: ro")
eq(seals(P("fw")), "future-write", "remount: fw")
eq(seals(P("all")), "seal,shrink,grow,write,future-write", "remount: all")
eq(seals(P("none")), "", "remount: none")
eq(seals(P("bound")), "shrink,grow", "remount: bound")
ok("user.regionfs.seals" not in os.listxattr(P("fixed")), "remount: not listed")
raises(errno.EPERM, os.truncate, P("fixed"), 2 * N, msg="remount: fixed, truncate up")
raises(errno.EPERM, os.truncate, P("fixed"), 0, msg="remount: fixed, truncate down")
fd = os.open(P("fixed"), os.O_RDWR)
raises(errno.EPERM, os.pwrite, fd, b"out", N, msg="remount: fixed, pwrite past the end")
eq(os.pwrite(fd, b"in", 0), 2, "remount: fixed, pwrite inside")
os.close(fd)
raises(errno.EPERM, os.open, P("ro"), os.O_RDWR, msg="remount: ro, O_RDWR")
raises(errno.EPERM, os.open, P("fw"), os.O_WRONLY, msg="remount: fw, O_WRONLY")
raises(errno.EPERM, os.setxattr, P("all"), NAME, b"", msg="remount: all, adding")
raises(errno.EPERM, os.truncate, P("bound"), 0, msg="remount: bound, truncate down")
eq(read_file(P("bound")), b"file data", "remount: bound, its file's data")
eq(os.stat(P("fixed")).st_size, N, "remount: fixed, size")
add_ok(P("none"), "write", "remount: seal one more")
done()
EOF
remount_py <<'EOF'
eq(seals(P("none")), "write", "second remount: the seal added after the first")
raises(errno.EPERM, os.open, P("none"), os.O_RDWR, msg="second remount: O_RDWR")
done()
EOF
rfs_done
