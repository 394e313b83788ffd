#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The persistent store (-o store=DIR) against users and against the disk
# (issue 9):
#
# - Private: a new DIR (mkdir -p, 0755 or 0777) is left 0700 and owned by
#   the daemon's uid; uid 2001 can neither list nor open nor hard-link
#   anything in it (a control shows the same commands work one level up),
#   not even as root of a user namespace of its own, nor reach the backing file of a passthrough mapping through /proc
#   (map_files) or the daemon's fds. An existing store that group or
#   others can search or write (0755, 0703, 0770), owned by another user,
#   an empty DIR owned by another user, a symlink as DIR, a DIR inside the
#   mount point: refused with one line naming DIR and the fix, exit 1,
#   nothing mounted, DIR unchanged; 0700 and 0740 mount.
# - Deep: 10,000 nested directories made through the mount, a region with
#   data at the bottom: a remount loads them (no recursion, daemon fds
#   within its limit) and the data is there; a fifo at the bottom is
#   refused with one line of bounded length that names it; with an
#   open-file limit the daemon cannot raise, the line names RLIMIT_NOFILE.
# - Sparse: a region 1 GiB long holding one byte, in a store on a 64 MiB
#   ext4 (made by a passthrough write, or in the store while the daemon
#   is down): the store loads, the disk is not filled (blocks as before),
#   the mount shows it full, growth fails with ENOSPC, the byte is there.
# - Failed grows give back what they took: on a 24 MiB ext4 (store= and a
#   bound file), truncate / fallocate / fallocate -n / a growing write to
#   40M fail with ENOSPC and the ext4's free blocks are exactly as before
#   (within one block); the region keeps its size and data.
#
# Usage: t-store-secure.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"

if rfs_is_tmpfs; then
	echo "SKIP: store= is regionfs-only"
	exit 77
fi

BAD_MNT=$RFS_TMP/badmnt
mkdir "$BAD_MNT"
rfs_user_python

as_user()
{
	setpriv --reuid=2001 --regid=2001 --clear-groups "$@"
}

# What DIR looks like, for "unchanged": names, types, modes, owners, sizes.
dir_state()
{
	find "$1" -maxdepth 3 -printf '%P %y %m %u:%g %s\n' 2>&1 | sort
}

# The daemon must refuse DIR: exit 1, one line "regionfs: ..." containing
# each PATTERN, nothing mounted, DIR unchanged.
#   bad_store DESCRIPTION DIR OPTIONS_EXTRA PATTERN...
bad_store()
{
	local desc=$1 dir=$2 extra=$3 before
	shift 3
	before=$(dir_state "$dir")
	rfs_expect_refused "$desc" "$BAD_MNT" "store=$dir${extra:+,$extra}" "$@"
	check_eq "$desc: DIR unchanged" "$before" "$(dir_state "$dir")"
}

# A store the daemon accepts: mounts on BAD_MNT, then unmounted.
good_store()
{
	rfs_expect_mounts "$1" "$BAD_MNT" "store=$2"
}

# ------------------------------------------------------------ private

PUB=$RFS_TMP/pub
mkdir -m 755 "$PUB"
# The README recipe: mkdir -p makes DIR 0755 (umask 022).
S=$PUB/var/lib/regionfs
(umask 022 && mkdir -p "$S")
check_eq "mkdir -p: DIR starts 0755" 755 "$(stat -c %a "$S")"
rfs_mount "size=64M,mode=1777,allow_other,store=$S"
M=$RFS_MNT
check_eq "first mount: DIR is 0700, the daemon's" "700 0" "$(stat -c '%a %u' "$S")"
check_eq "the mount's root is 1777 (kept on DIR/root: DIR is the gate)" 1777 "$(stat -c %a "$M")"
as_user sh -c "echo mine >'$M/userfile'"
check_eq "uid 2001 created a region" "mine 2001" "$(cat "$M/userfile") $(stat -c %u "$M/userfile")"
mkdir "$M/d"
chmod 1777 "$M/d"
echo rootdata >"$M/d/rootfile"

# Control: the same commands work where nothing is private, so the
# refusals below are DIR's doing.
check "control: uid 2001 lists DIR's parent" as_user ls "$PUB/var/lib"
check "control: uid 2001 stats DIR" as_user stat "$S"
check "control: uid 2001 is root in a user namespace of its own" \
	test "$(as_user unshare -Ur id -u)" = 0
check_fails "uid 2001, root in a user namespace of its own, lists DIR" \
	as_user unshare -Ur ls "$S"
check_fails "uid 2001, root in user and mount namespaces of its own, reads DIR/format" \
	as_user unshare -Urm cat "$S/format"

rfs_run_prog as_user env PYTHONPATH="$RFS_TMP" PYTHONDONTWRITEBYTECODE=1 "$PY" - "$M" "$S" \
	"$RFS_DAEMON_PID" "$RFS_DATAPATH" "$RFS_TMP" <<'EOF'
import errno, mmap, os, sys
from rfscheck import *

S, daemon, datapath, tmp = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
eq(os.getuid(), 2001, "running as uid 2001")
raises(errno.EACCES, os.listdir, S, msg="list DIR")
raises(errno.EACCES, os.listdir, S + "/root", msg="list DIR/root")
raises(errno.EACCES, os.open, S + "/format", os.O_RDONLY, msg="open DIR/format")
raises(errno.EACCES, os.open, S + "/root/userfile", os.O_RDONLY, msg="open one's own region file in DIR")
raises(errno.EACCES, os.open, S + "/root/d/new", os.O_RDWR | os.O_CREAT, 0o644,
       msg="create a file in a 1777 directory of the store")
raises(errno.EACCES, os.setxattr, S + "/root/userfile", "user.regionfs.backing", b"/etc/shadow",
       msg="set a binding on one's own region file in DIR")
raises(errno.EACCES, os.chdir, S + "/root", msg="chdir into DIR/root")
raises(errno.EACCES, os.link, S + "/root/userfile", tmp + "/pub/stolen", msg="hard link out of DIR")
raises(errno.EACCES, os.stat, S + "/root", msg="stat DIR/root")

# A region mapped: in passthrough the mapping is the backing file in DIR.
fd = os.open(P("userfile"), os.O_RDWR)
m = mmap.mmap(fd, 5)
maps = [l for l in open("/proc/self/maps") if "userfile" in l]
ok(len(maps) == 1, "the mapping shows in /proc/self/maps: %s" % (maps[0].strip() if maps else "-"))
if maps:
    rng = maps[0].split()[0]
    raises(errno.EPERM, os.open, "/proc/self/map_files/" + rng, os.O_RDONLY,
           msg="open the mapped file through /proc/self/map_files")
# The FUSE fd's own /proc link leads to the mount, not the store: a link of
# it elsewhere crosses devices.
raises(errno.EXDEV, os.link, "/proc/self/fd/%d" % fd, tmp + "/pub/viafd", follow_symlinks=True,
       msg="hard link of a region's fd outside the mount")
m.close()
os.close(fd)
raises(errno.EACCES, os.listdir, "/proc/%s/fd" % daemon, msg="list the daemon's fds")
done()
EOF
rfs_umount
check_eq "after umount: DIR still 0700" 700 "$(stat -c %a "$S")"

# Existing stores others can reach are refused; the fix works.
chmod 755 "$S"
bad_store "a store DIR of mode 0755" "$S" "" "$S" "0755" "chmod 700 $S"
chmod 703 "$S"
bad_store "a store DIR that others can write (0703)" "$S" "" "$S" "0703" "chmod 700 $S"
chmod 770 "$S"
bad_store "a store DIR its group can enter (0770)" "$S" "" "$S" "0770" "chmod 700 $S"
chmod 700 "$S"
chown 2001 "$S"
bad_store "a store DIR owned by uid 2001" "$S" "" "$S" "uid 2001" "chown 0 $S"
chown 0 "$S"
chmod 740 "$S"
good_store "a store DIR its group may only read (0740)" "$S"
chmod 700 "$S"
good_store "after chmod 700 DIR" "$S"

ln -s "$S" "$PUB/link"
bad_store "a symlink as DIR" "$PUB/link" "" "$PUB/link" "symbolic link"
mkdir "$BAD_MNT/inner"
bad_store "a DIR inside the mount point" "$BAD_MNT/inner" "" "$BAD_MNT/inner" "inside"
rmdir "$BAD_MNT/inner"
mkdir -m 700 "$PUB/foreign-empty"
chown 2001:2001 "$PUB/foreign-empty"
bad_store "an empty DIR owned by uid 2001" "$PUB/foreign-empty" "" "$PUB/foreign-empty" "uid 2001"
mkdir -m 777 "$PUB/open-empty"
good_store "an empty 0777 DIR of root's" "$PUB/open-empty"
check_eq "it is now 0700" 700 "$(stat -c %a "$PUB/open-empty")"

# ------------------------------------------------------------ deep

DEPTH=${RFS_DEEP_DEPTH:-10000} # smaller only to test the test
D=$RFS_TMP/deep
mkdir "$D"
# deep_py MODE ROOT: make (through the mount), check, or plant a fifo at
# the bottom of a chain of DEPTH directories named d, by fds (a path that
# long exists for no system call).
deep_py()
{
	python3 - "$1" "$2" "$DEPTH" <<'EOF2'
import os, sys
mode, top, depth = sys.argv[1], sys.argv[2], int(sys.argv[3])
fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
for i in range(depth):
    if mode == "make":
        os.mkdir("d", 0o755, dir_fd=fd)
    nfd = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = nfd
if mode == "make":
    f = os.open("deepest", os.O_RDWR | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(f, b"deep data")
    os.ftruncate(f, 1 << 20)
    os.pwrite(f, b"end", (1 << 20) - 3)
    os.close(f)
    print("made")
elif mode == "check":
    f = os.open("deepest", os.O_RDONLY, dir_fd=fd)
    st = os.fstat(f)
    print(os.pread(f, 9, 0).decode(), os.pread(f, 3, st.st_size - 3).decode(), st.st_size,
          len(os.listdir(fd)))
    os.close(f)
elif mode == "fifo":
    os.mkfifo("fifo", dir_fd=fd)
    print("planted")
elif mode == "unfifo":
    os.unlink("fifo", dir_fd=fd)
    print("removed")
EOF2
}
rfs_mount "size=64M,store=$D"
check_eq "made $DEPTH nested directories through the mount" made "$(deep_py make "$RFS_MNT" 2>&1)"
check_eq "the bottom region" "deep data end 1048576 1" "$(deep_py check "$RFS_MNT" 2>&1)"
rfs_umount
rfs_mount "size=64M,store=$D"
check_eq "remount: $DEPTH-deep tree loaded, the bottom region's data" \
	"deep data end 1048576 1" "$(deep_py check "$RFS_MNT" 2>&1)"
check_eq "remount: the daemon holds an fd per directory" yes \
	"$([ "$(ls "/proc/$RFS_DAEMON_PID/fd" | wc -l)" -gt "$DEPTH" ] && echo yes)"
check "remount: df counts the region" test "$(rfs_df used "$RFS_MNT")" -ge 1048576
rfs_umount
check_eq "a fifo at the bottom of the store" planted "$(deep_py fifo "$D/root" 2>&1)"
bad_store "a fifo $DEPTH directories deep" "$D" "" "$D/root/d/d/" "/.../d/d/d/" "d/d/fifo: not a directory or a regular file"
check "its message is short" test "$(wc -c <"$RFS_TMP/refused.log")" -lt 2000
check_eq "remove the fifo" removed "$(deep_py unfifo "$D/root" 2>&1)"
# Every directory keeps an fd: a limit the daemon cannot raise (no
# CAP_SYS_RESOURCE) below the tree's size is named.
RFS_REFUSED_PREFIX=(prlimit --nofile=1000:1000 -- setpriv --bounding-set=-sys_resource --)
bad_store "$DEPTH directories, open-file limit 1000" "$D" "" "Too many open files" \
	"RLIMIT_NOFILE is 1000"
RFS_REFUSED_PREFIX=()
rfs_mount "size=64M,store=$D"
check_eq "and the store loads again" "deep data end 1048576 1" "$(deep_py check "$RFS_MNT" 2>&1)"
rfs_umount

# ------------------------------------------------------------ ext4 helpers

# mkext4 NAME SIZE: a loop-mounted ext4 (no root reserve) at $RFS_TMP/NAME,
# unmounted by the teardown's namespace.
mkext4()
{
	if ! rfs_loop_ext4 "$RFS_TMP/$1" "$2" -m 0; then
		fail "cannot make a loop-mounted ext4 of $2"
		exit 1
	fi
}

# Free blocks of a file system, after writing back what is dirty.
free_blocks()
{
	sync -f "$1"
	stat -f -c %f "$1"
}

# check_free_same DESCRIPTION BEFORE FS: free blocks of FS equal BEFORE, within
# one: ext4 keeps the extent tree's index block that a large allocation
# added (st_blocks of a file grown and truncated back: +8 sectors).
check_free_same()
{
	local now
	now=$(free_blocks "$3")
	if [ $(($2 - now)) -le 1 ] && [ $((now - $2)) -le 1 ]; then
		ok "$1: the disk's free blocks as before ($2, now $now)"
	else
		fail "$1: the disk had $2 free blocks, now $now"
	fi
}

# falloc PATH MODE OFF LEN: fallocate(2) through the mount; prints the errno name or "ok".
falloc()
{
	python3 - "$@" <<'EOF2'
import ctypes, errno, os, sys
path, mode, off, length = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
fd = os.open(path, os.O_RDWR)
r = libc.fallocate(fd, mode, off, length)
print("ok" if r == 0 else errno.errorcode[ctypes.get_errno()])
os.close(fd)
EOF2
}

# ------------------------------------------------------------ sparse

# A region 1 GiB long holding one byte, in a store on a 64 MiB ext4. The
# passthrough data path makes it with a write through the mount; the
# cached one cannot (the daemon reserves every byte it grows), so there
# the byte is written into the store's file while the daemon is down.
mkext4 e64 64M
SP=$RFS_TMP/e64/store
mkdir "$SP"
rfs_mount "size=64M,store=$SP"
echo head >"$RFS_MNT/sparse"
if [ "$RFS_DATAPATH" = passthrough ]; then
	check "passthrough: a one-byte write at 1 GiB" \
		dd if=<(printf x) of="$RFS_MNT/sparse" bs=1 seek=1G count=1 conv=notrunc status=none
	rfs_umount
else
	rfs_umount
	printf x | dd of="$SP/root/sparse" bs=1 seek=1G count=1 conv=notrunc status=none
fi
check_eq "the store's file: 1 GiB + 1 bytes" 1073741825 "$(stat -c %s "$SP/root/sparse")"
free0=$(free_blocks "$RFS_TMP/e64")
rfs_mount "size=64M,store=$SP"
check_eq "remount: the sparse region loads, its size" 1073741825 "$(stat -c %s "$RFS_MNT/sparse")"
check_eq "remount: its head" head "$(head -c 4 "$RFS_MNT/sparse")"
check_eq "remount: its byte at 1 GiB" x "$(tail -c 1 "$RFS_MNT/sparse")"
check_free_same "remount of a sparse region: holes not filled" "$free0" "$RFS_TMP/e64"
check_eq "remount: df shows the store full (size charged)" 0 "$(stat -f -c %a "$RFS_MNT")"
truncate -s 0 "$RFS_MNT/grow"
check_errno "remount: the store is full, growth fails" ENOSPC "os.truncate(P('grow'), 4096)"
rm "$RFS_MNT/sparse"
# The region goes when the kernel forgets it too (FORGET comes late): poll.
check "after removing it, growth works again" wait_until 10 truncate -s 1M "$RFS_MNT/grow"
rfs_umount
umount "$RFS_TMP/e64"

# ------------------------------------------------------------ failed grows

# A 24 MiB ext4 holds the store, another one a bound file; growing a
# region to 40M fails with ENOSPC and must leave the disk's free blocks as
# they were.
mkext4 e24 24M
mkext4 e24b 24M
GS=$RFS_TMP/e24/store
mkdir "$GS"
rfs_mount "size=64M,store=$GS"
M=$RFS_MNT
dd if=/dev/urandom of="$RFS_TMP/rand1m" bs=1M count=1 status=none
cp "$RFS_TMP/rand1m" "$M/r"
sum=$(sha256sum <"$RFS_TMP/rand1m")
truncate -s 0 "$RFS_TMP/e24b/bound.dat"
truncate -s 0 "$M/b"
check "bind a region to a file on the ext4" setfattr -n user.regionfs.backing -v "$RFS_TMP/e24b/bound.dat" "$M/b"
cp "$RFS_TMP/rand1m" "$M/b"

for reg in r b; do
	what="store file"
	fs=$RFS_TMP/e24
	[ "$reg" = b ] && what="bound file" && fs=$RFS_TMP/e24b
	free0=$(free_blocks "$fs")
	check_errno "$what: truncate -s 40M" ENOSPC "os.truncate(P('$reg'), 40 << 20)"
	check_free_same "$what: failed truncate" "$free0" "$fs"
	check_eq "$what: failed fallocate (mode 0)" ENOSPC "$(falloc "$M/$reg" 0 0 $((40 << 20)))"
	check_free_same "$what: failed fallocate" "$free0" "$fs"
	check_eq "$what: failed fallocate (KEEP_SIZE)" ENOSPC "$(falloc "$M/$reg" 1 0 $((40 << 20)))"
	check_free_same "$what: failed fallocate -n" "$free0" "$fs"
	if [ "$RFS_DATAPATH" = cache ]; then
		# Cached data path: the daemon grows the region for the write.
		check_fails "$what: a write at 30 MiB" \
			dd if=/dev/zero of="$M/$reg" bs=64K seek=480 count=1 conv=notrunc status=none
		check_free_same "$what: failed growing write" "$free0" "$fs"
	fi
	check_eq "$what: the region keeps its size" 1048576 "$(stat -c %s "$M/$reg")"
	check_eq "$what: and its data" "$sum" "$(sha256sum <"$M/$reg")"
done
check_eq "the bound file keeps its size" 1048576 "$(stat -c %s "$RFS_TMP/e24b/bound.dat")"
check "after the failures, a grow that fits works" truncate -s 4M "$M/r"
rfs_umount
umount "$RFS_TMP/e24" "$RFS_TMP/e24b"

# ------------------------------------------------------------ a wide tree

# Each directory keeps an open file in the daemon; uid 2001 makes as many
# sibling directories as the open-file limit lets it (then ENOSPC). The
# next start must load them all: a load that held more fds per directory
# than the running daemon did (it once held two) refused the whole store.
W=$RFS_TMP/wide
mkdir "$W"
RFS_DAEMON_PREFIX=(prlimit --nofile=400:400 --)
rfs_mount "size=1M,mode=1777,allow_other,store=$W"
M=$RFS_MNT
echo region >"$M/region"
# shellcheck disable=SC2016
as_user sh -c 'i=0; while mkdir "$1/d$i" 2>/dev/null; do i=$((i + 1)); done; mkdir "$1/d$i"' \
	sh "$M" 2>"$RFS_TMP/wide.err"
made=$(find "$M" -mindepth 1 -maxdepth 1 -type d | wc -l)
echo "# uid 2001 made $made directories under RLIMIT_NOFILE 400"
check_eq "uid 2001's mkdirs end with ENOSPC" "No space left on device" \
	"$(sed 's/.*: //' "$RFS_TMP/wide.err")"
check "...after more than 250 directories" test "$made" -gt 250
rfs_umount
rfs_mount "size=1M,mode=1777,allow_other,store=$W"
M=$RFS_MNT
check_eq "the store loads again under the same limit, with every directory" "$made" \
	"$(find "$M" -mindepth 1 -maxdepth 1 -type d | wc -l)"
check_eq "...and the region" region "$(cat "$M/region")"
check "...and uid 2001 removes them" as_user sh -c "rmdir '$M'/d*"
rfs_umount
RFS_DAEMON_PREFIX=()

rfs_done
