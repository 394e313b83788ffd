#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Ownership and permissions with allow_other,default_permissions: files an
# unprivileged user creates belong to them; mode bits, the sticky root and
# chmod/chown rights are enforced with the exact errnos of tmpfs; an
# unprivileged user can map and share a region.
#
# Usage: t-perms.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"
rfs_mount "size=32M,mode=1777,allow_other,default_permissions"
M=$RFS_MNT

rfs_user_python

as_nobody()
{
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

echo secret >"$M/rootfile"
chmod 600 "$M/rootfile"
echo public >"$M/rootpublic"
chmod 644 "$M/rootpublic"
echo shared >"$M/rootshared"
chmod 666 "$M/rootshared"
mkdir "$M/rootdir"
chmod 755 "$M/rootdir"

check "nobody creates a file in the 1777 root" as_nobody sh -c "echo mine >'$M/nobodyfile'"
check_eq "the new file belongs to nobody" "65534 65534" "$(stat -c '%u %g' "$M/nobodyfile")"
check "nobody creates a directory" as_nobody mkdir "$M/nobodydir"
check_eq "the new directory belongs to nobody" "65534 65534" "$(stat -c '%u %g' "$M/nobodydir")"

rfs_run_prog as_nobody env PYTHONPATH="$RFS_TMP" PYTHONDONTWRITEBYTECODE=1 "$PY" - "$M" <<'EOF'
import os, errno, mmap
from rfscheck import *

eq(os.getuid(), 65534, "running as uid 65534")
raises(errno.EACCES, os.open, P("rootfile"), os.O_RDONLY, msg="read a 0600 root file")
raises(errno.EACCES, os.open, P("rootpublic"), os.O_WRONLY, msg="write a 0644 root file")
eq(read_file(P("rootpublic")), b"public\n", "read a 0644 root file")
raises(errno.EACCES, os.truncate, P("rootpublic"), 0, msg="truncate a 0644 root file")
raises(errno.EPERM, os.chmod, P("rootpublic"), 0o666, msg="chmod a root file")
raises(errno.EPERM, os.chown, P("nobodyfile"), 0, 0, msg="chown one's own file to root")
raises(errno.EPERM, os.unlink, P("rootpublic"), msg="unlink a root file in the sticky root")
raises(errno.EPERM, os.rename, P("rootpublic"), P("stolen"), msg="rename a root file in the sticky root")
raises(errno.EACCES, os.open, P("rootdir/x"), os.O_CREAT | os.O_WRONLY, msg="create in a 0755 root dir")
raises(errno.EACCES, os.mkdir, P("rootdir/x"), msg="mkdir in a 0755 root dir")
raises(errno.EPERM, os.utime, P("rootpublic"), ns=(1, 1), msg="set times of a root file")
raises(errno.EACCES, os.utime, P("rootpublic"), None, msg="touch (times = now) a root file")
raises(errno.EACCES, os.setxattr, P("rootpublic"), "user.x", b"v", msg="setxattr on a root file")

# a root file writable by everyone: write and touch (times = now) allowed,
# explicit times and chmod are the owner's
g = P("rootshared")
succeeds(lambda: os.close(os.open(g, os.O_WRONLY | os.O_APPEND)), msg="open a 0666 root file for writing")
succeeds(os.utime, g, None, msg="touch (times = now) a 0666 root file")
raises(errno.EPERM, os.utime, g, ns=(1, 1), msg="set explicit times of a 0666 root file")
raises(errno.EPERM, os.chmod, g, 0o600, msg="chmod a 0666 root file")
succeeds(os.truncate, g, 3, msg="truncate a 0666 root file")

# own files: full control
f = P("nobodyfile")
succeeds(os.chmod, f, 0o600, msg="chmod own file")
eq(os.stat(f).st_mode & 0o777, 0o600, "mode after chmod")
succeeds(os.chown, f, 65534, 65534, msg="chown own file to self")
succeeds(os.utime, f, ns=(1, 2), msg="set times of own file")
succeeds(os.setxattr, f, "user.mine", b"yes", msg="setxattr on own file")
succeeds(os.truncate, f, 8192, msg="truncate own file")
fd = os.open(f, os.O_RDWR)
m = mmap.mmap(fd, 8192)
m[4096:4101] = b"hello"
eq(os.pread(fd, 5, 4096), b"hello", "nobody maps own region MAP_SHARED")
m.close()
os.close(fd)
os.chmod(f, 0o400)
raises(errno.EACCES, os.open, f, os.O_WRONLY, msg="write own 0400 file")
os.chmod(f, 0o600)
done()
EOF

# root sees nobody's work; root may do anything
check_eq "root reads nobody's region" hello "$(dd if="$M/nobodyfile" bs=1 skip=4096 count=5 status=none)"
check "root chowns a file to nobody" chown 65534:65534 "$M/rootfile"
check "nobody can now read it" as_nobody cat "$M/rootfile"
check "root writes a 0400 file of nobody" sh -c "chmod 400 '$M/nobodyfile' && echo root >>'$M/nobodyfile'"
rm -rf "${M:?}"/*
rfs_expect_empty
rfs_done
