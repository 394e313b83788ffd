#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# scripts/start, the quick start, run twice on one mountpoint (with a space
# in its name, as mountinfo escapes it), with the build directory of the
# daemon under test (RFS_BUILDDIR):
#  - first run: exit 0, the mountpoint is a fuse.regionfs mount served by
#    one daemon, which daemonized (its parent is not the script); the
#    output names the mountpoint and its data path; scripts/deps installed
#    nothing (everything is present where tests run);
#  - second run: exit 0, says "already mounted", and the mount table and
#    the daemons are exactly as after the first (no second daemon stacked);
#  - a daemon killed under the mount: a third run exits 1 with a line
#    telling to unmount, and starts nothing;
#  - umount ends the daemon.
#
# Usage: t-start.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"

if rfs_is_tmpfs; then
	echo "SKIP: scripts/start always mounts regionfs"
	exit 77
fi
top=$(cd "$RFS_LIB_DIR/../.." && pwd)
builddir=$(cd "$(dirname "$RFS_BIN")" && pwd)
daemon_exe=$(readlink -f "$RFS_BIN")
mnt="$RFS_TMP/quick start"

# The daemons of this build in this mount namespace.
daemons() { rfs_daemons_here "$daemon_exe"; }
# "N TYPE": how many mounts are on $mnt, and the type of the topmost
# (mountinfo writes the space as \040; awk -v would turn it back).
mounts_on_mnt()
{
	RFS_WANT=${mnt// /\\040} awk '$5 == ENVIRON["RFS_WANT"] { n++;
		for (i = 7; i <= NF; i++) if ($i == "-") { t = $(i + 1); break } }
		END { print n + 0, t }' /proc/self/mountinfo
}
start()
{
	RFS_BUILDDIR=$builddir timeout -k 2 120 "$top/scripts/start" "$@" </dev/null 2>&1
}

check_eq "no daemon before" "" "$(daemons)"
out=$(start "$mnt" -o "datapath=$RFS_DATAPATH")
st=$?
printf '%s\n' "$out" | sed 's/^/# start 1: /'
check_eq "first run: exit 0" 0 "$st"
RFS_MOUNTED=$mnt # the teardown unmounts it
check_eq "first run: one fuse.regionfs mount on the mountpoint" "1 fuse.regionfs" "$(mounts_on_mnt)"
first=$(daemons)
for p in $first; do rfs_bg_track "$p"; done
check_eq "first run: one daemon" 1 "$(printf '%s\n' "$first" | grep -c .)"
check_eq "first run: says where and how" "regionfs is mounted on $mnt ($RFS_DATAPATH data path" \
	"$(printf '%s\n' "$out" | grep -o "^regionfs is mounted on .* data path")"
check_eq "first run: scripts/deps installed nothing" "" "$(printf '%s\n' "$out" | grep installing)"

table=$(cat /proc/self/mountinfo)
out=$(start "$mnt")
st=$?
printf '%s\n' "$out" | sed 's/^/# start 2: /'
check_eq "second run: exit 0" 0 "$st"
check_eq "second run: says already mounted" 1 "$(printf '%s\n' "$out" | grep -c "already mounted on $mnt")"
check_eq "second run: mount table unchanged" "$table" "$(cat /proc/self/mountinfo)"
check_eq "second run: the same one daemon" "$first" "$(daemons)"

# Stop the daemon under the mount: a stale mount (ENOTCONN) is named, not stacked on.
if [ -n "$first" ]; then
	kill -9 $first
	wait_until 20 eval '[ -z "$(daemons)" ]' || fail "the killed daemon is still there"
	out=$(start "$mnt")
	st=$?
	printf '%s\n' "$out" | sed 's/^/# start 3: /'
	check_eq "stale mount: exit 1" 1 "$st"
	check_eq "stale mount: tells to unmount" 1 "$(printf '%s\n' "$out" | grep -c "daemon is gone; unmount it first")"
	check_eq "stale mount: mount table unchanged" "$table" "$(cat /proc/self/mountinfo)"
	check_eq "stale mount: no daemon started" "" "$(daemons)"
	check "stale mount: umount" umount "$mnt"
fi

# A fresh start after that, then umount ends its daemon.
out=$(start "$mnt" -o "datapath=$RFS_DATAPATH")
check_eq "after umount: started again" "1 fuse.regionfs" "$(mounts_on_mnt)"
second=$(daemons)
for p in $second; do rfs_bg_track "$p"; done
check "umount" umount "$mnt"
RFS_MOUNTED=
check "umount ends the daemon" wait_until 20 eval '[ -z "$(daemons)" ]'
rfs_done
