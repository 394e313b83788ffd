#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# statfs/df honesty and limits with tools: df total = size=, used follows
# the data (and, on regionfs, reservations made by truncate), a full mount
# fails writes with ENOSPC (dd), truncate past the whole size is EFBIG and
# growing a region on a full mount is ENOSPC (regionfs), fallocate is
# ENOSPC, space comes back after rm; nr_inodes exhaustion is ENOSPC.
#
# Usage: t-quota.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"
MiB=1048576
rfs_mount "size=64M,nr_inodes=64"
M=$RFS_MNT

used() { rfs_df used "$M"; }
# used_between LOW HIGH: poll (freeing is asynchronous on FUSE) until df
# used is within [LOW, HIGH].
used_between()
{
	local u
	u=$(used)
	[ "$u" -ge "$1" ] && [ "$u" -le "$2" ]
}
check_used()
{
	local desc=$1 lo=$2 hi=$3
	if wait_until 5 used_between "$lo" "$hi"; then
		ok "$desc (df used $(used))"
	else
		fail "$desc: df used $(used), expected between $lo and $hi"
	fi
}

check_eq "df total = 64M" $((64 * MiB)) "$(rfs_df size "$M")"
check_eq "df used = 0 on an empty mount" 0 "$(used)"
dd if=/dev/urandom of="$M/f8" bs=1M count=8 status=none
check_used "df used = 8M after writing 8 MiB" $((8 * MiB)) $((8 * MiB + 64 * 1024))
check_eq "df avail = size - used" $((64 * MiB - $(used))) "$(rfs_df avail "$M")"
stat_blocks=$(stat -c '%b %B' "$M/f8" | awk '{ printf "%.0f\n", $1 * $2 }')
check_eq "st_blocks covers the 8 MiB written" $((8 * MiB)) "$stat_blocks"

check "truncate -s 16M" truncate -s 16M "$M/t16"
if rfs_is_regionfs; then
	# Growing reserves: the 16 MiB count as used at once.
	check_used "df used = 24M after truncate -s 16M (reservation)" $((24 * MiB)) $((24 * MiB + 64 * 1024))
	check_eq "st_blocks of a truncated region = its size" $((16 * MiB)) \
		"$(stat -c '%b %B' "$M/t16" | awk '{ printf "%.0f\n", $1 * $2 }')"
	check_fails "truncate -s 65M (more than the whole size) fails" truncate -s 65M "$M/huge"
	check_errno "ftruncate past the whole size" EFBIG \
		"os.truncate(P('t16'), 64 * 1048576 + 4096)"
	check_eq "failed EFBIG truncate left the size alone" $((16 * MiB)) "$(stat -c %s "$M/t16")"
	check_errno "ftruncate 40M more than free (fits the total)" ENOSPC \
		"os.truncate(P('t16'), 60 * 1048576)"
	check_eq "failed ENOSPC truncate left the size alone" $((16 * MiB)) "$(stat -c %s "$M/t16")"
fi
rm -f "$M/t16"
check_used "df used back to 8M after rm" $((8 * MiB)) $((8 * MiB + 64 * 1024))

if rfs_is_regionfs; then
	# dd seek= grows the region (ftruncate, then the write): the hole is
	# reserved too, and a region past the whole size is EFBIG.
	printf x | dd of="$M/holey" bs=1 seek=$((16 * MiB - 1)) status=none
	check_eq "write at 16M-1 makes a 16M region" $((16 * MiB)) "$(stat -c %s "$M/holey")"
	check_used "df used = 24M after a write at 16M-1 (hole reserved)" $((24 * MiB)) $((24 * MiB + 64 * 1024))
	out=$(printf x | dd of="$M/toofar" bs=1 seek=$((100 * MiB)) status=none 2>&1)
	case $out in
	*"File too large"*) ok "dd write at 100M (past the whole size): EFBIG" ;;
	*) fail "dd write at 100M (past the whole size): expected 'File too large', got '$out' (size $(stat -c %s "$M/toofar"))" ;;
	esac
	rm -f "$M/holey" "$M/toofar"
	check_used "df used back to 8M" $((8 * MiB)) $((8 * MiB + 64 * 1024))
	# (a bare pwrite(2) past the end, without dd's truncate: mem_sparse.c)
fi
check_used "df used back to 8M" $((8 * MiB)) $((8 * MiB + 64 * 1024))

# Fill the mount with dd: ENOSPC, never more than the size.
out=$(dd if=/dev/zero of="$M/fill" bs=1M count=80 2>&1)
st=$?
check_eq "dd of 80 MiB into 56 MiB free fails" 1 "$st"
case $out in
*"No space left on device"*) ok "dd reports ENOSPC" ;;
*) fail "dd does not report ENOSPC: $out" ;;
esac
sz=$(stat -c %s "$M/fill")
if [ "$sz" -le $((56 * MiB)) ] && [ "$sz" -ge $((55 * MiB)) ]; then
	ok "partial file size $sz within the free space"
else
	fail "file size after ENOSPC is $sz, expected about 56 MiB"
fi
check_used "df used = 64M when full" $((63 * MiB)) $((64 * MiB))
check "the full region reads back completely" cmp -n "$sz" "$M/fill" /dev/zero
check "the 8 MiB region still reads" test "$(dd if="$M/f8" bs=1M status=none | wc -c)" = $((8 * MiB))
check_errno "append to a full mount" ENOSPC \
	"os.write(os.open(P('f8'), os.O_WRONLY | os.O_APPEND), b'x' * 1048576)"
check_fails "fallocate 1M on a full mount fails" fallocate -l 1M "$M/falloc"
check_errno "posix_fallocate on a full mount" ENOSPC \
	"os.posix_fallocate(os.open(P('falloc2'), os.O_RDWR | os.O_CREAT), 0, 1048576)"
if rfs_is_regionfs; then
	check_errno "truncate a new region to 1M on a full mount" ENOSPC \
		"os.truncate(P('falloc'), 1048576)"
fi
rm -f "$M/fill" "$M/falloc" "$M/falloc2"
check_used "space comes back after rm" $((8 * MiB)) $((8 * MiB + 64 * 1024))
check "writing works again after rm" dd if=/dev/zero of="$M/again" bs=1M count=32 status=none
check "fallocate works with free space" fallocate -l 8M "$M/falloc3"
check_used "df used after fallocate 8M + 32M + 8M" $((48 * MiB)) $((48 * MiB + 64 * 1024))
rm -f "$M"/*
check_used "df used = 0 after removing everything" 0 0

# nr_inodes=64 counts the root: 63 more files or directories.
rfs_py <<'EOF'
import os, errno, time
from rfscheck import *
made = 0
err = None
try:
    for i in range(100):
        if i % 10 == 9:
            os.mkdir(P("d%03d" % i))
        else:
            os.close(os.open(P("f%03d" % i), os.O_CREAT | os.O_WRONLY, 0o644))
        made += 1
except OSError as e:
    err = e.errno
eq(made, 63, "nr_inodes=64: 63 files and dirs fit next to the root")
eq(ename(err or 0), "ENOSPC", "the 64th inode fails with ENOSPC")
raises(errno.ENOSPC, os.mkdir, P("onemore"), msg="mkdir when nr_inodes is exhausted")
raises(errno.ENOSPC, os.open, P("onemore"), os.O_CREAT | os.O_WRONLY, msg="create when nr_inodes is exhausted")
ok(not os.path.exists(P("onemore")), "no half-created entry left behind")
# a name is memory kept for the client: a hard link costs an inode (as on tmpfs)
raises(errno.ENOSPC, os.link, P("f000"), P("hardlink"), msg="a hard link when nr_inodes is exhausted")
ok(not os.path.exists(P("hardlink")), "no link left behind")
os.unlink(P("f000"))
os.rmdir(P("d009"))
# freeing is asynchronous on FUSE (FORGET): retry for up to 5 s
t0 = time.monotonic()
while True:
    try:
        os.close(os.open(P("new1"), os.O_CREAT | os.O_WRONLY))
        os.mkdir(P("new2"))
        ok(True, "create and mkdir work again after removing two")
        break
    except OSError as e:
        if e.errno != errno.ENOSPC or time.monotonic() - t0 > 5:
            ok(False, "create after removing two: %s" % ename(e.errno))
            break
        time.sleep(0.05)
for n in os.listdir(MNT):
    p = P(n)
    os.rmdir(p) if os.path.isdir(p) else os.unlink(p)
done()
EOF

rfs_done
