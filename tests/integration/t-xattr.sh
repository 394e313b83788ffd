#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Extended attributes: setfattr/getfattr round trips on files, directories
# and the root; list/remove; XATTR_CREATE/REPLACE; exact limits (name > 255
# -> ERANGE, value > 64 KiB -> E2BIG, small buffer -> ERANGE, more than
# 64 KiB per file -> ENOSPC on regionfs); xattrs follow renames and are
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
if is_regionfs():
    # names and values together count against the 64 KiB per file
    succeeds(os.setxattr, g, "user.big", b"v" * 65000, msg="setxattr a 65000-byte value")
    eq(len(os.getxattr(g, "user.big")), 65000, "65000-byte value round trip")
else:
    succeeds(os.setxattr, g, "user.big", b"v" * 65536, msg="setxattr a 64 KiB value")
    eq(len(os.getxattr(g, "user.big")), 65536, "64 KiB value round trip")
os.removexattr(g, "user.big")
raises(errno.E2BIG, os.setxattr, g, "user.huge", b"v" * 65537, msg="setxattr a 64 KiB + 1 value")

if is_regionfs():
    succeeds(os.setxattr, g, "user.a", b"a" * 60000, msg="setxattr 60000 bytes")
    raises(errno.ENOSPC, os.setxattr, g, "user.b", b"b" * 10000,
           msg="more than 64 KiB of xattrs on one file")
    raises(errno.ENODATA, os.getxattr, g, "user.b", msg="failed setxattr left nothing")
    eq(len(os.getxattr(g, "user.a")), 60000, "first value intact after ENOSPC")
    os.removexattr(g, "user.a")
    succeeds(os.setxattr, g, "user.b", b"b" * 10000, msg="setxattr succeeds after removing")
    # many small attributes add up too
    n = 0
    try:
        for n in range(10000):
            os.setxattr(g, "user.s%05d" % n, b"x" * 100)
        ok(False, "many small xattrs eventually fail with ENOSPC (never did)")
    except OSError as e:
        eq(ename(e.errno), "ENOSPC", "many small xattrs eventually fail with ENOSPC (after %d)" % n)
        ok(400 <= n <= 660, "about 64 KiB of small xattrs fit (%d of 110 bytes each)" % n)

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
