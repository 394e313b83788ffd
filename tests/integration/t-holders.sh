#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# user.regionfs.holders: one line per process that has a region open or
# mapped, "pid=N uid=N comm=NAME open=N mapped=N": open only, mapped only
# (fd closed), both, two processes, another uid, a bound region; empty when
# nobody holds it; read-only (EPERM), not listed, ENODATA on directories;
# readable by another user when the region is readable (EACCES when not).
#
# Usage: t-holders.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_regionfs_only "user.regionfs.holders is a regionfs feature"
rfs_init "$@"
rfs_mount "size=16M,mode=1777,allow_other"
M=$RFS_MNT
printf 'file data' >"$RFS_TMP/bound.dat"

rfs_py "$RFS_TMP/bound.dat" <<'EOF'
import ctypes, errno, mmap, os, subprocess, sys
from rfscheck import *

# mmap(2) itself: Python's mmap.mmap keeps a dup of the fd (one more "open").
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                      ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]

def map_(fd, length, prot=mmap.PROT_READ | mmap.PROT_WRITE):
    a = libc.mmap(None, length, prot, mmap.MAP_SHARED, fd, 0)
    ok(a not in (None, ctypes.c_void_p(-1).value), "mmap")
    return (a, length)

def unmap(m):
    libc.munmap(m[0], m[1])

NAME = "user.regionfs.holders"
bound = sys.argv[2]

def holders(path):
    v = os.getxattr(path, NAME).decode("ascii")
    ok(v == "" or v.endswith("\n"), "%s: lines end with a newline" % path)
    return {int(l.split()[0][4:]): l for l in v.splitlines()}

def line(pid, uid, comm, nopen, nmapped):
    return "pid=%d uid=%d comm=%s open=%d mapped=%d" % (pid, uid, comm, nopen, nmapped)

me = os.getpid()
r = P("r")
write_file(r, b"\0" * 8192)
eq(holders(r), {}, "nobody holds a closed region: empty")

fd = os.open(r, os.O_RDWR)
eq(holders(r), {me: line(me, 0, "python3", 1, 0)}, "open only: open=1 mapped=0")
fd2 = os.open(r, os.O_RDONLY)
eq(holders(r), {me: line(me, 0, "python3", 2, 0)}, "two fds: open=2")
os.close(fd2)
m = map_(fd, 8192)
eq(holders(r), {me: line(me, 0, "python3", 1, 1)}, "open and mapped: open=1 mapped=1")
os.close(fd)
eq(holders(r), {me: line(me, 0, "python3", 0, 1)}, "mapped only, fd closed: open=0 mapped=1")
fd = os.open(r, os.O_RDONLY)
m2 = map_(fd, 4096, mmap.PROT_READ)
os.close(fd)
eq(holders(r), {me: line(me, 0, "python3", 0, 2)}, "two mappings: mapped=2")
unmap(m2)
unmap(m)
eq(holders(r), {}, "all unmapped and closed: empty again")

# Another process, as uid 2001, holding it open and mapped; both listed.
os.chmod(r, 0o666)
child = subprocess.Popen(
    ["setpriv", "--reuid", "2001", "--regid", "2001", "--clear-groups", "python3", "-c",
     "import ctypes, os, sys\n"
     "fd = os.open(sys.argv[1], os.O_RDWR)\n"
     "libc = ctypes.CDLL(None)\n"
     "libc.mmap.restype = ctypes.c_void_p\n"
     "libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]\n"
     "assert libc.mmap(None, 4096, 3, 1, fd, 0) != ctypes.c_void_p(-1).value\n"
     "print(os.getpid(), flush=True)\n"
     "sys.stdin.read()\n", r],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
cpid = int(child.stdout.readline())
fd = os.open(r, os.O_RDONLY)
h = holders(r)
eq(h.get(cpid), line(cpid, 2001, "python3", 1, 1), "uid 2001's process: open=1 mapped=1")
eq(h.get(me), line(me, 0, "python3", 1, 0), "and this one: open=1")
eq(sorted(h), sorted([me, cpid]), "exactly the two holders, ascending pid")
eq(list(h), sorted(h), "lines in ascending pid order")
# uid 2001 reads it (the region is readable); not a 0600 region of root's.
rr = subprocess.run(["setpriv", "--reuid", "2001", "--regid", "2001", "--clear-groups",
                     "python3", "-c", "import os, sys; print(os.getxattr(sys.argv[1], %r).decode(), end='')" % NAME, r],
                    capture_output=True, text=True, timeout=60)
eq(len(rr.stdout.splitlines()), 2, "uid 2001 reads the holders of a readable region")
child.stdin.close()
child.wait(timeout=60)
eq(sorted(holders(r)), [me], "the exited process is gone from the list")
os.close(fd)

secret = P("secret")
write_file(secret, b"", mode=0o600)
rr = subprocess.run(["setpriv", "--reuid", "2001", "--regid", "2001", "--clear-groups",
                     "python3", "-c", "import errno, os, sys\ntry: os.getxattr(sys.argv[1], %r)\nexcept OSError as e: print(errno.errorcode[e.errno])" % NAME, secret],
                    capture_output=True, text=True, timeout=60)
eq(rr.stdout.strip(), "EACCES", "uid 2001 on root's 0600 region -> EACCES")

# A bound region: mappings point at the user's file in passthrough, at the mount in cache.
b = P("b")
write_file(b, b"")
succeeds(os.setxattr, b, "user.regionfs.backing", bound.encode(), msg="bind")
fd = os.open(b, os.O_RDWR)
m = map_(fd, 4096)
os.close(fd)
eq(holders(b), {me: line(me, 0, "python3", 0, 1)}, "bound region mapped, fd closed: mapped=1")
unmap(m)
eq(holders(b), {}, "bound region unmapped: empty")

# Read-only, not listed, not on directories.
raises(errno.EPERM, os.setxattr, r, NAME, b"x", msg="set")
raises(errno.EPERM, os.removexattr, r, NAME, msg="remove")
ok(NAME not in os.listxattr(r), "not listed (computed only when asked)")
os.mkdir(P("d"))
raises(errno.ENODATA, os.getxattr, P("d"), NAME, msg="a directory")
raises(errno.ENODATA, os.getxattr, P(), NAME, msg="the root")
fd = os.open(r, os.O_RDONLY)
n = len(os.getxattr(r, NAME))
eq(getxattr_size(r, NAME, 0), n, "size query: the length")
raises(errno.ERANGE, getxattr_size, r, NAME, 4, msg="a 4-byte buffer")
os.close(fd)
done()
EOF
rfs_done
