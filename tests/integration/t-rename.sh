#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# rename(2) and renameat2(2): plain rename over an existing region (the
# replaced region lives on for its open fds), RENAME_NOREPLACE (EEXIST),
# RENAME_EXCHANGE (names swap inodes and data), links to the same inode,
# mv across directories; inode numbers are stable.
#
# Usage: t-rename.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"
rfs_mount "size=64M"
M=$RFS_MNT

echo one >"$M/a"
echo two >"$M/b"
ia=$(stat -c %i "$M/a")
check "mv a b (replace)" mv -f "$M/a" "$M/b"
check_eq "b has a's data" one "$(cat "$M/b")"
check_eq "b has a's inode" "$ia" "$(stat -c %i "$M/b")"
check_fails "a is gone" test -e "$M/a"
mkdir "$M/d1" "$M/d2"
check "mv b d1/" mv "$M/b" "$M/d1/"
check "mv d1/b d2/c (across dirs, new name)" mv "$M/d1/b" "$M/d2/c"
check_eq "inode kept across directories" "$ia" "$(stat -c %i "$M/d2/c")"
check "mv d2 d1/ (move a directory)" mv "$M/d2" "$M/d1/"
check_eq "file inside the moved dir" one "$(cat "$M/d1/d2/c")"
rm -rf "$M/d1"

rfs_py <<'EOF'
import os, errno
from rfscheck import *

def mk(name, data):
    write_file(P(name), data)
    return os.stat(P(name)).st_ino

# --- plain rename over an open target: the old target lives on for its fd
ia, ib = mk("a", b"AAAA"), mk("b", b"BBBB")
fd = os.open(P("b"), os.O_RDWR)
succeeds(os.rename, P("a"), P("b"), msg="rename a over open b")
eq(os.stat(P("b")).st_ino, ia, "b now has a's inode")
eq(os.pread(fd, 4, 0), b"BBBB", "old b still readable through its fd")
os.pwrite(fd, b"bbbb", 0)
eq(os.pread(fd, 4, 0), b"bbbb", "old b still writable through its fd")
eq(os.fstat(fd).st_nlink, 0, "old b has nlink 0")
eq(read_file(P("b")), b"AAAA", "new b unaffected by writes to old b")
os.close(fd)
os.unlink(P("b"))

# --- RENAME_NOREPLACE
ia, ib = mk("a", b"AAAA"), mk("b", b"BBBB")
raises(errno.EEXIST, renameat2, P("a"), P("b"), RENAME_NOREPLACE, msg="RENAME_NOREPLACE onto an existing file")
eq((read_file(P("a")), read_file(P("b"))), (b"AAAA", b"BBBB"), "NOREPLACE failure changed nothing")
os.mkdir(P("dir"))
raises(errno.EEXIST, renameat2, P("a"), P("dir"), RENAME_NOREPLACE, msg="RENAME_NOREPLACE onto an existing dir")
succeeds(renameat2, P("a"), P("c"), RENAME_NOREPLACE, msg="RENAME_NOREPLACE to a free name")
eq(os.stat(P("c")).st_ino, ia, "NOREPLACE rename keeps the inode")
ok(not os.path.exists(P("a")), "NOREPLACE source name gone")
raises(errno.ENOENT, renameat2, P("a"), P("z"), RENAME_NOREPLACE, msg="RENAME_NOREPLACE of a missing source")

# --- RENAME_EXCHANGE
ic = os.stat(P("c")).st_ino
succeeds(renameat2, P("b"), P("c"), RENAME_EXCHANGE, msg="RENAME_EXCHANGE b <-> c")
eq((os.stat(P("b")).st_ino, os.stat(P("c")).st_ino), (ic, ib), "EXCHANGE swaps inodes")
eq((read_file(P("b")), read_file(P("c"))), (b"AAAA", b"BBBB"), "EXCHANGE swaps data")
raises(errno.ENOENT, renameat2, P("b"), P("missing"), RENAME_EXCHANGE, msg="RENAME_EXCHANGE with a missing target")
raises(errno.ENOENT, renameat2, P("missing"), P("b"), RENAME_EXCHANGE, msg="RENAME_EXCHANGE with a missing source")
raises(errno.EINVAL, renameat2, P("b"), P("c"), RENAME_EXCHANGE | RENAME_NOREPLACE,
       msg="RENAME_EXCHANGE|RENAME_NOREPLACE")
# exchange across directories, and a file with a directory (allowed on tmpfs)
os.mkdir(P("x"))
os.mkdir(P("y"))
ix, iy = mk("x/f", b"in x"), mk("y/g", b"in y")
succeeds(renameat2, P("x/f"), P("y/g"), RENAME_EXCHANGE, msg="RENAME_EXCHANGE across directories")
eq((read_file(P("x/f")), read_file(P("y/g"))), (b"in y", b"in x"), "cross-dir EXCHANGE swaps data")
eq((os.stat(P("x/f")).st_ino, os.stat(P("y/g")).st_ino), (iy, ix), "cross-dir EXCHANGE swaps inodes")
os.mkdir(P("x/sub"))
n_x, n_y = os.stat(P("x")).st_nlink, os.stat(P("y")).st_nlink
succeeds(renameat2, P("x/sub"), P("y/g"), RENAME_EXCHANGE, msg="RENAME_EXCHANGE dir <-> file")
ok(os.path.isdir(P("y/g")) and os.path.isfile(P("x/sub")), "dir/file EXCHANGE swaps types")
eq(read_file(P("x/sub")), b"in x", "dir/file EXCHANGE keeps file data")
eq((os.stat(P("x")).st_nlink, os.stat(P("y")).st_nlink), (n_x - 1, n_y + 1),
   "dir/file EXCHANGE moves the dir's '..' link")
eq(os.stat(P("y/g/..")).st_ino, os.stat(P("y")).st_ino, "'..' of the exchanged dir")
# exchanging two directories
os.mkdir(P("x/d"))
os.mkdir(P("y/e"))
write_file(P("x/d/inside"), b"d")
succeeds(renameat2, P("x/d"), P("y/e"), RENAME_EXCHANGE, msg="RENAME_EXCHANGE dir <-> dir")
ok(os.path.exists(P("y/e/inside")) and not os.path.exists(P("x/d/inside")), "dir EXCHANGE swaps contents")
raises(errno.EINVAL, renameat2, P("y"), P("y/e"), RENAME_EXCHANGE, msg="RENAME_EXCHANGE a dir with its own child")

# --- two links to the same inode: rename is a no-op, both names stay
mk("l1", b"L")
os.link(P("l1"), P("l2"))
succeeds(os.rename, P("l1"), P("l2"), msg="rename onto another link of the same inode")
ok(os.path.exists(P("l1")) and os.path.exists(P("l2")), "both links still exist")
eq(os.stat(P("l2")).st_nlink, 2, "nlink still 2")
succeeds(os.rename, P("l1"), P("l1"), msg="rename a name onto itself")
ok(os.path.exists(P("l1")), "name still exists after rename onto itself")

# --- rename a file while mapped and open elsewhere keeps the data reachable
import mmap
write_file(P("m"), b"\0" * 4096)
fd = os.open(P("m"), os.O_RDWR)
mm = mmap.mmap(fd, 4096)
mm[0:5] = b"hello"
os.rename(P("m"), P("m2"))
eq(read_file(P("m2"))[:5], b"hello", "renamed mapped region: data under the new name")
mm[0:5] = b"HELLO"
eq(read_file(P("m2"))[:5], b"HELLO", "mapping still shared with the renamed file")
mm.close()
os.close(fd)
done()
EOF

check "rm -rf" rm -rf "$M"/*
rfs_expect_empty
rfs_done
