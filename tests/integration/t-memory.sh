#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Memory comes back: after 20,000 regions are created and removed, the
# daemon's resident size (VmRSS) returns to within 8 MiB of what it was
# before them, and three such rounds do not make it grow (at most 3 MiB
# between the first and the last round: allocator placement, not the
# regions, whose bookkeeping is ~10 MiB per round). Without hash tables
# that shrink and malloc_trim() it kept 10 MiB more after each round.
#
# Not a timing test: each reading waits (polls, up to 30 s) until every
# region is gone (df -i back to the root) and the size settles under the
# bound. Sanitizer builds keep freed memory in a quarantine and release it
# lazily: the daemon runs with ASAN_OPTIONS quarantine_size_mb=0,
# thread_local_quarantine_size_kb=0 and allocator_release_to_os_interval_ms=0
# appended (ignored by a plain build), so the same bounds hold there.
# On tmpfs only the rounds run.
#
# Usage: t-memory.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"
N=20000
ROUNDS=3
BOUND_KB=$((8 * 1024)) # over the size before the regions
DRIFT_KB=$((3 * 1024)) # from the first round to the last
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0:allocator_release_to_os_interval_ms=0"
rfs_mount "size=256M"
M=$RFS_MNT

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$RFS_DAEMON_PID/status"; }
inodes_used() { stat -f -c '%c %d' "$M" | awk '{ print $1 - $2 }'; }
rss_at_most() { [ "$(rss_kb)" -le "$1" ]; }
all_freed() { [ "$(inodes_used)" = 1 ]; }

# round N: create N regions, then remove them all; wait until the daemon
# freed every node.
round()
{
	python3 - "$M" "$1" <<'EOF'
import os, sys
m, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    os.close(os.open("%s/r%06d" % (m, i), os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
for i in range(n):
    os.unlink("%s/r%06d" % (m, i))
EOF
	if ! wait_until 30 all_freed; then
		fail "regions still counted 30 s after removal: $(inodes_used) inodes in use"
		return 1
	fi
}

# Warm up: worker threads, their arenas and the rings exist before "start".
round 200 || exit 1
if rfs_is_regionfs; then
	start=$(rss_kb)
	echo "# daemon VmRSS before: $start kB"
fi
first=
for ((r = 1; r <= ROUNDS; r++)); do
	round "$N" || break
	rfs_is_regionfs || continue
	wait_until 30 rss_at_most $((start + BOUND_KB))
	now=$(rss_kb)
	echo "# round $r: $N regions created and removed, daemon VmRSS $now kB"
	if [ "$now" -le $((start + BOUND_KB)) ]; then
		ok "round $r: VmRSS $now kB within 8 MiB of $start kB"
	else
		fail "round $r: VmRSS $now kB, more than 8 MiB over $start kB"
	fi
	[ -n "$first" ] || first=$now
done
if rfs_is_regionfs && [ -n "$first" ]; then
	wait_until 30 rss_at_most $((first + DRIFT_KB))
	check "no growth across $ROUNDS rounds (first $first kB, last $(rss_kb) kB)" \
		rss_at_most $((first + DRIFT_KB))
fi
check_eq "nothing left on the mount" "" "$(ls -A "$M")"
rfs_expect_empty
rfs_done
