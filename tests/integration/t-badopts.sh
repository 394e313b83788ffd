#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Bad command lines: every unknown or malformed option makes the daemon exit
# 1 with a one-line message naming the option, and nothing gets mounted.
# datapath=passthrough as an unprivileged user fails the same way (no silent
# fallback). With RFS_TEST_TARGET=tmpfs only "mount fails, nothing mounted"
# is checked, for options tmpfs rejects too.
#
# Usage: t-badopts.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"

M=$RFS_TMP/mnt
mkdir -p "$M"

# run_expect_exit DESC WANT_STATUS NAME_IN_MESSAGE CMD...
# Runs CMD (a daemon invocation) in the background; it must exit by itself
# within 10 s with WANT_STATUS, print exactly one line on stderr containing
# NAME_IN_MESSAGE (case-insensitive), and never mount $M.
run_expect_exit()
{
	local desc=$1 want=$2 name=$3 pid st mounted="" nlines
	shift 3
	"$@" </dev/null >"$RFS_TMP/out" 2>"$RFS_TMP/err" &
	pid=$!
	wait_until 10 rfs_started_or_gone "$pid" "$M"
	if rfs_is_mounted "$M"; then
		mounted=1
		fail "$desc: mounted $M (expected exit $want, nothing mounted)"
		umount "$M" 2>/dev/null || umount -l "$M" 2>/dev/null || true
	fi
	if rfs_proc_alive "$pid"; then
		[ -n "$mounted" ] || fail "$desc: still running after 10 s"
		wait_until 5 rfs_proc_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid"
	st=$?
	if [ "$want" = '!0' ]; then
		if [ "$st" -ne 0 ]; then
			ok "$desc: nonzero exit ($st)"
		else
			fail "$desc: exit status 0 (expected nonzero)"
		fi
	else
		check_eq "$desc: exit status" "$want" "$st"
	fi
	[ -n "$name" ] || return 0
	nlines=$(grep -c . "$RFS_TMP/err")
	check_eq "$desc: exactly one line on stderr" 1 "$nlines"
	if grep -qiF -- "$name" "$RFS_TMP/err"; then
		ok "$desc: message names '$name'"
	else
		fail "$desc: stderr does not name '$name': $(head -c 300 "$RFS_TMP/err")"
	fi
	if [ "$nlines" != 1 ]; then
		sed 's/^/# stderr: /' "$RFS_TMP/err" | head -n 20
	fi
	check_fails "$desc: nothing mounted" rfs_is_mounted "$M"
}

if rfs_is_tmpfs; then
	# Only validates this script's plumbing: tmpfs rejects these too.
	for opt in bogus=1 frobnicate mode=0999 nr_inodes=xyz size=abc uid=abc; do
		check_fails "tmpfs rejects -o $opt" mount -t tmpfs -o "$opt" rfs-test "$M"
		check_fails "tmpfs -o $opt: nothing mounted" rfs_is_mounted "$M"
		umount "$M" 2>/dev/null
	done
	rfs_done
fi

# option  name-expected-in-the-message
while read -r opt name; do
	run_expect_exit "-o $opt" 1 "$name" "$RFS_BIN" -f -o "$opt" "$M"
done <<'EOF'
bogus=1 bogus
frobnicate frobnicate
datapath=cache,frobnicate frobnicate
size=abc size
size=12Q size
size=-5 size
size= size
size=99999999999999999999999 size
size=150% 100%
size=101% 100%
size=0 size
size=0% size
size=17179869184T 16
nr_inodes=xyz nr_inodes
nr_inodes=5% nr_inodes
mode=0999 mode
mode=abc mode
uid=abc uid
gid=-x gid
datapath=fast datapath
datapath= datapath
uring=maybe uring
uring= uring
lifetime=forever lifetime
lifetime= lifetime
lifetime=Creator lifetime
subtype= subtype
subtype=a/b subtype
subtype=a,b=1 b=1
auto_unmount umount
huge=deny huge
huge= huge
nr_blocks=100 size=
mpol=default mpol
inode32 inode32
noswap noswap
quota quota
usrquota quota
EOF

run_expect_exit "-o without a value" '!0' "" "$RFS_BIN" -f -o
check_fails "no mountpoint: nonzero exit" "$RFS_BIN" -f -o size=1M
check_fails "no mountpoint: nothing mounted" rfs_is_mounted "$M"
run_expect_exit "missing mountpoint directory" '!0' "" "$RFS_BIN" -f "$RFS_TMP/does-not-exist"
check_fails "missing mountpoint: nothing mounted" rfs_is_mounted "$RFS_TMP/does-not-exist"
mkdir -p "$RFS_TMP/store"
run_expect_exit "huge=always with store=" 1 "store=" "$RFS_BIN" -f -o "huge=always,store=$RFS_TMP/store" "$M"
run_expect_exit "unknown flag --bogus" '!0' "bogus" "$RFS_BIN" -f --bogus "$M"

# datapath=passthrough needs CAP_SYS_ADMIN: as nobody, exit 1 with a clear
# message (naming passthrough), no fallback mount.
cp "$RFS_BIN" "$RFS_TMP/regionfs"
chmod 755 "$RFS_TMP/regionfs"
M=$RFS_TMP/mnt-nobody
mkdir -p "$M"
chown 65534:65534 "$M"
run_expect_exit "datapath=passthrough as uid 65534" 1 passthrough \
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$RFS_TMP/regionfs" -f -o datapath=passthrough "$M"
# huge= needs the private tmpfs, which only root can mount
run_expect_exit "huge=always as uid 65534" 1 huge \
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$RFS_TMP/regionfs" -f -o datapath=cache,huge=always "$M"

rfs_done
