#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# regionfs-shm: runs a program with a fresh regionfs as its /dev/shm in a
# private mount namespace.
#  - the program (shm_tool probe) sees /dev/shm as an empty fuse.regionfs
#    with the requested datapath and shares shm_open/mmap/sem_open objects
#    with a child; the daemon is the one next to regionfs-shm; -d shows a
#    daemon log without error/warning
#  - exit status: 0, 3, 137 for a program that SIGKILLs itself while it
#    has a region open and mapped, 143 for SIGTERM
#  - the program may follow the options without "--" (the words after it
#    are its own); --version/-V print "regionfs-shm VERSION" (the daemon's),
#    also without root
#  - bad options/daemon: exit 1 with a message naming the culprit, the
#    program never runs
#  - isolation: the caller's /dev/shm (here a tmpfs holding a marker, in the
#    test's own namespace) and the caller's mount table are unchanged after
#    every run (and while two runs are inside); objects left behind by a
#    run are gone in the next one; two concurrent runs have their own
#    namespaces and do not see each other's objects; a run whose program
#    leaves a background process holding a region still ends promptly
#
# Usage: t-shm-tool.sh DAEMON_BINARY DATAPATH REGIONFS_SHM SHM_TOOL

. "$(dirname "$0")/lib.sh"
rfs_init "$@"
SHM=${3:?regionfs-shm}
TOOL=${4:?shm_tool program}
case $SHM in /*) ;; *) SHM=$PWD/$SHM ;; esac
case $TOOL in /*) ;; *) TOOL=$PWD/$TOOL ;; esac
DP=$RFS_DATAPATH

if rfs_is_tmpfs; then
	echo "SKIP: regionfs-shm always mounts regionfs"
	exit 77
fi
for f in "$SHM" "$TOOL"; do
	if [ ! -x "$f" ]; then
		fail "$f missing or not executable"
		exit 1
	fi
done

# The caller's /dev/shm for this test: a tmpfs in our private namespace with
# a marker in it (the real /dev/shm is never written).
if ! mount -t tmpfs -o size=1M,mode=1777 rfs-shm-outer /dev/shm; then
	fail "cannot mount a tmpfs on /dev/shm in the test namespace"
	exit 1
fi
RFS_MOUNTED=/dev/shm # the teardown unmounts it
echo outer >/dev/shm/outer-marker

mountinfo_now()
{
	# mount ID, parent ID, mountpoint, fs type, source of every mount
	awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break; print $1, $2, $5, $(i + 1), $(i + 2) }' \
		/proc/self/mountinfo
}
MOUNTS_BEFORE=$(mountinfo_now)

# The caller's side must be exactly as before every run.
check_outer()
{
	local what=$1
	check_eq "$what: caller's mount table unchanged" "$MOUNTS_BEFORE" "$(mountinfo_now)"
	check_eq "$what: caller's /dev/shm untouched" "outer-marker" "$(ls -A /dev/shm)"
}

# run_shm OUT ERR ARGS... : run regionfs-shm, stdout/stderr to files,
# bounded to 20 s; prints the exit status.
run_shm()
{
	local out=$1 err=$2 st
	shift 2
	timeout -k 2 20 "$SHM" "$@" </dev/null >"$out" 2>"$err"
	st=$?
	echo "$st"
}

O=$RFS_TMP/out
E=$RFS_TMP/err

# --- 1. a real POSIX shm user, default daemon lookup, -d log
st=$(run_shm "$O" "$E" -d -o "datapath=$DP" -- "$TOOL" probe "$DP")
sed 's/^/# probe: /' "$E"
rfs_run_prog cat "$O"
check_eq "probe: exit status" 0 "$st"
if grep -qiE 'error|warning' "$E"; then
	fail "probe: daemon log (regionfs-shm -d) has error/warning lines"
else
	ok "probe: daemon log (regionfs-shm -d) has no error/warning"
fi
check_outer "probe"

# --- 2. what was left behind is gone; a fresh mount is empty
st=$(run_shm "$O" "$E" -o "datapath=$DP" -- sh -c 'ls -A /dev/shm; df -B1 --output=used /dev/shm | tail -n 1')
check_eq "next run: exit status" 0 "$st"
check_eq "next run: /dev/shm empty, 0 bytes used (nothing left from the probe)" "0" "$(tr -d ' ' <"$O")"
check_eq "next run: nothing on stderr" "" "$(cat "$E")"

# --- 3. the daemon is the regionfs next to regionfs-shm, in the program's namespace
want_exe=$(readlink -f "$(dirname "$SHM")/regionfs")
st=$(run_shm "$O" "$E" -o "datapath=$DP" -- sh -c '
	ns=$(readlink /proc/self/ns/mnt)
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] && readlink "$p/exe"
	done | sort -u')
check_eq "daemon lookup: exit status" 0 "$st"
if grep -qxF "$want_exe" "$O"; then
	ok "daemon lookup: $want_exe serves the program's /dev/shm"
else
	fail "daemon lookup: no $want_exe in the program's namespace (saw: $(tr '\n' ' ' <"$O"))"
fi

# --- 4. datapath option passed through
for want in cache "$DP"; do
	st=$(run_shm "$O" "$E" -o "datapath=$want" -- \
		getfattr --absolute-names --only-values -n user.regionfs.datapath /dev/shm)
	check_eq "-o datapath=$want: exit status" 0 "$st"
	check_eq "-o datapath=$want: user.regionfs.datapath inside" "$want" "$(cat "$O")"
done
st=$(run_shm "$O" "$E" -o "datapath=$DP,size=8M" -- df -B1 --output=size /dev/shm)
check_eq "-o size=8M: size inside" 8388608 "$(tail -n 1 "$O" | tr -d ' ')"
check_outer "options"

# --- 4b. the program without "--", --version
st=$(run_shm "$O" "$E" -o "datapath=$DP" getfattr --absolute-names --only-values \
	-n user.regionfs.datapath /dev/shm)
check_eq "no --: exit status" 0 "$st"
check_eq "no --: the program ran inside (its options are its own)" "$DP" "$(cat "$O")"
st=$(run_shm "$O" "$E" -d sh -c 'echo "$*"' sh -o -d --version)
check_eq "no --: words after the program are its arguments" "0:-o -d --version" "$st:$(cat "$O")"
want_version=$("$RFS_BIN" --version | sed 's/^regionfs //')
for v in --version -V; do
	st=$(run_shm "$O" "$E" "$v")
	check_eq "$v: exit 0, name and the daemon's version" "0:regionfs-shm $want_version:" \
		"$st:$(cat "$O"):$(cat "$E")"
done
check_eq "--version needs no root" "regionfs-shm $want_version" \
	"$(setpriv --reuid 2001 --regid 2001 --clear-groups "$SHM" --version 2>&1)"
check_outer "no --, --version"

# --- 5. exit status passthrough
st=$(run_shm "$O" "$E" -o "datapath=$DP" -- true)
check_eq "exit status of true" 0 "$st"
st=$(run_shm "$O" "$E" -o "datapath=$DP" -- "$TOOL" exit 3)
check_eq "exit status 3 (program with a mapped region)" 3 "$st"
check_eq "exit 3: nothing on stderr" "" "$(cat "$E")"
st=$(run_shm "$O" "$E" -o "datapath=$DP" -- "$TOOL" kill)
check_eq "program killed by SIGKILL while mapping a region: 128+9" 137 "$st"
check_eq "SIGKILL: no complaint from regionfs-shm (daemon exited 0)" "" "$(grep regionfs "$E")"
st=$(run_shm "$O" "$E" -o "datapath=$DP" -- sh -c 'kill -TERM $$')
check_eq "program killed by SIGTERM: 128+15" 143 "$st"
check_outer "exit statuses"
st=$(run_shm "$O" "$E" -o "datapath=$DP" -- ls -A /dev/shm)
check_eq "after the killed program: a fresh /dev/shm is empty" "0:" "$st:$(cat "$O")"

# --- 6. bad options and a bad daemon: exit 1, culprit named, program not run
ran=$RFS_TMP/ran
bad_run()
{
	local desc=$1 name=$2 st
	shift 2
	rm -f "$ran"
	st=$(run_shm "$O" "$E" "$@")
	check_eq "$desc: exit status" 1 "$st"
	if grep -qF -- "$name" "$E"; then
		ok "$desc: message names '$name'"
	else
		fail "$desc: message does not name '$name': $(head -c 300 "$E" | tr '\n' ' ')"
	fi
	check_eq "$desc: program did not run" no "$([ -e "$ran" ] && echo yes || echo no)"
}
bad_run "unknown daemon option" bogus_opt -o "datapath=$DP,bogus_opt" -- touch "$ran"
bad_run "bad size= value" 12zz -o "datapath=$DP,size=12zz" -- touch "$ran"
bad_run "bad datapath= value" sideways -o datapath=sideways -- touch "$ran"
bad_run "unknown regionfs-shm option" --frobnicate --frobnicate -- touch "$ran"
bad_run "unknown option before a program, no --" "'-x'" -x touch "$ran"
bad_run "-o without a value" "-o" -o
st=$(run_shm "$O" "$E")
check_eq "no program: exit status" 1 "$st"
rm -f "$ran"
st=$(REGIONFS=$RFS_TMP/no-such-daemon run_shm "$O" "$E" -o "datapath=$DP" -- touch "$ran")
check_eq "REGIONFS=missing daemon: exit status" 1 "$st"
check_eq "REGIONFS=missing daemon: program did not run" no "$([ -e "$ran" ] && echo yes || echo no)"
st=$(REGIONFS=$RFS_BIN run_shm "$O" "$E" -o "datapath=$DP" -- sh -c 'test -z "$(ls -A /dev/shm)"')
check_eq "REGIONFS=the daemon: works" 0 "$st"
check_outer "bad options"

# --- 7. two concurrent runs: own namespaces, isolated from each other and
# from the caller while they run
T=$RFS_TMP/sync
mkdir -p "$T"
iso_prog='touch "/dev/shm/$1"; readlink /proc/self/ns/mnt >"$2/$1"
	i=0; while [ ! -e "$2/go" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	ls -A /dev/shm'
run_shm "$RFS_TMP/outa" "$RFS_TMP/erra" -o "datapath=$DP" -- sh -c "$iso_prog" sh a "$T" >"$RFS_TMP/sta" &
pa=$!
rfs_bg_track "$pa"
run_shm "$RFS_TMP/outb" "$RFS_TMP/errb" -o "datapath=$DP" -- sh -c "$iso_prog" sh b "$T" >"$RFS_TMP/stb" &
pb=$!
rfs_bg_track "$pb"
if wait_until 10 test -s "$T/a" -a -s "$T/b"; then
	ok "concurrent runs: both programs running"
else
	fail "concurrent runs: programs did not start within 10 s"
fi
my_ns=$(readlink /proc/self/ns/mnt)
check_eq "concurrent runs: each in its own mount namespace" "3 distinct" \
	"$(printf '%s\n' "$my_ns" "$(cat "$T/a")" "$(cat "$T/b")" | sort -u | grep -c .) distinct"
check_outer "while two runs are inside"
touch "$T/go"
wait "$pa" "$pb"
check_eq "concurrent runs: both exit 0" "0 0" "$(cat "$RFS_TMP/sta") $(cat "$RFS_TMP/stb")"
check_eq "concurrent run A sees only its own object" a "$(cat "$RFS_TMP/outa")"
check_eq "concurrent run B sees only its own object" b "$(cat "$RFS_TMP/outb")"
check_outer "after two concurrent runs"

# --- 8. a program that leaves a background process holding a region open
start=$(date +%s)
holding=$RFS_TMP/holding
st=$(run_shm "$O" "$E" -o "datapath=$DP" -- sh -c '
	echo held >/dev/shm/held
	(exec 3</dev/shm/held && cat <&3 >"$1" && sleep 3) >/dev/null 2>&1 &
	i=0; while [ ! -s "$1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	exit 5' sh "$holding")
elapsed=$(($(date +%s) - start))
check_eq "leftover holder: exit status of the program" 5 "$st"
check_eq "leftover holder: the background process had the region open" held "$(cat "$holding" 2>&1)"
check "leftover holder: regionfs-shm returned within 10 s ($elapsed s)" test "$elapsed" -lt 10
check_eq "leftover holder: nothing on stderr (daemon exited 0)" "" "$(cat "$E")"
check_outer "leftover holder"

rm -f /dev/shm/outer-marker
rfs_done
