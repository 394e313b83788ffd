#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Extended attributes: setfattr/getfattr round trips on files, directories
# and the root; list/remove; XATTR_CREATE/REPLACE; exact limits as tmpfs
# (name > 255 -> ERANGE, value > 65536 -> E2BIG, exactly 65536 accepted,
# a bare "user." -> EINVAL, small buffer -> ERANGE); names of one file past
# XATTR_LIST_MAX: ENOSPC on regionfs, E2BIG from listxattr on tmpfs;
# xattrs follow renames and are
# shared by hard links; cp --preserve=xattr; the datapath xattr of the root.
#
# Usage: t-xattr.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"
rfs_mount "size=64M"
M=$RFS_MNT

echo data >"$M/f"
check "setfattr user.test" setfattr -n user.test -v hello "$M/f"
check_eq "getfattr user.test" hello "$(getfattr --absolute-names --only-values -n user.test "$M/f" 2>&1)"
check "setfattr user.other (hex value)" setfattr -n user.other -v 0x00ff10 "$M/f"
check_eq "getfattr -d lists both" "user.other user.test" \
	"$(getfattr --absolute-names -d -m - "$M/f" 2>/dev/null | sed -n 's/^\(user\.[a-z]*\)=.*/\1/p' | sort | tr '\n' ' ' | sed 's/ $//')"
check "setfattr -x user.test" setfattr -x user.test "$M/f"
check_fails "getfattr of a removed xattr fails" getfattr -n user.test "$M/f"
mkdir "$M/d"
check "setfattr on a directory" setfattr -n user.dir -v dirval "$M/d"
check_eq "getfattr on a directory" dirval "$(getfattr --absolute-names --only-values -n user.dir "$M/d" 2>&1)"
check "setfattr on the root" setfattr -n user.root -v rootval "$M"
check_eq "getfattr on the root" rootval "$(getfattr --absolute-names --only-values -n user.root "$M" 2>&1)"
check "data untouched by xattrs" test "$(cat "$M/f")" = data

if rfs_is_regionfs; then
	check_eq "root xattr user.regionfs.datapath" "$RFS_DATAPATH" \
		"$(getfattr --absolute-names --only-values -n user.regionfs.datapath "$M" 2>&1)"
fi

# cp --preserve=xattr from a local file (ext4 supports user.* xattrs)
echo src >"$RFS_TMP/src"
if setfattr -n user.copied -v yes "$RFS_TMP/src" 2>/dev/null; then
	check "cp --preserve=xattr into the mount" cp --preserve=xattr "$RFS_TMP/src" "$M/copied"
	check_eq "xattr copied along" yes "$(getfattr --absolute-names --only-values -n user.copied "$M/copied" 2>&1)"
fi

rfs_py <<'EOF'
import os, errno
from rfscheck import *

f = P("x")
write_file(f, b"content")
# round trips, binary values, empty values
val = bytes(range(256)) * 16
succeeds(os.setxattr, f, "user.bin", val, msg="setxattr 4 KiB binary value")
eq(os.getxattr(f, "user.bin"), val, "binary value round trip")
succeeds(os.setxattr, f, "user.empty", b"", msg="setxattr empty value")
eq(os.getxattr(f, "user.empty"), b"", "empty value round trip")
eq(sorted(n for n in os.listxattr(f) if n.startswith("user.")), ["user.bin", "user.empty"], "listxattr")
os.setxattr(f, "user.bin", b"short")
eq(os.getxattr(f, "user.bin"), b"short", "replacing with a shorter value")

# flags and missing names
raises(errno.EEXIST, os.setxattr, f, "user.bin", b"v", os.XATTR_CREATE, msg="XATTR_CREATE on an existing name")
raises(errno.ENODATA, os.setxattr, f, "user.nope", b"v", os.XATTR_REPLACE, msg="XATTR_REPLACE on a missing name")
succeeds(os.setxattr, f, "user.new", b"v", os.XATTR_CREATE, msg="XATTR_CREATE on a new name")
succeeds(os.setxattr, f, "user.new", b"w", os.XATTR_REPLACE, msg="XATTR_REPLACE on an existing name")
eq(os.getxattr(f, "user.new"), b"w", "value after XATTR_REPLACE")
raises(errno.ENODATA, os.getxattr, f, "user.nope", msg="getxattr of a missing name")
raises(errno.ENODATA, os.removexattr, f, "user.nope", msg="removexattr of a missing name")
raises(errno.ENOENT, os.getxattr, P("missing"), "user.a", msg="getxattr on a missing file")

# sizes and limits
eq(getxattr_size(f, "user.new", 0), 1, "getxattr with size 0 returns the value size")
os.setxattr(f, "user.ten", b"0123456789")
raises(errno.ERANGE, getxattr_size, f, "user.ten", 4, msg="getxattr with a too small buffer")
name255 = "user." + "n" * 250
succeeds(os.setxattr, f, name255, b"v", msg="setxattr with a 255-byte name")
eq(os.getxattr(f, name255), b"v", "255-byte name round trip")
raises(errno.ERANGE, os.setxattr, f, "user." + "n" * 251, b"v", msg="setxattr with a 256-byte name")
raises(errno.ERANGE, os.getxattr, f, "user." + "n" * 251, msg="getxattr with a 256-byte name")
os.removexattr(f, name255)
for n in ("user.bin", "user.empty", "user.new", "user.ten"):
    os.removexattr(f, n)
g = P("y")
write_file(g, b"")
# the value limit is XATTR_SIZE_MAX (65536), apart from the name
succeeds(os.setxattr, g, "user.big", b"v" * 65536, msg="setxattr a 64 KiB value")
eq(len(os.getxattr(g, "user.big")), 65536, "64 KiB value round trip")
succeeds(os.setxattr, g, "user.big2", b"w" * 65536, msg="a second 64 KiB value on the same file")
eq(len(os.getxattr(g, "user.big2")), 65536, "second 64 KiB value round trip")
os.removexattr(g, "user.big")
os.removexattr(g, "user.big2")
raises(errno.E2BIG, os.setxattr, g, "user.huge", b"v" * 65537, msg="setxattr a 64 KiB + 1 value")
# a namespace prefix alone is no name (the VFS says EINVAL on tmpfs)
raises(errno.EINVAL, os.setxattr, g, "user.", b"v", msg="setxattr of the bare name user.")
raises(errno.EINVAL, os.getxattr, g, "user.", msg="getxattr of the bare name user.")
raises(errno.EINVAL, os.removexattr, g, "user.", msg="removexattr of the bare name user.")
raises(errno.EINVAL, os.setxattr, g, "trusted.", b"v", msg="setxattr of the bare name trusted.")
raises(errno.ERANGE, os.setxattr, g, "", b"v", msg="setxattr of an empty name")
eq(os.listxattr(g), [], "nothing left by the refused names")

# The names of one file: tmpfs takes any number and then fails listxattr
# with E2BIG (past XATTR_LIST_MAX); regionfs refuses the name that would
# not fit (ENOSPC), so every file stays listable.
n, err = 0, None
try:
    for n in range(10000):
        os.setxattr(g, "user.s%05d" % n + "n" * 90, b"x" * 10)
except OSError as e:
    err = e.errno
if is_regionfs():
    eq(ename(err or 0), "ENOSPC", "names past XATTR_LIST_MAX on one file fail with ENOSPC")
    ok(600 <= n <= 656, "about 64 KiB of names fit (%d of 102 bytes each)" % n)
    eq(len(os.listxattr(g)), n, "listxattr returns every name")
    raises(errno.ENODATA, os.getxattr, g, "user.s%05d" % n + "n" * 90,
           msg="the refused name is absent")
    succeeds(os.setxattr, g, "user.s00000" + "n" * 90, b"y" * 65536,
             msg="replacing a value adds no name")
    os.removexattr(g, "user.s00001" + "n" * 90)
    succeeds(os.setxattr, g, "user.s%05d" % n + "n" * 90, b"", msg="removing a name makes room")
else:
    eq(err, None, "tmpfs takes 10000 names of 102 bytes")
    raises(errno.E2BIG, os.listxattr, g, msg="tmpfs: listxattr past XATTR_LIST_MAX")
for x in os.listxattr(g) if is_regionfs() else ["user.s%05d" % i + "n" * 90 for i in range(10000)]:
    os.removexattr(g, x)
eq(os.listxattr(g), [], "every name removed")

# xattrs follow renames and are shared by hard links
h = P("h")
write_file(h, b"")
os.setxattr(h, "user.k", b"v1")
os.rename(h, P("h2"))
eq(os.getxattr(P("h2"), "user.k"), b"v1", "xattr follows a rename")
os.link(P("h2"), P("h3"))
os.setxattr(P("h3"), "user.k", b"v2")
eq(os.getxattr(P("h2"), "user.k"), b"v2", "xattr shared by hard links")
# through an open fd, and after unlink
fd = os.open(P("h2"), os.O_RDWR)
os.unlink(P("h2"))
os.unlink(P("h3"))
eq(os.getxattr(fd, "user.k"), b"v2", "fgetxattr on an unlinked open file")
succeeds(os.setxattr, fd, "user.k2", b"z", msg="fsetxattr on an unlinked open file")
os.close(fd)
done()
EOF

setfattr -x user.root "$M"
rm -rf "${M:?}"/*
rfs_expect_empty
rfs_done
