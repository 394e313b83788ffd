#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Every byte the daemon keeps for a client is inside a budget, attacked as
# an unprivileged user (uid 2001) would:
#  - extended attributes count against size= (names + values + 64 bytes
#    each): df shows them as used, a set that does not fit is ENOSPC and
#    leaves nothing, data and attributes together never pass size= (in
#    passthrough the kernel enforces it: the attributes hold pages in the
#    private tmpfs), and the bytes come back on remove, on a smaller
#    value and when the file is freed;
#  - a hard link costs an inode against nr_inodes, as on tmpfs (ENOSPC at
#    the limit, given back by unlink).
# On tmpfs (RFS_TEST_TARGET=tmpfs) only the hard-link part runs: tmpfs
# keeps user xattrs outside size= (its limit is nr_inodes-based).
#
# Usage: t-budget.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"
rfs_mount "size=8M,mode=1777,allow_other"

rfs_user_python
chmod 755 "$RFS_TMP"

# as_user_py <<'EOF': a check script run as uid 2001.
as_user_py()
{
	rfs_run_prog setpriv --reuid=2001 --regid=2001 --clear-groups \
		env PYTHONPATH="$RFS_TMP" PYTHONDONTWRITEBYTECODE=1 "$PY" - "$RFS_MNT"
}

if rfs_is_regionfs; then
	as_user_py <<'EOF'
import errno, os, subprocess
from rfscheck import *

MiB, SIZE, COST = 1048576, 8 * 1048576, 9 + 65000 + 64  # "user.vNNN" + NUL + value + overhead

used = fs_used

def wait_used(lo, hi, msg):
    wait_for(lambda: lo <= used() <= hi)
    ok(lo <= used() <= hi, "%s (df used %d, expected %d..%d)" % (msg, used(), lo, hi))

eq(used(), 0, "df used 0 on an empty mount")
# 1. the attack of the issue: empty files with a 65,000-byte attribute each,
# until the budget says no
files, err = [], None
for i in range(1000):
    f = P("x%03d" % i)
    try:
        os.close(os.open(f, os.O_CREAT | os.O_RDWR, 0o600))
    except OSError as e:
        err = e.errno
        break
    files.append(f)
    try:
        os.setxattr(f, "user.v%03d" % i, b"v" * 65000)
    except OSError as e:
        err = e.errno
        break
eq(ename(err or 0), "ENOSPC", "65,000-byte attributes on empty files end in ENOSPC")
n = len(files) - 1
ok(n * COST <= SIZE, "%d attributes fit 8 MiB (%d bytes each)" % (n, COST))
ok((n + 1) * COST > SIZE - 256 * 1024, "the attributes filled the budget, not another limit")
raises(errno.ENODATA, lambda: len(os.getxattr(files[-1], "user.v%03d" % n)),
       msg="the refused attribute is absent")
wait_used(n * COST, SIZE, "df shows the attributes as used")
# data cannot take their room: writing ends in ENOSPC (after a short
# write of what is left, in passthrough as on tmpfs)
fd = os.open(P("data"), os.O_CREAT | os.O_RDWR, 0o600)
written, err = 0, None
try:
    for i in range(8):
        written += os.write(fd, b"d" * MiB)
except OSError as e:
    err = e.errno
os.close(fd)
eq(ename(err or 0), "ENOSPC", "writing data beside a full attribute budget ends in ENOSPC")
ok(written <= SIZE - n * COST, "only what the attributes left was written (%d bytes)" % written)
os.unlink(P("data"))
# 2. freeing the files gives every byte back
for f in files:
    os.unlink(f)
wait_used(0, 0, "df used back to 0 after removing the files")

# 3. data and attributes share size=: 6 MiB of data leave about 2 MiB
fd = os.open(P("data"), os.O_CREAT | os.O_RDWR, 0o600)
os.write(fd, b"d" * (6 * MiB))
os.fsync(fd)
os.close(fd)
g = P("g")
os.close(os.open(g, os.O_CREAT | os.O_RDWR, 0o600))
k, err = 0, None
try:
    for k in range(200):
        os.setxattr(g, "user.v%03d" % k, b"v" * 65000)
except OSError as e:
    err = e.errno
eq(ename(err or 0), "ENOSPC", "attributes beside 6 MiB of data end in ENOSPC")
ok(20 <= k <= 32, "about 2 MiB of attributes fit beside 6 MiB of data (%d)" % k)
wait_used(6 * MiB + k * COST, SIZE, "df counts data and attributes")
# 4. a smaller value and a removal give bytes back, and make room
before = used()
os.setxattr(g, "user.v000", b"s", os.XATTR_REPLACE)
os.removexattr(g, "user.v001")
wait_used(0, before - 2 * 65000 + 4096, "a smaller value and a removal give bytes back")
succeeds(os.setxattr, g, "user.again", b"a" * 65000, msg="room for a new attribute again")
os.unlink(g)
os.unlink(P("data"))
wait_used(0, 0, "df used back to 0")
done()
EOF
fi

rfs_expect_empty
rfs_umount

# 5. hard links cost an inode each, as on tmpfs (root + 1 file + 62 links = 64)
rfs_mount "size=8M,nr_inodes=64,mode=1777,allow_other"
as_user_py <<'EOF'
import errno, os
from rfscheck import *

iused = fs_inodes_used

f = P("f")
os.close(os.open(f, os.O_CREAT | os.O_RDWR, 0o600))
n, err = 0, None
try:
    for n in range(1000):
        os.link(f, P("l%03d" % n))
except OSError as e:
    err = e.errno
eq(ename(err or 0), "ENOSPC", "hard links end in ENOSPC at nr_inodes")
eq(n, 62, "62 links beside the root and the file fit nr_inodes=64")
eq(os.stat(f).st_nlink, 63, "nlink counts every name")
eq(iused(), 64, "df -i counts every link")
raises(errno.ENOSPC, os.open, P("new"), os.O_CREAT | os.O_RDWR, msg="no inode left for a new file")
for i in range(n):
    os.unlink(P("l%03d" % i))
wait_for(lambda: iused() == 2)
eq(iused(), 2, "unlinking the links gives their inodes back")
succeeds(lambda: os.close(os.open(P("new"), os.O_CREAT | os.O_RDWR, 0o600)),
         msg="a new file fits again")
os.unlink(P("new"))
os.unlink(f)
done()
EOF

rfs_expect_empty
rfs_done
