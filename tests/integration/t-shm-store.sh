#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# regionfs-shm with -o store=DIR keeps the program's POSIX shared memory:
# a first run creates a shm_open object and a named semaphore with known
# contents and exits; a second run with the same store finds both, intact,
# and removes them; a third finds /dev/shm empty and the store's tree empty.
# Without store= (checked by t-shm-tool.sh) every run starts empty.
#
# Usage: t-shm-store.sh DAEMON_BINARY DATAPATH REGIONFS_SHM

. "$(dirname "$0")/lib.sh"
rfs_init "$@"
SHM=${3:?regionfs-shm}
case $SHM in /*) ;; *) SHM=$PWD/$SHM ;; esac

if rfs_is_tmpfs; then
	echo "SKIP: regionfs-shm always mounts regionfs"
	exit 77
fi
store=$(mktemp -d "$RFS_TMP/store.XXXXXX")
export REGIONFS=$RFS_BIN

run()
{
	"$SHM" -o "store=$store,datapath=$RFS_DATAPATH" -- python3 -c "$1" 2>&1
}

out=$(run '
import ctypes, mmap, os
fd = os.open("/dev/shm/app-state", os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o640)
os.ftruncate(fd, 8192)
m = mmap.mmap(fd, 8192)
m[4096:4106] = b"persistent"
m.flush()
libc = ctypes.CDLL(None, use_errno=True)
libc.sem_open.restype = ctypes.c_void_p
s = libc.sem_open(b"/app-sem", os.O_CREAT | os.O_EXCL, 0o600, 3)
assert s not in (None, 0xFFFFFFFFFFFFFFFF), ctypes.get_errno()
libc.sem_post(ctypes.c_void_p(s))
print("created")
')
check_eq "first run creates a shm object and a semaphore" "created" "$out"
check "the store holds them after the run" test -f "$store/root/app-state" -a -f "$store/root/sem.app-sem"

out=$(run '
import ctypes, mmap, os, stat
st = os.stat("/dev/shm/app-state")
fd = os.open("/dev/shm/app-state", os.O_RDWR)
m = mmap.mmap(fd, 8192)
libc = ctypes.CDLL(None, use_errno=True)
libc.sem_open.restype = ctypes.c_void_p
s = libc.sem_open(b"/app-sem", 0)
v = ctypes.c_int(-1)
libc.sem_getvalue(ctypes.c_void_p(s), ctypes.byref(v))
print(st.st_size, oct(stat.S_IMODE(st.st_mode)), m[4096:4106].decode(), v.value)
os.unlink("/dev/shm/app-state")
libc.sem_unlink(b"/app-sem")
')
check_eq "second run finds size, mode, data and the semaphore's count" "8192 0o640 persistent 4" "$out"

out=$(run 'import os; print(sorted(os.listdir("/dev/shm")))')
check_eq "third run: /dev/shm empty after the second removed everything" "[]" "$out"
check_eq "the store's tree is empty" "" "$(ls -A "$store/root")"
rfs_done
