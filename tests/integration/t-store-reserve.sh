#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Regions of a persistent store never allocate in a root reserve (issue 9):
# with store=DIR on an ext4 that keeps half its blocks for root (mkfs.ext4
# -m 50), a user's truncate, fallocate, dd and appends through the mount
# (in passthrough the kernel writes with the credentials registered for the
# store file) stop with ENOSPC where that user's own dd on the same ext4
# stops (a control in a 1777 directory there), and the ext4's free blocks
# never fall below its reserved block count. Root's writes through the
# mount stop there as well; root's own writes on the ext4 still reach into
# the reserve. So do the store's own blocks for a user's directories and
# extended attributes.
# The daemon allocates as an unprivileged identity but keeps its
# capabilities: a root's write, truncate and fallocate keep the set-id bits
# of a region (6777, as on tmpfs, t-suid.sh), in the mount and in the store
# file on disk, and a remount shows them.
#
# Usage: t-store-reserve.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_regionfs_only "store= is a regionfs feature"
rfs_init "$@"
MIB=1048576

AS_USER=(setpriv --reuid=2001 --regid=2001 --clear-groups)

E=$RFS_TMP/ext
chmod 755 "$RFS_TMP"
if ! rfs_loop_ext4 "$E" 64M -m 50; then
	fail "cannot make a loop-mounted ext4 with a root reserve"
	rfs_done
fi
DEV=$(findmnt -n -o SOURCE --target "$E")
mkdir -m 700 "$E/store"
mkdir -m 1777 "$E/pub"
S=$E/store
OPTS="size=200M,mode=1777,allow_other,store=$S"

# Free blocks of the ext4 after writing back what is dirty (delayed allocation).
free_blocks()
{
	sync -f "$E"
	stat -f -c %f "$E"
}
RESERVED=$(tune2fs -l "$DEV" | sed -n 's/^Reserved block count: *//p')
check_eq "the ext4 reserves blocks for root" 1 "$([ "${RESERVED:-0}" -gt 1000 ] && echo 1)"
# Blocks no user can ever take: root's reserve and the few ext4 keeps for
# itself (s_resv_clusters, not even root's).
NONUSER=$(($(free_blocks) - $(stat -f -c %a "$E")))
echo "# reserved block count $RESERVED, free blocks $(free_blocks), available to users $(stat -f -c %a "$E"), never users' $NONUSER (block size $(stat -f -c %S "$E"))"

# enospc FILE: PASS-able output when a command's stderr says ENOSPC.
enospc()
{
	sed -n 's/.*\(No space left on device\).*/\1/p' "$1" | head -n 1
}

# ------------------------------------------------------------ set-id bits

# Before the disk is full: the daemon's own calls on a store file must not
# clear set-id bits that root's write keeps (CAP_FSETID, as on tmpfs).
rfs_mount "$OPTS"
M=$RFS_MNT
: >"$M/s"
chown 2001:2001 "$M/s"
chmod 6777 "$M/s"
echo x >>"$M/s"
check_eq "root's append keeps 6777" 6777 "$(stat -c %a "$M/s")"
truncate -s 100 "$M/s"
check_eq "root's truncate keeps 6777" 6777 "$(stat -c %a "$M/s")"
fallocate -l 8192 "$M/s"
check_eq "root's fallocate keeps 6777" 6777 "$(stat -c %a "$M/s")"
dd if=/dev/zero of="$M/s" bs=4096 seek=4 count=4 conv=notrunc status=none
check_eq "root's growing write keeps 6777" 6777 "$(stat -c %a "$M/s")"
check_eq "...the store file on disk too" "6777 2001:2001 32768" \
	"$(stat -c '%a %u:%g %s' "$S/root/s")"
rfs_umount
rfs_mount "$OPTS"
check_eq "remount: 6777 and the size" "6777 2001:2001 32768" "$(stat -c '%a %u:%g %s' "$M/s")"
rm -f "$M/s"
rfs_umount

# ------------------------------------------------------------ the reserve

# How far the user gets on its own.
"${AS_USER[@]}" dd if=/dev/zero of="$E/pub/own" bs=64K count=1000 status=none 2>/dev/null
own=$(stat -c %s "$E/pub/own")
check_eq "the user's own dd stops (ENOSPC) before 60 MiB" 1 \
	"$([ "$own" -lt $((60 * MIB)) ] && echo 1)"
echo "# the user's own dd stopped at $own bytes"
rm -f "$E/pub/own"
free0=$(free_blocks)

rfs_mount "$OPTS"
M=$RFS_MNT
# Regions for extended attributes later, made while there is room.
for i in $(seq 1 20); do "${AS_USER[@]}" touch "$M/x$i"; done
# Everything the user tries to allocate through the mount, larger than what
# it may have, fails with ENOSPC.
"${AS_USER[@]}" truncate -s 50M "$M/a" 2>"$RFS_TMP/err"
check_eq "the user's truncate -s 50M: ENOSPC" "No space left on device" "$(enospc "$RFS_TMP/err")"
check_eq "...the region kept its size" 0 "$(stat -c %s "$M/a")"
"${AS_USER[@]}" fallocate -l 50M "$M/a" 2>"$RFS_TMP/err"
check_eq "the user's fallocate -l 50M: ENOSPC" "No space left on device" "$(enospc "$RFS_TMP/err")"
"${AS_USER[@]}" fallocate -n -l 50M "$M/a" 2>"$RFS_TMP/err"
check_eq "the user's fallocate -n -l 50M: ENOSPC" "No space left on device" "$(enospc "$RFS_TMP/err")"
check_eq "...the region kept its size" 0 "$(stat -c %s "$M/a")"
check_eq "...the root reserve is untouched" 1 "$([ "$(free_blocks)" -ge $((NONUSER - 8)) ] && echo 1)"

"${AS_USER[@]}" dd if=/dev/zero of="$M/b" bs=64K count=960 status=none 2>"$RFS_TMP/err"
check_eq "the user's dd of 60 MiB through the mount: ENOSPC" "No space left on device" \
	"$(enospc "$RFS_TMP/err")"
mine=$(stat -c %s "$S/root/b")
echo "# dd through the mount stopped at $mine bytes (the user's own dd: $own)"
check_eq "...at the user's own limit (within 1 MiB), not in root's reserve" 1 \
	"$([ "$mine" -le $((own + MIB)) ] && [ "$mine" -ge $((own - MIB)) ] && echo 1)"
"${AS_USER[@]}" sh -c "head -c 65536 /dev/zero >>'$M/b'" 2>"$RFS_TMP/err"
check_eq "the user's append of 64 KiB: ENOSPC" "No space left on device" "$(enospc "$RFS_TMP/err")"
"${AS_USER[@]}" truncate -s +1M "$M/b" 2>"$RFS_TMP/err"
check_eq "the user's truncate -s +1M: ENOSPC" "No space left on device" "$(enospc "$RFS_TMP/err")"
"${AS_USER[@]}" sh -c "head -c 65536 /dev/zero >>'$M/a'" 2>"$RFS_TMP/err"
check_eq "the user's append to another region: ENOSPC" "No space left on device" \
	"$(enospc "$RFS_TMP/err")"

# The store's metadata: a directory takes a block, an extended attribute
# too large for the inode takes one.
"${AS_USER[@]}" sh -c "for i in \$(seq 1 40); do mkdir '$M/d'\$i || exit 1; done" 2>"$RFS_TMP/err"
check_eq "the user's mkdirs: ENOSPC before 40" "No space left on device" "$(enospc "$RFS_TMP/err")"
v=$(head -c 700 /dev/zero | tr '\0' v)
"${AS_USER[@]}" sh -c "for i in \$(seq 1 20); do setfattr -n user.big -v ${v}\$i '$M/x'\$i || exit 1; done" \
	2>"$RFS_TMP/err"
check_eq "the user's 700-byte xattrs on 20 regions: ENOSPC" "No space left on device" \
	"$(enospc "$RFS_TMP/err")"

# Root through the mount: the store's regions are nobody's to put in the reserve.
dd if=/dev/zero of="$M/r" bs=64K count=32 status=none 2>"$RFS_TMP/err"
check_eq "root's dd of 2 MiB through the mount: ENOSPC" "No space left on device" \
	"$(enospc "$RFS_TMP/err")"
truncate -s 2M "$M/r2" 2>"$RFS_TMP/err"
check_eq "root's truncate -s 2M through the mount: ENOSPC" "No space left on device" \
	"$(enospc "$RFS_TMP/err")"

free1=$(free_blocks)
echo "# free blocks: $free0 before, $free1 after; reserved $RESERVED, never users' $NONUSER"
check_eq "the ext4's free blocks stay at least the reserved count" 1 \
	"$([ "$free1" -ge "$RESERVED" ] && echo 1)"
# Within 8 blocks: ext4 may take an extent block from its own few for a
# conversion of preallocated blocks (not root's reserve; 40 directories or
# 20 attribute blocks are far more).
check_eq "...and at least what no user can take (within 8 blocks)" 1 \
	"$([ "$free1" -ge $((NONUSER - 8)) ] && echo 1)"

# The reserve is there for root's own programs.
check "root's own write on the ext4 reaches into the reserve" \
	dd if=/dev/zero of="$E/root.dat" bs=64K count=32 status=none
rm -f "$E/root.dat" "$M/a" "$M/b" "$M/r" "$M/r2" "$M"/x*
rmdir "$M"/d* 2>/dev/null
rfs_umount
umount "$E" || umount -l "$E"
rfs_done
