#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Growing a bound file allocates as its binder (issue 9, section 3): on an
# ext4 with half its blocks reserved for root (mkfs.ext4 -m 50), a user's own
# dd stops at the reserve; a region that user bound, grown through the
# mount (dd, truncate, fallocate; in passthrough the kernel writes with the
# credentials registered for the file), stops at the same point with
# ENOSPC. Root's own writes still reach into the reserve, and so do writes
# into a region root bound.
#
# Usage: t-backing-reserve.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_regionfs_only "file-backed regions are a regionfs feature"
rfs_init "$@"
rfs_mount "size=1M,allow_other"
M=$RFS_MNT
X=user.regionfs.backing
MIB=1048576

AS_USER=(setpriv --reuid=2001 --regid=2001 --clear-groups)

E=$RFS_TMP/ext
chmod 755 "$RFS_TMP"
if ! rfs_loop_ext4 "$E" 32M -m 50; then
	fail "cannot make a loop-mounted ext4 with a root reserve"
	rfs_done
fi
mkdir "$E/u"
chown 2001:2001 "$E/u"

# How far the user gets on its own.
"${AS_USER[@]}" dd if=/dev/zero of="$E/u/own" bs=64K count=1000 status=none 2>/dev/null
check_eq "the user's own dd stops (ENOSPC) before 32 MiB" 1 \
	"$([ "$(stat -c %s "$E/u/own")" -lt $((32 * MIB)) ] && echo 1)"
own=$(stat -c %s "$E/u/own")
echo "# the user's own dd stopped at $own bytes"
rm -f "$E/u/own"
sync -f "$E"

# The same through a region the user bound.
"${AS_USER[@]}" touch "$M/b" "$E/u/b.dat"
check "the user binds its file on the ext4" "${AS_USER[@]}" setfattr -n "$X" -v "$E/u/b.dat" "$M/b"
"${AS_USER[@]}" dd if=/dev/zero of="$M/b" bs=64K count=1000 conv=notrunc status=none 2>"$RFS_TMP/dd.err"
check_eq "dd through the bound region fails with ENOSPC" "No space left on device" \
	"$(sed -n 's/.*: \(No space left on device\)$/\1/p' "$RFS_TMP/dd.err" | head -n 1)"
bound=$(stat -c %s "$E/u/b.dat")
echo "# dd through the bound region stopped at $bound bytes"
check_eq "...at the user's own limit (within 1 MiB), not in root's reserve" 1 \
	"$([ "$bound" -le $((own + MIB)) ] && [ "$bound" -ge $((own - MIB)) ] && echo 1)"
check_fails "truncate -s 30M of the region by the user (ENOSPC)" "${AS_USER[@]}" truncate -s 30M "$M/b"
check_fails "fallocate -l 30M of the region by the user (ENOSPC)" "${AS_USER[@]}" fallocate -l 30M "$M/b"
check_eq "...the file kept its size" "$bound" "$(stat -c %s "$E/u/b.dat")"
check_fails "truncate -s 30M of the region by root (the binder's limit still)" truncate -s 30M "$M/b"

# Root still reaches into its reserve: by itself and through its own binding.
check "root's own write past the user's limit" dd if=/dev/zero of="$E/root.dat" bs=64K count=32 \
	status=none
touch "$M/r" "$E/r.dat"
check "root binds its file on the ext4" setfattr -n "$X" -v "$E/r.dat" "$M/r"
check "root's writes through its region reach into the reserve" dd if=/dev/zero of="$M/r" \
	bs=64K count=32 conv=notrunc status=none
check_eq "...2 MiB written" $((2 * MIB)) "$(stat -c %s "$E/r.dat")"

rm -f "$M/b" "$M/r"
rfs_expect_empty
rfs_umount
umount "$E" || umount -l "$E"
rfs_done
