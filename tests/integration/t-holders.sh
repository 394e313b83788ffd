#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# user.regionfs.holders: one line per process that has a region open or
# mapped, "pid=N uid=N comm=NAME open=N mapped=N": open only, mapped only
# (fd closed), both, two processes, another uid, a bound region; empty when
# nobody holds it; read-only (EPERM), not listed; readable by another user
# when the region is readable (EACCES when not).
# On a directory: "name=NAME processes=N open=N mapped=N" per region in it
# that has holders (open only, mapped only, both, names escaped as \xHH,
# hard links, not the regions of subdirectories), unheld ones absent, a
# "more=N" last line past HOLDERS_MAX, readable by whoever may read the
# directory (EACCES otherwise). A process in its own pid namespace shows with
# the pid the daemon sees, in holders and the creator, and its lifetime
# "creator" region goes when it is killed.
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

# A process of uid 2001 that holds path open and mapped (open=1 mapped=1) until its stdin closes.
def hold_as_2001(path):
    child = subprocess.Popen(
        ["setpriv", "--reuid", "2001", "--regid", "2001", "--clear-groups", "python3", "-c",
         "import ctypes, os, sys\n"
         "fd = os.open(sys.argv[1], os.O_RDWR)\n"
         "libc = ctypes.CDLL(None)\n"
         "libc.mmap.restype = ctypes.c_void_p\n"
         "libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]\n"
         "assert libc.mmap(None, 4096, 3, 1, fd, 0) != ctypes.c_void_p(-1).value\n"
         "print(os.getpid(), flush=True)\n"
         "sys.stdin.read()\n", path],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return child, int(child.stdout.readline())

# Another process, as uid 2001, holding it open and mapped; both listed.
os.chmod(r, 0o666)
child, cpid = hold_as_2001(r)
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
fd = os.open(r, os.O_RDONLY)
n = len(os.getxattr(r, NAME))
eq(getxattr_size(r, NAME, 0), n, "size query: the length")
raises(errno.ERANGE, getxattr_size, r, NAME, 4, msg="a 4-byte buffer")
os.close(fd)

# --- The directory view.
def dirview(path):
    v = os.getxattr(path, NAME).decode("ascii")
    ok(v == "" or v.endswith("\n"), "%s: lines end with a newline" % path)
    return v.splitlines()

d = P("d")
os.mkdir(d, 0o755)
eq(dirview(d), [], "an empty directory: empty")
held = []
def region(name):
    path = os.path.join(os.fsencode(d), name)
    write_file(path, b"\0" * 8192)
    os.chmod(path, 0o666)
    return path

r_open = region(b"open only")
r_mapped = region(b"mapped only")
r_both = region(b"both")
r_odd = region(b"a=b\\c\xc3\xa9\nx")
r_unheld = region(b"unheld")
os.mkdir(os.path.join(d, "sub"))
r_sub = region(b"sub/deeper")
eq(dirview(d), [], "regions nobody holds: empty")

fd_open = os.open(r_open, os.O_RDONLY)
fd = os.open(r_mapped, os.O_RDWR)
m1 = map_(fd, 4096)
m2 = map_(fd, 8192)
os.close(fd)
fd_both = os.open(r_both, os.O_RDWR)
m3 = map_(fd_both, 4096)
fd_odd = os.open(r_odd, os.O_RDONLY)
fd_odd2 = os.open(r_odd, os.O_RDONLY)
fd_sub = os.open(r_sub, os.O_RDONLY)
os.link(r_both, os.path.join(os.fsencode(d), b"both link"))
# Another process (uid 2001) holds "both" too: processes=2.
child, cpid = hold_as_2001(r_both)
want = [
    "name=open\\x20only processes=1 open=1 mapped=0",
    "name=mapped\\x20only processes=1 open=0 mapped=2",
    "name=both processes=2 open=2 mapped=2",
    "name=a\\x3db\\x5cc\\xc3\\xa9\\x0ax processes=1 open=2 mapped=0",
    "name=both\\x20link processes=2 open=2 mapped=2",
]
eq(dirview(d), want, "open only, mapped only (fd closed), both, escaped names, a hard link; "
   "unheld regions and the subdirectory's absent, directory order")
eq(dirview(os.path.join(d, "sub")), ["name=deeper processes=1 open=1 mapped=0"],
   "the subdirectory: its own region")
ok(not any(l.startswith("name=open") for l in dirview(P())), "the root: not the regions below it")
eq(getxattr_size(d, NAME, 0), len("\n".join(want)) + 1, "directory: size query, the length")
raises(errno.ERANGE, getxattr_size, d, NAME, 8, msg="directory: an 8-byte buffer")
rr = subprocess.run(["setpriv", "--reuid", "2001", "--regid", "2001", "--clear-groups",
                     "python3", "-c", "import os, sys; print(os.getxattr(sys.argv[1], %r).decode(), end='')" % NAME, d],
                    capture_output=True, text=True, timeout=60)
eq(rr.stdout.splitlines(), want, "uid 2001 reads the view of a directory it may read")
os.chmod(d, 0o711)
rr = subprocess.run(["setpriv", "--reuid", "2001", "--regid", "2001", "--clear-groups",
                     "python3", "-c", "import errno, os, sys\ntry: os.getxattr(sys.argv[1], %r)\nexcept OSError as e: print(errno.errorcode[e.errno])" % NAME, d],
                    capture_output=True, text=True, timeout=60)
eq(rr.stdout.strip(), "EACCES", "uid 2001 on a directory it may not read (0711) -> EACCES")
os.chmod(d, 0o755)
child.stdin.close()
child.wait(timeout=60)
os.close(fd_both)
unmap(m3)
for f in (fd_open, fd_odd, fd_odd2, fd_sub):
    os.close(f)
eq(dirview(d), ["name=mapped\\x20only processes=1 open=0 mapped=2"], "after the closes: the mapping left")
unmap(m1)
unmap(m2)
eq(dirview(d), [], "all gone: empty")

# Bounded: past HOLDERS_MAX (64 KiB) lines become a last "more=N".
big = P("big")
os.mkdir(big)
fds = []
for i in range(300):
    fds.append(os.open(os.path.join(big, "%03d" % i + "x" * 200), os.O_CREAT | os.O_RDWR, 0o644))
lines = dirview(big)
ok(len("\n".join(lines)) + 1 <= 65536, "the view fits in 64 KiB")
ok(lines[-1].startswith("more="), "a last line more=N")
shown = [l for l in lines if l.startswith("name=")]
eq(len(shown) + int(lines[-1][5:]), 300, "shown lines plus more=N: every held region")
eq(shown[0], "name=000" + "x" * 200 + " processes=1 open=1 mapped=0", "first line")
for f in fds:
    os.close(f)
done()
EOF
# A process in its own pid namespace: it is pid 1 there, and shows in holders
# and in the creator with the pid the daemon sees (its pid in the daemon's
# namespace); lifetime creator follows it too.
mkdir -p "$M/pidns"
setfattr -n user.regionfs.lifetime -v creator "$M/pidns"
unshare --pid --fork python3 -c '
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR, 0o644)
os.ftruncate(fd, 4096)
m = mmap.mmap(fd, 4096)
os.close(fd)
print(os.getpid(), flush=True)
time.sleep(600)' "$M/pidns/r" >"$RFS_TMP/pidns.out" &
ns_parent=$!
rfs_bg_track "$ns_parent"
wait_until 60 test -s "$RFS_TMP/pidns.out"
check_eq "inside its pid namespace the process is pid 1" 1 "$(cat "$RFS_TMP/pidns.out")"
ns_pid=$(pgrep -P "$ns_parent" -x python3)
check "its pid in the daemon's namespace is found ($ns_pid)" test -n "$ns_pid"
check_eq "holders show it with that pid (python's mmap keeps a dup of the fd)" \
	"pid=$ns_pid uid=0 comm=python3 open=1 mapped=1" \
	"$(getfattr --only-values -n user.regionfs.holders "$M/pidns/r")"
check "the creator record has that pid too" \
	grep -q "^pid=$ns_pid uid=0 comm=python3 " <<<"$(getfattr --only-values -n user.regionfs.creator "$M/pidns/r")"
check_eq "the directory view counts it" "name=r processes=1 open=1 mapped=1" \
	"$(getfattr --only-values -n user.regionfs.holders "$M/pidns")"
kill -KILL "$ns_pid"
check "killed, its creator-lifetime region goes" wait_until 60 test ! -e "$M/pidns/r"
wait "$ns_parent" 2>/dev/null
rmdir "$M/pidns"
rfs_done
