#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Two users sharing the mount over /dev/shm, mounted the two ways packaging/
# ships: (1) the ExecStart= line of packaging/systemd/regionfs-devshm.service,
# taken verbatim ("%%" is systemd's "%"), with the build's daemon for
# /usr/sbin/regionfs plus datapath=, as systemd runs Type=notify (READY=1
# and STOPPING=1 to $NOTIFY_SOCKET, abstract or a path, "<N>" priorities
# when stderr is the journal); (2) the line of
# packaging/fstab.example as mount(8) runs it: mount.fuse3 (the helper
# mount.fuse.regionfs links to) with the build dir first on PATH; that
# daemon forks into the background and is waited for after umount.
#
# Users 2001 and 2002 (setpriv, no accounts): objects belong to their
# creator; a 0600 object of A: B's shm_open O_RDWR and O_RDONLY -> EACCES,
# O_CREAT -> EACCES, O_CREAT|O_EXCL -> EEXIST; A's 0644 object: B reads,
# O_RDWR -> EACCES; A's 0666 object: B writes, A reads B's data; B cannot
# remove A's objects in the sticky root, nor A B's: unlink(2) -> EPERM (as
# tmpfs), which glibc's shm_unlink/sem_unlink report as EACCES; root dir
# 1777 root:root, sticky, nosuid,nodev; size=50% of RAM; datapath as asked;
# nothing left after (df back to 0), mount table as before.
# RFS_TEST_TARGET=tmpfs mounts a tmpfs with the same options for both routes.
#
# Usage: t-shm-users.sh DAEMON_BINARY DATAPATH SHM_OP UNIT_FILE FSTAB_EXAMPLE

. "$(dirname "$0")/lib.sh"
rfs_init "$@"
SHM_OP=${3:?shm_op program}
UNIT=${4:?systemd unit}
FSTAB=${5:?fstab example}
for v in SHM_OP UNIT FSTAB; do
	case ${!v} in /*) ;; *) printf -v "$v" '%s' "$PWD/${!v}" ;; esac
done
UA=2001
UB=2002

# A copy of the helper any user can run (the build tree may not be
# reachable for them).
OP=$RFS_TMP/shm_op
if ! cp "$SHM_OP" "$OP" || ! chmod 755 "$OP"; then
	fail "cannot copy $SHM_OP"
	exit 1
fi
as_user()
{
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --clear-groups "$@"
}
op_a() { as_user "$UA" "$OP" "$@" 2>&1; }
op_b() { as_user "$UB" "$OP" "$@" 2>&1; }

# ------------------------------------------------ options from packaging/

# ExecStart: one line, only "%%" escapes, /usr/sbin/regionfs first.
mapfile -t exec_lines < <(sed -n 's/^ExecStart=//p' "$UNIT")
check_eq "unit: exactly one ExecStart= line" 1 "${#exec_lines[@]}"
exec_line=${exec_lines[0]:-}
check_eq "unit: no systemd specifier but %% in ExecStart=" "" \
	"$(printf '%s' "$exec_line" | sed 's/%%//g' | tr -cd %)"
read -r -a unit_argv <<<"${exec_line//%%/%}"
check_eq "unit: ExecStart= runs /usr/sbin/regionfs" /usr/sbin/regionfs "${unit_argv[0]:-}"
check_eq "unit: ExecStart= mounts /dev/shm" /dev/shm "${unit_argv[${#unit_argv[@]} - 1]}"
check_eq "unit: Type=notify" notify "$(sed -n 's/^Type=//p' "$UNIT")"
check_eq "unit: ExecStart= stays in the foreground (-f)" -f "${unit_argv[1]:-}"
unit_opts=
for ((i = 1; i < ${#unit_argv[@]}; i++)); do
	[ "${unit_argv[i]}" = -o ] && unit_opts=${unit_argv[i + 1]:-}
done
echo "# unit: ${unit_argv[*]}"

# fstab: the one non-comment line.
mapfile -t fstab_lines < <(grep -vE '^[[:space:]]*(#|$)' "$FSTAB")
check_eq "fstab.example: exactly one entry" 1 "${#fstab_lines[@]}"
read -r fs_spec fs_file fs_type fs_opts fs_freq fs_passno <<<"${fstab_lines[0]:-}"
check_eq "fstab.example: mountpoint, type, dump, pass" "/dev/shm fuse.regionfs 0 0" \
	"$fs_file $fs_type $fs_freq $fs_passno"
echo "# fstab: $fs_spec $fs_file $fs_type $fs_opts"

# ------------------------------------------------ the checks

# expect DESC WANT COMMAND... : COMMAND's output must be exactly WANT.
expect()
{
	local desc=$1 want=$2
	shift 2
	check_eq "$ROUTE: $desc" "$want" "$("$@" | tr '\n' ' ' | sed 's/ $//')"
}

# df total for size=50%: within 1% of half of MemTotal (as t-mount.sh).
check_half_ram()
{
	local ram total
	ram=$(awk '/^MemTotal:/ { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)
	total=$(rfs_total_bytes /dev/shm)
	if awk -v t="$total" -v r="$ram" 'BEGIN { d = t - r / 2; if (d < 0) d = -d; exit !(d <= r / 100) }'; then
		ok "$ROUTE: size=50% gives half of MemTotal ($total of $ram)"
	else
		fail "$ROUTE: size=50% gives $total bytes, MemTotal is $ram"
	fi
}

user_checks()
{
	local info
	RFS_MNT=/dev/shm
	if rfs_is_regionfs; then
		info=$(awk '$5 == "/dev/shm" { for (i = 7; i <= NF; i++) if ($i == "-") break;
			l = $(i + 1) " " $(i + 2) " " $(i + 3) } END { print l }' /proc/self/mountinfo)
		expect "mount type and source" "fuse.regionfs regionfs" echo "${info% *}"
		case ",${info##* }," in
		*,default_permissions,*allow_other,* | *,allow_other,*default_permissions,*)
			ok "$ROUTE: mounted with default_permissions,allow_other (${info##* })" ;;
		*) fail "$ROUTE: mount options lack default_permissions/allow_other: ${info##* }" ;;
		esac
		flags=$(awk '$5 == "/dev/shm" { l = $6 } END { print l }' /proc/self/mountinfo)
		case ",$flags," in
		*,nosuid,*nodev,* | *,nodev,*nosuid,*) ok "$ROUTE: nosuid,nodev like a system /dev/shm ($flags)" ;;
		*) fail "$ROUTE: mount flags $flags lack nosuid,nodev" ;;
		esac
		expect "datapath" "$RFS_DATAPATH" \
			getfattr --absolute-names --only-values -n user.regionfs.datapath /dev/shm
	fi
	expect "root dir mode, owner" "1777 0 0" stat -c '%a %u %g' /dev/shm
	check "$ROUTE: root dir is sticky" test -k /dev/shm
	check_half_ram

	expect "A creates a 0600 object" OK op_a create /rfs-a-priv 600 A-secret
	expect "A creates a 0644 object" OK op_a create /rfs-a-pub 644 A-public
	expect "A creates a 0666 object" OK op_a create /rfs-a-shared 666 A-shared
	expect "A creates a 0600 semaphore" OK op_a semcreate /rfs-a-sem 600
	expect "B creates a 0600 object" OK op_b create /rfs-b-priv 600 B-secret
	expect "B creates a 0640 semaphore" OK op_b semcreate /rfs-b-sem 640
	expect "owner, mode of A's objects" "2001 2001 600 2001 2001 644 2001 2001 666 2001 2001 600" \
		stat -c '%u %g %a' /dev/shm/rfs-a-priv /dev/shm/rfs-a-pub /dev/shm/rfs-a-shared \
		/dev/shm/sem.rfs-a-sem
	expect "owner, mode of B's objects" "2002 2002 600 2002 2002 640" \
		stat -c '%u %g %a' /dev/shm/rfs-b-priv /dev/shm/sem.rfs-b-sem

	expect "B: shm_open(A's 0600, O_RDWR)" EACCES op_b open /rfs-a-priv rdwr
	expect "B: shm_open(A's 0600, O_RDONLY)" EACCES op_b open /rfs-a-priv rdonly
	expect "B: shm_open(A's 0600, O_RDWR|O_CREAT)" EACCES op_b open /rfs-a-priv rdwr+creat
	expect "B: shm_open(A's 0600, O_RDWR|O_CREAT|O_EXCL)" EEXIST op_b open /rfs-a-priv rdwr+creat+excl
	expect "B: sem_open(A's 0600 semaphore)" EACCES op_b semopen /rfs-a-sem
	expect "B: maps and reads A's 0644 object" "OK A-public" op_b read /rfs-a-pub
	expect "B: shm_open(A's 0644, O_RDWR)" EACCES op_b open /rfs-a-pub rdwr
	expect "B: writes A's 0666 object through a mapping" OK op_b write /rfs-a-shared B-was-here
	expect "A: reads B's write in its 0666 object" "OK B-was-here" op_a read /rfs-a-shared
	# The sticky root refuses with EPERM (as tmpfs); glibc's shm_unlink and
	# sem_unlink turn EPERM into EACCES (POSIX wants EACCES there).
	expect "B: unlink(2) of A's 0600 object in the sticky root" EPERM op_b rawunlink /rfs-a-priv
	expect "B: unlink(2) of A's 0666 object in the sticky root" EPERM op_b rawunlink /rfs-a-shared
	expect "B: unlink(2) of A's semaphore" EPERM op_b rawunlink /sem.rfs-a-sem
	expect "A: unlink(2) of B's 0600 object" EPERM op_a rawunlink /rfs-b-priv
	expect "B: shm_unlink(A's 0600 object)" EACCES op_b unlink /rfs-a-priv
	expect "B: shm_unlink(A's 0666 object)" EACCES op_b unlink /rfs-a-shared
	expect "B: sem_unlink(A's semaphore)" EACCES op_b semunlink /rfs-a-sem
	expect "A: shm_unlink(B's 0600 object)" EACCES op_a unlink /rfs-b-priv
	expect "A's and B's objects all still there" 6 eval 'ls -A /dev/shm | wc -l'
	expect "A: shm_open(B's 0600, O_RDONLY)" EACCES op_a open /rfs-b-priv rdonly
	expect "A: reads its own 0600 object" "OK A-secret" op_a read /rfs-a-priv
	expect "B: reads its own 0600 object" "OK B-secret" op_b read /rfs-b-priv
	expect "B: opens its own semaphore" OK op_b semopen /rfs-b-sem
	expect "root reads A's 0600 object" "OK A-secret" "$OP" read /rfs-a-priv
	expect "A's objects still A's after B's write" "2001 2001" stat -c '%u %g' /dev/shm/rfs-a-shared

	expect "A unlinks its objects" "OK OK OK OK" \
		eval 'echo $(op_a unlink /rfs-a-priv) $(op_a unlink /rfs-a-pub) $(op_a unlink /rfs-a-shared) $(op_a semunlink /rfs-a-sem)'
	expect "B unlinks its objects" "OK OK" \
		eval 'echo $(op_b unlink /rfs-b-priv) $(op_b semunlink /rfs-b-sem)'
	expect "B: shm_open of A's unlinked object" ENOENT op_b open /rfs-a-priv rdonly
	expect "/dev/shm empty" "" ls -A /dev/shm
	rfs_expect_empty
}

# ------------------------------------------------ route 1: the systemd unit

MOUNTS_BEFORE=$(cat /proc/self/mountinfo)

ROUTE=systemd
if rfs_is_tmpfs; then
	rfs_mount "$unit_opts" /dev/shm
else
	RFS_MNT=/dev/shm
	RFS_MOUNT_SEQ=$((RFS_MOUNT_SEQ + 1))
	RFS_LOG=$RFS_TMP/daemon.$RFS_MOUNT_SEQ.log
	# As systemd runs it: $NOTIFY_SOCKET (an abstract "@name" in the
	# passthrough run, a path in the cache run: systemd uses both) gets
	# READY=1 once mounted and STOPPING=1 at teardown; stderr is "the
	# journal" (JOURNAL_STREAM names it), so lines carry a "<N>" priority.
	notify_log=$RFS_TMP/notify
	notify_sock=@rfs-notify-$$-$RANDOM
	[ "$RFS_DATAPATH" = cache ] && notify_sock=$RFS_TMP/notify.sock
	python3 - "$notify_sock" "$notify_log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
a = sys.argv[1]
s.bind("\0" + a[1:] if a.startswith("@") else a)
s.settimeout(120)
with open(sys.argv[2], "w") as f:
    print("BOUND", file=f, flush=True)
    for _ in range(2):
        print(s.recv(4096).decode(), file=f, flush=True)
PY
	notify_pid=$!
	rfs_bg_track "$notify_pid"
	wait_until 10 grep -q BOUND "$notify_log" || fail "systemd: notify listener did not start"
	: >"$RFS_LOG"
	# shellcheck disable=SC2206 # RFS_DAEMON_ARGS is a word list
	cmd=("$RFS_BIN" -f ${RFS_DAEMON_ARGS:-} -o "datapath=$RFS_DATAPATH" "${unit_argv[@]:1}")
	echo "# starting: NOTIFY_SOCKET=$notify_sock ${cmd[*]}"
	NOTIFY_SOCKET=$notify_sock JOURNAL_STREAM=$(stat -c '%d:%i' "$RFS_LOG") \
		"${cmd[@]}" </dev/null >>"$RFS_LOG" 2>&1 &
	RFS_DAEMON_PID=$!
	RFS_MOUNTED=/dev/shm
	if ! wait_until 20 eval 'grep -q READY=1 "$notify_log" || ! rfs_proc_alive $RFS_DAEMON_PID'; then
		fail "systemd: no READY=1 within 20 s"
		exit 1
	fi
	if ! rfs_proc_alive "$RFS_DAEMON_PID"; then
		fail "systemd: the daemon exited before mounting"
		sed 's/^/# daemon: /' "$RFS_LOG"
		rfs_judge_daemon "before mounting"
		exit 1
	fi
	# Type=notify: mounted by the time READY=1 is sent.
	check_eq "systemd: /dev/shm mounted when READY=1 arrives" fuse.regionfs "$(rfs_mount_fstype /dev/shm)"
	check_eq "systemd: the mount line with the journal's info priority" "<6>regionfs: mounted on /dev/shm" \
		"$(grep -o '^<6>regionfs: mounted on /dev/shm' "$RFS_LOG")"
fi
user_checks
rfs_umount
if rfs_is_regionfs; then
	wait_until 20 eval '[ "$(wc -l <"$notify_log")" -ge 3 ]'
	check_eq "systemd: notifications" "BOUND READY=1 STOPPING=1" "$(tr '\n' ' ' <"$notify_log" | sed 's/ $//')"
fi
check_eq "systemd: mount table as before" "$MOUNTS_BEFORE" "$(cat /proc/self/mountinfo)"

# ------------------------------------------------ route 2: fstab -> mount.fuse3

ROUTE=fstab
if rfs_is_tmpfs; then
	rfs_mount "$fs_opts" /dev/shm
	user_checks
	rfs_umount
	rfs_done
fi

builddir=$(dirname "$RFS_BIN")
daemon_exe=$(readlink -f "$RFS_BIN")
asan_log=$RFS_TMP/asan-fstab
echo "# running: PATH=$builddir:\$PATH mount.fuse3 $fs_spec $fs_file -t $fs_type -o $fs_opts,datapath=$RFS_DATAPATH"
if ! out=$(PATH="$builddir:$PATH" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$asan_log" \
	UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$asan_log" \
	timeout 20 mount.fuse3 "$fs_spec" "$fs_file" -t "$fs_type" -o "$fs_opts,datapath=$RFS_DATAPATH" </dev/null 2>&1); then
	fail "fstab: mount.fuse3 failed: $out"
	exit 1
fi
ok "fstab: mount.fuse3 exited 0"
check_eq "fstab: mount.fuse3 printed nothing" "" "$out"
# Type=forking / mount(8) contract: mounted and serving once the foreground
# process has exited.
check_eq "fstab: /dev/shm mounted when mount.fuse3 returns" fuse.regionfs "$(rfs_mount_fstype /dev/shm)"
RFS_MOUNTED=/dev/shm
RFS_DAEMON_PID=
# The daemon forked into the background: find it by executable and namespace.
dpids=$(rfs_daemons_here "$daemon_exe")
check_eq "fstab: one background daemon in this namespace" 1 "$(printf '%s\n' "$dpids" | grep -c .)"
dpid=$(printf '%s\n' "$dpids" | head -n 1)
[ -n "$dpid" ] && rfs_bg_track "$dpid" # killed by the teardown if still there
if [ -n "$dpid" ]; then
	# mount.fuse3 appends its own flags (",dev,suid" as root).
	cmdline=$(tr '\0' ' ' <"/proc/$dpid/cmdline" | sed 's/ $//')
	case $cmdline in
	"regionfs regionfs /dev/shm -o $fs_opts,datapath=$RFS_DATAPATH" | "regionfs regionfs /dev/shm -o $fs_opts,datapath=$RFS_DATAPATH,"*)
		ok "fstab: daemon command line: $cmdline" ;;
	*) fail "fstab: daemon command line: $cmdline (expected regionfs regionfs /dev/shm -o $fs_opts,datapath=${RFS_DATAPATH}[,...])" ;;
	esac
	check_eq "fstab: daemon is detached (parent is not mount.fuse3)" yes \
		"$(ppid=$(awk '{ print $4 }' "/proc/$dpid/stat"); [ "$(cat "/proc/$ppid/comm" 2>/dev/null)" != mount.fuse3 ] && echo yes)"
fi
if ! wait_until 10 eval '[ "$(rfs_mount_fstype /dev/shm)" = fuse.regionfs ]'; then
	fail "fstab: /dev/shm is not fuse.regionfs: $(rfs_mount_fstype /dev/shm)"
	exit 1
fi
user_checks

if umount /dev/shm 2>"$RFS_TMP/umount.err"; then
	ok "fstab: umount /dev/shm"
else
	fail "fstab: umount /dev/shm: $(cat "$RFS_TMP/umount.err")"
	umount -l /dev/shm 2>/dev/null || true
fi
RFS_MOUNTED=
if [ -n "$dpid" ]; then
	if wait_until 10 eval '! rfs_proc_alive '"$dpid"; then
		ok "fstab: background daemon exited after umount"
		RFS_BG_PIDS=
	else
		fail "fstab: background daemon $dpid still running 10 s after umount"
	fi
fi
check_eq "fstab: mount table as before" "$MOUNTS_BEFORE" "$(cat /proc/self/mountinfo)"
check_eq "fstab: no sanitizer report from the background daemon" "" "$(cat "$asan_log".* 2>/dev/null | head -n 40)"
rfs_done
