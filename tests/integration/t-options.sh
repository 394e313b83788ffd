#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The usual mount options: -o ro (every change EROFS as on a tmpfs mounted
# ro; reading and read-only mapping work), remount ro/rw with mount -i,
# fsname= and subtype= as findmnt and df show them.
#
# Usage: t-options.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"

if rfs_is_tmpfs; then
	S=
	rfs_mount "size=64M"
else
	S=$RFS_TMP/store
	mkdir -p "$S"
	rfs_mount "size=64M,store=$S"
fi
M=$RFS_MNT
printf 'hello' >"$M/r"
mkdir "$M/d"
rfs_umount

# ---- -o ro
if rfs_is_tmpfs; then
	rfs_mount "size=64M" # tmpfs keeps nothing: only the EROFS checks apply
	printf 'hello' >"$M/r"
	mkdir "$M/d"
	mount -o remount,ro "$M"
else
	rfs_mount "size=64M,ro,store=$S"
	check_eq "ro: findmnt shows ro" ro "$(findmnt -n -o OPTIONS "$M" | cut -d, -f1)"
fi
check_eq "ro: read" hello "$(cat "$M/r")"
check_eq "ro: read-only shared map" hello "$(python3 -c '
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
m = mmap.mmap(fd, 5, mmap.MAP_SHARED, mmap.PROT_READ)
print(m[:5].decode())' "$M/r")"
check_errno "ro: create" EROFS 'os.open(P("new"), os.O_CREAT | os.O_WRONLY, 0o644)'
check_errno "ro: open for write" EROFS 'os.open(P("r"), os.O_WRONLY)'
check_errno "ro: open O_RDWR" EROFS 'os.open(P("r"), os.O_RDWR)'
check_errno "ro: truncate" EROFS 'os.truncate(P("r"), 0)'
check_errno "ro: mkdir" EROFS 'os.mkdir(P("d2"))'
check_errno "ro: unlink" EROFS 'os.unlink(P("r"))'
check_errno "ro: rmdir" EROFS 'os.rmdir(P("d"))'
check_errno "ro: rename" EROFS 'os.rename(P("r"), P("r2"))'
check_errno "ro: link" EROFS 'os.link(P("r"), P("r2"))'
check_errno "ro: chmod" EROFS 'os.chmod(P("r"), 0o600)'
check_errno "ro: chown" EROFS 'os.chown(P("r"), 1, 1)'
check_errno "ro: utime" EROFS 'os.utime(P("r"), (1, 1))'
check_errno "ro: setxattr" EROFS 'os.setxattr(P("r"), "user.x", b"1")'
check_errno "ro: removexattr" EROFS 'os.removexattr(P("r"), "user.x")'
check_errno "ro: mknod" EROFS 'os.mknod(P("f"), 0o644 | 0o010000)'
check_eq "ro: unchanged" hello "$(cat "$M/r")"

# ---- remount rw and ro again (mount -i: the kernel's remount, no helper)
if rfs_is_tmpfs; then
	check "remount,rw" mount -o remount,rw "$M"
else
	check "remount,rw" mount -i -o remount,rw "$M"
fi
check "rw after remount: write" sh -c "printf more >>'$M/r'"
check_eq "rw after remount: content" hellomore "$(cat "$M/r")"
if rfs_is_tmpfs; then
	check "remount,ro" mount -o remount,ro "$M"
else
	check "remount,ro" mount -i -o remount,ro "$M"
fi
check_errno "ro after remount: write" EROFS 'os.open(P("r"), os.O_WRONLY)'
check_eq "ro after remount: read" hellomore "$(cat "$M/r")"
rfs_umount

# ---- huge=: transparent huge pages for region memory (the private tmpfs's
# huge=, not the machine's shmem_enabled). A 4 MiB region written through a
# 2 MiB-aligned shared mapping: with huge=always the machine's ShmemHugePages
# grows by at least 4 MiB while it exists, and where the mapping is the
# backing file itself (passthrough, tmpfs) it is mapped with PMDs.
# huge=never (the default): no PMD mapping.
huge_map()
{
	python3 - "$1" <<'EOF'
import ctypes, os, sys
def meminfo():
    for l in open("/proc/meminfo"):
        if l.startswith("ShmemHugePages:"):
            return int(l.split()[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
before = meminfo()
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 4 << 20)
# PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS: a range to place the mapping 2 MiB-aligned in
res = libc.mmap(None, 8 << 20, 0, 0x22, -1, 0)
addr = (res + (2 << 20) - 1) & ~((2 << 20) - 1)
# PROT_READ|PROT_WRITE, MAP_SHARED|MAP_FIXED
p = libc.mmap(addr, 4 << 20, 3, 0x11, fd, 0)
assert p == addr, "mmap failed: %d" % ctypes.get_errno()
ctypes.memset(p, 120, 4 << 20)
pmd = 0
for l in open("/proc/self/smaps"):
    if l.startswith(("ShmemPmdMapped:", "FilePmdMapped:")):
        pmd += int(l.split()[1])
print(pmd, meminfo() - before)
EOF
}
pmd_check=
if rfs_is_tmpfs || [ "$RFS_DATAPATH" = passthrough ]; then
	pmd_check=1
fi
rfs_mount "size=64M,huge=always"
out=$(huge_map "$M/h") # waits for python, which holds the file open
read -r pmd grew <<<"$out"
check "huge=always: ShmemHugePages grew by 4 MiB (got ${grew:-?} kB)" [ "${grew:-0}" -ge 4096 ]
if [ -n "$pmd_check" ]; then
	check_eq "huge=always: mapping PMD-mapped (kB)" 4096 "${pmd:-}"
fi
check_eq "huge=always: data" "" "$(tr -d x <"$M/h")"
check_eq "huge=always: size" 4194304 "$(stat -c %s "$M/h")"
rm -f "$M/h"
rfs_umount
rfs_mount "size=64M,huge=never"
out=$(huge_map "$M/h") # waits for python, which holds the file open
read -r pmd grew <<<"$out"
check_eq "huge=never: no PMD mapping (kB)" 0 "${pmd:-}"
rm -f "$M/h"
rfs_umount

# ---- -o rw after ro: the last one wins
rfs_is_tmpfs && rfs_done # the rest is regionfs-only
rfs_mount "size=64M,ro,rw,inode64" # inode64: accepted, as on tmpfs
check_eq "ro,rw: findmnt shows rw" rw "$(findmnt -n -o OPTIONS "$M" | cut -d, -f1)"
check "ro,rw: create" sh -c ": >'$M/x'"
rfs_umount

# ---- fsname= and subtype=
RFS_FSTYPE=fuse.myfs
rfs_mount "size=64M,fsname=myshm,subtype=myfs"
check_eq "fsname=: findmnt SOURCE" myshm "$(findmnt -n -o SOURCE "$M")"
check_eq "subtype=: findmnt FSTYPE" fuse.myfs "$(findmnt -n -o FSTYPE "$M")"
check_eq "fsname=: df source" myshm "$(df --output=source "$M" | tail -n 1)"
check "subtype=: works" sh -c "printf x >'$M/f' && [ \"\$(cat '$M/f')\" = x ]"
rfs_umount
RFS_FSTYPE=fuse.regionfs

# ---- a mountpoint left by a daemon that died: ENOTCONN, and a new daemon
# says how to unmount it instead of stacking a mount or a bare strerror.
D=$RFS_TMP/dead
mkdir -p "$D"
"$RFS_BIN" -f -o "datapath=$RFS_DATAPATH" "$D" </dev/null >"$RFS_TMP/dead.log" 2>&1 &
pid=$!
check "dead daemon: mounted" wait_until 30 rfs_is_mounted "$D"
kill -KILL "$pid"
wait "$pid"
check_eq "dead daemon: stat says ENOTCONN" ENOTCONN "$(python3 -c '
import errno, os, sys
try:
    os.stat(sys.argv[1]); print("no error")
except OSError as e:
    print(errno.errorcode[e.errno])' "$D")"
# (not rfs_expect_refused: the dead mount is there on purpose)
timeout 30 "$RFS_BIN" -f -o "datapath=$RFS_DATAPATH" "$D" </dev/null >"$RFS_TMP/dead2.log" 2>&1
check_eq "mountpoint of a dead daemon: exit status" 1 "$?"
check_eq "mountpoint of a dead daemon: one line" 1 "$(wc -l <"$RFS_TMP/dead2.log")"
for pat in "not connected" "umount -l $D" "fusermount3 -u"; do
	if grep -qF -- "$pat" "$RFS_TMP/dead2.log"; then
		ok "mountpoint of a dead daemon: message names '$pat'"
	else
		fail "mountpoint of a dead daemon: '$(cat "$RFS_TMP/dead2.log")' does not name '$pat'"
	fi
done
check "dead mountpoint still there (not stacked on)" rfs_is_mounted "$D"
check_eq "one mount on it" 1 "$(awk -v m="$D" '$5 == m' /proc/self/mountinfo | wc -l)"
check "umount -l as the hint says" umount -l "$D"
check_fails "dead mountpoint gone" rfs_is_mounted "$D"

# ---- without root: the messages name the real cause. /dev/fuse and
# /etc/fuse.conf are replaced for this test's private mount namespace only
# (bind mounts; fusermount3 reads /etc/fuse.conf where its caller sees it).
U=2001
cp "$RFS_BIN" "$RFS_TMP/regionfs"
chmod 755 "$RFS_TMP/regionfs"
saved_bin=$RFS_BIN
RFS_BIN=$RFS_TMP/regionfs
RFS_REFUSED_PREFIX=(setpriv --reuid=$U --regid=$U --clear-groups)
UM=$RFS_TMP/mnt-user
mkdir -p "$UM" "$RFS_TMP/dev"
chown $U:$U "$UM"
mount -t tmpfs -o mode=0755 rfs-dev "$RFS_TMP/dev" # a tmpfs with device nodes
mknod -m 0600 "$RFS_TMP/dev/fuse" c 10 229
mount --bind "$RFS_TMP/dev/fuse" /dev/fuse
rfs_expect_refused "uid $U, /dev/fuse 0600" "$UM" "datapath=cache" "/dev/fuse" "0600" \
	"read and write access"
chmod 0666 "$RFS_TMP/dev/fuse"
printf '# no user_allow_other\nmount_max = 1000\n' >"$RFS_TMP/fuse.conf"
mount --bind "$RFS_TMP/fuse.conf" /etc/fuse.conf
rfs_expect_refused "uid $U, allow_other without user_allow_other" "$UM" \
	"datapath=cache,allow_other" "user_allow_other" "/etc/fuse.conf"
printf 'user_allow_other\n' >"$RFS_TMP/fuse.conf"
# fusermount3 wants a user name for the uid
{ cat /etc/passwd; echo "rfs$U:x:$U:$U::/nonexistent:/usr/sbin/nologin"; } >"$RFS_TMP/passwd"
mount --bind "$RFS_TMP/passwd" /etc/passwd
"${RFS_REFUSED_PREFIX[@]}" "$RFS_BIN" -f -o datapath=cache,allow_other "$UM" </dev/null \
	>"$RFS_TMP/user.log" 2>&1 &
pid=$!
check "uid $U, allow_other with user_allow_other: mounts" \
	wait_until 30 rfs_started_or_gone "$pid" "$UM"
check_eq "uid $U: mounted" fuse.regionfs "$(rfs_mount_fstype "$UM")"
check "uid $U: fusermount3 -u" "${RFS_REFUSED_PREFIX[@]}" fusermount3 -u "$UM"
wait_until 10 rfs_proc_gone "$pid" || kill -KILL "$pid"
wait "$pid"
check_eq "uid $U: daemon exit status" 0 "$?"
umount /etc/fuse.conf
umount /etc/passwd
umount /dev/fuse
umount "$RFS_TMP/dev"
RFS_REFUSED_PREFIX=()
RFS_BIN=$saved_bin

rfs_done
