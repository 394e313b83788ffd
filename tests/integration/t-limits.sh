#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Limits the client cannot see: the daemon keeps one backing fd per region,
# so its RLIMIT_NOFILE bounds the number of regions. With the daemon started
# under a small fd limit (prlimit --nofile=256), creating regions must end
# in a clean ENOSPC ("no room for another region"; never EMFILE, which would
# blame the client's own fd table), directories can still be made, the
# daemon still exits 0 after umount with its fd table full (no crash), and
# removing regions makes room again. On tmpfs only the bookkeeping runs.
#
# Usage: t-limits.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"
RFS_DAEMON_PREFIX=(prlimit --nofile=256:256 --)

fill_regions()
{
	rfs_py <<'EOF'
import errno, os
from rfscheck import *

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
if is_regionfs():
    ok(err is not None, "regions are limited by the daemon's 256 fds (made %d)" % made)
    eq(ename(err or 0), "ENOSPC", "creating one region too many fails with ENOSPC")
    raises(errno.ENOSPC, os.open, P("onemore"), os.O_CREAT | os.O_RDWR, msg="again")
    succeeds(os.mkdir, P("dir-at-limit"), msg="mkdir still works (directories need no fd)")
else:
    eq(made, 1000, "tmpfs: 1000 files")
ok(all(read_file(P("r%04d" % i)) == b"%d" % i for i in range(made)), "every created region intact")
done()
EOF
}

# 1: fill, then umount with the daemon's fd table full: clean exit 0.
rfs_mount "size=64M"
fill_regions
rfs_umount

# 2: fill, then removing regions makes room again.
rfs_mount "size=64M"
fill_regions
rfs_py <<'EOF'
import errno, os, time
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
rfs_done
