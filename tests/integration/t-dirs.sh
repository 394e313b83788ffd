#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Directories (namespaces): mkdir/rmdir/readdir with ls and Python, large
# directories, readdir while removing, nlink and times of directories, name
# length limits, and the exact EISDIR/ENOTDIR/ENOTEMPTY/EINVAL/EEXIST/EPERM
# errnos of tmpfs.
#
# Usage: t-dirs.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"
rfs_mount "size=64M"
M=$RFS_MNT

check "mkdir -p a/b/c" mkdir -p "$M/a/b/c"
check_eq "a/b/c is a directory" directory "$(stat -c %F "$M/a/b/c")"
check "mkdir -m 0705" mkdir -m 0705 "$M/m"
check_eq "mkdir -m mode" 705 "$(stat -c %a "$M/m")"
(umask 027 && mkdir "$M/um")
check_eq "umask applied to mkdir" 750 "$(stat -c %a "$M/um")"
check_eq "nlink of a leaf dir" 2 "$(stat -c %h "$M/a/b/c")"
check_eq "nlink of a dir with one subdir" 3 "$(stat -c %h "$M/a/b")"
check_eq "nlink of root (3 subdirs)" 5 "$(stat -c %h "$M")"
echo x >"$M/a/file"
check_eq "files do not add to a dir's nlink" 3 "$(stat -c %h "$M/a")"
check_eq "ls of a dir" "b file" "$(ls "$M/a" | tr '\n' ' ' | sed 's/ $//')"
check_eq "'..' of a/b is a" "$(stat -c %i "$M/a")" "$(stat -c %i "$M/a/b/..")"
check_fails "rmdir of a non-empty dir fails" rmdir "$M/a/b"
check "rm -r a" rm -r "$M/a"
check_fails "a is gone" test -e "$M/a"
check_eq "root nlink after removing a" 4 "$(stat -c %h "$M")"
check "rmdir m" rmdir "$M/m"

rfs_py <<'EOF'
import os, errno, time
from rfscheck import *

# --- a large directory: readdir with many entries and odd names
d = P("big")
os.mkdir(d)
names = set("file-%04d" % i for i in range(600))
names |= {"with space", "ünïcödé-名前", "x" * 255, "é" * 127, ".hidden", "-dash", "a\nnewline"}
for n in names:
    os.close(os.open(os.path.join(d, n), os.O_CREAT | os.O_WRONLY, 0o600))
for i in range(20):
    os.mkdir(os.path.join(d, "dir-%02d" % i))
    names.add("dir-%02d" % i)
eq(set(os.listdir(d)), names, "listdir returns every entry exactly (%d)" % len(names))
eq(len(os.listdir(d)), len(names), "listdir has no duplicates")
ents = {e.name: e for e in os.scandir(d)}
eq(sum(1 for e in ents.values() if e.is_dir(follow_symlinks=False)), 20, "scandir d_type: 20 dirs")
eq(sum(1 for e in ents.values() if e.is_file(follow_symlinks=False)), len(names) - 20,
   "scandir d_type: the rest are files")
ok(all(e.inode() == os.stat(os.path.join(d, n)).st_ino for n, e in ents.items()),
   "readdir d_ino matches stat st_ino")
eq(os.stat(d).st_nlink, 22, "nlink of a dir with 20 subdirs")

# readdir while removing every entry as we go: each seen exactly once.
seen = []
with os.scandir(d) as it:
    for e in it:
        seen.append(e.name)
        p = os.path.join(d, e.name)
        if e.is_dir(follow_symlinks=False):
            os.rmdir(p)
        else:
            os.unlink(p)
eq(len(seen), len(set(seen)), "readdir while unlinking: no entry twice")
eq(set(seen), names, "readdir while unlinking: no entry missed")
eq(os.listdir(d), [], "directory empty afterwards")
eq(os.stat(d).st_nlink, 2, "nlink back to 2")

# readdir while creating: entries that existed throughout are all seen once.
for i in range(100):
    os.close(os.open(os.path.join(d, "old-%03d" % i), os.O_CREAT | os.O_WRONLY))
seen = []
with os.scandir(d) as it:
    for k, e in enumerate(it):
        seen.append(e.name)
        if k < 100:  # new entries may or may not be returned: keep it finite
            os.close(os.open(os.path.join(d, "new-%03d" % k), os.O_CREAT | os.O_WRONLY))
old = [n for n in seen if n.startswith("old-")]
eq(sorted(old), sorted("old-%03d" % i for i in range(100)),
   "readdir while creating: every old entry seen exactly once")
ok(len(seen) == len(set(seen)), "readdir while creating: no duplicates")
for n in os.listdir(d):
    os.unlink(os.path.join(d, n))
os.rmdir(d)

# --- name length limits
n255 = "n" * 255
n256 = "n" * 256
succeeds(lambda: os.close(os.open(P(n255), os.O_CREAT | os.O_WRONLY)), msg="create a 255-byte name")
ok(n255 in os.listdir(MNT), "255-byte name listed")
raises(errno.ENAMETOOLONG, os.open, P(n256), os.O_CREAT | os.O_WRONLY, msg="create a 256-byte name")
raises(errno.ENAMETOOLONG, os.open, P("m" * 1000), os.O_CREAT | os.O_WRONLY, msg="create a 1000-byte name")
raises(errno.ENAMETOOLONG, os.stat, P(n256), msg="stat a 256-byte name")
raises(errno.ENAMETOOLONG, os.mkdir, P(n256), msg="mkdir a 256-byte name")
raises(errno.ENAMETOOLONG, os.rename, P(n255), P(n256), msg="rename to a 256-byte name")
raises(errno.ENAMETOOLONG, os.link, P(n255), P(n256), msg="link to a 256-byte name")
succeeds(os.mkdir, P("d" * 255), msg="mkdir a 255-byte name")
succeeds(os.rename, P(n255), P("r" * 255), msg="rename to a 255-byte name")
os.unlink(P("r" * 255))
os.rmdir(P("d" * 255))

# --- exact errnos, as on tmpfs
os.makedirs(P("e/sub/deep"))
write_file(P("e/file"), b"data")
os.mkdir(P("e/empty"))
raises(errno.ENOTEMPTY, os.rmdir, P("e/sub"), msg="rmdir non-empty dir")
raises(errno.ENOTEMPTY, os.rmdir, P("e"), msg="rmdir dir with files")
raises(errno.ENOTDIR, os.rmdir, P("e/file"), msg="rmdir a file")
raises(errno.EISDIR, os.unlink, P("e/sub"), msg="unlink a dir")
raises(errno.EISDIR, os.open, P("e/sub"), os.O_WRONLY, msg="open a dir for writing")
raises(errno.EISDIR, os.open, P("e/sub"), os.O_RDWR, msg="open a dir O_RDWR")
raises(errno.EISDIR, os.truncate, P("e/sub"), 0, msg="truncate a dir")
raises(errno.EEXIST, os.mkdir, P("e/sub"), msg="mkdir existing dir")
raises(errno.EEXIST, os.mkdir, P("e/file"), msg="mkdir over a file")
raises(errno.EEXIST, os.open, P("e/sub"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, msg="O_EXCL on a dir")
raises(errno.ENOTDIR, os.mkdir, P("e/file/x"), msg="mkdir below a file")
raises(errno.ENOTDIR, os.open, P("e/file/x"), os.O_CREAT | os.O_WRONLY, msg="create below a file")
raises(errno.ENOTDIR, os.listdir, P("e/file"), msg="listdir a file")
raises(errno.ENOENT, os.mkdir, P("e/missing/x"), msg="mkdir below a missing dir")
raises(errno.ENOENT, os.open, P("e/missing/x"), os.O_CREAT | os.O_WRONLY, msg="create below a missing dir")
raises(errno.ENOENT, os.rmdir, P("e/missing"), msg="rmdir a missing dir")
raises(errno.EINVAL, os.rmdir, P("e/empty/."), msg="rmdir dir/.")
raises(errno.EPERM, os.link, P("e/sub"), P("e/sublink"), msg="hard link to a dir")
raises(errno.EINVAL, os.rename, P("e"), P("e/sub/deep/e"), msg="rename a dir into its own subdir")
raises(errno.EINVAL, os.rename, P("e/sub"), P("e/sub/x"), msg="rename a dir into itself")
raises(errno.ENOTEMPTY, os.rename, P("e/empty"), P("e/sub"), msg="rename dir over a non-empty dir")
raises(errno.ENOTDIR, os.rename, P("e/sub"), P("e/file"), msg="rename dir over a file")
raises(errno.EISDIR, os.rename, P("e/file"), P("e/empty"), msg="rename file over a dir")
ok(os.path.isdir(P("e/sub/deep")) and read_file(P("e/file")) == b"data",
   "failed renames changed nothing")

# rename a dir over an empty dir replaces it; '..' follows the move
os.mkdir(P("e/target"))
ino = os.stat(P("e/sub")).st_ino
succeeds(os.rename, P("e/sub"), P("e/target"), msg="rename dir over an empty dir")
eq(os.stat(P("e/target")).st_ino, ino, "renamed dir keeps its inode")
ok(not os.path.exists(P("e/sub")), "old dir name gone")
os.mkdir(P("f"))
n_e, n_f = os.stat(P("e")).st_nlink, os.stat(P("f")).st_nlink
succeeds(os.rename, P("e/target"), P("f/moved"), msg="move a dir to another parent")
eq(os.stat(P("f/moved/..")).st_ino, os.stat(P("f")).st_ino, "'..' of a moved dir is its new parent")
eq(os.stat(P("e")).st_nlink, n_e - 1, "old parent nlink - 1")
eq(os.stat(P("f")).st_nlink, n_f + 1, "new parent nlink + 1")
ok(os.path.isdir(P("f/moved/deep")), "subtree moved along")

# directory mtime/ctime change when entries are added or removed
def old_times(p):
    os.utime(p, ns=(10**18, 10**18))
old_times(P("f"))
write_file(P("f/newfile"), b"")
ok(os.stat(P("f")).st_mtime_ns > 10**18 and os.stat(P("f")).st_mtime_ns != 10**18,
   "create updates the dir mtime")
old_times(P("f"))
os.unlink(P("f/newfile"))
ok(os.stat(P("f")).st_mtime_ns != 10**18, "unlink updates the dir mtime")
old_times(P("f"))
os.mkdir(P("f/nd"))
ok(os.stat(P("f")).st_mtime_ns != 10**18, "mkdir updates the dir mtime")
old_times(P("f"))
os.rename(P("f/nd"), P("f/nd2"))
ok(os.stat(P("f")).st_mtime_ns != 10**18, "rename updates the dir mtime")

# chmod/chown/utime on directories
os.chmod(P("f"), 0o711)
eq(os.stat(P("f")).st_mode & 0o7777, 0o711, "chmod a dir")
os.chown(P("f"), 4321, 8765)
eq((os.stat(P("f")).st_uid, os.stat(P("f")).st_gid), (4321, 8765), "chown a dir")
os.utime(P("f"), ns=(1234567890123456789, 1123456789987654321))
eq((os.stat(P("f")).st_atime_ns, os.stat(P("f")).st_mtime_ns),
   (1234567890123456789, 1123456789987654321), "utime a dir (ns)")
os.chmod(MNT, 0o755)
eq(os.stat(MNT).st_mode & 0o7777, 0o755, "chmod the root dir")
done()
EOF

# Listing with attributes (READDIRPLUS takes lookup references) and
# dropping caches (FORGET) many times must neither lose regions nor leak
# them: after removal, df and df -i return to empty.
mkdir "$M/plus"
for i in $(seq 1 200); do printf '%04096d' "$i" >"$M/plus/f$i"; done
for round in 1 2 3; do
	# shellcheck disable=SC2010 # ls -l on purpose: READDIRPLUS + stat
	n=$(ls -l "$M/plus" | grep -c '^-')
	[ "$n" = 200 ] || fail "ls -l round $round lists $n files"
	rfs_drop_caches
done
check_eq "ls -l x3 with caches dropped: files intact" "$(printf '%04096d' 137)" "$(cat "$M/plus/f137")"
check_eq "stat after the listings" 4096 "$(stat -c %s "$M/plus/f200")"

# Inode numbers are never reused while the daemon runs.
rfs_py <<'EOF'
import os
from rfscheck import *
seen = set()
dup = 0
for i in range(200):
    p = P("ino-%d" % i)
    open(p, "w").close()
    ino = os.stat(p).st_ino
    dup += ino in seen
    seen.add(ino)
    os.unlink(p)
eq(dup, 0, "200 create/unlink cycles: no inode number reused")
done()
EOF

check "rm -rf everything" rm -rf "$M/e" "$M/f" "$M/um" "$M/plus"
check_eq "mount empty" "" "$(ls -A "$M")"
used_is_0() { [ "$(rfs_df used "$M")" = 0 ]; }
if wait_until 5 used_is_0; then
	ok "df used back to 0"
else
	fail "df used $(rfs_df used "$M") 5 s after removing everything (expected 0)"
fi
check_eq "root nlink back to 2" 2 "$(stat -c %h "$M")"
# Inodes are freed when the kernel forgets them (asynchronous on FUSE).
iused_is_1() { [ "$(rfs_df iused "$M")" = 1 ]; }
if wait_until 5 iused_is_1; then
	ok "df -i: only the root inode left"
else
	fail "df -i: $(rfs_df iused "$M") inodes used 5 s after removing everything (expected 1)"
fi

rfs_done
