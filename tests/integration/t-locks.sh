#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Locks across processes (kernel-local locking): flock(1) exclusive and
# shared locks held by one process exclude another's flock -n; fcntl
# (POSIX) record locks and OFD locks conflict with exact errnos and F_GETLK
# reports the holder; a blocked F_SETLKW is granted when the holder lets go.
#
# Usage: t-locks.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"
rfs_mount "size=16M"
M=$RFS_MNT
F=$M/lockfile
echo data >"$F"

# hold_flock MODE: a background flock(1) holding FILE until we write to the
# fifo; returns once the lock is held (bounded wait, no blind sleep).
hold_flock()
{
	rm -f "$RFS_TMP/held" "$RFS_TMP/release"
	mkfifo "$RFS_TMP/release"
	flock "$1" "$F" -c "touch '$RFS_TMP/held'; read x <'$RFS_TMP/release'" &
	HOLDER=$!
	rfs_bg_track "$HOLDER"
	if wait_until 10 test -e "$RFS_TMP/held"; then
		ok "holder took a $1 flock"
	else
		fail "holder never got a $1 flock"
	fi
}

release_flock()
{
	echo go >"$RFS_TMP/release"
	wait "$HOLDER"
	check_eq "holder exited cleanly" 0 $?
}

hold_flock -x
check_eq "flock -n -x while another process holds -x: exit 1" 1 "$(flock -n -x "$F" true; echo $?)"
check_eq "flock -n -s while another process holds -x: exit 1" 1 "$(flock -n -s "$F" true; echo $?)"
check_eq "flock -w 0.3 times out: exit 1" 1 "$(flock -w 0.3 "$F" true; echo $?)"
release_flock
check_eq "flock -n -x after release: exit 0" 0 "$(flock -n -x "$F" true; echo $?)"

hold_flock -s
check_eq "flock -n -s while another holds -s: exit 0" 0 "$(flock -n -s "$F" true; echo $?)"
check_eq "flock -n -x while another holds -s: exit 1" 1 "$(flock -n -x "$F" true; echo $?)"
release_flock

# A lock through another name (hard link) of the same region conflicts too.
ln "$F" "$M/lockfile-link"
hold_flock -x
check_eq "flock -n through a hard link conflicts: exit 1" 1 "$(flock -n "$M/lockfile-link" true; echo $?)"
release_flock

rfs_py <<'EOF'
import os, errno, fcntl, struct, time, select
from rfscheck import *

F = P("lockfile")
FLOCK = "hhqqi"  # l_type, l_whence, l_start, l_len, l_pid (x86_64 struct flock)

def lk(fd, cmd, typ, start, length, pid=0):
    buf = struct.pack(FLOCK + "4x", typ, os.SEEK_SET, start, length, pid)
    res = fcntl.fcntl(fd, cmd, buf)
    return struct.unpack(FLOCK + "4x", res)

def child(fn):
    """Run fn() in a child process (a different lock owner); its PASS/FAIL
    lines go to our stdout; returns the child's exit status."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        import rfscheck
        rfscheck.passes = rfscheck.fails = 0
        try:
            fn()
        except Exception as e:
            ok(False, "child raised %r" % e)
        os.write(w, b"%d" % rfscheck.fails)
        os._exit(0)
    os.close(w)
    out = os.read(r, 64)
    os.close(r)
    _, st = os.waitpid(pid, 0)
    return st, out

# parent: write lock on [0, 100), read lock on [300, 400)
fd = os.open(F, os.O_RDWR)
succeeds(lk, fd, fcntl.F_SETLK, fcntl.F_WRLCK, 0, 100, msg="parent F_SETLK write lock [0,100)")
succeeds(lk, fd, fcntl.F_SETLK, fcntl.F_RDLCK, 300, 100, msg="parent F_SETLK read lock [300,400)")
me = os.getpid()

def c1():
    cfd = os.open(F, os.O_RDWR)
    raises(errno.EAGAIN, lk, cfd, fcntl.F_SETLK, fcntl.F_WRLCK, 50, 10,
           msg="child: overlapping write lock")
    raises(errno.EAGAIN, lk, cfd, fcntl.F_SETLK, fcntl.F_RDLCK, 0, 1,
           msg="child: read lock on a write-locked range")
    t = lk(cfd, fcntl.F_GETLK, fcntl.F_WRLCK, 0, 10)
    eq((t[0], t[2], t[3], t[4]), (fcntl.F_WRLCK, 0, 100, me), "child: F_GETLK reports the parent's lock")
    succeeds(lk, cfd, fcntl.F_SETLK, fcntl.F_WRLCK, 200, 50, msg="child: disjoint write lock")
    succeeds(lk, cfd, fcntl.F_SETLK, fcntl.F_RDLCK, 300, 10, msg="child: shared read lock")
    raises(errno.EAGAIN, lk, cfd, fcntl.F_SETLK, fcntl.F_WRLCK, 350, 10,
           msg="child: write lock on a read-locked range")
    t = lk(cfd, fcntl.F_GETLK, fcntl.F_WRLCK, 1000, 10)
    eq(t[0], fcntl.F_UNLCK, "child: F_GETLK on a free range -> F_UNLCK")
    raises(errno.EAGAIN, fcntl.lockf, cfd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0,
           msg="child: lockf(F_TLOCK) on a locked range")
    os.close(cfd)
st, _ = child(c1)
eq(st, 0, "child 1 exited")

# the parent releases [0,100): now the child gets it
lk(fd, fcntl.F_SETLK, fcntl.F_UNLCK, 0, 100)
def c2():
    cfd = os.open(F, os.O_RDWR)
    succeeds(lk, cfd, fcntl.F_SETLK, fcntl.F_WRLCK, 0, 100, msg="child: write lock after the parent's unlock")
    os.close(cfd)
child(c2)

# closing ANY fd of the file drops the process's POSIX locks
lk(fd, fcntl.F_SETLK, fcntl.F_WRLCK, 0, 100)
fd2 = os.open(F, os.O_RDONLY)
os.close(fd2)
def c3():
    cfd = os.open(F, os.O_RDWR)
    succeeds(lk, cfd, fcntl.F_SETLK, fcntl.F_WRLCK, 0, 100,
             msg="child: lock free after the holder closed another fd of the file")
    os.close(cfd)
child(c3)

# F_SETLKW blocks until the holder unlocks
lk(fd, fcntl.F_SETLK, fcntl.F_WRLCK, 0, 100)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    cfd = os.open(F, os.O_RDWR)
    os.write(w, b"w")
    t0 = time.monotonic()
    try:
        lk(cfd, fcntl.F_SETLKW, fcntl.F_WRLCK, 0, 100)
        os.write(w, b"g")
    except OSError:
        os.write(w, b"e")
    os._exit(0)
os.close(w)
os.read(r, 1)
blocked = not select.select([r], [], [], 0.3)[0]
ok(blocked, "child's F_SETLKW blocks while the parent holds the lock")
lk(fd, fcntl.F_SETLK, fcntl.F_UNLCK, 0, 100)
ready = select.select([r], [], [], 10)[0]
eq(os.read(r, 1) if ready else b"timeout", b"g", "child's F_SETLKW granted after the unlock")
os.waitpid(pid, 0)
os.close(r)

# OFD locks: owned by the open file description, conflict inside one process
o1 = os.open(F, os.O_RDWR)
o2 = os.open(F, os.O_RDWR)
succeeds(lk, o1, fcntl.F_OFD_SETLK, fcntl.F_WRLCK, 0, 10, msg="OFD write lock on fd 1")
raises(errno.EAGAIN, lk, o2, fcntl.F_OFD_SETLK, fcntl.F_WRLCK, 5, 10,
       msg="OFD write lock on fd 2 of the same process")
os.close(o1)
succeeds(lk, o2, fcntl.F_OFD_SETLK, fcntl.F_WRLCK, 5, 10, msg="OFD lock free after closing fd 1")
os.close(o2)

# flock(2) from Python in two processes
fd3 = os.open(F, os.O_RDWR)
fcntl.flock(fd3, fcntl.LOCK_EX)
def c4():
    cfd = os.open(F, os.O_RDWR)
    raises(errno.EWOULDBLOCK, fcntl.flock, cfd, fcntl.LOCK_EX | fcntl.LOCK_NB,
           msg="child: flock(LOCK_EX|LOCK_NB)")
    os.close(cfd)
child(c4)
os.close(fd3)
os.close(fd)
done()
EOF

rm -f "$M/lockfile" "$M/lockfile-link"
rfs_expect_empty
rfs_done
