#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Mounting: fs type, root mode/uid/gid options, size= (suffixes and %) and
# nr_inodes= as seen by statfs/df, the datapath xattr, --help/--version,
# clean daemon exit after umount.
#
# Usage: t-mount.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"

if rfs_is_regionfs; then
	out=$("$RFS_BIN" --help 2>&1)
	check_eq "--help exits 0" 0 $?
	case $out in
	*size=*) ok "--help mentions size=" ;;
	*) fail "--help does not mention size= (output: $(printf '%s' "$out" | head -c 200))" ;;
	esac
	out=$("$RFS_BIN" --version 2>&1)
	check_eq "--version exits 0" 0 $?
	case $out in
	*[0-9].[0-9]*) ok "--version prints a version ($out)" ;;
	*) fail "--version prints no version number: '$out'" ;;
	esac
	if rfs_is_mounted "$RFS_TMP/mnt"; then
		fail "--help/--version mounted something"
	fi
fi

# --- mount 1: explicit size, root mode/uid/gid
rfs_mount "size=48M,mode=0750,uid=1234,gid=5678"
M=$RFS_MNT
if rfs_is_regionfs; then
	check_eq "mountinfo fstype" fuse.regionfs "$(rfs_mount_fstype "$M")"
	check_eq "root xattr user.regionfs.datapath" "$RFS_DATAPATH" \
		"$(getfattr --absolute-names --only-values -n user.regionfs.datapath "$M" 2>&1)"
	# io_uring whenever the kernel has it (uring=auto), unless this run turned it off.
	want=/dev/fuse
	if [ -e /sys/module/fuse/parameters/enable_uring ] &&
		[[ ",${RFS_EXTRA_OPTS:-}," != *,uring=off,* ]]; then
		want=io_uring
	fi
	check_eq "root xattr user.regionfs.requests" "$want" \
		"$(getfattr --absolute-names --only-values -n user.regionfs.requests "$M" 2>&1)"
	check_eq "the mount log line names requests=$want" 1 \
		"$(grep -c "requests=$want," "$RFS_LOG")"
else
	check_eq "mountinfo fstype" tmpfs "$(rfs_mount_fstype "$M")"
fi
check_eq "root dir mode/uid/gid" "750 1234 5678 directory" "$(stat -c '%a %u %g %F' "$M")"
check_eq "statfs: fragment size x blocks = size=48M" 50331648 \
	"$(rfs_total_bytes "$M")"
check_eq "df total = 48M" 50331648 "$(rfs_df size "$M")"
check_eq "df used on an empty mount = 0" 0 "$(rfs_df used "$M")"
check_eq "df avail on an empty mount = 48M" 50331648 \
	"$(rfs_df avail "$M")"
check_eq "root dir is empty" "" "$(ls -A "$M")"
check_eq "root dir nlink" 2 "$(stat -c %h "$M")"
check_eq "root dir inode stable" "$(stat -c %i "$M")" "$(stat -c %i "$M/.")"
rfs_umount
check_fails "nothing left mounted after umount" rfs_is_mounted "$M"

# --- mount 2: size in % of RAM, nr_inodes
rfs_mount "size=25%,nr_inodes=100"
M=$RFS_MNT
ram=$(awk '/^MemTotal:/ { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)
total=$(rfs_total_bytes "$M")
# tmpfs takes 25% of totalram pages; allow 1% of RAM for rounding.
if awk -v t="$total" -v r="$ram" 'BEGIN { d = t - r / 4; if (d < 0) d = -d; exit !(d <= r / 100) }'; then
	ok "size=25% gives ~25% of MemTotal ($total of $ram)"
else
	fail "size=25% gives $total bytes, MemTotal is $ram"
fi
check_eq "df -i: inode total = nr_inodes=100" 100 \
	"$(rfs_df itotal "$M")"
check_eq "df -i: 1 inode used (root) on an empty mount" 1 \
	"$(rfs_df iused "$M")"
touch "$M/a" "$M/b" && mkdir "$M/d"
check_eq "df -i: 4 inodes used after 2 files and a dir" 4 \
	"$(rfs_df iused "$M")"
check_eq "default root mode 1777 (as tmpfs)" 1777 "$(stat -c %a "$M")"
check_eq "default root owner = mounting user" "0 0" "$(stat -c '%u %g' "$M")"
rfs_umount

# --- mount 3: k suffix for size and nr_inodes
rfs_mount "size=65536k,nr_inodes=1k"
M=$RFS_MNT
check_eq "size=65536k" 67108864 "$(rfs_total_bytes "$M")"
check_eq "nr_inodes=1k" 1024 "$(rfs_df itotal "$M")"
rfs_umount

# --- mount 4 (regionfs, passthrough run only): datapath=auto as root on this
# kernel (passthrough works, the passthrough run proves it) picks passthrough.
if rfs_is_regionfs && [ "$RFS_DATAPATH" = passthrough ]; then
	rfs_mount "datapath=auto,size=16M"
	check_eq "datapath=auto as root picks passthrough" passthrough \
		"$(getfattr --absolute-names --only-values -n user.regionfs.datapath "$RFS_MNT" 2>&1)"
	echo data >"$RFS_MNT/f"
	check_eq "datapath=auto mount is usable" data "$(cat "$RFS_MNT/f")"
	rfs_umount
fi

# --- mount 5 (regionfs, passthrough run, kernel with FUSE over io_uring):
# uring=on and uring=off choose how requests travel; both serve the same.
# Not when this run keeps requests on /dev/fuse (scripts/test does when
# enable_uring is off: uring=on would turn it on for the whole machine).
if rfs_is_regionfs && [ "$RFS_DATAPATH" = passthrough ] &&
	[ -e /sys/module/fuse/parameters/enable_uring ] &&
	[[ ",${RFS_EXTRA_OPTS:-}," != *,uring=off,* ]]; then
	for u in on off; do
		want=io_uring
		[ $u = off ] && want=/dev/fuse
		rfs_mount "uring=$u,size=16M"
		check_eq "uring=$u: user.regionfs.requests" "$want" \
			"$(getfattr --absolute-names --only-values -n user.regionfs.requests "$RFS_MNT" 2>&1)"
		mkdir "$RFS_MNT/d" && echo "data $u" >"$RFS_MNT/d/f" && truncate -s 1M "$RFS_MNT/d/g"
		check_eq "uring=$u: files, sizes and data" "1048576 data $u" \
			"$(stat -c %s "$RFS_MNT/d/g") $(cat "$RFS_MNT/d/f")"
		rfs_umount
	done
fi

rfs_done
