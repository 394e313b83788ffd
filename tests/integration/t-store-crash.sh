#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Crash safety of the persistent store (-o store=DIR): a seeded random
# workload runs while the daemon is SIGKILLed (40 kill points per data path:
# after a random delay, at the Nth call of a store system call or of a reply
# injected with strace, or while the daemon loads the store); after each
# kill the same DIR is mounted again and checked against the workload's
# journal: consistent namespace (names as journaled, the op in flight done
# or not), nlink, flushed data intact (per-page version stamps), DIR/root
# mirrors the mount, DIR/tmp empty, no leaked file in DIR's file system.
# Also: a new store killed at each step of its initialization must mount at
# the next start. See crash.py.
#
# DIR lives on a loop-mounted ext4 of its own (exact inode counts for the
# leak check); without loop devices, on a tmpfs (leaks not counted).
#
# Usage: t-store-crash.sh DAEMON_BINARY DATAPATH
# Environment: RFS_CRASH_SEED (replay), RFS_CRASH_POINTS (40),
# RFS_CRASH_BUDGET (seconds, 45), RFS_CRASH_SELFTEST=data|store|name|leak
# (must fail), RFS_CRASH_STRACE=0 (no kill points at injected syscalls),
# RFS_CRASH_INIT=0 (none while a new store is initialized).

. "$(dirname "$0")/lib.sh"
rfs_init "$@"

if rfs_is_tmpfs; then
	echo "SKIP: store= is regionfs-only"
	exit 77
fi

# The connection's abort file, to cut a dead daemon's mount (optional).
if [ ! -e /sys/fs/fuse/connections/0 ] && ! grep -q ' /sys/fs/fuse/connections ' /proc/self/mountinfo; then
	mount -t fusectl fusectl /sys/fs/fuse/connections 2>/dev/null || true
fi

L=$RFS_TMP/storefs
exact=0
if rfs_loop_ext4 "$L" 256M -N 8192; then
	exact=1
elif mount -t tmpfs -o size=256M rfs-crash-store "$L"; then
	echo "# note: no loop-mounted ext4; DIR on tmpfs, leaks not counted"
else
	fail "no file system for the store"
	exit 1
fi

rfs_run_prog python3 "$RFS_LIB_DIR/crash.py" "$RFS_BIN" "$RFS_DATAPATH" "$RFS_TMP" "$L" "$exact"

umount "$L" || umount -l "$L"
rfs_done
