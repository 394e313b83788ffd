#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# File-backed regions with the tools: `setfattr -n user.regionfs.backing -v
# /abs/path REGION` binds an empty, unopened region to an existing regular
# file outside the mount.
#  - The region shows the file (cat, stat); getfattr returns the path and
#    `getfattr -d -m -` lists it on bound regions only; echo >, >>, dd
#    conv=notrunc, cp, truncate, sync act on the file; outside changes show
#    in stat at once and in the contents at the next open; rename/link keep
#    the binding; rm removes the name only, the file stays with its data.
#  - Not counted in size=: a file larger than size= binds and grows, df
#    stays at 0, anonymous regions keep the whole quota; a KEEP_SIZE
#    reservation of the empty region is given back by the bind.
#  - Every errno of src/fs/bind.c, exactly: EINVAL (relative, empty, NUL),
#    ENOENT (and ENOTDIR, as open(2)), EISDIR, ELOOP (inside the mount,
#    through a symlink, a non-canonical path, a bind-mount alias of the
#    mount), ENODEV (/dev/null, a fifo that must not hang, a socket), EBUSY
#    (open), ENOTEMPTY, EEXIST, EPERM (a directory of the mount, the root),
#    EROFS (read-only bind mount), EACCES as uid 2001 (root's 0600 and 0644
#    files, own 0400 file, a file in a 0700 root dir, a group-writable file
#    without the group; someone else's region); the same binds succeed where
#    the caller may open the file read-write (own file, with the group),
#    which proves the daemon opens as the caller. A failed bind leaves the
#    region as it was.
#  - With a persistent store (store=DIR): ELOOP for a file in the store (also
#    through a symlink); a binding survives a remount of the same store.
#
# Usage: t-backing.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_regionfs_only "file-backed regions are a regionfs feature"
rfs_init "$@"
rfs_mount "size=1M,allow_other"
M=$RFS_MNT
F=$RFS_TMP/files
mkdir -p "$F"
X=user.regionfs.backing

rfs_user_python

AS_USER=(setpriv --reuid=2001 --regid=2001 --clear-groups)
AS_USER_GRP=(setpriv --reuid=2001 --regid=2001 --groups=2002)

# bind_errno DESCRIPTION EXPECTED REGION VALUE [RUN_AS_PREFIX...]
# setxattr(REGION, user.regionfs.backing, VALUE) by the prefix command's
# user; EXPECTED is an errno name, or OK for success. Bounded by a timeout:
# a hang (a fifo opened by the daemon) is a failure, not a stuck test.
bind_errno()
{
	local desc=$1 want=$2 region=$3 value=$4 got st
	shift 4
	got=$(timeout 10 "$@" "$PY" -c '
import errno, os, sys
v = sys.argv[2].encode("utf-8", "surrogateescape").replace(b"\\0", b"\0")
try:
    os.setxattr(sys.argv[1], "user.regionfs.backing", v)
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
' "$region" "$value" 2>&1)
	st=$?
	[ "$st" -eq 124 ] && got="hung (killed after 10 s)"
	check_eq "$desc: $want" "$want" "$got"
}

backing_of()
{
	getfattr --absolute-names --only-values -n "$X" "$1" 2>&1
}

# Names of the xattrs `getfattr -d -m -` lists.
xattr_names()
{
	getfattr --absolute-names -d -m - "$1" 2>/dev/null | sed -n 's/^\([a-z][^=]*\)=.*/\1/p' | sort | tr '\n' ' ' | sed 's/ $//'
}

# A region still empty and unbound after failed binds.
check_untouched()
{
	check_eq "$1: still empty" 0 "$(stat -c %s "$2")"
	check_errno "$1: still unbound" ENODATA "os.getxattr('$2', '$X')"
}

# ------------------------------------------------------------ the tools

printf 'hello regionfs' >"$F/a.dat"
touch "$M/a"
check "setfattr binds an empty region" setfattr -n "$X" -v "$F/a.dat" "$M/a"
check_eq "cat shows the file" "hello regionfs" "$(cat "$M/a")"
check_eq "stat shows the file's size" 14 "$(stat -c %s "$M/a")"
check_eq "getfattr returns the path" "$F/a.dat" "$(backing_of "$M/a")"
check_eq "getfattr -d -m - lists the binding" "$X" "$(xattr_names "$M/a")"
touch "$M/plain"
mkdir "$M/dir"
check_eq "getfattr -d -m - lists nothing on an unbound region" "" "$(xattr_names "$M/plain")"
check_errno "getxattr on an unbound region" ENODATA "os.getxattr(P('plain'), '$X')"
check_errno "getxattr on a directory" ENODATA "os.getxattr(P('dir'), '$X')"
check_eq "the root lists the mount's facts only" "user.regionfs.datapath user.regionfs.requests" \
	"$(xattr_names "$M")"
check "user xattrs next to the binding" setfattr -n user.note -v hi "$M/a"
check_eq "getfattr -d -m - lists both" "user.note $X" "$(xattr_names "$M/a")"
rfs_py "$X" "$F/a.dat" <<'EOF'
import errno, os, sys
from rfscheck import *

x, path = sys.argv[2], sys.argv[3]
eq(getxattr_size(P("a"), x, 0), len(path), "getxattr size query: the path's length")
raises(errno.ERANGE, getxattr_size, P("a"), x, len(path) - 1, msg="getxattr, buffer one byte short")
eq(getxattr_size(P("a"), x, len(path)), len(path), "getxattr, buffer just large enough")
eq(sorted(os.listxattr(P("a"))), ["user.note", x], "listxattr")
done()
EOF

echo appended >>"$M/a"
check_eq ">> appends to the file" "hello regionfsappended" "$(cat "$F/a.dat")"
echo replaced >"$M/a"
check_eq "> truncates and rewrites the file" replaced "$(cat "$F/a.dat")"
printf XY | dd of="$M/a" bs=1 seek=2 conv=notrunc status=none
check_eq "dd conv=notrunc writes into the file" reXYaced "$(cat "$F/a.dat")"
check "truncate -s 1M grows the region" truncate -s 1M "$M/a"
check_eq "...and the file" 1048576 "$(stat -c %s "$F/a.dat")"
check "truncate -s 3 shrinks it" truncate -s 3 "$M/a"
check_eq "...and the file" 3 "$(stat -c %s "$F/a.dat")"
check_eq "...keeping its start" reX "$(cat "$F/a.dat")"
check "sync (fsync) the region" sync "$M/a"
head -c 100000 /dev/urandom >"$F/src"
check "cp a file into the region" cp "$F/src" "$M/a"
check "...the file got its bytes" cmp "$F/src" "$F/a.dat"

# Changes made outside: stat at once, contents at the next open.
printf outside >"$F/a.dat"
check_eq "stat sees the file rewritten outside at once" 7 "$(stat -c %s "$M/a")"
check_eq "cat sees the outside contents" outside "$(cat "$M/a")"
truncate -s 50000 "$F/a.dat"
check_eq "stat sees an outside truncate at once" 50000 "$(stat -c %s "$M/a")"
touch -d @1234567890 "$F/a.dat"
check_eq "stat sees the outside mtime at once" 1234567890 "$(stat -c %Y "$M/a")"
printf again >"$F/a.dat"
check_eq "cat sees the next outside change" again "$(cat "$M/a")"

# Names: rename and link keep the binding; rm removes the name only.
check "mv a bound region" mv "$M/a" "$M/b"
check_eq "the binding follows the rename" "$F/a.dat" "$(backing_of "$M/b")"
check "ln a bound region" ln "$M/b" "$M/c"
check_eq "a hard link shows the binding" "$F/a.dat" "$(backing_of "$M/c")"
check_eq "...and the file" again "$(cat "$M/c")"
check "rm the bound region" rm "$M/b" "$M/c"
check_eq "the file stays with its data" again "$(cat "$F/a.dat" 2>&1)"

# ------------------------------------------------ not counted in size=

head -c 3M /dev/zero >"$F/big.dat"
touch "$M/big"
check "bind a 3 MiB file on a 1 MiB mount" setfattr -n "$X" -v "$F/big.dat" "$M/big"
check_eq "the region has the file's size" 3145728 "$(stat -c %s "$M/big")"
check "truncate it to 5 MiB" truncate -s 5M "$M/big"
check "write 2 MiB into it" dd if=/dev/urandom of="$M/big" bs=1M count=2 seek=2 conv=notrunc status=none
check_eq "df: nothing used" 0 "$(rfs_df used "$M")"
check "an anonymous region still gets the whole 1 MiB" truncate -s 1M "$M/anon"
check_fails "...and not more" truncate -s 1100K "$M/anon"
rm -f "$M/anon" "$M/big"
check_eq "the big file stays" 5242880 "$(stat -c %s "$F/big.dat")"
rm -f "$F/big.dat"
# anon's memory goes with its last RELEASE, which the kernel sends after rm
# returned (asynchronously): wait for it before counting again.
df_used_zero() { [ "$(rfs_df used "$M")" = 0 ]; }
check "df: back to 0 once the last close of anon arrived" wait_until 60 df_used_zero
# A reservation (fallocate -n) of the empty region is given back by the bind.
touch "$M/res"
fallocate -n -l 512K "$M/res"
check_eq "df: fallocate -n reserved 512 KiB" 524288 "$(rfs_df used "$M")"
: >"$F/res.dat"
check "bind the empty region holding a reservation" setfattr -n "$X" -v "$F/res.dat" "$M/res"
check_eq "df: the reservation is given back" 0 "$(rfs_df used "$M")"
rm -f "$M/res"

# ----------------------------------------------------------- bad inputs

touch "$M/t"
: >"$F/t.dat"
bind_errno "relative path" EINVAL "$M/t" "rel/t.dat"
bind_errno "path without a slash" EINVAL "$M/t" "t.dat"
bind_errno "empty value" EINVAL "$M/t" ""
bind_errno "a NUL inside the path" EINVAL "$M/t" "$F/t.dat\\0x"
bind_errno "missing file" ENOENT "$M/t" "$F/missing.dat"
bind_errno "missing directory" ENOENT "$M/t" "$F/nodir/x.dat"
bind_errno "a file used as a directory (as open(2))" ENOTDIR "$M/t" "$F/t.dat/x"
bind_errno "a directory" EISDIR "$M/t" "$F"
bind_errno "the root directory" EISDIR "$M/t" /
bind_errno "a region of this mount" ELOOP "$M/t" "$M/plain"
bind_errno "the region itself" ELOOP "$M/t" "$M/t"
bind_errno "the mountpoint" ELOOP "$M/t" "$M"
bind_errno "a missing name inside the mount" ELOOP "$M/t" "$M/nothing"
ln -s "$M/plain" "$F/link-in"
bind_errno "a symlink outside pointing into the mount" ELOOP "$M/t" "$F/link-in"
ln -s "$M" "$F/link-mnt"
bind_errno "a path through a symlink to the mountpoint" ELOOP "$M/t" "$F/link-mnt/plain"
bind_errno "a non-canonical path into the mount (//)" ELOOP "$M/t" "${M%/*}//${M##*/}/plain"
bind_errno "a non-canonical path into the mount (/./)" ELOOP "$M/t" "${M%/*}/./${M##*/}/plain"
mkdir -p "$RFS_TMP/alias"
if mount --bind "$M" "$RFS_TMP/alias" 2>/dev/null; then
	bind_errno "the mount seen through a bind mount elsewhere" ELOOP "$M/t" "$RFS_TMP/alias/plain"
	umount "$RFS_TMP/alias" || umount -l "$RFS_TMP/alias"
else
	fail "mount --bind of the mount (for the alias check)"
fi
bind_errno "/dev/null" ENODEV "$M/t" /dev/null
ln -s /dev/null "$F/link-null"
bind_errno "a symlink to /dev/null" ENODEV "$M/t" "$F/link-null"
mkfifo "$F/fifo"
bind_errno "a fifo (no reader: must not hang)" ENODEV "$M/t" "$F/fifo"
"$PY" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$F/sock"
bind_errno "a unix socket" ENODEV "$M/t" "$F/sock"
check_untouched "after the bad paths" "$M/t"

exec 7<"$M/t"
bind_errno "a region open for reading" EBUSY "$M/t" "$F/t.dat"
exec 7<&-
echo x >"$M/full"
bind_errno "a region that is not empty" ENOTEMPTY "$M/full" "$F/t.dat"
check_eq "...keeps its data" x "$(cat "$M/full")"
truncate -s 1 "$M/sparse"
bind_errno "a region with a size but no data" ENOTEMPTY "$M/sparse" "$F/t.dat"
bind_errno "a directory of the mount" EPERM "$M/dir" "$F/t.dat"
bind_errno "the root of the mount" EPERM "$M" "$F/t.dat"
: >"$F/u.dat"
touch "$M/u"
bind_errno "a good bind" OK "$M/u" "$F/u.dat"
bind_errno "a region bound already (another file)" EEXIST "$M/u" "$F/t.dat"
bind_errno "a region bound already (the same file)" EEXIST "$M/u" "$F/u.dat"
check_eq "...still bound to its file" "$F/u.dat" "$(backing_of "$M/u")"
bind_errno "the region, once closed" OK "$M/t" "$F/t.dat"

# A file on a read-only mount.
mkdir -p "$RFS_TMP/ro"
: >"$RFS_TMP/ro/ro.dat"
chmod 666 "$RFS_TMP/ro/ro.dat"
touch "$M/ro"
if mount --bind "$RFS_TMP/ro" "$RFS_TMP/ro" && mount -o remount,bind,ro "$RFS_TMP/ro"; then
	bind_errno "a file on a read-only bind mount" EROFS "$M/ro" "$RFS_TMP/ro/ro.dat"
	umount "$RFS_TMP/ro" || umount -l "$RFS_TMP/ro"
	check_untouched "after EROFS" "$M/ro"
else
	fail "cannot make a read-only bind mount"
fi

# ----------------------------------------- opened as the caller (uid 2001)

U=$RFS_TMP/u2001
mkdir -p "$U" "$RFS_TMP/private" "$RFS_TMP/grp"
chown 2001:2001 "$U"
chmod 700 "$RFS_TMP/private"
printf mine >"$U/own.dat"
: >"$U/own-ro.dat"
chown 2001:2001 "$U/own.dat" "$U/own-ro.dat"
chmod 600 "$U/own.dat"
chmod 400 "$U/own-ro.dat"
printf secret >"$F/root600.dat"
chmod 600 "$F/root600.dat"
: >"$F/root644.dat"
chmod 644 "$F/root644.dat"
: >"$RFS_TMP/private/open.dat"
chmod 666 "$RFS_TMP/private/open.dat"
: >"$RFS_TMP/grp/grp.dat"
chown 0:2002 "$RFS_TMP/grp/grp.dat"
chmod 660 "$RFS_TMP/grp/grp.dat"
touch "$M/rootregion"
chmod 644 "$M/rootregion"

check "uid 2001 creates a region" "${AS_USER[@]}" touch "$M/u1"
check_eq "...owned by 2001" 2001 "$(stat -c %u "$M/u1")"
bind_errno "uid 2001: root's 0600 file" EACCES "$M/u1" "$F/root600.dat" "${AS_USER[@]}"
bind_errno "uid 2001: root's 0644 file (not writable)" EACCES "$M/u1" "$F/root644.dat" "${AS_USER[@]}"
bind_errno "uid 2001: own 0400 file" EACCES "$M/u1" "$U/own-ro.dat" "${AS_USER[@]}"
bind_errno "uid 2001: a 0666 file in root's 0700 directory" EACCES "$M/u1" \
	"$RFS_TMP/private/open.dat" "${AS_USER[@]}"
bind_errno "uid 2001 without group 2002: a 0660 file of group 2002" EACCES "$M/u1" \
	"$RFS_TMP/grp/grp.dat" "${AS_USER[@]}"
check_untouched "after EACCES" "$M/u1"
bind_errno "uid 2001: root's region (kernel permission check)" EACCES "$M/rootregion" \
	"$U/own.dat" "${AS_USER[@]}"
bind_errno "uid 2001: own 0600 file" OK "$M/u1" "$U/own.dat" "${AS_USER[@]}"
check_eq "uid 2001 reads the file through the region" mine "$("${AS_USER[@]}" cat "$M/u1" 2>&1)"
check "uid 2001 writes through the region" "${AS_USER[@]}" sh -c "echo written >>'$M/u1'"
check_eq "...into the file" minewritten "$(cat "$U/own.dat")"
check_eq "...which still belongs to 2001" "2001 600" "$(stat -c '%u %a' "$U/own.dat")"
check "uid 2001 with group 2002 creates a region" "${AS_USER_GRP[@]}" touch "$M/u2"
bind_errno "uid 2001 with group 2002: the 0660 file of group 2002" OK "$M/u2" \
	"$RFS_TMP/grp/grp.dat" "${AS_USER_GRP[@]}"
# The daemon is root again afterwards: root's own binds work.
touch "$M/r600"
bind_errno "root: its 0600 file" OK "$M/r600" "$F/root600.dat"
check_eq "root reads it through the region" secret "$(cat "$M/r600")"

rm -f "$M"/* 2>/dev/null
rmdir "$M/dir"
check_eq "every user file is still there" \
	"a.dat fifo link-in link-mnt link-null res.dat root600.dat root644.dat sock src t.dat u.dat" \
	"$(ls "$F" | tr '\n' ' ' | sed 's/ $//')"
check_eq "uid 2001's file keeps its data" minewritten "$(cat "$U/own.dat")"
rfs_expect_empty
rfs_umount

# --------------------------------------------- a persistent store (store=)

# Files of the daemon's own store are as bad a target as the mount; a
# binding is kept across a remount of the same store.
S=$RFS_TMP/store
mkdir -p "$S"
rfs_mount "size=1M,store=$S"
M=$RFS_MNT
echo data >"$M/s"
touch "$M/t"
store_file=$(find "$S" -type f -name s | head -n 1)
if [ -n "$store_file" ]; then
	bind_errno "a region's file in the store" ELOOP "$M/t" "$store_file"
	ln -s "$store_file" "$F/link-store"
	bind_errno "a symlink into the store" ELOOP "$M/t" "$F/link-store"
	rm -f "$F/link-store"
else
	fail "no file for region s in the store $S: $(find "$S" | head -n 5 | tr '\n' ' ')"
fi
bind_errno "the store's directory itself (as the mountpoint)" ELOOP "$M/t" "$S"
check_untouched "after the store paths" "$M/t"
printf kept >"$F/kept.dat"
bind_errno "bind with a persistent store" OK "$M/t" "$F/kept.dat"
rfs_umount
rfs_mount "size=1M,store=$S"
M=$RFS_MNT
check_eq "after a remount the region is still bound" "$F/kept.dat" "$(backing_of "$M/t")"
check_eq "...and shows the file" kept "$(cat "$M/t" 2>&1)"
echo more >>"$M/t"
check_eq "...and writes reach the file" keptmore "$(cat "$F/kept.dat")"
rm -f "$M/s" "$M/t"
check_eq "the file stays" keptmore "$(cat "$F/kept.dat")"
rfs_expect_empty
rfs_done
