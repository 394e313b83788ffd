#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Binding through a path that leads back into the mount (a symlink outside
# pointing at a region) is ELOOP - also when several callers do it at once.
# The daemon checks such a path by walking it (open O_PATH + fstat), and
# walking into its own mount needs a request thread of its own to answer; if
# every request thread is inside such a bind, nobody is left to answer and
# the file system hangs for good (clients in D state, unkillable). The
# target is a bound region, whose attributes are never cached, so every
# fstat must reach the daemon. Runs with the default thread count and with
# max_threads=2 (the smallest allowed; the default on 2 CPUs).
#
# On a hang the test fails, then kills the daemon to free the stuck callers.
#
# Usage: t-backing-loop.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_regionfs_only "file-backed regions are a regionfs feature"
rfs_init "$@"
F=$RFS_TMP/files
mkdir -p "$F"
X=user.regionfs.backing
PY=$(command -v python3)

# The binders: ROUNDS rounds of N threads that start each bind together
# (barrier), each of its own empty region e<round>_<i>, through its own
# symlink to the bound region "target". Prints one errno name per bind.
cat >"$RFS_TMP/binders.py" <<'EOF'
import errno, os, sys, threading

mnt, links, n, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
barrier = threading.Barrier(n)
results = []
lock = threading.Lock()


def binder(i):
    for r in range(rounds):
        barrier.wait()
        try:
            os.setxattr(os.path.join(mnt, "e%d_%d" % (r, i)), "user.regionfs.backing",
                        os.fsencode(os.path.join(links, "link%d" % i)))
            res = "OK"
        except OSError as e:
            res = errno.errorcode.get(e.errno, str(e.errno))
        with lock:
            results.append(res)


threads = [threading.Thread(target=binder, args=(i,)) for i in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("\n".join(results), flush=True)
EOF

N=8
ROUNDS=20

gone()
{
	! rfs_proc_alive "$1"
}

# run_round OPTIONS
run_round()
{
	local opts=$1 i r pid hung=0 res
	rfs_mount "$opts"
	: >"$F/target.dat"
	touch "$RFS_MNT/target"
	setfattr -n "$X" -v "$F/target.dat" "$RFS_MNT/target"
	for ((i = 0; i < N; i++)); do
		ln -sfn "$RFS_MNT/target" "$F/link$i"
		for ((r = 0; r < ROUNDS; r++)); do
			: >"$RFS_MNT/e${r}_$i"
		done
	done
	"$PY" "$RFS_TMP/binders.py" "$RFS_MNT" "$F" "$N" "$ROUNDS" >"$RFS_TMP/binders.out" 2>&1 &
	pid=$!
	rfs_bg_track "$pid"
	# Callers stuck in a FUSE request cannot be killed: poll, bounded.
	if ! wait_until 15 gone "$pid"; then
		hung=1
		fail "[$opts] $N concurrent binds through symlinks into the mount hang (daemon deadlocked on its own mount)"
		for t in /proc/"$RFS_DAEMON_PID"/task/*; do
			echo "# daemon thread $(basename "$t"): $(tr '\n' ' ' <"$t/stack" 2>/dev/null | head -c 160)"
		done
		kill -KILL "$RFS_DAEMON_PID" 2>/dev/null
	else
		ok "[$opts] $ROUNDS x $N concurrent binds through symlinks into the mount all returned"
	fi
	wait "$pid" 2>/dev/null
	res=$(sort "$RFS_TMP/binders.out" | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')
	if [ "$hung" = 0 ]; then
		check_eq "[$opts] every one of them: ELOOP" "ELOOP x$((N * ROUNDS))" "$res"
		check_eq "[$opts] the mount still answers" 0 "$(timeout 5 stat -c %s "$RFS_MNT/target" 2>&1)"
		rm -f "$RFS_MNT"/*
		rfs_expect_empty
	fi
	rfs_umount
}

run_round "size=1M"
run_round "size=1M,max_threads=2"
rfs_done
