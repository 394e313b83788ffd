#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Concurrency: several processes create, write, map, rename over a shared
# name, link, unlink, mkdir/rmdir the same names at once (a multi-threaded
# daemon must stay consistent). Only the errnos a POSIX filesystem may give
# in such races are allowed; afterwards the namespace is consistent, every
# surviving region has intact data, and df/df -i return to empty.
#
# Usage: t-stress.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"
rfs_mount "size=128M"
M=$RFS_MNT

rfs_py <<'EOF'
import os, errno, mmap, sys, time
from rfscheck import *

NPROC, ITERS = 4, 250
ALLOWED = {errno.ENOENT, errno.EEXIST, errno.ENOTEMPTY}

def worker(w):
    bad = []
    def note(op, e):
        if e.errno not in ALLOWED:
            bad.append("%s: %s" % (op, ename(e.errno)))
    for i in range(ITERS):
        mine = P("w%d-%d" % (w, i))
        data = (b"%d:%d:" % (w, i)) * 200
        try:
            fd = os.open(mine, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, data)
            if i % 5 == 0:
                os.ftruncate(fd, 8192)
                m = mmap.mmap(fd, 8192)
                m[4096:4100] = b"MMAP"
                m.close()
            os.close(fd)
            got = read_file(mine)
            if not got.startswith(data):
                bad.append("own data wrong at %d" % i)
            # rename over a shared hot name; whoever wins, the name holds
            # one complete file of one writer
            os.rename(mine, P("hot"))
        except OSError as e:
            note("create/write/rename", e)
        try:
            d = read_file(P("hot"))
            head = d.split(b":")[:2]
            if len(head) == 2 and not d.startswith(b"%s:%s:" % tuple(head) * 200):
                bad.append("hot holds a torn file")
        except OSError as e:
            note("read hot", e)
        try:
            os.link(P("hot"), P("hotlink%d" % w))
            os.unlink(P("hotlink%d" % w))
        except OSError as e:
            note("link", e)
        try:
            os.mkdir(P("dir"))
        except OSError as e:
            note("mkdir", e)
        try:
            fd = os.open(P("dir/f%d" % w), os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
            os.unlink(P("dir/f%d" % w))
        except OSError as e:
            note("create in dir", e)
        try:
            os.rmdir(P("dir"))
        except OSError as e:
            note("rmdir", e)
        if i % 50 == 0:
            try:
                os.listdir(MNT)
            except OSError as e:
                note("listdir", e)
    return bad

pids = []
for w in range(NPROC):
    r, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            bad = worker(w)
        except Exception as e:
            bad = ["exception %r" % e]
        os.write(wr, ("\n".join(bad[:20]) + "\n#%d" % len(bad)).encode())
        os._exit(0)
    os.close(wr)
    pids.append((pid, r))
t0 = time.monotonic()
for w, (pid, r) in enumerate(pids):
    out = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        out += chunk
    os.close(r)
    _, st = os.waitpid(pid, 0)
    text = out.decode()
    nbad = int(text.rsplit("#", 1)[1]) if "#" in text else -1
    ok(st == 0 and nbad == 0, "worker %d: no unexpected errors (%d)%s" % (
        w, nbad, "" if nbad == 0 else ": " + text.replace("\n", "; ")[:400]))
print("# %d workers x %d iterations in %.1f s" % (NPROC, ITERS, time.monotonic() - t0))

# consistency afterwards
names = sorted(os.listdir(MNT))
ok(all(n in ("hot", "dir") for n in names), "only 'hot' (and maybe 'dir') left: %r" % names[:10])
if "hot" in names:
    d = read_file(P("hot"))
    head = d.split(b":")[:2]
    ok(d.startswith(b"%s:%s:" % tuple(head) * 200), "the surviving region is intact")
    eq(os.stat(P("hot")).st_nlink, 1, "nlink of the survivor")
for n in names:
    p = P(n)
    os.rmdir(p) if os.path.isdir(p) else os.unlink(p)
done()
EOF

# Reservations under contention: workers grow and shrink their own regions
# at random on a small mount and touch every page after each successful
# grow. The sum of the sizes can never exceed size=, so no page fault may
# ever fail (SIGBUS kills a worker). tmpfs reserves only with fallocate.
rfs_py <<'EOF'
import errno, mmap, os, random, signal
from rfscheck import *

NPROC, ITERS, SIZE = 4, 25, 128 << 20
pids = []
for w in range(NPROC):
    pid = os.fork()
    if pid == 0:
        rnd = random.Random(w)
        fd = os.open(P("res%d" % w), os.O_RDWR | os.O_CREAT, 0o600)
        nospc = 0
        for i in range(ITERS):
            n = rnd.randrange(1, 48) << 20
            try:
                if is_regionfs():
                    os.ftruncate(fd, n)
                else:
                    os.ftruncate(fd, min(n, os.fstat(fd).st_size))
                    os.posix_fallocate(fd, 0, n)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    os._exit(3)
                nospc += 1
                continue
            m = mmap.mmap(fd, n)
            for off in range(0, n, 4096):
                m[off] = 1
            m.close()
        os.close(fd)
        os._exit(0)
    pids.append(pid)
for w, pid in enumerate(pids):
    _, st = os.waitpid(pid, 0)
    if os.WIFSIGNALED(st):
        ok(False, "reservation worker %d killed by %s" % (w, signal.Signals(os.WTERMSIG(st)).name))
    else:
        eq(os.WEXITSTATUS(st), 0, "reservation worker %d: only ENOSPC refusals, no fault" % w)
total = sum(os.stat(P("res%d" % w)).st_size for w in range(NPROC))
ok(total <= SIZE, "sum of region sizes %d <= size=" % total)
for w in range(NPROC):
    os.unlink(P("res%d" % w))
done()
EOF

# Concurrent O_APPEND writers: no record lost or torn.
rfs_py <<'EOF'
import os
from rfscheck import *
NPROC, N = 4, 500
pids = []
for w in range(NPROC):
    pid = os.fork()
    if pid == 0:
        fd = os.open(P("log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        for i in range(N):
            os.write(fd, b"%d:%05d:%s\n" % (w, i, b"x" * 50))
        os.close(fd)
        os._exit(0)
    pids.append(pid)
for pid in pids:
    os.waitpid(pid, 0)
lines = read_file(P("log")).split(b"\n")[:-1]
eq(len(lines), NPROC * N, "O_APPEND from %d processes: every record present" % NPROC)
ok(all(len(l) == 58 for l in lines), "no torn records")
ok(all(sorted(int(l.split(b":")[1]) for l in lines if l.startswith(b"%d:" % w)) == list(range(N))
       for w in range(NPROC)), "each writer's records complete")
os.unlink(P("log"))
done()
EOF

iused_is_1() { [ "$(rfs_df iused "$M")" = 1 ]; }
used_is_0() { [ "$(rfs_df used "$M")" = 0 ]; }
if wait_until 5 iused_is_1; then ok "df -i back to 1 inode"; else fail "df -i: $(rfs_df iused "$M") inodes used after cleanup"; fi
if wait_until 5 used_is_0; then ok "df used back to 0"; else fail "df used $(rfs_df used "$M") after cleanup"; fi
rfs_done
