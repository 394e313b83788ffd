#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# libregionfs (src/lib) against a fresh mount: the cmocka program
# test_libregionfs.c with REGIONFS_MOUNT set to it.
#
# Usage: t-lib.sh DAEMON_BINARY DATAPATH TEST_PROGRAM

. "$(dirname "$0")/../integration/lib.sh"
rfs_regionfs_only "libregionfs needs the user.regionfs.* attributes"
PROG=$3
rfs_init "$@"
rfs_mount "size=64M,mode=1777,allow_other"
check "libregionfs: every cmocka test passes" env REGIONFS_MOUNT="$RFS_MNT" "$PROG"
rfs_done
