#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The persistent store (-o store=DIR): what a remount brings back, and the
# stores the daemon must refuse.
#
# - Remount (twice) brings back: names, nested directories, sizes, data
#   written by write() and by mmap + msync, modes (incl. set-id/sticky
#   bits), owners (chown 1000:1000), times (touch -d), user.* xattrs (also
#   binary and on directories and the root), hard links (link count and
#   shared data; inode numbers are not promised across remounts), bindings
#   (the bound file's data through the region, writes land in the file),
#   the results of renames (plain, over a file, RENAME_NOREPLACE incl. its
#   EEXIST, RENAME_EXCHANGE), of unlink and rmdir. A whole-tree snapshot
#   (type, mode, owner, size, nlink, mtime, data, xattrs, link groups) is
#   compared across remounts. DIR/root mirrors the namespace (hard links
#   as hard links, placeholders for bindings), DIR/tmp is empty.
# - df: the same used bytes after a remount.
# - Without store= nothing persists.
# - An unlinked-while-open region leaves nothing in DIR after umount, nor
#   after a SIGKILL of the daemon (DIR on a loop-mounted ext4: exact inode
#   and block counts).
# - Bad stores: exit 1, one line "regionfs: ..." naming the bad file,
#   nothing mounted, and DIR exactly as before (names, types, modes,
#   owners, sizes, mtimes, data, xattrs): missing DIR, DIR a file, a
#   read-only bind mount of DIR (a store, an empty dir), DIR on a read-only
#   file system, non-empty without format, a wrong format file, a foreign
#   directory holding a file named format, a symlink/fifo in DIR/root, a
#   DIR/root missing, more than nr_inodes. A relative or dangling binding
#   loads, its region unbound (ENXIO).
# - A store holding more than size= loads anyway (nothing of the user's is
#   refused): df full, growth ENOSPC until data is removed.
# - Two daemons: the second is refused ("in use by another regionfs")
#   while the first runs, and mounts after the first exits.
#
# Usage: t-store.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"

if rfs_is_tmpfs; then
	echo "SKIP: store= is regionfs-only"
	exit 77
fi

S=$RFS_TMP/store
mkdir "$S"
BAD_MNT=$RFS_TMP/badmnt
mkdir "$BAD_MNT"

# tree_snap DIR [dirtimes]: one line per entry under DIR (sorted): path,
# type, mode, uid, gid, size, nlink, mtime (ns; directories only with
# "dirtimes"), link group (first path of the same inode), sha256 of the
# data (not of timed-*: reading would update their atime), xattrs. Never
# atime/ctime or inode numbers.
tree_snap()
{
	python3 - "$@" <<'EOF'
import hashlib, os, stat, sys
top = sys.argv[1]
opts = sys.argv[2:]
seen = {}
out = []
def xattrs(p):
    try:
        names = sorted(os.listxattr(p, follow_symlinks=False))
    except OSError as e:
        return "xattr-error:%d" % e.errno
    return ",".join("%s=%s" % (n, os.getxattr(p, n, follow_symlinks=False).hex())
                    for n in names)
def one(p, rel):
    st = os.lstat(p)
    t = stat.S_IFMT(st.st_mode)
    kind = {stat.S_IFDIR: "d", stat.S_IFREG: "f", stat.S_IFLNK: "l",
            stat.S_IFIFO: "p"}.get(t, "?")
    key = (st.st_dev, st.st_ino)
    group = seen.setdefault(key, rel)
    data = ""
    mtime = st.st_mtime_ns
    if kind == "f" and os.path.basename(p).startswith("timed-"):
        data = "not-read"
    elif kind == "f":
        h = hashlib.sha256()
        with open(p, "rb") as f:
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                h.update(b)
        data = h.hexdigest()[:16]
    elif kind == "l":
        data = os.readlink(p)
    elif kind == "d" and "dirtimes" not in opts:
        mtime = "-"
    out.append("%s %s %o %d:%d size=%d nlink=%d mtime=%s link=%s data=%s xattr=%s" % (
        rel, kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
        st.st_size if kind != "d" else 0, st.st_nlink, mtime, group, data,
        xattrs(p) if kind != "l" else ""))
    if kind == "d":
        for n in sorted(os.listdir(p)):
            one(os.path.join(p, n), rel + "/" + n)
if not os.path.lexists(top):
    print("<missing>")
else:
    one(top, ".")
    print("\n".join(out))
EOF
}

# Compare two snapshots, first without mtimes, then the mtimes alone (two
# checks: one wrong time does not hide everything else); show differences.
check_same_tree()
{
	local desc=$1 a=$2 b=$3 a1 b1
	a1=$(printf '%s\n' "$a" | sed 's/ mtime=[^ ]*//')
	b1=$(printf '%s\n' "$b" | sed 's/ mtime=[^ ]*//')
	if [ "$a1" = "$b1" ]; then
		ok "$desc"
	else
		fail "$desc"
		diff <(printf '%s\n' "$a1") <(printf '%s\n' "$b1") | head -n 20 | sed 's/^/#   /'
		return
	fi
	a1=$(printf '%s\n' "$a" | sed -n 's/^\([^ ]*\) .* \(mtime=[^ ]*\).*/\1 \2/p')
	b1=$(printf '%s\n' "$b" | sed -n 's/^\([^ ]*\) .* \(mtime=[^ ]*\).*/\1 \2/p')
	if [ "$a1" = "$b1" ]; then
		ok "$desc: mtimes"
	else
		fail "$desc: mtimes differ"
		diff <(printf '%s\n' "$a1") <(printf '%s\n' "$b1") | head -n 10 | sed 's/^/#   /'
	fi
}

store_mount()
{
	rfs_mount "size=64M,store=$S"
	M=$RFS_MNT
}

# ------------------------------------------------------------ populate

store_mount
check_eq "a new store: format written" "regionfs-store 1" "$(cat "$S/format" 2>&1)"
check "a new store: root/ and tmp/" test -d "$S/root" -a -d "$S/tmp"

echo hello >"$M/a"
mkdir -p "$M/d1/d2/d3"
echo deep >"$M/d1/d2/d3/deep"
printf 'x%.0s' $(seq 1 5000) >"$M/d1/five-k"
truncate -s 3M "$M/d1/big"
dd if=/dev/urandom of="$RFS_TMP/rand" bs=64K count=8 status=none
dd if="$RFS_TMP/rand" of="$M/d1/big" bs=64K seek=20 conv=notrunc status=none
truncate -s 0 "$M/empty"
chown 1000:1000 "$M/d1/five-k" "$M/d1/d2"
chmod 0640 "$M/a"
chmod 4755 "$M/d1/d2/d3/deep"
chmod 0700 "$M/d1/d2"
chmod 1777 "$M/d1/d2/d3"
setfattr -n user.text -v hello "$M/a"
setfattr -n user.bin -v 0x00ff00ff10 "$M/a"
setfattr -n user.empty "$M/a"
setfattr -n user.dir -v dirval "$M/d1"
setfattr -n user.root -v rootval "$M"
# hard links, also across directories
ln "$M/a" "$M/d1/a-link"
ln "$M/a" "$M/d1/d2/d3/a-link2"
# a binding
printf 'bound file data\n' >"$RFS_TMP/bound.dat"
truncate -s 0 "$M/bound"
check "bind a region (setfattr user.regionfs.backing)" \
	setfattr -n user.regionfs.backing -v "$RFS_TMP/bound.dat" "$M/bound"

rfs_py "$RFS_TMP" <<'EOF'
import mmap, os, errno
from rfscheck import *

# data by mmap + msync (3 pages, the middle one left zero)
fd = os.open(P("mapped"), os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 3 * 4096)
m = mmap.mmap(fd, 3 * 4096)
m[0:4096] = b"M" * 4096
m[8192:8192 + 11] = b"mapped data"
m.flush()                       # msync(MS_SYNC)
m.close()
os.close(fd)
ok(True, "wrote a region by mmap + msync")

# renames whose results must persist
write_file(P("r-plain"), b"plain")
succeeds(os.rename, P("r-plain"), P("d1/r-plain-moved"), msg="rename across directories")
write_file(P("r-over"), b"over")
write_file(P("r-victim"), b"victim")
succeeds(os.rename, P("r-over"), P("r-victim"), msg="rename over an existing region")
write_file(P("r-nr"), b"noreplace")
write_file(P("r-nr-target"), b"stays")
raises(errno.EEXIST, renameat2, P("r-nr"), P("r-nr-target"), RENAME_NOREPLACE,
       msg="RENAME_NOREPLACE onto an existing name")
succeeds(renameat2, P("r-nr"), P("r-nr-new"), RENAME_NOREPLACE, msg="RENAME_NOREPLACE to a free name")
write_file(P("x1"), b"one")
write_file(P("x2"), b"two")
succeeds(renameat2, P("x1"), P("x2"), RENAME_EXCHANGE, msg="RENAME_EXCHANGE x1 <-> x2")
os.mkdir(P("xd"))
write_file(P("xd/inside"), b"in xd")
write_file(P("xf"), b"a file")
succeeds(renameat2, P("xd"), P("xf"), RENAME_EXCHANGE, msg="RENAME_EXCHANGE dir <-> file")
os.mkdir(P("dmove"))
write_file(P("dmove/f"), b"moved with its dir")
succeeds(os.rename, P("dmove"), P("d1/d2/dmoved"), msg="rename a directory into another")
# removals whose results must persist
write_file(P("gone"), b"gone")
os.unlink(P("gone"))
os.mkdir(P("gonedir"))
os.mkdir(P("gonedir/sub"))
os.rmdir(P("gonedir/sub"))
os.rmdir(P("gonedir"))
write_file(P("d1/linked-then-unlinked"), b"lu")
os.link(P("d1/linked-then-unlinked"), P("lu2"))
os.unlink(P("d1/linked-then-unlinked"))
done()
EOF

# times last (data and renames change them)
echo timed >"$M/timed-file"
touch -m -d '2001-02-03 04:05:06.123456789' "$M/timed-file"
atime_set=$(($(date +%s) - 3600))
touch -a -d "@$atime_set.5" "$M/timed-file"
mkdir "$M/timed-dir"
echo x >"$M/timed-dir/f"
touch -d '2002-03-04 05:06:07.987654321' "$M/timed-dir"
times_before=$(stat -c '%x|%y' "$M/timed-file")
dirtime_before=$(stat -c '%y' "$M/timed-dir")

check_eq "store: hard links are hard links in DIR/root" 3 "$(stat -c %h "$S/root/d1/a-link")"
check_eq "store: the binding is an empty placeholder" 0 "$(stat -c %s "$S/root/bound")"
check_eq "store: the placeholder carries the binding" "$RFS_TMP/bound.dat" \
	"$(getfattr --absolute-names --only-values -n user.regionfs.backing "$S/root/bound" 2>&1)"
check_fails "store: no name for an unlinked region" test -e "$S/root/gone"

snap1=$(tree_snap "$M")
df1=$(rfs_df used "$M")
if [ "${RFS_STORE_SELFTEST:-0}" = 1 ]; then
	# Prove the comparison can fail: change one byte behind its back.
	printf 'J' | dd of="$S/root/a" bs=1 seek=0 conv=notrunc status=none
fi
rfs_umount

# ------------------------------------------------------------ remount

store_mount
check_eq "remount: times kept (touch -d: atime|mtime)" "$times_before" "$(stat -c '%x|%y' "$M/timed-file")"
check_eq "remount: directory mtime kept" "$dirtime_before" "$(stat -c '%y' "$M/timed-dir")"
snap2=$(tree_snap "$M")
check_same_tree "remount: the whole tree as before (names, modes, owners, sizes, nlink, data, xattrs, links)" \
	"$snap1" "$snap2"
df2=$(rfs_df used "$M")
if [ "$df1" = "$df2" ]; then
	ok "remount: df used the same ($df2)"
elif [ "$RFS_DATAPATH" = passthrough ]; then
	# Documented boundary (README, store=): passthrough writes that grow a
	# region are not seen by the daemon, so before the remount df missed
	# them; the remount counts the stored sizes.
	echo "# note: df used before umount $df1, after remount $df2 (passthrough growth by write() is not counted before a remount)"
else
	fail "remount: df used $df2, before umount $df1"
fi

check_eq "remount: data by write()" hello "$(cat "$M/a")"
check_eq "remount: nested data" deep "$(cat "$M/d1/d2/d3/deep")"
check_eq "remount: size of a truncated region" 3145728 "$(stat -c %s "$M/d1/big")"
check_eq "remount: data at an offset" "$(sha256sum <"$RFS_TMP/rand")" \
	"$(dd if="$M/d1/big" bs=64K skip=20 count=8 status=none | sha256sum)"
check_eq "remount: hole still zeros" "$(head -c 65536 /dev/zero | sha256sum)" \
	"$(dd if="$M/d1/big" bs=64K skip=2 count=1 status=none | sha256sum)"
check_eq "remount: owner 1000:1000 (file)" 1000:1000 "$(stat -c %u:%g "$M/d1/five-k")"
check_eq "remount: owner 1000:1000 (dir)" 1000:1000 "$(stat -c %u:%g "$M/d1/d2")"
check_eq "remount: mode 0640" 640 "$(stat -c %a "$M/a")"
check_eq "remount: mode 4755 (setuid)" 4755 "$(stat -c %a "$M/d1/d2/d3/deep")"
check_eq "remount: mode 1777 (sticky dir)" 1777 "$(stat -c %a "$M/d1/d2/d3")"
check_eq "remount: dir mode 0700" 700 "$(stat -c %a "$M/d1/d2")"
check_eq "remount: xattr" hello "$(getfattr --absolute-names --only-values -n user.text "$M/a" 2>&1)"
check_eq "remount: binary xattr" 0x00ff00ff10 \
	"$(getfattr --absolute-names -e hex -n user.bin "$M/a" 2>/dev/null | sed -n 's/^user.bin=//p')"
check_eq "remount: xattr on a directory" dirval "$(getfattr --absolute-names --only-values -n user.dir "$M/d1" 2>&1)"
check_eq "remount: xattr on the root" rootval "$(getfattr --absolute-names --only-values -n user.root "$M" 2>&1)"
check_eq "remount: empty region" 0 "$(stat -c %s "$M/empty")"
check_eq "remount: nlink 3" "3 3 3" "$(stat -c %h "$M/a" "$M/d1/a-link" "$M/d1/d2/d3/a-link2" | tr '\n' ' ' | sed 's/ $//')"
echo changed >"$M/d1/a-link"
check_eq "remount: links share data (write one, read the other)" changed "$(cat "$M/d1/d2/d3/a-link2")"
check_eq "remount: links share xattrs" hello \
	"$(getfattr --absolute-names --only-values -n user.text "$M/d1/d2/d3/a-link2" 2>&1)"
check_eq "remount: the bound file's data through the region" "bound file data" "$(cat "$M/bound")"
check_eq "remount: the binding" "$RFS_TMP/bound.dat" \
	"$(getfattr --absolute-names --only-values -n user.regionfs.backing "$M/bound" 2>&1)"
printf 'written after remount\n' >"$M/bound"
check_eq "remount: a write to a bound region lands in the file" "written after remount" "$(cat "$RFS_TMP/bound.dat")"
check_eq "remount: the placeholder stays empty" 0 "$(stat -c %s "$S/root/bound")"
check_eq "remount: mmap + msync data (page 0)" "$(head -c 4096 /dev/zero | tr '\0' M)" "$(head -c 4096 "$M/mapped")"
check_eq "remount: mmap + msync data (page 2)" "mapped data" "$(dd if="$M/mapped" bs=1 skip=8192 count=11 status=none)"
check_eq "remount: rename across directories" plain "$(cat "$M/d1/r-plain-moved" 2>&1)"
check_fails "remount: renamed-away name gone" test -e "$M/r-plain"
check_eq "remount: rename over a region" over "$(cat "$M/r-victim" 2>&1)"
check_fails "remount: its old name gone" test -e "$M/r-over"
check_eq "remount: failed RENAME_NOREPLACE changed nothing" stays "$(cat "$M/r-nr-target" 2>&1)"
check_eq "remount: RENAME_NOREPLACE result" noreplace "$(cat "$M/r-nr-new" 2>&1)"
check_eq "remount: RENAME_EXCHANGE x1" two "$(cat "$M/x1" 2>&1)"
check_eq "remount: RENAME_EXCHANGE x2" one "$(cat "$M/x2" 2>&1)"
check_eq "remount: RENAME_EXCHANGE dir <-> file: the file" "a file" "$(cat "$M/xd" 2>&1)"
check_eq "remount: RENAME_EXCHANGE dir <-> file: the dir" "in xd" "$(cat "$M/xf/inside" 2>&1)"
check_eq "remount: a moved directory" "moved with its dir" "$(cat "$M/d1/d2/dmoved/f" 2>&1)"
check_fails "remount: unlinked region gone" test -e "$M/gone"
check_fails "remount: removed directory gone" test -e "$M/gonedir"
check_eq "remount: link survives unlink of the other name" "lu 1" "$(cat "$M/lu2" 2>&1) $(stat -c %h "$M/lu2")"
check_eq "remount: DIR/tmp is empty" "" "$(ls -A "$S/tmp" 2>&1)"
check_eq "remount: DIR/root mirrors the namespace" \
	"$(cd "$M" && find . | sort)" "$(cd "$S/root" && find . | sort)"
check_eq "remount: DIR/root hard links share one inode" 1 \
	"$(stat -c %i "$S/root/a" "$S/root/d1/a-link" "$S/root/d1/d2/d3/a-link2" | sort -u | wc -l)"

# Everything changed after the remount persists as well.
snap2=$(tree_snap "$M" dirtimes)
rfs_umount
store_mount
snap3=$(tree_snap "$M" dirtimes)
check_same_tree "second remount: the whole tree as before" "$snap2" "$snap3"
# df, exactly, in both data paths: nothing grew behind the daemon's back.
df3=$(rfs_df used "$M")
rfs_umount
store_mount
check_eq "third remount, nothing changed in between: df used the same" "$df3" "$(rfs_df used "$M")"

# Remove everything: the store empties too.
rm -rf "${M:?}"/*
setfattr -x user.root "$M"
rfs_expect_empty
rfs_umount
check_eq "after removing everything: DIR/root is empty" "" "$(ls -A "$S/root")"
store_mount
check_eq "and a remount shows nothing" "" "$(ls -A "$M")"
rfs_umount

# ------------------------------------------------------------ memory only

rfs_mount "size=16M"
echo volatile >"$RFS_MNT/v"
rfs_umount
rfs_mount "size=16M"
check_fails "without store=: nothing survives a remount" test -e "$RFS_MNT/v"
rfs_umount

# ------------------------------------------------------------ orphans: no leak

# Exact inode counts need a file system of our own: a loop-mounted ext4.
L=$RFS_TMP/loopfs
loop_ok=
if rfs_loop_ext4 "$L" 128M -N 2048; then
	loop_ok=1
else
	echo "# note: no loop-mounted ext4 here; the orphan checks use DIR in $RFS_TMP (no inode counts)"
	L=$RFS_TMP/noloop
	mkdir "$L"
fi

# Used inodes minus inodes reachable under $L: constant unless something
# leaks (an unlinked file nobody holds any more).
fs_excess()
{
	[ -n "$loop_ok" ] || { echo 0; return; }
	PYTHONPATH="$RFS_LIB_DIR" PYTHONDONTWRITEBYTECODE=1 python3 - "$L" <<'EOF'
import sys
from rfscheck import excess_inodes
print(excess_inodes(sys.argv[1]))
EOF
}
excess0=$(fs_excess)
mkdir "$L/s"
S2=$L/s
rfs_mount "size=64M,store=$S2" "$RFS_TMP/mnt2"
M=$RFS_MNT
echo kept >"$M/kept"
mkfifo "$RFS_TMP/hold.go"
# A holder: creates a region, writes 1 MiB, maps it, unlinks it, then
# waits (keeping fd and mapping) until told to go or killed.
hold_orphan()
{
	python3 - "$M/orphan" "$RFS_TMP/hold.go" <<'EOF' &
import mmap, os, sys
path, go = sys.argv[1:3]
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
os.write(fd, b"o" * (1 << 20))
m = mmap.mmap(fd, 1 << 20)
m[0:6] = b"orphan"
os.unlink(path)
open(go + ".ready", "w").close()
with open(go) as f:
    f.read()
m.close()
os.close(fd)
EOF
	holder=$!
	rfs_bg_track "$holder"
	wait_until 10 test -e "$RFS_TMP/hold.go.ready" || fail "holder did not start"
	rm -f "$RFS_TMP/hold.go.ready"
}
hold_orphan
check_fails "unlinked while open: no name in DIR/root" test -e "$S2/root/orphan"
if [ -n "$loop_ok" ]; then
	check_eq "unlinked while open: its nameless file still exists in DIR's fs" \
		"$((excess0 + 1))" "$(fs_excess)"
fi
echo go >"$RFS_TMP/hold.go"
wait "$holder"
rfs_umount
if [ -n "$loop_ok" ]; then
	check_eq "unlinked while open, closed, umount: nothing left in DIR's fs" "$excess0" "$(fs_excess)"
fi
check_eq "store after umount: only the kept region" kept "$(ls "$S2/root")"

# The same with the daemon SIGKILLed while the orphan is open and mapped.
rfs_mount "size=64M,store=$S2" "$RFS_TMP/mnt2"
M=$RFS_MNT
hold_orphan
kill -KILL "$RFS_DAEMON_PID"
wait_until 10 eval '! rfs_proc_alive '"$RFS_DAEMON_PID"
kill -KILL "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
umount -l "$M" 2>/dev/null
rfs_judge_daemon "after SIGKILL" 137
if [ -n "$loop_ok" ]; then
	# shellcheck disable=SC2016 # expanded by eval, at every poll
	if wait_until 5 eval '[ "$(fs_excess)" = "$excess0" ]'; then
		ok "daemon SIGKILLed with an open unlinked region: nothing left in DIR's fs"
	else
		fail "daemon SIGKILLed with an open unlinked region: $(fs_excess) in DIR's fs, expected $excess0"
	fi
fi
check_eq "store after the kill: only the kept region" kept "$(ls "$S2/root")"
rfs_mount "size=64M,store=$S2" "$RFS_TMP/mnt2"
check_eq "remount after the kill: kept region back, orphan gone" "kept kept" \
	"$(ls "$RFS_MNT" | tr '\n' ' ')$(cat "$RFS_MNT/kept")"
rfs_umount
[ -n "$loop_ok" ] && umount "$L"

# ------------------------------------------------------------ bad stores

# The daemon must refuse DIR: exit 1, one line "regionfs: ..." containing
# PATTERN, nothing mounted, DIR unchanged.
#   bad_store DESCRIPTION DIR PATTERN [EXTRA_OPTIONS]
bad_store()
{
	local desc=$1 dir=$2 pat=$3 extra=${4:-} before after
	before=$(tree_snap "$dir" dirtimes)
	rfs_expect_refused "$desc" "$BAD_MNT" "store=$dir${extra:+,$extra}" "$pat"
	after=$(tree_snap "$dir" dirtimes)
	check_same_tree "$desc: DIR unchanged" "$before" "$after"
}

# A valid store with a region of 5 MiB, three of 512 KiB, a directory.
G=$RFS_TMP/good
mkdir "$G"
rfs_mount "size=64M,store=$G"
truncate -s 5M "$RFS_MNT/big"
for i in 1 2 3; do truncate -s 512K "$RFS_MNT/r$i"; done
mkdir "$RFS_MNT/sub"
echo data >"$RFS_MNT/sub/file"
rfs_umount
copy_good()
{
	cp -a "$G" "$1"
}

bad_store "missing DIR" "$RFS_TMP/nonexistent" "$RFS_TMP/nonexistent"
echo notadir >"$RFS_TMP/afile"
bad_store "DIR is a regular file" "$RFS_TMP/afile" "$RFS_TMP/afile"

copy_good "$RFS_TMP/robind"
mount --bind "$RFS_TMP/robind" "$RFS_TMP/robind" && mount -o remount,bind,ro "$RFS_TMP/robind"
bad_store "read-only bind mount of a store" "$RFS_TMP/robind" "$RFS_TMP/robind/"
umount "$RFS_TMP/robind"
mkdir "$RFS_TMP/roempty"
mount --bind "$RFS_TMP/roempty" "$RFS_TMP/roempty" && mount -o remount,bind,ro "$RFS_TMP/roempty"
bad_store "read-only bind mount of an empty DIR" "$RFS_TMP/roempty" "$RFS_TMP/roempty"
umount "$RFS_TMP/roempty"
mkdir "$RFS_TMP/rofs"
mount -t tmpfs -o size=16M rfs-rofs "$RFS_TMP/rofs"
cp -a "$G" "$RFS_TMP/rofs/s"
mount -o remount,ro "$RFS_TMP/rofs"
bad_store "DIR on a read-only file system" "$RFS_TMP/rofs/s" "$RFS_TMP/rofs/s"
umount "$RFS_TMP/rofs"

mkdir "$RFS_TMP/notstore"
echo mine >"$RFS_TMP/notstore/precious"
mkdir "$RFS_TMP/notstore/root"
bad_store "non-empty DIR without format" "$RFS_TMP/notstore" "$RFS_TMP/notstore/format"

copy_good "$RFS_TMP/wrongfmt"
echo "regionfs-store 2" >"$RFS_TMP/wrongfmt/format"
bad_store "wrong format file" "$RFS_TMP/wrongfmt" "$RFS_TMP/wrongfmt/format"

mkdir "$RFS_TMP/foreign"
echo "a file that happens to be called format" >"$RFS_TMP/foreign/format"
echo mine >"$RFS_TMP/foreign/precious"
bad_store "foreign DIR with a file named format" "$RFS_TMP/foreign" "$RFS_TMP/foreign/format"

copy_good "$RFS_TMP/symlink"
ln -s /etc/passwd "$RFS_TMP/symlink/root/sub/link"
bad_store "symlink inside DIR/root" "$RFS_TMP/symlink" "$RFS_TMP/symlink/root/sub/link"

copy_good "$RFS_TMP/fifo"
mkfifo "$RFS_TMP/fifo/root/fifo"
bad_store "fifo inside DIR/root" "$RFS_TMP/fifo" "$RFS_TMP/fifo/root/fifo"

copy_good "$RFS_TMP/relbind"
truncate -s 0 "$RFS_TMP/relbind/root/sub/bound"
setfattr -n user.regionfs.backing -v relative/path "$RFS_TMP/relbind/root/sub/bound"
# A binding that cannot be re-opened leaves its region unbound (ENXIO), not
# the store refused (t-backing-store.sh tests the rest).
unbound_store()
{
	local desc=$1 dir=$2 region=$3
	rfs_mount "size=64M,store=$dir"
	check_errno "$desc: the store loads, the region opens with" ENXIO \
		"os.open(P('$region'), os.O_RDONLY)"
	rfs_umount
}
unbound_store "relative binding" "$RFS_TMP/relbind" sub/bound

copy_good "$RFS_TMP/dangling"
truncate -s 0 "$RFS_TMP/dangling/root/bound"
setfattr -n user.regionfs.backing -v "$RFS_TMP/no/such/file" "$RFS_TMP/dangling/root/bound"
unbound_store "dangling binding" "$RFS_TMP/dangling" bound

copy_good "$RFS_TMP/noroot"
rm -rf "$RFS_TMP/noroot/root"
bad_store "DIR/root missing" "$RFS_TMP/noroot" "$RFS_TMP/noroot/root"

# A store holding more than size= (regions grown past the quota by
# passthrough writes, or a smaller size= than before) still loads: nothing
# of the user's is refused or dropped. df shows it full, growth fails with
# ENOSPC, and removing data makes room again.
big_size=$(stat -c %s "$G/root/big")
rfs_mount "size=4M,store=$G"
check_eq "a store holding more than size= mounts; the big region keeps its size" \
	"$big_size" "$(stat -c %s "$RFS_MNT/big")"
check_eq "its bytes are all there" "$(sha256sum <"$G/root/big")" "$(sha256sum <"$RFS_MNT/big")"
check_eq "df: no space available" 0 "$(stat -f -c %a "$RFS_MNT")"
check_errno "growing a region while over size=" ENOSPC \
	"os.truncate(P('r1'), os.stat(P('r1')).st_size + 1048576)"
rm "$RFS_MNT/big"
# Its space comes back at the last RELEASE/FORGET, which FUSE sends late: poll.
check "after removing the big region, growth works again" \
	wait_until 10 truncate -s +4096 "$RFS_MNT/r1"
rfs_umount
bad_store "more entries than nr_inodes=" "$G" "$G holds more than nr_inodes=3" "nr_inodes=3"

# ------------------------------------------------------------ two daemons

rfs_mount "size=64M,store=$G"
first_pid=$RFS_DAEMON_PID
echo first >"$RFS_MNT/first"
bad_store "a second daemon on the same store" "$G" "$G is in use by another regionfs"
check_eq "the first daemon still serves" first "$(cat "$RFS_MNT/first")"
check "the first daemon still running" rfs_proc_alive "$first_pid"
rfs_umount
rfs_mount "size=64M,store=$G" "$BAD_MNT"
check_eq "after the first exits, the second mounts the store" first "$(cat "$RFS_MNT/first" 2>&1)"
rfs_umount

# ------------------------------------------------------------ quota across remounts

# Whatever a mount accepted, a new mount with the same options must load:
# otherwise a restart locks the user out of their regions.
Q=$RFS_TMP/quota
mkdir "$Q"
rfs_mount "size=1M,store=$Q"
dd if=/dev/zero of="$RFS_MNT/big" bs=1M count=3 status=none 2>/dev/null
echo "# wrote $(stat -c %s "$RFS_MNT/big") bytes into a size=1M mount ($RFS_DATAPATH)"
rfs_umount
rfs_expect_mounts "a store written under size=1M, again with size=1M" "$BAD_MNT" "size=1M,store=$Q"

rfs_done
