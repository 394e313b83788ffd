#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Limits the client cannot see. The daemon keeps at most a budget of region
# fds open (its RLIMIT_NOFILE less a reserve) and reopens the others on
# demand, so under a small fd limit (prlimit --nofile=256) it still holds
# far more regions than fds, every one intact, and its fd table never fills
# past the reserve. What bounds the number of regions is nr_inodes: one too
# many is a clean ENOSPC (never EMFILE, which would blame the client's own
# fd table), and removing regions makes room again. The daemon exits 0
# after umount. Under the least limit it can work with (128) the daemon
# refuses to start with a line that says so. On tmpfs only the bookkeeping
# runs.
#
# Usage: t-limits.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"
RFS_DAEMON_PREFIX=(prlimit --nofile=256:256 --)

# fill_regions N: create regions until 1000 or the first error; expect N.
fill_regions()
{
	rfs_py "$1" <<'EOF'
import errno, os, sys
from rfscheck import *

want = int(sys.argv[2])
made, err = 0, None
for i in range(1000):
    try:
        fd = os.open(P("r%04d" % i), os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        os.write(fd, b"%d" % i)
        os.close(fd)
        made += 1
    except OSError as e:
        err = e.errno
        break
eq(made, want, "%d regions with the daemon under 256 fds" % want)
if want < 1000:
    eq(ename(err or 0), "ENOSPC", "creating one region too many fails with ENOSPC")
    raises(errno.ENOSPC, os.open, P("onemore"), os.O_CREAT | os.O_RDWR, msg="again")
    raises(errno.ENOSPC, os.mkdir, P("dir-at-limit"), msg="mkdir at the limit")
ok(all(read_file(P("r%04d" % i)) == b"%d" % i for i in range(made)), "every created region intact")
done()
EOF
}

# 1: 1000 regions under 256 fds, written again in another order; the
# daemon's fds stay within its budget (256 - 64).
rfs_mount "size=64M"
fill_regions 1000
rfs_py "${RFS_DAEMON_PID:-0}" <<'EOF'
import os, sys
from rfscheck import *

pid, n = int(sys.argv[2]), 1000
for i in ((i * 337) % n for i in range(n)):
    fd = os.open(P("r%04d" % i), os.O_RDWR)
    os.pwrite(fd, b"again %d" % i, 4096 + i)
    os.close(fd)
ok(all(os.stat(P("r%04d" % i)).st_size == 4096 + i + len(b"again %d" % i) for i in range(n)),
   "sizes after writing again in another order")
ok(all(read_file(P("r%04d" % i))[4096 + i:] == b"again %d" % i for i in reversed(range(n))),
   "every region intact after writing again")
if is_regionfs():
    fds = len(os.listdir("/proc/%d/fd" % pid))
    ok(0 < fds <= 256 - 64, "the daemon holds at most 192 fds (has %d)" % fds)
done()
EOF
rfs_umount

# 2: nr_inodes bounds the regions (root included), not the fds: ENOSPC one
# past it, for directories too; removing regions makes room again.
rfs_mount "size=64M,nr_inodes=501"
fill_regions 500
rfs_py <<'EOF'
import os, time
from rfscheck import *

for i in range(10):
    os.unlink(P("r%04d" % i))
t0, r = time.monotonic(), None
while time.monotonic() - t0 < 5:
    try:
        os.close(os.open(P("after-free"), os.O_CREAT | os.O_RDWR, 0o600))
        r = 0
        break
    except OSError as e:
        r = e.errno
        time.sleep(0.05)
eq(ename(r) if r else 0, 0, "creating works again after removing 10 regions")
done()
EOF
rfs_umount

# 3: below the least open-file limit it can work with, the daemon refuses
# to start, with one line naming RLIMIT_NOFILE (ulimit -n), the value it has
# and the value it needs; at that value it starts and serves.
if rfs_is_regionfs; then
	mkdir -p "$RFS_TMP/lowfd"
	# Without CAP_SYS_RESOURCE, so that the daemon cannot lift the hard limit.
	out=$(setpriv --bounding-set=-sys_resource -- prlimit --nofile=100:100 -- "$RFS_BIN" -f -o "datapath=$RFS_DATAPATH,size=16M" \
		"$RFS_TMP/lowfd" </dev/null 2>&1)
	st=$?
	check_eq "exit status under ulimit -n 100" 1 "$st"
	check "the refusal names RLIMIT_NOFILE, 100 and 128 ($out)" \
		grep -q "RLIMIT_NOFILE (ulimit -n) is 100; regionfs needs at least 128" <<<"$out"
	check_eq "nothing mounted" "" "$(rfs_mount_fstype "$RFS_TMP/lowfd")"
	RFS_DAEMON_PREFIX=(setpriv --bounding-set=-sys_resource -- prlimit --nofile=128:128 --)
	rfs_mount "size=16M"
	echo x >"$RFS_MNT/one"
	check_eq "a region under ulimit -n 128" x "$(cat "$RFS_MNT/one")"
fi
rfs_done
