#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# How requests reach the daemon (uring=auto|on|off) when the machine says
# no: the fuse module's enable_uring off (root turns it on for auto, leaves
# it alone for off), io_uring disabled for everyone (kernel.io_uring_disabled
# = 2: auto falls back to /dev/fuse quietly, uring=on refuses with one line
# and mounts nothing). Both switches are global, so meson runs this test
# alone (is_parallel: false), and the trap puts them back.
#
# Usage: t-uring.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"

KNOB=/sys/module/fuse/parameters/enable_uring
SYSCTL=/proc/sys/kernel/io_uring_disabled
if ! rfs_is_regionfs || [ ! -w "$KNOB" ] || [ ! -w "$SYSCTL" ]; then
	# Only a kernel without FUSE over io_uring gets here: nothing to test.
	ok "no FUSE over io_uring on this kernel: uring= has nothing to switch"
	rfs_done
fi
knob0=$(cat "$KNOB")
sysctl0=$(cat "$SYSCTL")
restore()
{
	echo "$knob0" >"$KNOB" 2>/dev/null || true
	echo "$sysctl0" >"$SYSCTL" 2>/dev/null || true
}
# Keep the exit status for lib.sh's trap, which reads it.
trap 'st=$?; restore; (exit $st); rfs__exit_trap' EXIT

requests()
{
	getfattr --absolute-names --only-values -n user.regionfs.requests "$RFS_MNT" 2>&1
}

# usable: a directory, a sized region, data through it.
usable()
{
	mkdir "$RFS_MNT/d" && truncate -s 64K "$RFS_MNT/d/r" && echo "via $1" >"$RFS_MNT/d/f"
	check_eq "$1: the mount works" "65536 via $1" \
		"$(stat -c %s "$RFS_MNT/d/r") $(cat "$RFS_MNT/d/f")"
}

# --- enable_uring off: uring=off leaves it off, auto turns it on
echo N >"$KNOB"
rfs_mount "uring=off,size=16M"
check_eq "uring=off: requests on /dev/fuse" /dev/fuse "$(requests)"
usable "uring=off"
rfs_umount
check_eq "uring=off leaves enable_uring alone" N "$(cat "$KNOB")"

rfs_mount "size=16M"
check_eq "uring=auto as root turns enable_uring on" Y "$(cat "$KNOB")"
check_eq "uring=auto: requests over io_uring" io_uring "$(requests)"
usable "uring=auto"
rfs_umount

# --- a daemon confined to CPU 0 (a cpuset, CPUAffinity=): the queue of CPU 1
# is served by a thread that may not run there; callers on CPU 1 still get
# every answer.
RFS_DAEMON_PREFIX=(taskset -c 0)
rfs_mount "size=16M"
RFS_DAEMON_PREFIX=()
check_eq "daemon on CPU 0: requests over io_uring" io_uring "$(requests)"
for cpu in 0 1; do
	taskset -c $cpu sh -c "mkdir '$RFS_MNT/c$cpu' && truncate -s 8K '$RFS_MNT/c$cpu/r' &&
		echo cpu$cpu > '$RFS_MNT/c$cpu/f' && ls '$RFS_MNT/c$cpu' >/dev/null"
	check_eq "daemon on CPU 0, caller on CPU $cpu: answered" "8192 cpu$cpu" \
		"$(taskset -c $cpu stat -c %s "$RFS_MNT/c$cpu/r") $(taskset -c $cpu cat "$RFS_MNT/c$cpu/f")"
done
rfs_umount

# --- io_uring disabled for every process
echo 2 >"$SYSCTL"
rfs_mount "size=16M"
check_eq "io_uring disabled, uring=auto: requests on /dev/fuse" /dev/fuse "$(requests)"
check_eq "the mount log line names requests=/dev/fuse" 1 "$(grep -c "requests=/dev/fuse," "$RFS_LOG")"
usable "the /dev/fuse fallback"
rfs_umount

M=$RFS_TMP/mnt
mkdir -p "$M"
"$RFS_BIN" -f -o "uring=on,datapath=$RFS_DATAPATH,size=16M" "$M" </dev/null \
	>"$RFS_TMP/out" 2>"$RFS_TMP/err"
check_eq "io_uring disabled, uring=on: exit status 1" 1 $?
check_eq "uring=on: one line on stderr" 1 "$(wc -l <"$RFS_TMP/err")"
case $(cat "$RFS_TMP/err") in
*uring=on*"io_uring is not available"*) ok "uring=on: the line says why ($(cat "$RFS_TMP/err"))" ;;
*) fail "uring=on: unexpected message: $(cat "$RFS_TMP/err")" ;;
esac
check_fails "uring=on refused: nothing mounted" rfs_is_mounted "$M"

restore
rfs_done
