#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# File-backed regions, memory and durability: runs mem_backing (write/mmap
# through a bound region reach the user's file and are durable after
# fsync/fdatasync/msync; outside changes are seen; growth, unlink, MAP_PRIVATE,
# EBUSY/ENOTEMPTY/EEXIST) against a fresh mount with a small size= that the
# bound files exceed. The users' files live in the test's temp dir, outside
# the mount, on the disk file system of $TMPDIR.
#
# Usage: t-backing-mem.sh DAEMON_BINARY DATAPATH PROGRAM

. "$(dirname "$0")/lib.sh"
rfs_regionfs_only "file-backed regions are a regionfs feature"
rfs_init "$@"
prog=${3:?program}
case $prog in
/*) ;;
*) prog=$PWD/$prog ;;
esac
if [ ! -x "$prog" ]; then
	fail "test program $prog missing"
	exit 1
fi

size=1M
files=$RFS_TMP/files
mkdir -p "$files"
rfs_mount "size=$size"
out=$(rfs_run_prog "$prog" "$RFS_MNT" "$files" "$(rfs_size_bytes "$size")")
printf '%s\n' "$out"
RFS_PASSES=$((RFS_PASSES + $(printf '%s\n' "$out" | grep -c '^PASS:')))
RFS_FAILS=$((RFS_FAILS + $(printf '%s\n' "$out" | grep -c '^FAIL:')))
# A crash (SIGBUS) after some FAIL line would otherwise go unnoticed.
if ! printf '%s\n' "$out" | grep -q '^# [0-9]* passed, [0-9]* failed$'; then
	fail "$(basename "$prog") did not run to its end (killed by a signal?)"
fi
check_eq "the users' files are all still there" \
	"coherent.dat err.dat err2.dat fresh.dat grown.dat mapped.dat reopened.dat statted.dat unlinked.dat unlinked2.dat written.dat" \
	"$(ls "$files" | tr '\n' ' ' | sed 's/ $//')"
rfs_expect_empty
rfs_done
