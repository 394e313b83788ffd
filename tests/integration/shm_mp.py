# SPDX-License-Identifier: GPL-2.0-or-later
"""Python multiprocessing on regionfs as /dev/shm (run by t-shm-python.sh).

multiprocessing.shared_memory.SharedMemory is shm_open + ftruncate + mmap;
with the spawn start method every multiprocessing Lock/RLock is a named POSIX
semaphore (sem_open: /dev/shm/sem.mp-*) that the children open by name, and
the memory of a multiprocessing.Value lives in an arena file created in
/dev/shm and unlinked at once (children map it through an inherited fd).

NWORKERS spawned processes attach to three SharedMemory objects by name and
increment counters under a Lock (plain read-modify-write, so any lost update
means the lock did not exclude), a Value under its own lock, and fill their
own block. The parent checks the exact totals, closes and unlinks every
object, and checks /dev/shm is empty. stderr must stay empty (the shell
checks): a leaked SharedMemory or semaphore makes the resource_tracker warn.

Usage: shm_mp.py DIR     (DIR must be /dev/shm, the test mount)
"""

import errno
import gc
import multiprocessing
import os
import sys
from multiprocessing import shared_memory

NWORKERS = 4
ITER = 2000
BLOCK = 4096


def u64(buf, off):
    return int.from_bytes(buf[off:off + 8], "little")


def put_u64(buf, off, v):
    buf[off:off + 8] = v.to_bytes(8, "little")


def worker(idx, names, lock, value, niter):
    shms = [shared_memory.SharedMemory(name=n) for n in names]
    counters, blocks, note = (s.buf for s in shms)
    if bytes(note[:17]) != b"parent-wrote-this":
        raise SystemExit(3)
    for _ in range(niter):
        with lock:
            v = u64(counters, 0)
            os.sched_yield()  # widen the window a broken lock would leave open
            put_u64(counters, 0, v + 1)
            put_u64(counters, 8 + 8 * idx, u64(counters, 8 + 8 * idx) + 1)
        with value.get_lock():
            value.value += 1
    blocks[idx * BLOCK:(idx + 1) * BLOCK] = bytes([idx + 1]) * BLOCK
    del counters, blocks, note
    for s in shms:
        s.close()


def main():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from rfscheck import eq, ok, raises, succeeds, done

    mnt = sys.argv[1]
    eq(os.stat(mnt).st_ino, os.stat("/dev/shm").st_ino, "the test mount is /dev/shm")
    eq(sorted(os.listdir("/dev/shm")), [], "/dev/shm empty at the start")

    ctx = multiprocessing.get_context("spawn")
    eq(ctx.get_start_method(), "spawn", "start method")

    counters = shared_memory.SharedMemory(name="rfs_mp_counters", create=True, size=4096)
    blocks = shared_memory.SharedMemory(name="rfs_mp_blocks", create=True, size=NWORKERS * BLOCK)
    note = shared_memory.SharedMemory(create=True, size=100)  # a generated name
    shms = [counters, blocks, note]
    names = [s.name for s in shms]
    for s in shms:
        ok(os.path.exists("/dev/shm/" + s.name), "SharedMemory %s is a file in /dev/shm" % s.name)
    eq(os.stat("/dev/shm/" + note.name).st_size, 100, "size of the 100-byte SharedMemory")
    eq(os.stat("/dev/shm/rfs_mp_counters").st_mode & 0o777, 0o600, "SharedMemory mode 0600")
    raises(errno.EEXIST, shared_memory.SharedMemory, name="rfs_mp_counters", create=True, size=4096,
           msg="SharedMemory(create=True) of an existing name")
    eq(bytes(counters.buf[:64]), bytes(64), "a new SharedMemory reads as zeros")
    note.buf[:17] = b"parent-wrote-this"

    lock = ctx.Lock()
    value = ctx.Value("q", 0)
    sems = [n for n in os.listdir("/dev/shm") if n.startswith("sem.")]
    eq(len(sems), 2, "the Lock and the Value's lock are named semaphores in /dev/shm (%s)" % sems)
    with open("/proc/self/maps") as f:
        arena = [line for line in f if "/dev/shm/pym-" in line and "(deleted)" in line]
    ok(len(arena) >= 1, "the Value's arena is an unlinked file in /dev/shm that stays mapped")

    procs = [ctx.Process(target=worker, args=(i, names, lock, value, ITER)) for i in range(NWORKERS)]
    for p in procs:
        p.start()
    for i, p in enumerate(procs):
        p.join(60)
        eq(p.exitcode, 0, "worker %d exit code" % i)

    eq(u64(counters.buf, 0), NWORKERS * ITER, "counter incremented under the Lock by %d processes" % NWORKERS)
    for i in range(NWORKERS):
        eq(u64(counters.buf, 8 + 8 * i), ITER, "worker %d's own counter" % i)
    eq(value.value, NWORKERS * ITER, "multiprocessing.Value after %d processes" % NWORKERS)
    for i in range(NWORKERS):
        eq(bytes(blocks.buf[i * BLOCK:(i + 1) * BLOCK]), bytes([i + 1]) * BLOCK, "block of worker %d" % i)

    # A later attacher sees the same data; then close and unlink everything.
    again = shared_memory.SharedMemory(name="rfs_mp_counters")
    eq(u64(again.buf, 0), NWORKERS * ITER, "a new attacher sees the counter")
    again.close()
    for s in shms:
        s.close()
        succeeds(s.unlink, msg="unlink SharedMemory %s" % s.name)
        ok(not os.path.exists("/dev/shm/" + s.name), "%s gone from /dev/shm" % s.name)
    raises(errno.ENOENT, shared_memory.SharedMemory, name="rfs_mp_counters",
           msg="attach to an unlinked SharedMemory")

    del lock, value, procs, p
    gc.collect()
    eq(sorted(os.listdir("/dev/shm")), [], "/dev/shm empty once the locks are collected")
    done()


if __name__ == "__main__":
    main()
