#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# How requests reach the daemon (uring=auto|on|off) when the machine says
# no. By default nothing machine-wide is changed (other programs, and other
# test runs, depend on the switches): the fuse module's enable_uring and
# kernel.io_uring_disabled are only read, and must read the same at the end;
# io_uring refused is given to the daemon alone (NO_URING: a seccomp filter
# making io_uring_setup fail with EPERM, as io_uring_disabled=2 does):
#  - uring=off: requests on /dev/fuse, enable_uring left as it was;
#  - uring=auto with the switches on (as here): requests over io_uring,
#    also for a daemon confined to CPU 0 answering callers on CPU 1;
#  - io_uring refused: uring=auto falls back to /dev/fuse quietly,
#    uring=on refuses with one line, exit 1, nothing mounted.
# RFS_TEST_MACHINE_WIDE=1 also flips the real switches: enable_uring off
# (uring=off leaves it off, auto as root turns it on) and
# io_uring_disabled=2; a trap puts both back, and meson runs this test
# alone (is_parallel: false).
#
# Usage: t-uring.sh DAEMON_BINARY DATAPATH NO_URING

. "$(dirname "$0")/lib.sh"
rfs_init "$@"
NO_URING=${3:?no_uring program}
case $NO_URING in /*) ;; *) NO_URING=$PWD/$NO_URING ;; esac
MACHINE_WIDE=${RFS_TEST_MACHINE_WIDE:-0}

KNOB=/sys/module/fuse/parameters/enable_uring
SYSCTL=/proc/sys/kernel/io_uring_disabled
if ! rfs_is_regionfs || [ ! -w "$KNOB" ] || [ ! -w "$SYSCTL" ]; then
	# Only a kernel without FUSE over io_uring gets here: nothing to test.
	ok "no FUSE over io_uring on this kernel: uring= has nothing to switch"
	rfs_done
fi
knob0=$(cat "$KNOB")
sysctl0=$(cat "$SYSCTL")
echo "# enable_uring=$knob0 io_uring_disabled=$sysctl0 RFS_TEST_MACHINE_WIDE=$MACHINE_WIDE"
restore()
{
	echo "$knob0" >"$KNOB" 2>/dev/null || true
	echo "$sysctl0" >"$SYSCTL" 2>/dev/null || true
}
if [ "$MACHINE_WIDE" = 1 ]; then
	# Keep the exit status for lib.sh's trap, which reads it.
	trap 'st=$?; restore; (exit $st); rfs__exit_trap' EXIT
fi

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

# uring=on refused before mounting, one line saying why; PREFIX... runs the daemon.
uring_on_refused()
{
	local M=$RFS_TMP/mnt st
	mkdir -p "$M"
	"$@" "$RFS_BIN" -f -o "uring=on,datapath=$RFS_DATAPATH,size=16M" "$M" </dev/null \
		>"$RFS_TMP/out" 2>"$RFS_TMP/err"
	st=$?
	check_eq "io_uring refused, uring=on: exit status 1" 1 "$st"
	check_eq "uring=on: one line on stderr" 1 "$(wc -l <"$RFS_TMP/err")"
	case $(cat "$RFS_TMP/err") in
	*uring=on*"io_uring is not available"*) ok "uring=on: the line says why ($(cat "$RFS_TMP/err"))" ;;
	*) fail "uring=on: unexpected message: $(cat "$RFS_TMP/err")" ;;
	esac
	check_fails "uring=on refused: nothing mounted" rfs_is_mounted "$M"
}

# --- uring=off leaves enable_uring alone (switched off first: machine-wide only)
[ "$MACHINE_WIDE" = 1 ] && echo N >"$KNOB"
knob_before=$(cat "$KNOB")
rfs_mount "uring=off,size=16M"
check_eq "uring=off: requests on /dev/fuse" /dev/fuse "$(requests)"
usable "uring=off"
rfs_umount
check_eq "uring=off leaves enable_uring alone" "$knob_before" "$(cat "$KNOB")"

# --- uring=auto: io_uring when the machine offers it (as root it turns
# enable_uring on: only machine-wide, or where it is on already)
if [ "$MACHINE_WIDE" = 1 ] || { [ "$knob0" = Y ] && [ "$sysctl0" != 2 ]; }; then
	rfs_mount "size=16M"
	check_eq "uring=auto as root: enable_uring on" Y "$(cat "$KNOB")"
	check_eq "uring=auto: requests over io_uring" io_uring "$(requests)"
	usable "uring=auto"
	rfs_umount

	# A daemon confined to CPU 0 (a cpuset, CPUAffinity=): the queue of
	# CPU 1 is served by a thread that may not run there; callers on CPU 1
	# still get every answer.
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
else
	echo "# enable_uring=$knob0, io_uring_disabled=$sysctl0: uring=auto over io_uring needs RFS_TEST_MACHINE_WIDE=1 here"
fi

# --- io_uring refused to the daemon: seccomp (default), or for every
# process (kernel.io_uring_disabled=2, machine-wide only)
if [ "$MACHINE_WIDE" = 1 ]; then
	echo 2 >"$SYSCTL"
	refuse=()
else
	refuse=("$NO_URING")
fi
RFS_DAEMON_PREFIX=("${refuse[@]}")
rfs_mount "size=16M"
RFS_DAEMON_PREFIX=()
check_eq "io_uring refused, uring=auto: requests on /dev/fuse" /dev/fuse "$(requests)"
check_eq "the mount log line names requests=/dev/fuse" 1 "$(grep -c "requests=/dev/fuse," "$RFS_LOG")"
usable "the /dev/fuse fallback"
rfs_umount
# uring=on first turns enable_uring on: only where that changes nothing.
if [ "$MACHINE_WIDE" = 1 ] || [ "$knob0" = Y ]; then
	uring_on_refused "${refuse[@]}"
fi

if [ "$MACHINE_WIDE" = 1 ]; then
	restore
else
	check_eq "machine-wide switches untouched (enable_uring, io_uring_disabled)" \
		"$knob0 $sysctl0" "$(cat "$KNOB") $(cat "$SYSCTL")"
fi
rfs_done
