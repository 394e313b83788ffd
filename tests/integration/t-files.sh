#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Regions as files through ordinary tools: echo, cat, dd, cp, mv, ln,
# truncate, stat, touch, chmod, chown, rm, sync; data survives dropped
# caches; inode numbers are stable; exact errnos for create/open.
#
# Usage: t-files.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"
rfs_mount "size=256M"
M=$RFS_MNT
L=$RFS_TMP/local
mkdir -p "$L"
export TZ=UTC

# --- echo / cat / append
echo hello >"$M/f"
check_eq "echo > f; cat f" hello "$(cat "$M/f")"
check_eq "size after echo" 6 "$(stat -c %s "$M/f")"
check_eq "regular file" "regular file" "$(stat -c %F "$M/f")"
echo world >>"$M/f"
check_eq "append with >>" "$(printf 'hello\nworld')" "$(cat "$M/f")"
: >"$M/empty"
check_eq "empty file reads empty" "0 " "$(stat -c %s "$M/empty") $(cat "$M/empty")"
check_eq "O_TRUNC on open (>)" "x" "$(echo x >"$M/f" && cat "$M/f")"

# --- dd / cp / cmp with 8 MiB of random data
dd if=/dev/urandom of="$L/rand" bs=1M count=8 status=none
check "cp 8 MiB into the mount" cp "$L/rand" "$M/big"
check "cmp copy in" cmp "$L/rand" "$M/big"
check "cp inside the mount" cp "$M/big" "$M/big2"
check "cmp copy inside" cmp "$L/rand" "$M/big2"
check "cp out of the mount" cp "$M/big2" "$L/out"
check "cmp copy out" cmp "$L/rand" "$L/out"
check_eq "size of big" 8388608 "$(stat -c %s "$M/big")"
# Overwrite in the middle (odd offsets and sizes), same on a local copy.
dd if=/dev/urandom of="$L/patch" bs=1 count=10007 status=none
dd if="$L/patch" of="$M/big" bs=1 seek=1234567 conv=notrunc status=none
dd if="$L/patch" of="$L/rand" bs=1 seek=1234567 conv=notrunc status=none
check "dd conv=notrunc overwrite in the middle" cmp "$L/rand" "$M/big"
check_eq "dd skip= reads at an offset" "$(dd if="$L/rand" bs=4096 skip=7 count=3 status=none | md5sum)" \
	"$(dd if="$M/big" bs=4096 skip=7 count=3 status=none | md5sum)"
check "dd with 1 MiB blocks reads it all" \
	sh -c "dd if='$M/big' bs=1M status=none | cmp - '$L/rand'"
check "3-byte reads" \
	sh -c "dd if='$M/big' bs=3 count=5000 status=none | cmp - '$L/rand' -n 15000"

# Sparse growth by writing past the end: the hole reads as zeros.
printf 'tail' | dd of="$M/sparse" bs=1 seek=100000 status=none
check_eq "write past end: size" 100004 "$(stat -c %s "$M/sparse")"
check "hole reads zeros" cmp -n 100000 "$M/sparse" /dev/zero
check_eq "data after the hole" tail "$(tail -c 4 "$M/sparse")"

# --- truncate grow/shrink
printf 'hello' >"$M/t"
check "truncate -s 100000 (grow)" truncate -s 100000 "$M/t"
check_eq "size after grow" 100000 "$(stat -c %s "$M/t")"
check_eq "data kept after grow" hello "$(head -c 5 "$M/t")"
check "grown part reads zeros" cmp -i 5:0 -n 99995 "$M/t" /dev/zero
check "truncate -s 3 (shrink)" truncate -s 3 "$M/t"
check_eq "content after shrink" hel "$(cat "$M/t")"
check "truncate -s 9000 (grow again)" truncate -s 9000 "$M/t"
check "regrown part reads zeros, not old data" cmp -i 3:0 -n 8997 "$M/t" /dev/zero
check "truncate -s 0" truncate -s 0 "$M/t"
check_eq "size 0" 0 "$(stat -c %s "$M/t")"
check "truncate -s 5M on a new name creates it" truncate -s 5M "$M/t5"
check_eq "size 5M" 5242880 "$(stat -c %s "$M/t5")"
check "5M region reads zeros" cmp -n 5242880 "$M/t5" /dev/zero

# --- mv / ln / rm and stable inode numbers
ino=$(stat -c %i "$M/big2")
check "mv big2 moved" mv "$M/big2" "$M/moved"
check_fails "old name gone after mv" test -e "$M/big2"
check_eq "inode kept across rename" "$ino" "$(stat -c %i "$M/moved")"
check "content kept across rename" cmp "$L/out" "$M/moved"
cp "$L/out" "$L/tomove"
check "mv from outside into the mount" mv "$L/tomove" "$M/fromout"
check "content moved in" cmp "$L/out" "$M/fromout"
check "mv from the mount to outside" mv "$M/fromout" "$L/backout"
check "content moved out" cmp "$L/out" "$L/backout"
check_fails "moved-out name gone" test -e "$M/fromout"

echo linked >"$M/l1"
check "ln l1 l2" ln "$M/l1" "$M/l2"
check_eq "hard link: same inode" "$(stat -c %i "$M/l1")" "$(stat -c %i "$M/l2")"
check_eq "hard link: nlink 2" "2 2" "$(stat -c %h "$M/l1") $(stat -c %h "$M/l2")"
echo more >>"$M/l2"
check_eq "write through one link, read through the other" "$(printf 'linked\nmore')" "$(cat "$M/l1")"
check "rm l1" rm "$M/l1"
check_eq "after rm: nlink 1" 1 "$(stat -c %h "$M/l2")"
check_eq "after rm: data kept" "$(printf 'linked\nmore')" "$(cat "$M/l2")"
check_fails "ln onto an existing name fails" ln "$M/l2" "$M/f"

# Stores through a mapping reach the region (cache mode: written back to
# the daemon) and survive dropped caches.
python3 - "$M/mapped" <<'EOF'
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(fd, 1 << 20)
m = mmap.mmap(fd, 1 << 20)
for off in range(0, 1 << 20, 4096):
    m[off:off + 8] = b"%08d" % (off // 4096)
m.close()
os.close(fd)
EOF
i_before=$(stat -c %i "$M/moved")
rfs_drop_caches
check_eq "mmap stores intact after close and dropped caches" "00000200" \
	"$(dd if="$M/mapped" bs=4096 skip=200 count=1 status=none | head -c 8)"
check_eq "hard link intact after dropped caches" "$(printf 'linked\nmore')" "$(cat "$M/l2")"
check_eq "hard link inode after dropped caches" 1 "$(stat -c %h "$M/l2")"
check_eq "inode number stable after dropping caches" "$i_before" "$(stat -c %i "$M/moved")"
check "data intact after dropping caches" cmp "$L/out" "$M/moved"
check "overwritten data intact after dropping caches" cmp "$L/rand" "$M/big"
check_eq "sparse file intact after dropping caches" tail "$(tail -c 4 "$M/sparse")"

# --- attributes: chmod, chown, touch (utimens with nanoseconds)
check "chmod 640" chmod 640 "$M/f"
check_eq "mode 640" 640 "$(stat -c %a "$M/f")"
check "chmod 4755 (setuid bit kept as on tmpfs)" chmod 4755 "$M/f"
check_eq "mode 4755" 4755 "$(stat -c %a "$M/f")"
check "chown 1234:5678" chown 1234:5678 "$M/f"
check_eq "owner 1234:5678" "1234 5678" "$(stat -c '%u %g' "$M/f")"
check "chgrp 42" chgrp 42 "$M/f"
check_eq "owner 1234:42" "1234 42" "$(stat -c '%u %g' "$M/f")"
check "touch -m -d (mtime with ns)" touch -m -d '2001-02-03 04:05:06.123456789' "$M/f"
check "touch -a -d (atime with ns)" touch -a -d '2002-03-04 05:06:07.987654321' "$M/f"
check_eq "mtime exact to the ns" "2001-02-03 04:05:06.123456789 +0000" "$(stat -c %y "$M/f")"
check_eq "atime exact to the ns" "2002-03-04 05:06:07.987654321 +0000" "$(stat -c %x "$M/f")"
check "touch -m -d again leaves atime alone" touch -m -d '2003-01-01 00:00:00' "$M/f"
check_eq "atime unchanged by touch -m" "2002-03-04 05:06:07.987654321 +0000" "$(stat -c %x "$M/f")"
now=$(date +%s)
touch "$M/f"
m=$(stat -c %Y "$M/f")
# File times come from the kernel's coarse clock (a tick behind the clock
# date reads), so the second may be the one before.
if [ "$m" -ge $((now - 1)) ] && [ "$m" -le $((now + 5)) ]; then
	ok "touch sets mtime to now"
else
	fail "touch sets mtime to now (now=$now, mtime=$m)"
fi
touch -m -d '2001-01-01 00:00:00' "$M/big"
echo x | dd of="$M/big" bs=1 seek=5 conv=notrunc status=none
m=$(stat -c %Y "$M/big")
if [ "$m" -ge "$now" ]; then
	ok "write() updates mtime"
else
	fail "write() does not update mtime (mtime $m, expected >= $now)"
fi
check_eq "chmod/chown/utimens keep the inode" "$i_before" "$(stat -c %i "$M/moved")"
chmod 000 "$M/f"
check "chmod 000: root still reads" cat "$M/f"

# --- flushes
check "sync FILE (fsync)" sync "$M/big"
check "sync -d FILE (fdatasync)" sync -d "$M/big"
check "sync -f (syncfs)" sync -f "$M"

# --- exact errnos
check_errno "open missing name" ENOENT "os.open(P('missing'), os.O_RDONLY)"
check_errno "O_CREAT|O_EXCL on an existing name" EEXIST \
	"os.open(P('f'), os.O_RDWR | os.O_CREAT | os.O_EXCL)"
check_errno "O_CREAT|O_EXCL creates a new name" "no error" \
	"os.close(os.open(P('excl'), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))"
check_eq "O_CREAT mode 0600 honoured" 600 "$(stat -c %a "$M/excl")"
check_errno "unlink missing name" ENOENT "os.unlink(P('missing'))"
check_errno "stat missing name" ENOENT "os.stat(P('missing'))"
check_errno "truncate missing name" ENOENT "os.truncate(P('missing'), 10)"
check_errno "open regular file as a directory" ENOTDIR "os.open(P('f'), os.O_RDONLY | os.O_DIRECTORY)"
check_errno "file used as a directory in a path" ENOTDIR "os.stat(P('f/x'))"
check_errno "truncate to a negative size" EINVAL "os.truncate(P('f'), -1)"
check_fails "cat missing file fails" cat "$M/missing"

(umask 027 && touch "$M/umasked")
check_eq "umask applied on create" 640 "$(stat -c %a "$M/umasked")"
check_eq "owner of a new file = creator" "0 0" "$(stat -c '%u %g' "$M/umasked")"

# --- rm everything
check "rm -f all files" rm -f "$M"/*
rfs_expect_empty

rfs_done
