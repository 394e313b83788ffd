#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Daemon lifecycle: umount of a busy mount fails (EBUSY) and changes
# nothing; a lazy umount with an open, mapped region keeps it working until
# the last close/unmap, then the daemon exits 0, also when that close
# aborts the connection while the daemon is reading requests; SIGTERM and
# SIGHUP unmount and exit 0; with passthrough, mappings (even of never-touched pages) and
# reads through open fds survive the daemon being killed (SIGKILL).
#
# Usage: t-lifecycle.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"

# --- busy umount, then lazy umount with an open + mapped region
rfs_mount "size=32M"
M=$RFS_MNT
echo hello >"$M/f"
truncate -s 1M "$M/f"
mkfifo "$RFS_TMP/go" "$RFS_TMP/done"
# A holder process: keeps an fd and a mapping, and when told, checks that
# both still work, then closes everything and reports.
python3 - "$M/f" "$RFS_TMP/go" "$RFS_TMP/done" <<'EOF' &
import mmap, os, sys
path, go, done = sys.argv[1:4]
fd = os.open(path, os.O_RDWR)
m = mmap.mmap(fd, 1 << 20)
open(go + ".ready", "w").close()
with open(go) as f:
    f.read()
res = []
m[500000:500005] = b"lazy!"
res.append("map" if m[0:5] == b"hello" and m[500000:500005] == b"lazy!" else "map-bad")
res.append("read" if os.pread(fd, 5, 500000) == b"lazy!" else "read-bad")
os.pwrite(fd, b"write", 600000)
res.append("write" if m[600000:600005] == b"write" else "write-bad")
m.close()
os.close(fd)
with open(done, "w") as f:
    f.write(" ".join(res))
EOF
holder=$!
rfs_bg_track "$holder"
wait_until 10 test -e "$RFS_TMP/go.ready" || fail "holder did not start"

out=$(umount "$M" 2>&1)
st=$?
check_eq "umount of a busy mount fails (exit 32)" 32 "$st"
case $out in
*busy*) ok "umount says the target is busy" ;;
*) fail "umount message: $out" ;;
esac
check "still mounted after the failed umount" rfs_is_mounted "$M"
check_eq "still usable after the failed umount" hello "$(head -n 1 "$M/f")"

check "umount -l (lazy) with an open, mapped region" umount -l "$M"
check_fails "gone from the namespace after umount -l" rfs_is_mounted "$M"
if rfs_is_regionfs; then
	check "daemon still serving the open region" rfs_proc_alive "$RFS_DAEMON_PID"
fi
echo go >"$RFS_TMP/go"
res=$(cat "$RFS_TMP/done")
check_eq "after a lazy umount: mapping, read, write through the open region" "map read write" "$res"
wait "$holder"
check_eq "holder exited cleanly" 0 $?
# The last close ends the mount: the daemon must exit 0 by itself.
rfs_judge_daemon "after lazy umount and the last close"

# --- the last close of a lazily unmounted mount while the daemon is busy
# reading requests: still exit 0. The kernel may then fail a read of
# /dev/fuse with ECONNABORTED instead of ENODEV (a request taken off the
# queue while the connection is aborted), and this makes it likely: the
# RELEASEs of many closes, queued in the background while the daemon is
# stopped, are still being read when the last close aborts the connection
# (the abort hands the whole backlog to the readers).
if rfs_is_regionfs; then
	rfs_mount "size=16M"
	rfs_py "$RFS_DAEMON_PID" <<'EOF'
import ctypes, os, resource, signal, sys, time
from rfscheck import *
pid = int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
try:
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4096), max(hard, 4096)))
except (ValueError, OSError):
    pass
n = min(3000, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 64)
fds = [os.open(P("c%d" % i), os.O_RDWR | os.O_CREAT, 0o600) for i in range(n + 1)]
os.close(fds.pop())  # FLUSH gets ENOSYS once: later closes never wait for the daemon
libc = ctypes.CDLL(None, use_errno=True)
eq(libc.umount2(MNT.encode(), 2), 0, "umount -l with %d regions open" % n)


def state():
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


os.kill(pid, signal.SIGSTOP)
for _ in range(10000):
    if state() == "T":
        break
    time.sleep(0.001)
if ok(state() == "T", "daemon stopped"):
    last = fds.pop()
    for fd in fds:
        os.close(fd)
    os.kill(pid, signal.SIGCONT)
    os.close(last)  # the last reference: the kernel aborts the connection
else:
    os.kill(pid, signal.SIGCONT)
    for fd in fds:
        os.close(fd)
done()
EOF
	rfs_judge_daemon "after a lazy umount and the last of many closes"
fi

# --- SIGTERM and SIGHUP: unmount and exit 0
rfs_is_unmounted() { ! rfs_is_mounted "$1"; }
if rfs_is_regionfs; then
	# (not SIGINT: background jobs of a script start with SIGINT ignored,
	# and libfuse leaves ignored signals alone)
	for sig in TERM HUP; do
		rfs_mount "size=16M"
		echo data >"$RFS_MNT/x"
		pid=$RFS_DAEMON_PID
		kill -"$sig" "$pid"
		rfs_judge_daemon "after SIG$sig"
		if wait_until 5 rfs_is_unmounted "$RFS_TMP/mnt"; then
			ok "SIG$sig: mount gone"
		else
			fail "SIG$sig: still mounted after the daemon exited"
			umount -l "$RFS_TMP/mnt" 2>/dev/null || true
		fi
	done
fi

# --- passthrough: mappings outlive the daemon
if rfs_is_regionfs && [ "$RFS_DATAPATH" = passthrough ]; then
	rfs_mount "size=16M"
	M=$RFS_MNT
	rfs_py "$RFS_DAEMON_PID" <<'EOF'
import errno, mmap, os, signal, sys
from rfscheck import *
pid = int(sys.argv[2])
fd = os.open(P("r"), os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 1 << 20)
m = mmap.mmap(fd, 1 << 20)
m[0:5] = b"hello"
os.kill(pid, signal.SIGKILL)
def dead(pid):
    """Gone, or a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):  # reaped, or being reaped (ESRCH)
        return True

wait_for(lambda: dead(pid))
m[409600:409605] = b"after"  # a page never touched before
eq((m[0:5], m[409600:409605]), (b"hello", b"after"), "mapping works after the daemon was killed")
eq(os.pread(fd, 5, 409600), b"after", "pread through an open fd after the daemon was killed")
try:
    os.stat(P("r"))
    ok(False, "new lookups after the daemon was killed fail (succeeded)")
except OSError as e:
    # ECANCELED: over io_uring, a request caught while the kernel tears the
    # dead daemon's rings down ends so (then ECONNABORTED, then ENOTCONN).
    ok(e.errno in (errno.ENOTCONN, errno.ECONNABORTED, errno.ECANCELED),
       "new lookups after the daemon was killed: ENOTCONN/ECONNABORTED/ECANCELED (got %s)"
       % ename(e.errno))
m.close()
try:
    os.close(fd)  # FLUSH cannot reach a dead daemon: ENOTCONN is fine here
except OSError:
    pass
done()
EOF
	check "umount after the daemon was killed" umount "$M"
	rfs_judge_daemon "after SIGKILL" 137
fi

rfs_done
