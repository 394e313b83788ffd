#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Python multiprocessing on the mount over /dev/shm, spawn start method:
# SharedMemory objects, Locks (named semaphores) and a Value (arena file in
# /dev/shm) shared by 4 processes; exact totals; everything unlinked. See
# shm_mp.py. The interpreter's stderr must stay empty: resource_tracker
# warnings ("leaked shared_memory objects") or tracebacks fail the test.
#
# Usage: t-shm-python.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"
rfs_mount "size=64M" /dev/shm

err=$RFS_TMP/python.stderr
rfs_run_prog env PYTHONPATH="$RFS_LIB_DIR" PYTHONDONTWRITEBYTECODE=1 RFS_PY_ERR="$err" \
	sh -c 'exec "$@" 2>"$RFS_PY_ERR"' sh python3 "$RFS_LIB_DIR/shm_mp.py" /dev/shm
check_eq "python stderr is empty (no resource_tracker warning, no traceback)" "" "$(cat "$err")"
check_eq "/dev/shm empty after the interpreter exited" "" "$(ls -A /dev/shm)"
rfs_expect_empty
rfs_done
