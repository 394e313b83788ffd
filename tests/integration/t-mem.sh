#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Runs one memory-semantics C program (mem_*.c, shm_sem.c) against a fresh
# mount: PROGRAM MOUNTPOINT [SIZE_BYTES]. The program prints one PASS:/FAIL:
# line per check.
#
# Usage: t-mem.sh DAEMON_BINARY DATAPATH OPTIONS PROGRAM
#   OPTIONS: mount options ("-" for none); size=N is also passed to the
#   program in bytes; the pseudo-option at=DIR mounts on DIR instead of a
#   temp dir (e.g. at=/dev/shm; only ever inside the private namespace).

. "$(dirname "$0")/lib.sh"
rfs_init "$@"
opts=${3:--}
prog=${4:?program}
[ "$opts" = - ] && opts=

mnt_at=
size_args=()
mopts=
IFS=, read -r -a optv <<<"$opts"
for o in "${optv[@]}"; do
	case $o in
	at=*) mnt_at=${o#at=} ;;
	size=*) size_args=("$(rfs_size_bytes "${o#size=}")") && mopts="$mopts${mopts:+,}$o" ;;
	*) mopts="$mopts${mopts:+,}$o" ;;
	esac
done

case $prog in
/*) ;;
*) prog=$PWD/$prog ;;
esac
if [ ! -x "$prog" ]; then
	fail "test program $prog missing"
	exit 1
fi
rfs_mount "$mopts" "$mnt_at"
rfs_run_prog "$prog" "$RFS_MNT" "${size_args[@]}"
rfs_expect_empty
rfs_done
