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

rfs_done
