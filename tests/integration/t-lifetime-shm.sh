#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `regionfs-shm -o lifetime=creator -- PROGRAM`: a Python program that makes
# a multiprocessing.shared_memory.SharedMemory and is killed with SIGKILL
# (its whole process group, resource_tracker included, as an OOM kill of a
# container would) leaves nothing in /dev/shm; the same program with a tmpfs
# as /dev/shm leaks its segment (asserted: that is the difference).
#
# Usage: t-lifetime-shm.sh DAEMON_BINARY DATAPATH REGIONFS_SHM

. "$(dirname "$0")/lib.sh"
rfs_regionfs_only "regionfs-shm always mounts regionfs"
rfs_init "$@"
SHM=${3:?regionfs-shm}
case $SHM in /*) ;; *) SHM=$PWD/$SHM ;; esac
DP=$RFS_DATAPATH

# The program: one SharedMemory with data in it, then it waits to be killed.
cat >"$RFS_TMP/maker.py" <<'EOF'
import sys, time
from multiprocessing import shared_memory
shm = shared_memory.SharedMemory(name="rfs_lifetime_test", create=True, size=1 << 20)
shm.buf[:5] = b"hello"
print("ready", flush=True)
time.sleep(3600)
EOF

# The driver, run with /dev/shm as the program sees it: start the maker in a
# session of its own, SIGKILL the whole group once it is ready, wait until
# every process of the group is gone, then wait (up to 30 s) for /dev/shm to
# be empty and print what is left.
cat >"$RFS_TMP/driver.sh" <<'EOF'
#!/bin/bash
out=$(mktemp)
setsid python3 "$1" >"$out" &
i=0
until grep -q ready "$out"; do
	i=$((i + 1)); [ $i -gt 600 ] && { echo "maker never ready"; exit 1; }; sleep 0.05
done
pgid=$(ps -o pgid= -p $! | tr -d ' ')
kill -KILL -- "-$pgid"
wait
i=0
while pgrep -g "$pgid" >/dev/null; do
	i=$((i + 1)); [ $i -gt 600 ] && { echo "group $pgid still alive"; exit 1; }; sleep 0.05
done
echo "before: $(ls -A /dev/shm | tr '\n' ' ')"
i=0
while [ -n "$(ls -A /dev/shm)" ] && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.05; done
echo "after: $(ls -A /dev/shm | tr '\n' ' ')"
rm -f "$out"
EOF
chmod +x "$RFS_TMP/driver.sh"

out=$(timeout -k 2 90 "$SHM" -o "datapath=$DP,lifetime=creator" -- "$RFS_TMP/driver.sh" "$RFS_TMP/maker.py" 2>&1)
st=$?
printf '%s\n' "$out" | sed 's/^/# regionfs-shm: /'
check_eq "regionfs-shm exit status" 0 "$st"
check_eq "regionfs-shm -o lifetime=creator: nothing left in /dev/shm after SIGKILL" "after: " \
	"$(printf '%s\n' "$out" | grep '^after:' | sed 's/ *$/ /')"

# The same on a tmpfs as /dev/shm (in this test's own namespace): it leaks.
if ! mount -t tmpfs -o size=8M,mode=1777 rfs-lifetime-tmpfs /dev/shm; then
	fail "cannot mount a tmpfs on /dev/shm in the test namespace"
	exit 1
fi
RFS_MOUNTED=/dev/shm # the teardown unmounts it
# The driver waits its full 30 s for an empty /dev/shm on tmpfs: shorten it by
# checking right after the group is gone (nothing can remove it any more).
out=$(sed 's/-lt 600 \]; do i=/-lt 0 ]; do i=/' "$RFS_TMP/driver.sh" | bash -s "$RFS_TMP/maker.py" 2>&1)
printf '%s\n' "$out" | sed 's/^/# tmpfs: /'
check_eq "tmpfs: the killed program's segment leaks" "after: rfs_lifetime_test " \
	"$(printf '%s\n' "$out" | grep '^after:' | sed 's/ *$/ /')"
rfs_done
