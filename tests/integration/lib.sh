# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Mount-test harness, sourced by every tests/integration/t-*.sh script.
#
#   . "$(dirname "$0")/lib.sh"
#   rfs_init "$@"            # args: DAEMON_BINARY DATAPATH; re-execs the
#                            # script inside a private mount namespace
#   rfs_mount size=64M       # daemon in the foreground, waits for the mount
#   ok/fail/check ...        # one PASS:/FAIL: line per check (also
#                            # check_eq, check_fails, check_errno, rfs_py,
#                            # rfs_run_prog for C programs)
#   rfs_expect_empty         # optional: df back to 0 bytes / 1 inode (leaks)
#   rfs_umount               # optional: unmount and judge the daemon now
#   rfs_judge_daemon WHEN    # judge a daemon stopped some other way
#   rfs_done                 # teardown (also run by the EXIT trap), exit code
#
# RFS_DAEMON_PREFIX=(cmd args --) before rfs_mount wraps the daemon (prlimit).
#
# Environment:
#   RFS_TEST_TARGET=tmpfs    mount a tmpfs instead of starting the daemon, to
#                            validate the tests themselves; checks specific to
#                            regionfs are skipped (rfs_is_regionfs).
#   RFS_REQUIRE_FUSE=1       "FUSE unavailable" is a failure, not a skip (CI).
#   RFS_EXTRA_OPTS           daemon options added to every mount (e.g.
#                            uring=off for the /dev/fuse runs), unless the
#                            test's own options set the same option.
#   RFS_DAEMON_ARGS          extra daemon arguments (e.g. -d); note that -d
#                            output makes the "no error/warning" check fail.
#   RFS_KEEP_TMP=1           keep the temp dir (daemon logs) after the test.
#
# Rules: private temp mountpoint, own mount namespace, daemon in the
# foreground with its log captured, readiness by polling mountinfo (never a
# blind sleep), teardown that always runs, daemon must exit 0 after umount
# and print no "error"/"warning".

set -u

RFS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RFS_TEST_NAME=$(basename "$0" .sh)
RFS_TEST_TARGET=${RFS_TEST_TARGET:-regionfs}
# The fs type the daemon mounts (overridable only to self-test the harness
# with a mock daemon).
RFS_FSTYPE=${RFS_FSTYPE:-fuse.regionfs}
RFS_PASSES=0
RFS_FAILS=0
RFS_DAEMON_PID=
RFS_MOUNTED=
RFS_MNT=
RFS_LOG=
RFS_MOUNT_SEQ=0
RFS_BG_PIDS=
RFS_TMP=
RFS_DONE=
# Command prefix for the daemon (e.g. prlimit --nofile=256:256 --).
RFS_DAEMON_PREFIX=()
export RFS_TEST_TARGET RFS_LIB_DIR

# ---------------------------------------------------------------- reporting

ok()
{
	RFS_PASSES=$((RFS_PASSES + 1))
	echo "PASS: $*"
}

fail()
{
	RFS_FAILS=$((RFS_FAILS + 1))
	echo "FAIL: $*"
}

# check DESCRIPTION COMMAND... : PASS when COMMAND exits 0.
check()
{
	local desc=$1 out st
	shift
	out=$("$@" 2>&1)
	st=$?
	if [ "$st" -eq 0 ]; then
		ok "$desc"
	else
		fail "$desc (exit $st: $(printf '%s' "$out" | head -c 400 | tr '\n' ' '))"
	fi
}

# check_fails DESCRIPTION COMMAND... : PASS when COMMAND exits nonzero.
check_fails()
{
	local desc=$1 out st
	shift
	out=$("$@" 2>&1)
	st=$?
	if [ "$st" -ne 0 ]; then
		ok "$desc"
	else
		fail "$desc (unexpectedly succeeded: $(printf '%s' "$out" | head -c 200))"
	fi
}

# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq()
{
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1 (expected '$2', got '$3')"
	fi
}

# check_errno DESCRIPTION ERRNO_NAME PYTHON_EXPRESSION
# Evaluates a Python expression (os, errno, fcntl imported; P(x) = path
# under the mount) and passes when it raises OSError with exactly ERRNO_NAME.
check_errno()
{
	local desc=$1 want=$2 expr=$3 got
	got=$(python3 - "$RFS_MNT" "$expr" <<'EOF' 2>&1
import os, sys, errno, fcntl
mnt, expr = sys.argv[1], sys.argv[2]
def P(x):
    return os.path.join(mnt, x)
try:
    eval(expr)
    print("no error")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
EOF
)
	check_eq "$desc: $want" "$want" "$got"
}

rfs_is_tmpfs()
{
	[ "$RFS_TEST_TARGET" = tmpfs ]
}

rfs_is_regionfs()
{
	[ "$RFS_TEST_TARGET" != tmpfs ]
}

# Print the skip reason and exit 77, or fail when RFS_REQUIRE_FUSE=1.
rfs_skip_nofuse()
{
	if [ "${RFS_REQUIRE_FUSE:-0}" = 1 ]; then
		echo "FAIL: FUSE mount tests cannot run here, and RFS_REQUIRE_FUSE=1: $*"
		exit 1
	fi
	echo "SKIP: FUSE mount tests cannot run here: $*"
	exit 77
}

# wait_until SECONDS COMMAND... : poll COMMAND every 50 ms; 0 once it
# succeeds, 1 after SECONDS.
wait_until()
{
	local limit=$(($1 * 20)) i=0
	shift
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -ge "$limit" ] && return 1
		sleep 0.05
	done
	return 0
}

# Run a test program, relay its PASS:/FAIL: lines and count them; a nonzero
# exit or death by signal without a FAIL line also counts as a failure.
# Exit 77 without FAIL lines skips the whole test.
rfs_run_prog()
{
	local out st npass nfail
	out=$("$@" 2>&1)
	st=$?
	printf '%s\n' "$out"
	if [ "$st" -eq 77 ] && ! printf '%s\n' "$out" | grep -q '^FAIL:'; then
		echo "SKIP: $(basename "$1") has nothing to check here"
		exit 77
	fi
	npass=$(printf '%s\n' "$out" | grep -c '^PASS:')
	nfail=$(printf '%s\n' "$out" | grep -c '^FAIL:')
	RFS_PASSES=$((RFS_PASSES + npass))
	RFS_FAILS=$((RFS_FAILS + nfail))
	if [ "$st" -ne 0 ] && [ "$nfail" -eq 0 ]; then
		fail "$(basename "$1") exited with status $st"
	fi
	if [ "$st" -eq 0 ] && [ "$npass" -eq 0 ]; then
		fail "$(basename "$1") reported no checks"
	fi
}

# Run a Python check script from stdin with the rfscheck module importable:
#   rfs_py [ARGS...] <<'EOF' ... EOF     (sys.argv[1] is the mountpoint)
rfs_py()
{
	rfs_run_prog env PYTHONPATH="$RFS_LIB_DIR" PYTHONDONTWRITEBYTECODE=1 \
		python3 - "$RFS_MNT" "$@"
}

# Start a background helper that the teardown will kill if still running.
rfs_bg_track()
{
	RFS_BG_PIDS="$RFS_BG_PIDS $1"
}

# ---------------------------------------------------------------- mounts

# The fstype of the topmost mount at $1 in this namespace, or nothing.
rfs_mount_fstype()
{
	awk -v m="$1" '$5 == m { for (i = 7; i <= NF; i++) if ($i == "-") { t = $(i + 1); break } }
		END { if (t != "") print t }' /proc/self/mountinfo
}

rfs_is_mounted()
{
	[ -n "$(rfs_mount_fstype "$1")" ]
}

# State letter of a process (R, S, Z, ...), nothing when it is gone.
rfs_proc_state()
{
	sed -n 's/^.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null
}

rfs_proc_alive()
{
	local s
	s=$(rfs_proc_state "$1")
	[ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}

rfs_proc_gone()
{
	! rfs_proc_alive "$1"
}

# rfs_daemons_here EXE: the live processes running EXE (a resolved path) in
# this mount namespace, one pid a line: daemons that forked away
# (mount.fuse3, scripts/start).
rfs_daemons_here()
{
	local p ns
	ns=$(readlink /proc/self/ns/mnt)
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$1" ] || continue
		[ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] || continue
		rfs_proc_alive "${p#/proc/}" && echo "${p#/proc/}"
	done
}

# rfs_started_or_gone PID MNT: what a daemon start came to (for wait_until):
# something is mounted on MNT, or the process PID is gone.
rfs_started_or_gone()
{
	rfs_is_mounted "$2" || rfs_proc_gone "$1"
}

# The daemon must refuse to mount: exit 1, one line "regionfs: ..."
# containing each PATTERN, nothing mounted on MNT. RFS_REFUSED_PREFIX=(cmd
# args --) wraps the daemon.
#   rfs_expect_refused DESCRIPTION MNT OPTIONS PATTERN...
RFS_REFUSED_PREFIX=()
rfs_expect_refused()
{
	local desc=$1 mnt=$2 opts=$3 out pid st pat
	shift 3
	"${RFS_REFUSED_PREFIX[@]}" "$RFS_BIN" -f -o "datapath=$RFS_DATAPATH,$opts" "$mnt" \
		</dev/null >"$RFS_TMP/refused.log" 2>&1 &
	pid=$!
	wait_until 30 rfs_started_or_gone "$pid" "$mnt"
	if rfs_is_mounted "$mnt"; then
		fail "$desc: mounted anyway"
		umount "$mnt" 2>/dev/null || umount -l "$mnt"
	fi
	if rfs_proc_alive "$pid"; then
		fail "$desc: daemon still running"
		kill -KILL "$pid"
	fi
	wait "$pid"
	st=$?
	out=$(cat "$RFS_TMP/refused.log")
	check_eq "$desc: exit status 1" 1 "$st"
	check_eq "$desc: one line" 1 "$(printf '%s\n' "$out" | wc -l)"
	for pat in "$@"; do
		case $out in
		"regionfs: "*"$pat"*) ok "$desc: message names '$pat'" ;;
		*) fail "$desc: message '$(printf '%s' "$out" | head -c 600)' does not name '$pat'" ;;
		esac
	done
	check_fails "$desc: nothing mounted" rfs_is_mounted "$mnt"
}

# The daemon must mount: MNT mounted with OPTIONS, then unmounted and the
# daemon gone.
#   rfs_expect_mounts DESCRIPTION MNT OPTIONS
rfs_expect_mounts()
{
	local desc=$1 mnt=$2 opts=$3 pid
	"$RFS_BIN" -f -o "datapath=$RFS_DATAPATH,$opts" "$mnt" </dev/null >"$RFS_TMP/mounts.log" 2>&1 &
	pid=$!
	wait_until 30 rfs_started_or_gone "$pid" "$mnt"
	if rfs_is_mounted "$mnt"; then
		ok "$desc: mounts"
		umount "$mnt"
	else
		fail "$desc: refused: $(cat "$RFS_TMP/mounts.log")"
	fi
	wait_until 10 rfs_proc_gone "$pid" || kill -KILL "$pid"
	wait "$pid"
}

# A test of a regionfs feature: against RFS_TEST_TARGET=tmpfs it has
# nothing to compare, so it skips there (and only there).
#   rfs_regionfs_only REASON
rfs_regionfs_only()
{
	if [ "${RFS_TEST_TARGET:-regionfs}" = tmpfs ]; then
		echo "SKIP: $1"
		exit 77
	fi
}

# Python for unprivileged users: PY, the system interpreter, and a copy of
# rfscheck.py in RFS_TMP that any user can read.
rfs_user_python()
{
	PY=/usr/bin/python3
	[ -x "$PY" ] || PY=$(command -v python3)
	cp "$RFS_LIB_DIR/rfscheck.py" "$RFS_TMP/"
	chmod 644 "$RFS_TMP/rfscheck.py"
}

# A loop-mounted ext4 of SIZE on DIR (made here), with mkfs.ext4's
# MKFS_OPTIONs; its image is kept only by the loop device (gone at umount).
# Status non-zero when this machine cannot make one.
#   rfs_loop_ext4 DIR SIZE [MKFS_OPTION...]
rfs_loop_ext4()
{
	local dir=$1 size=$2 st
	shift 2
	mkdir -p "$dir"
	truncate -s "$size" "$dir.img" &&
		mkfs.ext4 -q -F "$@" "$dir.img" >/dev/null 2>&1 &&
		mount -o loop "$dir.img" "$dir" 2>/dev/null
	st=$?
	rm -f "$dir.img"
	return $st
}

# Strip options tmpfs does not know, for RFS_TEST_TARGET=tmpfs.
rfs_tmpfs_opts()
{
	local IFS=, o out=
	for o in $1; do
		case $o in
		datapath=* | allow_other | default_permissions | "") ;;
		*) out="$out${out:+,}$o" ;;
		esac
	done
	printf '%s' "$out"
}

# rfs_mount [OPTIONS] [MOUNTPOINT]
# OPTIONS: comma-separated daemon options; datapath=$RFS_DATAPATH is added
# unless OPTIONS name a datapath. MOUNTPOINT defaults to $RFS_TMP/mnt.
# Sets RFS_MNT. Fails the test (exit 1) when the mount does not come up.
rfs_mount()
{
	local opts=${1:-} i st
	RFS_MNT=${2:-$RFS_TMP/mnt}
	mkdir -p "$RFS_MNT"
	RFS_MOUNT_SEQ=$((RFS_MOUNT_SEQ + 1))
	RFS_LOG=$RFS_TMP/daemon.$RFS_MOUNT_SEQ.log
	: >"$RFS_LOG"

	if rfs_is_tmpfs; then
		opts=$(rfs_tmpfs_opts "$opts")
		if ! mount -t tmpfs -o "${opts:-defaults}" rfs-test "$RFS_MNT" >>"$RFS_LOG" 2>&1; then
			fail "mount -t tmpfs -o $opts: $(cat "$RFS_LOG")"
			exit 1
		fi
		RFS_MOUNTED=$RFS_MNT
		echo "# mounted tmpfs ($opts) on $RFS_MNT"
		return 0
	fi

	case ",$opts," in
	*,datapath=*) ;;
	*) opts="datapath=$RFS_DATAPATH${opts:+,}$opts" ;;
	esac
	local extra
	for extra in ${RFS_EXTRA_OPTS:+${RFS_EXTRA_OPTS//,/ }}; do
		case ",$opts," in
		*,"${extra%%=*}"=*) ;;
		*) opts="$opts,$extra" ;;
		esac
	done
	echo "# starting: ${RFS_DAEMON_PREFIX[*]:+${RFS_DAEMON_PREFIX[*]} }$RFS_BIN -f ${RFS_DAEMON_ARGS:-} -o $opts $RFS_MNT"
	# shellcheck disable=SC2086
	"${RFS_DAEMON_PREFIX[@]}" "$RFS_BIN" -f ${RFS_DAEMON_ARGS:-} -o "$opts" "$RFS_MNT" </dev/null >>"$RFS_LOG" 2>&1 &
	RFS_DAEMON_PID=$!
	RFS_MOUNTED=$RFS_MNT

	# Readiness: the mount shows up in mountinfo (first access then waits
	# for FUSE_INIT in the kernel). Bounded: 10 s.
	for ((i = 0; i < 200; i++)); do
		if [ "$(rfs_mount_fstype "$RFS_MNT")" = "$RFS_FSTYPE" ]; then
			echo "# daemon pid $RFS_DAEMON_PID ready after ~$((i * 50)) ms"
			return 0
		fi
		if ! rfs_proc_alive "$RFS_DAEMON_PID"; then
			wait "$RFS_DAEMON_PID"
			st=$?
			RFS_DAEMON_PID=
			RFS_MOUNTED=
			fail "daemon exited with status $st before mounting (options $opts)"
			sed 's/^/# daemon: /' "$RFS_LOG"
			exit 1
		fi
		sleep 0.05
	done
	fail "mount of $RFS_MNT did not appear within 10 s"
	exit 1
}

# Unmount the current mount and judge the daemon: it must exit 0 within
# 10 s and its log must contain no "error" or "warning". Idempotent.
rfs_umount()
{
	local mnt=$RFS_MOUNTED
	[ -n "$mnt" ] || return 0

	case $PWD/ in
	"$mnt"/*) cd / || true ;;
	esac
	if rfs_is_mounted "$mnt"; then
		if ! umount "$mnt" 2>"$RFS_TMP/umount.err"; then
			fail "umount $mnt: $(cat "$RFS_TMP/umount.err")"
			umount -l "$mnt" 2>/dev/null || true
		fi
	fi
	rfs_judge_daemon "after umount"
}

# rfs_judge_daemon WHEN [EXPECTED_STATUS]
# The daemon of the current mount is expected to exit (by itself, within
# 10 s) with EXPECTED_STATUS (default 0) and a log without "error" or
# "warning". Killed after 10 s. Forgets the mount either way.
rfs_judge_daemon()
{
	local when=$1 want=${2:-0} pid=$RFS_DAEMON_PID st
	RFS_MOUNTED=
	RFS_DAEMON_PID=
	[ -n "$pid" ] || return 0

	if ! wait_until 10 rfs_proc_gone "$pid"; then
		fail "daemon (pid $pid) still running 10 s $when; killing it"
		kill -TERM "$pid" 2>/dev/null || true
		wait_until 2 rfs_proc_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid"
	st=$?
	if [ "$st" -eq "$want" ]; then
		ok "daemon exited $st $when"
	else
		fail "daemon exit status $when: $st (expected $want)"
	fi
	if grep -qiE 'error|warning' "$RFS_LOG"; then
		fail "daemon log contains error/warning lines:"
		grep -iE 'error|warning' "$RFS_LOG" | head -n 20 | sed 's/^/# daemon: /'
	else
		ok "daemon log has no error/warning"
	fi
	if [ "$st" -ne "$want" ] || [ "${RFS_VERBOSE:-0}" = 1 ]; then
		echo "# daemon log ($RFS_LOG):"
		head -n 100 "$RFS_LOG" | sed 's/^/# daemon: /'
	fi
}

# ---------------------------------------------------------------- lifecycle

rfs__teardown()
{
	local pid
	[ -n "$RFS_DONE" ] && return 0
	RFS_DONE=1
	cd / || true
	for pid in $RFS_BG_PIDS; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rfs_umount || true
	if [ -n "$RFS_TMP" ] && [ -d "$RFS_TMP" ]; then
		if grep -q " ${RFS_TMP}[/ ]" /proc/self/mountinfo; then
			echo "# $RFS_TMP still has mounts; not removing it"
		elif [ "${RFS_KEEP_TMP:-0}" = 1 ]; then
			echo "# kept $RFS_TMP"
		else
			rm -rf --one-file-system "$RFS_TMP" || true
		fi
	fi
}

rfs__exit_trap()
{
	local st=$?
	rfs__teardown
	echo "# $RFS_TEST_NAME ($RFS_TEST_TARGET${RFS_DATAPATH:+, datapath=$RFS_DATAPATH}): $RFS_PASSES passed, $RFS_FAILS failed"
	if [ "$RFS_FAILS" -gt 0 ] && { [ "$st" -eq 0 ] || [ "$st" -eq 77 ]; }; then
		st=1
	fi
	exit "$st"
}

# Can this kernel/namespace mount FUSE at all? A bare mount(2) with our own
# /dev/fuse fd, no daemon involved (closing the fd aborts the connection,
# so the umount cannot block). Failure = "FUSE unavailable" (skip), which
# keeps daemon failures from ever being reported as skips.
rfs__probe_fuse()
{
	local d=$RFS_TMP/fuse-probe err
	mkdir -p "$d"
	if ! exec 3<>/dev/fuse; then
		rm -rf "$RFS_TMP"
		rfs_skip_nofuse "cannot open /dev/fuse"
	fi
	if ! err=$(mount -i -t fuse.rfsprobe -o fd=3,rootmode=40000,user_id=0,group_id=0 \
		rfsprobe "$d" 2>&1); then
		exec 3>&-
		rm -rf "$RFS_TMP"
		rfs_skip_nofuse "a bare FUSE mount fails: $err"
	fi
	exec 3>&-
	umount "$d" 2>/dev/null || umount -l "$d" 2>/dev/null || true
	rmdir "$d" 2>/dev/null || true
}

# rfs_init DAEMON_BINARY DATAPATH
# (DAEMON_BINARY may be empty or "-" with RFS_TEST_TARGET=tmpfs.)
rfs_init()
{
	RFS_BIN=${1:-${RFS_BIN:-}}
	RFS_DATAPATH=${2:-${RFS_DATAPATH:-passthrough}}
	# meson passes paths relative to the build dir: make them absolute.
	case $RFS_BIN in
	"" | - | /*) ;;
	*) RFS_BIN=$PWD/$RFS_BIN ;;
	esac
	export RFS_BIN RFS_DATAPATH

	if [ -z "${RFS_IN_NS:-}" ]; then
		[ "$(id -u)" -eq 0 ] || rfs_skip_nofuse "mount tests need root"
		if rfs_is_regionfs; then
			[ -c /dev/fuse ] || rfs_skip_nofuse "/dev/fuse is missing"
			grep -qw fuse /proc/filesystems || modprobe fuse 2>/dev/null ||
				rfs_skip_nofuse "the kernel has no FUSE"
			if [ -z "$RFS_BIN" ] || [ ! -x "$RFS_BIN" ]; then
				echo "FAIL: daemon binary '$RFS_BIN' missing or not executable"
				exit 1
			fi
		fi
		unshare --mount --propagation private true 2>/dev/null ||
			rfs_skip_nofuse "cannot create a private mount namespace"
		RFS_IN_NS=1 RFS_OUTER_MNTNS=$(readlink /proc/self/ns/mnt) \
			exec unshare --mount --propagation private -- bash "$0" "$@"
		echo "FAIL: cannot exec unshare"
		exit 1
	fi
	# Never mount anything in the caller's namespace.
	if [ "$(readlink /proc/self/ns/mnt)" = "${RFS_OUTER_MNTNS:-}" ]; then
		echo "FAIL: not in a private mount namespace"
		exit 1
	fi
	# Private temp dir for this test (tests run in parallel).
	RFS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rfs-it.$RFS_TEST_NAME.XXXXXX") || exit 1
	chmod 755 "$RFS_TMP"
	if rfs_is_regionfs && [ "$RFS_FSTYPE" = fuse.regionfs ]; then
		rfs__probe_fuse
	fi
	trap rfs__exit_trap EXIT
	trap 'fail "killed by a signal"; exit 1' TERM INT HUP
	echo "# $RFS_TEST_NAME: target=$RFS_TEST_TARGET datapath=$RFS_DATAPATH bin=${RFS_BIN:-none} tmp=$RFS_TMP"
}

# End of the test: teardown and exit with the verdict.
rfs_done()
{
	exit 0
}

# Bytes of a size option value as the daemon/tmpfs parse it (no %).
rfs_size_bytes()
{
	local v=$1 n mult=1
	case $v in
	*[kK]) mult=1024 ;;
	*[mM]) mult=$((1024 * 1024)) ;;
	*[gG]) mult=$((1024 * 1024 * 1024)) ;;
	*[tT]) mult=$((1024 * 1024 * 1024 * 1024)) ;;
	esac
	n=${v%[kKmMgGtT]}
	echo $((n * mult))
}

# Drop clean page cache, dentries and inodes (FUSE: forces FORGET and new
# LOOKUPs, cache mode: re-reads from the daemon). Harmless to other tests.
rfs_drop_caches()
{
	sync -f "$RFS_MNT" 2>/dev/null || true
	echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
}

# Total bytes of the filesystem at $1 (statfs fragment size x blocks).
rfs_total_bytes()
{
	stat -f -c '%S %b' "$1" | awk '{ printf "%.0f\n", $1 * $2 }'
}

# rfs_df FIELD PATH: one df --output field (bytes for size/used/avail).
rfs_df()
{
	df -B1 --output="$1" "$2" | tail -n 1 | tr -d ' '
}

# rfs_expect_empty: the mount holds nothing any more, so within 5 s (FUSE
# releases and forgets asynchronously) df must show 0 bytes and 1 inode (the
# root) in use: catches regions or nodes leaked by the daemon.
rfs__is_empty()
{
	[ "$(rfs_df used "$RFS_MNT")" = 0 ] && [ "$(rfs_df iused "$RFS_MNT")" = 1 ]
}
rfs_expect_empty()
{
	if [ -n "$(ls -A "$RFS_MNT")" ]; then
		fail "mount not empty: $(ls -A "$RFS_MNT" | head -n 5 | tr '\n' ' ')"
		return
	fi
	if wait_until 5 rfs__is_empty; then
		ok "everything freed: df used 0, 1 inode"
	else
		fail "5 s after removing everything: df used $(rfs_df used "$RFS_MNT"), inodes $(rfs_df iused "$RFS_MNT") (expected 0 and 1)"
	fi
}
