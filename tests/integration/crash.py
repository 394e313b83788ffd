# SPDX-License-Identifier: GPL-2.0-or-later
"""Crash test of the persistent store (-o store=DIR): a seeded random workload
runs against a mount while the daemon is SIGKILLed at a random moment; the
same DIR is mounted again and checked. Run by t-store-crash.sh (root, own
mount namespace); prints PASS:/FAIL: lines and a summary.

    crash.py DAEMON DATAPATH WORKDIR STOREFS EXACT

STOREFS is the file system holding the store (DIR = STOREFS/s), of its own
(a loop-mounted ext4: EXACT=1, so used inodes can be counted exactly).

Each kill point ("round"):
  - two worker processes (forked) run random operations in their own
    subtree (w0/, w1/) of the mount: create, mkdir, rename (plain,
    RENAME_NOREPLACE, RENAME_EXCHANGE, over files and empty directories),
    link, unlink (also of open regions), rmdir, pwrite, ftruncate, mmap
    stores, msync(MS_SYNC), fsync, setxattr/removexattr, chmod; some are
    expected to fail (EEXIST, ENOTEMPTY, ENODATA) and every result is
    checked against a model while the daemon lives. Every operation is
    journaled outside the mount (WORKDIR/journal) before it starts and
    after it returns; after a flush that returned 0 the journal is fsynced.
    Every page written carries a stamp (region id, page, version), so the
    data read back says which write it came from.
  - the daemon is SIGKILLed: after a random delay, or (with strace) on
    entering the Nth call of one of its store system calls (linkat,
    renameat(2), unlinkat, mkdirat, fchmod, fchown, f(remove|set)xattr,
    ftruncate, fallocate, pwrite64, fsync, fdatasync) or of writev (a
    reply: done in the store, never acknowledged); some rounds kill it
    while it loads the store. The dead mount is aborted and unmounted, DIR
    mounted again and checked:
      * the new daemon mounts, its log and the killed one's have no
        error/warning lines; every directory lists, every region reads
        over its whole size;
      * nlink of every region = its number of names, of every directory
        2 + subdirectories;
      * the namespace of each subtree is exactly the journal's model, with
        the operation in flight at the kill either done or not (names,
        types, modes, xattrs, which names are links of one region);
      * every page of every region holds a version the model accepts: the
        last durable one or a later one (durable: a write() returned; with
        passthrough also a store into a mapping; in cache mode a store
        into a mapping only after fsync/msync returned 0); sizes as
        modelled; stamps name the right region and page;
      * DIR/root mirrors the mount (names, types, link groups, modes,
        sizes, data, xattrs), DIR/tmp is empty, DIR holds nothing but
        format, lock, root/ and tmp/;
      * no leak: used inodes of STOREFS minus inodes reachable in it
        stays what it was before the first mount.
  - the checked state is the starting point of the next round.
Before the rounds (with strace): a new store killed at each step of its
initialization (flock, mkdirat root/tmp, fsync and rename of format) must
mount at the next start. The last daemon must exit 0 after umount.

Environment: RFS_CRASH_SEED=N (replay: same workloads and delays),
RFS_CRASH_POINTS (default 40), RFS_CRASH_BUDGET (seconds for the kill
points, default 45), RFS_CRASH_STRACE=0 (no kill points at injected system
calls), RFS_CRASH_INIT=0 (no kill points while a new store is initialized),
RFS_CRASH_SELFTEST=data|store|name|leak (a deliberately wrong expectation
or a damaged store in the first round: must FAIL).
"""

import copy
import ctypes
import errno
import hashlib
import json
import mmap
import os
import random
import signal
import stat
import struct
import subprocess
import sys
import time
import traceback

from rfscheck import excess_inodes

PAGE = 4096
MAXPAGES = 12
NWORKERS = 2
# What an operation in flight gets when the daemon dies: over io_uring, a
# request caught while the kernel tears the dead daemon's rings down ends
# with ECANCELED (the daemon may have done it), later ones as over /dev/fuse.
CONN_ERRORS = (errno.ENOTCONN, errno.ECONNABORTED, errno.ECANCELED)
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2

_libc = ctypes.CDLL(None, use_errno=True)
_libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                            ctypes.c_uint]


def renameat2(old, new, flags):
    if _libc.renameat2(-100, os.fsencode(old), -100, os.fsencode(new), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


sys.stdout.reconfigure(line_buffering=True)
passes = 0
fails = 0


def ok(msg):
    global passes
    passes += 1
    print("PASS: " + msg)


def fail(msg):
    global fails
    fails += 1
    print("FAIL: " + msg)


def note(msg):
    print("# " + msg)


# ------------------------------------------------------------------ pages

MAGIC = b"RFSCRASH"
HDR = struct.Struct("<8sQIIQ")  # magic, oid, page, pad, version: 32 bytes
ZERO_PAGE = bytes(PAGE)


def page_bytes(oid, pg, ver):
    h = HDR.pack(MAGIC, oid, pg, 0, ver)
    fill = hashlib.sha256(h).digest()
    return h + (fill * (PAGE // 32))[:PAGE - HDR.size]


def page_parse(data):
    """(oid, page, version) of a stamped page, (None, None, 0) for zeros,
    or None when the page is neither."""
    if data == ZERO_PAGE:
        return (None, None, 0)
    if len(data) != PAGE or data[:8] != MAGIC:
        return None
    _, oid, pg, _, ver = HDR.unpack(data[:HDR.size])
    if data != page_bytes(oid, pg, ver):
        return None
    return (oid, pg, ver)


# ------------------------------------------------------------------ model

class Obj:
    """A region: pages[p] is the list of versions page p may hold after a
    crash: [durable, newer not yet durable...]."""
    __slots__ = ("oid", "mode", "pages", "xattrs")

    def __init__(self, oid, mode):
        self.oid = oid
        self.mode = mode
        self.pages = []
        self.xattrs = {}


class Dir:
    __slots__ = ("mode", "xattrs", "children")

    def __init__(self, mode):
        self.mode = mode
        self.xattrs = {}
        self.children = {}


def split(path):
    return [c for c in path.split("/") if c]


class Model:
    """One worker's subtree, as the journal says it must be."""

    def __init__(self, root, objs):
        self.root = root
        self.objs = objs  # oid -> Obj, including unlinked ones

    def copy(self):
        return copy.deepcopy(self)

    def lookup(self, path):
        e = self.root
        for c in split(path):
            if not isinstance(e, Dir) or c not in e.children:
                return None
            e = e.children[c]
        return e

    def parent(self, path):
        comps = split(path)
        d = self.lookup("/".join(comps[:-1]))
        return d, comps[-1]

    def walk(self):
        """(path, entry) of everything below the root, parents first."""
        out = []

        def rec(d, prefix):
            for n in sorted(d.children):
                e = d.children[n]
                p = prefix + n
                out.append((p, e))
                if isinstance(e, Dir):
                    rec(e, p + "/")
        rec(self.root, "")
        return out

    # What a correct file system answers: 0 or an errno.
    def predict(self, op):
        k = op["op"]
        if k in ("create", "mkdir", "link"):
            d, n = self.parent(op["p"] if k != "link" else op["dst"])
            return errno.EEXIST if n in d.children else 0
        if k == "rmdir":
            return errno.ENOTEMPTY if self.lookup(op["p"]).children else 0
        if k == "rename":
            src, dst = self.lookup(op["src"]), self.lookup(op["dst"])
            if op["fl"] & RENAME_EXCHANGE:
                return 0
            if dst is None:
                return 0
            if op["fl"] & RENAME_NOREPLACE:
                return errno.EEXIST  # even for two links of one region
            if src is dst:
                return 0  # two links of one region: nothing happens
            if isinstance(src, Dir) != isinstance(dst, Dir):
                return errno.ENOTDIR if isinstance(src, Dir) else errno.EISDIR
            if isinstance(dst, Dir) and dst.children:
                return errno.ENOTEMPTY
            return 0
        if k == "rmx":
            e = self.lookup(op["p"]) if "p" in op else self.objs[op["oid"]]
            return 0 if op["name"] in e.xattrs else errno.ENODATA
        return 0

    def apply(self, op, durable_maps):
        """Apply a successful operation."""
        k = op["op"]
        if k == "create":
            d, n = self.parent(op["p"])
            o = Obj(op["oid"], op["mode"])
            self.objs[o.oid] = o
            d.children[n] = o
        elif k == "mkdir":
            d, n = self.parent(op["p"])
            d.children[n] = Dir(op["mode"])
        elif k in ("unlink", "rmdir"):
            d, n = self.parent(op["p"])
            del d.children[n]
        elif k == "link":
            d, n = self.parent(op["dst"])
            d.children[n] = self.lookup(op["src"])
        elif k == "rename":
            sd, sn = self.parent(op["src"])
            dd, dn = self.parent(op["dst"])
            if op["fl"] & RENAME_EXCHANGE:
                sd.children[sn], dd.children[dn] = dd.children[dn], sd.children[sn]
            elif sd.children[sn] is not dd.children.get(dn):
                dd.children[dn] = sd.children.pop(sn)
        elif k == "chmod":
            self.lookup(op["p"]).mode = op["mode"]
        elif k == "setx":
            self.lookup(op["p"]).xattrs[op["name"]] = bytes.fromhex(op["val"])
        elif k == "rmx":
            del self.lookup(op["p"]).xattrs[op["name"]]
        elif k == "write":
            o = self.objs[op["oid"]]
            while len(o.pages) < op["pg"] + op["n"]:
                o.pages.append([0])
            for p in range(op["pg"], op["pg"] + op["n"]):
                o.pages[p] = [op["ver"]]
        elif k == "mmap":
            o = self.objs[op["oid"]]
            for p in op["pgs"]:
                if durable_maps:
                    o.pages[p] = [op["ver"]]
                else:
                    o.pages[p].append(op["ver"])
            if op["sync"]:
                o.pages = [[h[-1]] for h in o.pages]
        elif k == "trunc":
            o = self.objs[op["oid"]]
            del o.pages[op["n"]:]
            while len(o.pages) < op["n"]:
                o.pages.append([0])
        elif k == "fsync":
            o = self.objs[op["oid"]]
            o.pages = [[h[-1]] for h in o.pages]
        # open, close: nothing to model


def is_ancestor(a, b):
    """Is path a a proper ancestor of path b?"""
    return b.startswith(a + "/")


# ------------------------------------------------------------------ worker

class Worker:
    def __init__(self, wid, rnd, model, seed, top, jpath, durable_maps):
        self.wid = wid
        self.model = model
        self.rng = random.Random(seed)
        self.top = top
        self.durable_maps = durable_maps
        self.jfd = os.open(jpath, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o644)
        self.seq = 0
        self.idbase = (rnd + 1) << 32 | wid << 24
        self.counter = 0
        self.fds = {}  # oid -> fd

    def fresh(self):
        self.counter += 1
        return self.idbase | self.counter

    def P(self, path):
        return os.path.join(self.top, path)

    def journal(self, rec, sync=False):
        os.write(self.jfd, (json.dumps(rec, separators=(",", ":")) + "\n").encode())
        if sync:
            os.fsync(self.jfd)

    def do(self, op, fn):
        """Journal, run, journal the result; False when the worker must stop."""
        self.seq += 1
        pred = self.model.predict(op)
        op["s"] = self.seq
        op["pred"] = pred
        self.journal(op)
        try:
            fn()
            r = 0
        except OSError as e:
            r = e.errno
        flush = r == 0 and (op["op"] == "fsync" or (op["op"] == "mmap" and op["sync"]))
        self.journal({"e": self.seq, "r": r, "t": time.monotonic()}, sync=flush)
        if r != pred:
            return False
        if r == 0:
            self.model.apply(op, self.durable_maps)
        return True

    # choices
    def entries(self):
        return self.model.walk()

    def files(self):
        return [(p, e) for p, e in self.entries() if isinstance(e, Obj)]

    def dirs(self):
        return [("", self.model.root)] + [(p, e) for p, e in self.entries() if isinstance(e, Dir)]

    def new_name(self, dirs):
        d, _ = self.rng.choice(dirs)
        n = "%s%d" % (self.rng.choice("fgdh"), self.rng.randrange(40))
        return (d + "/" + n) if d else n

    def fd_of(self, oid, path=None):
        if oid in self.fds:
            return self.fds[oid]
        fd = os.open(self.P(path), os.O_RDWR)
        self.fds[oid] = fd
        return fd

    def pick_obj(self):
        """(oid, path or None) of a region to put data in: an open one (maybe
        unlinked) or a named one."""
        files = self.files()
        if self.fds and (not files or self.rng.random() < 0.5):
            return self.rng.choice(sorted(self.fds)), None
        if not files:
            return None, None
        p, e = self.rng.choice(files)
        return e.oid, p

    def open_for(self, oid, path):
        """Make sure oid has an fd (journaled as an open)."""
        if oid in self.fds:
            return True
        if len(self.fds) >= 10:
            old = self.rng.choice(sorted(self.fds))
            fd = self.fds.pop(old)
            if not self.do({"op": "close", "oid": old}, lambda: os.close(fd)):
                return False
        return self.do({"op": "open", "p": path, "oid": oid}, lambda: self.fd_of(oid, path))

    def step(self):
        rng = self.rng
        files = self.files()
        dirs = self.dirs()
        nfiles, ndirs = len(files), len(dirs)
        weights = {
            "create": 8 if nfiles < 30 else 1,
            "mkdir": 3 if ndirs < 8 else 0,
            "rename": 8, "link": 3, "unlink": 4 if nfiles < 30 else 12,
            "rmdir": 2 if ndirs < 8 else 6, "write": 10, "trunc": 3, "mmap": 6,
            "fsync": 2, "setx": 3, "rmx": 1, "chmod": 2, "close": 1,
        }
        kind = rng.choices(list(weights), list(weights.values()))[0]
        M = self.model

        if kind == "create":
            p = self.new_name(dirs)
            mode = rng.choice([0o600, 0o640, 0o644])
            oid = self.fresh()

            def fn():
                fd = os.open(self.P(p), os.O_RDWR | os.O_CREAT | os.O_EXCL, mode)
                if rng.random() < 0.5 and len(self.fds) < 10:
                    self.fds[oid] = fd
                else:
                    os.close(fd)
            return self.do({"op": "create", "p": p, "mode": mode, "oid": oid}, fn)
        if kind == "mkdir":
            d = [x for x in dirs if x[0].count("/") < 2]
            p = self.new_name(d)
            mode = rng.choice([0o700, 0o750, 0o755])
            return self.do({"op": "mkdir", "p": p, "mode": mode},
                           lambda: os.mkdir(self.P(p), mode))
        if kind == "unlink" and files:
            p, e = rng.choice(files)
            # sometimes keep it open first: an orphan in the store
            if e.oid not in self.fds and rng.random() < 0.3:
                if not self.open_for(e.oid, p):
                    return False
            return self.do({"op": "unlink", "p": p}, lambda: os.unlink(self.P(p)))
        if kind == "rmdir" and ndirs > 1:
            p, e = rng.choice(dirs[1:])
            return self.do({"op": "rmdir", "p": p}, lambda: os.rmdir(self.P(p)))
        if kind == "link" and files:
            src, e = rng.choice(files)
            dst = self.new_name(dirs)
            return self.do({"op": "link", "src": src, "dst": dst},
                           lambda: os.link(self.P(src), self.P(dst)))
        if kind == "rename":
            ents = self.entries()
            if not ents:
                return True
            src, se = rng.choice(ents)
            fl = rng.choice([0, 0, RENAME_NOREPLACE, RENAME_EXCHANGE])
            if fl == RENAME_EXCHANGE or rng.random() < 0.4:
                # onto an existing entry of a compatible kind
                cands = [(p, e) for p, e in ents if p != src and not is_ancestor(src, p) and
                         not is_ancestor(p, src)]
                if fl != RENAME_EXCHANGE:
                    cands = [(p, e) for p, e in cands if isinstance(e, Dir) == isinstance(se, Dir)]
                if not cands:
                    return True
                dst, _ = rng.choice(cands)
            else:
                d = [x for x in dirs if x[0] != src and not is_ancestor(src, x[0])]
                dst = self.new_name(d)
                if dst == src or is_ancestor(src, dst) or is_ancestor(dst, src):
                    return True
            return self.do({"op": "rename", "src": src, "dst": dst, "fl": fl},
                           lambda: renameat2(self.P(src), self.P(dst), fl))
        if kind == "chmod":
            ents = self.entries()
            if not ents:
                return True
            p, e = rng.choice(ents)
            mode = rng.choice([0o700, 0o750, 0o755] if isinstance(e, Dir) else
                              [0o600, 0o640, 0o644, 0o660])
            return self.do({"op": "chmod", "p": p, "mode": mode},
                           lambda: os.chmod(self.P(p), mode))
        if kind in ("setx", "rmx"):
            ents = [("", M.root)] + self.entries()
            p, e = rng.choice(ents)
            name = "user.k%d" % rng.randrange(4)
            if kind == "setx":
                val = rng.randbytes(rng.randrange(0, 48))
                return self.do({"op": "setx", "p": p, "name": name, "val": val.hex()},
                               lambda: os.setxattr(self.P(p) if p else self.top, name, val))
            return self.do({"op": "rmx", "p": p, "name": name},
                           lambda: os.removexattr(self.P(p) if p else self.top, name))
        if kind == "close" and self.fds:
            oid = rng.choice(sorted(self.fds))
            fd = self.fds.pop(oid)
            return self.do({"op": "close", "oid": oid}, lambda: os.close(fd))
        if kind in ("write", "trunc", "mmap", "fsync"):
            oid, path = self.pick_obj()
            if oid is None:
                return True
            if not self.open_for(oid, path):
                return False
            fd = self.fds[oid]
            o = M.objs[oid]
            n = len(o.pages)
            if kind == "write":
                pg = rng.randrange(0, min(n, MAXPAGES - 1) + 1)
                cnt = rng.randrange(1, min(3, MAXPAGES - pg) + 1)
                ver = self.fresh()
                data = b"".join(page_bytes(oid, p, ver) for p in range(pg, pg + cnt))

                def fn():
                    if os.pwrite(fd, data, pg * PAGE) != len(data):
                        raise OSError(errno.EIO, "short write")
                return self.do({"op": "write", "oid": oid, "pg": pg, "n": cnt, "ver": ver}, fn)
            if kind == "trunc":
                cnt = rng.randrange(0, MAXPAGES + 1)
                return self.do({"op": "trunc", "oid": oid, "n": cnt},
                               lambda: os.ftruncate(fd, cnt * PAGE))
            if kind == "fsync":
                return self.do({"op": "fsync", "oid": oid}, lambda: os.fsync(fd))
            if n == 0:
                return True
            pgs = sorted(set(rng.randrange(n) for _ in range(rng.randrange(1, 4))))
            ver = self.fresh()
            sync = rng.random() < 0.3

            def fn():
                m = mmap.mmap(fd, n * PAGE)
                try:
                    for p in pgs:
                        m[p * PAGE:(p + 1) * PAGE] = page_bytes(oid, p, ver)
                    if sync:
                        m.flush()
                finally:
                    m.close()
            return self.do({"op": "mmap", "oid": oid, "pgs": pgs, "ver": ver, "sync": sync}, fn)
        return True

    def run(self, limit):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if not self.step():
                return 1
        return 0


def worker_main(*args):
    """In the forked child: never returns."""
    st = 3
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        w = Worker(*args[:-1])
        st = w.run(args[-1])
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(st)


def replay(base, jpath, durable_maps, t_kill):
    """The models after the journal: (M0, M1, the op in flight or None,
    ops done, flushes done, problems found while the daemon lived)."""
    m = base.copy()
    pending = None
    problems = []
    nops = 0
    flushed = set()
    try:
        with open(jpath) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a torn last line: the op never started
        if "op" in rec:
            pending = rec
            continue
        op = pending
        pending = None
        if op is None or rec["e"] != op["s"]:
            problems.append("journal out of order at %r" % rec)
            break
        if rec["r"] != op["pred"]:
            if rec["t"] < t_kill and rec["r"] not in CONN_ERRORS:
                problems.append("%s returned %s, expected %s, %.3f s before the kill" % (
                    json.dumps(op), errno.errorcode.get(rec["r"], rec["r"]),
                    errno.errorcode.get(op["pred"], op["pred"]) if op["pred"] else "success",
                    t_kill - rec["t"]))
            pending = op  # the daemon may or may not have done it: in flight
            break
        nops += 1
        if rec["r"] == 0:
            m.apply(op, durable_maps)
            if op["op"] == "fsync" or (op["op"] == "mmap" and op["sync"]):
                flushed.add(op["oid"])
    m1 = None
    if pending is not None and pending["pred"] == 0:
        m1 = m.copy()
        try:
            m1.apply(pending, durable_maps)
        except (KeyError, AttributeError, TypeError) as e:
            problems.append("cannot model the op in flight %r: %r" % (pending, e))
            m1 = None
    return m, m1, pending, nops, flushed, problems


# ------------------------------------------------------------------ reading trees

def read_xattrs(path, store):
    names = sorted(os.listxattr(path, follow_symlinks=False))
    out = {}
    for n in names:
        if not n.startswith("user."):
            continue
        if store and n.startswith("user.regionfs."):
            continue
        out[n] = os.getxattr(path, n, follow_symlinks=False)
    return out


def read_tree(top, store=False, corrupt=None):
    """{relpath: info} of top ("") and everything below it, and a list of
    problems. info: {"t": "d", mode, x (xattrs), nlink, nsub} or
    {"t": "f", ino, mode, x, nlink, size, pages (parses), sha}."""
    tree = {}
    problems = []

    def rec(d, rel):
        st = os.lstat(d)
        info = {"t": "d", "mode": stat.S_IMODE(st.st_mode), "x": read_xattrs(d, store),
                "nlink": st.st_nlink, "nsub": 0}
        tree[rel] = info
        try:
            names = sorted(os.listdir(d))
        except OSError as e:
            problems.append("cannot list %s: %s" % (d, e))
            return
        for n in names:
            p = os.path.join(d, n)
            q = rel + "/" + n if rel else n
            try:
                st = os.lstat(p)
                if stat.S_ISDIR(st.st_mode):
                    info["nsub"] += 1
                    rec(p, q)
                    continue
                xa = read_xattrs(p, store)
            except OSError as e:
                problems.append("cannot stat %s: %s" % (p, e))
                continue
            if not stat.S_ISREG(st.st_mode):
                problems.append("%s: neither a directory nor a regular file (mode %o)" % (p, st.st_mode))
                continue
            try:
                with open(p, "rb") as f:
                    data = f.read()
            except OSError as e:
                problems.append("cannot read %s: %s" % (p, e))
                continue
            if len(data) != st.st_size:
                problems.append("%s: read %d bytes of %d" % (p, len(data), st.st_size))
            if corrupt is not None and corrupt[0]:
                i = next((i for i in range(0, len(data) - PAGE + 1, PAGE)
                          if data[i:i + PAGE] != ZERO_PAGE), None)
                if i is not None:
                    corrupt[0] = False  # self-test: a wrong byte
                    data = data[:i + 100] + bytes([data[i + 100] ^ 1]) + data[i + 101:]
                    note("self-test: flipped a byte of %s as read" % p)
            pages = [page_parse(data[i:i + PAGE]) for i in range(0, len(data), PAGE)]
            if len(data) % PAGE:
                pages[-1] = None
            tree[q] = {"t": "f", "ino": st.st_ino, "mode": stat.S_IMODE(st.st_mode), "x": xa,
                       "nlink": st.st_nlink, "size": st.st_size, "pages": pages,
                       "sha": hashlib.sha256(data).hexdigest()}
    try:
        rec(top, "")
    except OSError as e:
        problems.append("cannot stat %s: %s" % (top, e))
    return tree, problems


def canon_model(m):
    """Comparable form of a model: entries and link groups."""
    ents = {"": ("d", m.root.mode, tuple(sorted(m.root.xattrs.items())))}
    groups = {}
    for p, e in m.walk():
        if isinstance(e, Dir):
            ents[p] = ("d", e.mode, tuple(sorted(e.xattrs.items())))
        else:
            ents[p] = ("f", e.mode, tuple(sorted(e.xattrs.items())))
            groups.setdefault(id(e), set()).add(p)
    return ents, set(frozenset(g) for g in groups.values())


def canon_tree(tree):
    ents = {}
    groups = {}
    for p, i in tree.items():
        ents[p] = (i["t"], i["mode"], tuple(sorted(i["x"].items())))
        if i["t"] == "f":
            groups.setdefault(i["ino"], set()).add(p)
    return ents, set(frozenset(g) for g in groups.values())


def describe_diff(a, b, limit=6):
    """What differs between two canon forms (a expected, b actual)."""
    out = []
    ea, ga = a
    eb, gb = b
    for p in sorted(set(ea) | set(eb)):
        if ea.get(p) != eb.get(p):
            out.append("%s: expected %s, found %s" % (p, ea.get(p), eb.get(p)))
    if not out and ga != gb:
        out.append("link groups: expected %s, found %s" % (
            sorted(sorted(g) for g in ga - gb)[:3], sorted(sorted(g) for g in gb - ga)[:3]))
    return "; ".join(out[:limit]) + (" ..." if len(out) > limit else "")


def model_from_tree(tree, fresh):
    """A base model (everything durable) from a checked tree."""
    root = Dir(tree[""]["mode"])
    root.xattrs = dict(tree[""]["x"])
    objs = {}
    by_ino = {}
    for p in sorted((q for q in tree if q), key=lambda q: q.count("/")):
        i = tree[p]
        comps = split(p)
        d = root
        for c in comps[:-1]:
            d = d.children[c]
        if i["t"] == "d":
            e = Dir(i["mode"])
            e.xattrs = dict(i["x"])
        elif i["ino"] in by_ino:
            e = by_ino[i["ino"]]
        else:
            oids = set(x[0] for x in i["pages"] if x and x[0] is not None)
            e = Obj(oids.pop() if len(oids) == 1 else fresh(), i["mode"])
            e.xattrs = dict(i["x"])
            e.pages = [[x[2] if x else 0] for x in i["pages"]]
            by_ino[i["ino"]] = e
            objs[e.oid] = e
        d.children[comps[-1]] = e
    return Model(root, objs)


# ------------------------------------------------------------------ daemon and mounts

def mount_info(mnt):
    """(fstype, 'maj:min') of the topmost mount at mnt, or None."""
    found = None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split()
            if parts[4] == mnt:
                i = parts.index("-")
                found = (parts[i + 1], parts[2])
    return found


# Kill points at a system call of the daemon (strace injects SIGKILL on
# entering the Nth call of one thread, so the call itself never happens):
# syscall -> largest N tried. The store's own calls, and writev (a reply:
# the operation is done in the store, the client never hears of it).
STRACE_KILLS = {
    "linkat": 40, "renameat": 30, "renameat2": 30, "unlinkat": 40, "mkdirat": 3,
    "fchmod": 40, "fchown": 40, "fsetxattr": 20, "fremovexattr": 2, "ftruncate": 50,
    "fallocate": 50, "pwrite64": 80, "fsync": 12, "fdatasync": 8, "openat": 40,
    "writev": 400,
}
# While loading the store.
STRACE_LOAD_KILLS = {"openat": 40, "fallocate": 40, "unlinkat": 3, "flistxattr": 40,
                     "fgetxattr": 40, "mount": 1}


class Daemon:
    def __init__(self, binary, opts, mnt, log, inject=None):
        """inject: (syscall, n) to run under strace, killed at the nth call."""
        self.mnt = mnt
        self.log = log
        self.logf = open(log, "w")
        cmd = [binary, "-f", "-o", opts, mnt]
        if inject:
            # (not --seccomp-bpf: strace 6.1 then injects nothing)
            cmd = ["strace", "-qq", "-o", "/dev/null", "-f",
                   "-e", "trace=" + inject[0],
                   "-e", "inject=%s:signal=KILL:when=%d" % inject] + cmd
        self.traced = bool(inject)
        self.dpid = None
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        self.dev = None

    def pid(self):
        """The daemon's pid (under strace: strace's child), or None."""
        if not self.traced:
            return self.proc.pid
        try:
            with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
                kids = f.read().split()
        except OSError:
            return None
        return int(kids[0]) if kids else None

    def alive(self):
        """Is the daemon itself (not strace) still running?"""
        if self.proc.poll() is not None:
            return False
        if not self.traced:
            return True
        if self.dpid is None:
            self.dpid = self.pid()
        try:
            with open("/proc/%d/stat" % self.dpid) as f:
                return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
        except (OSError, TypeError):
            return False

    def wait_mounted(self, limit=10.0):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            mi = mount_info(self.mnt)
            if mi and mi[0] == "fuse.regionfs":
                self.dev = mi[1]
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.002)
        return False

    def log_problems(self):
        with open(self.log, errors="replace") as f:
            return [l.rstrip() for l in f if "error" in l.lower() or "warning" in l.lower()]

    def kill(self):
        if self.traced:
            pid = self.pid()
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        else:
            self.proc.kill()
        self.proc.wait()
        self.logf.close()


def abort_and_unmount(mnt, dev):
    """The daemon is dead: abort its connection, detach the mount."""
    if dev:
        minor = dev.split(":")[1]
        try:
            with open("/sys/fs/fuse/connections/%s/abort" % minor, "w") as f:
                f.write("1")
        except OSError:
            pass
    for _ in range(20):
        mi = mount_info(mnt)
        if not mi or mi[0] != "fuse.regionfs":
            return
        if subprocess.run(["umount", mnt], stderr=subprocess.DEVNULL).returncode != 0:
            subprocess.run(["umount", "-l", mnt], stderr=subprocess.DEVNULL)


# ------------------------------------------------------------------ the test

class Crash:
    def __init__(self, binary, datapath, work, storefs, exact):
        self.binary = binary
        self.datapath = datapath
        self.work = work
        self.storefs = storefs
        self.exact = exact
        self.store = os.path.join(storefs, "s")
        self.mnt = os.path.join(work, "cmnt")
        self.jdir = os.path.join(work, "journal")
        os.makedirs(self.mnt, exist_ok=True)
        os.makedirs(self.jdir, exist_ok=True)
        os.makedirs(self.store, exist_ok=True)
        self.opts = "datapath=%s,size=256M,store=%s" % (datapath, self.store)
        self.durable_maps = datapath == "passthrough"
        self.daemon = None
        self.nstart = 0
        self.fresh_n = 0
        self.stats = dict(kills=0, load_kills=0, regions=0, flushed=0, leaks=0, ops=0,
                          inflight=0, inflight_ns=0, inflight_done=0, strace_kills=0, init_kills=0, strace_missed=0,
                          unflushed_lost=0, unflushed_kept=0)
        self.strace = subprocess.run(["strace", "-V"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL).returncode == 0 \
            if os.environ.get("RFS_CRASH_STRACE", "1") == "1" else False
        self.selftest_done = False
        self.selftest = os.environ.get("RFS_CRASH_SELFTEST", "")

    def fresh(self):
        self.fresh_n += 1
        return 0xff << 56 | self.fresh_n

    def start(self, inject=None):
        self.nstart += 1
        d = Daemon(self.binary, self.opts, self.mnt,
                   os.path.join(self.work, "daemon.%d.log" % self.nstart), inject)
        return d

    def stop(self, what):
        """umount the running daemon: it must exit 0 with a clean log."""
        if subprocess.run(["umount", self.mnt]).returncode != 0:
            fail("%s: umount failed" % what)
            abort_and_unmount(self.mnt, self.daemon.dev)
        try:
            st = self.daemon.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            st = "still running 10 s after umount"
        self.daemon.logf.close()
        if st != 0:
            fail("%s: daemon exit status %s after umount" % (what, st))
        self.check_log(self.daemon, what)
        self.daemon = None

    def start_mounted(self, what, inject=None):
        d = self.start(inject)
        if not d.wait_mounted():
            st = d.proc.poll()
            if st is None:
                d.kill()
            with open(d.log, errors="replace") as f:
                log = f.read().strip().replace("\n", " | ")
            fail("%s: the daemon did not mount (status %s): %s" % (what, st, log[:500]))
            return None
        return d

    def check_log(self, d, what):
        bad = d.log_problems()
        if bad:
            fail("%s: daemon log has error/warning lines: %s" % (what, " | ".join(bad[:5])))
            return False
        return True

    def snapshot(self, what, corrupt=None):
        """Read and check the whole mount: trees per worker, or None."""
        problems = []
        top = os.listdir(self.mnt)
        if sorted(top) != ["w%d" % i for i in range(NWORKERS)]:
            problems.append("mount root holds %s" % sorted(top))
        trees = {}
        for i in range(NWORKERS):
            t, p = read_tree(os.path.join(self.mnt, "w%d" % i), corrupt=corrupt)
            trees[i] = t
            problems += p
            counts = {}
            for q, info in t.items():
                if info["t"] == "f":
                    counts[info["ino"]] = counts.get(info["ino"], 0) + 1
            for q, info in t.items():
                if info["t"] == "f" and info["nlink"] != counts[info["ino"]]:
                    problems.append("w%d/%s: nlink %d, but %d names" % (
                        i, q, info["nlink"], counts[info["ino"]]))
                if info["t"] == "d" and info["nlink"] != 2 + info["nsub"]:
                    problems.append("w%d/%s: directory nlink %d, %d subdirectories" % (
                        i, q, info["nlink"], info["nsub"]))
        # DIR/root mirrors the mount, DIR/tmp is empty
        for i in range(NWORKERS):
            st, p = read_tree(os.path.join(self.store, "root", "w%d" % i), store=True)
            problems += ["store: " + x for x in p]
            a = {q: (x["t"], x["mode"], x["x"], x.get("size"), x.get("sha"))
                 for q, x in trees[i].items()}
            b = {q: (x["t"], x["mode"], x["x"], x.get("size"), x.get("sha"))
                 for q, x in st.items()}
            if a != b:
                diffs = [q for q in sorted(set(a) | set(b)) if a.get(q) != b.get(q)]
                problems.append("DIR/root/w%d differs from the mount at %s" % (i, diffs[:5]))
            elif canon_tree(trees[i])[1] != canon_tree(st)[1]:
                problems.append("DIR/root/w%d: link groups differ from the mount" % i)
        tmp = os.listdir(os.path.join(self.store, "tmp"))
        if tmp:
            problems.append("DIR/tmp not empty after the remount: %s" % tmp[:5])
        top = sorted(os.listdir(self.store))
        if top != ["format", "lock", "root", "tmp"]:
            problems.append("DIR holds %s (expected format, lock, root, tmp)" % top)
        for p in problems[:10]:
            fail("%s: %s" % (what, p))
        if len(trees) < NWORKERS:
            return None, False
        return trees, not problems

    def check_leak(self, what, base):
        if not self.exact:
            return True
        hold = None
        if self.selftest == "leak" and not self.selftest_done:
            self.selftest_done = True
            hold = os.open(os.path.join(self.storefs, "stray"), os.O_RDWR | os.O_CREAT, 0o600)
            os.unlink(os.path.join(self.storefs, "stray"))
            note("self-test: an unlinked file held open in the store's fs")
        try:
            end = time.monotonic() + 3
            while True:
                ex = excess_inodes(self.storefs)
                if ex == base or time.monotonic() > end:
                    break
                time.sleep(0.02)
        finally:
            if hold is not None:
                os.close(hold)
        if ex != base:
            self.stats["leaks"] += ex - base
            fail("%s: %d inodes in the store's file system reachable from no name" % (what, ex - base))
            return False
        return True

    def verify(self, what, models, t_kill, jpaths, corrupt):
        """Check the remounted state against the journals: returns trees or None."""
        trees, good = self.snapshot(what, corrupt)
        if trees is None:
            return None
        for i in range(NWORKERS):
            base = models[i]
            m0, m1, pending, nops, flushed, problems = replay(base, jpaths[i], self.durable_maps,
                                                               t_kill)
            self.stats["ops"] += nops
            for p in problems:
                fail("%s: w%d: %s" % (what, i, p))
                good = False
            if self.selftest == "name" and not self.selftest_done:
                self.selftest_done = True
                ents = [p for p, e in m0.walk()]
                if ents:
                    d, n = m0.parent(ents[-1])
                    del d.children[n]
                    m1 = None
                    note("self-test: dropped w%d/%s from the model" % (i, ents[-1]))
            actual = canon_tree(trees[i])
            cands = [m0] + ([m1] if m1 is not None else [])
            # Both candidates can name the same tree (an exchange or a rename
            # over a file in flight): the data decides which one it is.
            matches = [m for m in cands if canon_model(m) == actual]
            match = matches[0] if matches else None
            for m in matches:
                if not self.bad_data(trees[i], m, cands, m0, pending, flushed, None):
                    match = m
                    break
            if pending is not None:
                self.stats["inflight"] += 1
                if match is not None and m1 is not None and canon_model(m0) != canon_model(m1):
                    self.stats["inflight_ns"] += 1
                    if match is m1:
                        self.stats["inflight_done"] += 1
            if match is None:
                fail("%s: w%d: namespace is neither before nor after the op in flight (%s): %s" % (
                    what, i, json.dumps(pending) if pending else "none",
                    describe_diff(canon_model(m0), actual)))
                good = False
                continue
            bad = self.bad_data(trees[i], match, cands, m0, pending, flushed, self.stats)
            for b in bad[:5]:
                fail("%s: w%d/%s" % (what, i, b))
            if bad:
                good = False
        return trees if good else None

    def bad_data(self, tree, match, cands, m0, pending, flushed, stats):
        """Every page of every region of tree against match; the problems found.
        Counts into stats (a dict) unless it is None."""
        bad = []
        for p, info in sorted(tree.items()):
            if info["t"] != "f":
                continue
            mine = match.lookup(p)
            objs = [m.objs[mine.oid] for m in cands if mine.oid in m.objs]
            sizes = [len(o.pages) for o in objs]
            npages = info["size"] // PAGE
            torn = pending is not None and pending.get("op") == "write" and \
                pending.get("oid") == mine.oid
            if info["size"] % PAGE or not (min(sizes) <= npages <= max(sizes)):
                bad.append("%s: size %d, expected %s pages" % (p, info["size"], sorted(set(sizes))))
                continue
            problem = None
            for pg, parsed in enumerate(info["pages"]):
                accept = set()
                for o in objs:
                    if pg < len(o.pages):
                        accept.update(o.pages[pg])
                if torn and pg >= min(sizes):
                    accept.add(0)  # an extending write in flight: grown, not yet written
                if parsed is None:
                    problem = "page %d is neither zeros nor a stamped page" % pg
                elif parsed[0] is not None and (parsed[0] != mine.oid or parsed[1] != pg):
                    problem = "page %d holds page %d of region %x (expected region %x)" % (
                        pg, parsed[1], parsed[0], mine.oid)
                elif parsed[2] not in accept:
                    problem = "page %d has version %x, expected one of %s" % (
                        pg, parsed[2], sorted("%x" % v for v in accept))
                if problem:
                    break
                mo = m0.objs.get(mine.oid)
                if stats is not None and mo is not None and pg < len(mo.pages) and \
                        len(mo.pages[pg]) > 1:
                    if parsed[2] == mo.pages[pg][0]:
                        stats["unflushed_lost"] += 1
                    else:
                        stats["unflushed_kept"] += 1
            if problem:
                bad.append("%s: %s" % (p, problem))
                continue
            if stats is not None:
                stats["regions"] += 1
                if mine.oid in flushed:
                    stats["flushed"] += 1
        return bad

    def damage_store(self):
        """Self-test: zero the first written page of a region in DIR while
        no daemon runs (as if a flushed write had been lost)."""
        for d, dirs, files in os.walk(os.path.join(self.store, "root")):
            for n in sorted(files):
                p = os.path.join(d, n)
                with open(p, "r+b") as f:
                    data = f.read()
                    for i in range(0, len(data) - PAGE + 1, PAGE):
                        if data[i:i + PAGE] != ZERO_PAGE:
                            f.seek(i)
                            f.write(ZERO_PAGE)
                            note("self-test: zeroed page %d of %s in the store" % (i // PAGE, p))
                            return True
        return False

    def first_start_kills(self):
        """SIGKILL while a new store is being initialized (an empty DIR), at
        each of its steps; the next start must mount it."""
        if not self.strace or os.environ.get("RFS_CRASH_INIT", "1") != "1":
            note("no kill points while a new store is initialized (no strace, or RFS_CRASH_INIT=0)")
            return
        steps = [("flock", 1), ("mkdirat", 1), ("mkdirat", 2), ("fsync", 1), ("renameat", 1)]
        bad = []
        for sc, n in steps:
            what = "first start killed at %s #%d" % (sc, n)
            store = os.path.join(self.work, "init-%s-%d" % (sc, n))
            os.mkdir(store)
            opts = "datapath=%s,size=16M,store=%s" % (self.datapath, store)
            self.nstart += 1
            d = Daemon(self.binary, opts, self.mnt,
                       os.path.join(self.work, "daemon.%d.log" % self.nstart), (sc, n))
            mounted = d.wait_mounted(5)
            d.kill()
            abort_and_unmount(self.mnt, d.dev)
            self.stats["init_kills"] += 1
            if mounted:
                note("%s: the call never came; killed after mounting" % what)
            left = sorted(os.listdir(store))
            self.nstart += 1
            d = Daemon(self.binary, opts, self.mnt,
                       os.path.join(self.work, "daemon.%d.log" % self.nstart))
            if not d.wait_mounted(5):
                if d.alive():
                    d.kill()
                with open(d.log, errors="replace") as f:
                    msg = f.read().strip().replace("\n", " | ")
                fail("%s (leaving %s in DIR): the next start refuses the store: %s" % (
                    what, left, msg[:300]))
                bad.append(what)
                continue
            subprocess.run(["umount", self.mnt])
            st = d.proc.wait(timeout=10)
            d.logf.close()
            with open(os.path.join(store, "format")) as f:
                fmt = f.read()
            if st != 0 or fmt != "regionfs-store 1\n" or not os.path.isdir(os.path.join(store, "root")):
                fail("%s: restart exit %s, format %r" % (what, st, fmt))
                bad.append(what)
        if not bad:
            ok("a new store killed at any step of its initialization mounts afterwards "
               "(%d kill points)" % len(steps))

    def fork_workers(self, rnd, seed, models, limit):
        pids, jpaths = [], []
        for i in range(NWORKERS):
            jp = os.path.join(self.jdir, "r%02d-w%d.log" % (rnd, i))
            jpaths.append(jp)
            wseed = (seed * 7919 + i) & 0xffffffffffff
            pid = os.fork()
            if pid == 0:
                worker_main(i, rnd, models[i], wseed, os.path.join(self.mnt, "w%d" % i), jp,
                            self.durable_maps, limit)
            pids.append(pid)
        return pids, jpaths

    def reap(self, pids, limit):
        """Wait for the workers; kill what is still running after limit s."""
        end = time.monotonic() + limit
        status = {}
        while len(status) < len(pids) and time.monotonic() < end:
            for pid in pids:
                if pid not in status:
                    r, st = os.waitpid(pid, os.WNOHANG)
                    if r:
                        status[pid] = st
            time.sleep(0.005)
        for pid in pids:
            if pid not in status:
                os.kill(pid, signal.SIGKILL)
                status[pid] = os.waitpid(pid, 0)[1]
        return status

    def run(self):
        seed = int(os.environ.get("RFS_CRASH_SEED") or random.SystemRandom().randrange(1 << 32))
        npoints = int(os.environ.get("RFS_CRASH_POINTS", "40"))
        budget = float(os.environ.get("RFS_CRASH_BUDGET", "45"))
        note("crash test, datapath=%s: base seed %d (replay: RFS_CRASH_SEED=%d), %d kill points, "
             "budget %.0f s, store %s" % (self.datapath, seed, seed, npoints, budget, self.store))
        t0 = time.monotonic()
        self.selftest_done = False
        self.first_start_kills()
        base_excess = excess_inodes(self.storefs) if self.exact else 0

        d = self.start_mounted("first mount")
        if d is None:
            return
        for i in range(NWORKERS):
            os.mkdir(os.path.join(self.mnt, "w%d" % i))
        trees, _ = self.snapshot("first mount")
        if trees is None:
            d.kill()
            abort_and_unmount(self.mnt, d.dev)
            return
        self.daemon = d
        corrupt = [self.selftest == "data"]
        failed_rounds = []
        done = 0
        for rnd in range(npoints):
            if time.monotonic() - t0 > budget:
                note("time budget used up after %d kill points" % done)
                break
            rseed = random.Random(seed * 1000003 + rnd).randrange(1 << 48)
            rng = random.Random(rseed)
            what = "kill point %d (seed %d, round seed %d)" % (rnd, seed, rseed)
            models = {i: model_from_tree(trees[i], self.fresh) for i in range(NWORKERS)}
            fails_before = fails
            jpaths = [os.devnull] * NWORKERS
            kind = rng.random()
            if kind < 0.12:
                # kill while loading the store: stop cleanly first
                self.stop(what)
                if self.strace and rng.random() < 0.5:
                    sc = rng.choice(sorted(STRACE_LOAD_KILLS))
                    inject = (sc, rng.randint(1, STRACE_LOAD_KILLS[sc]))
                else:
                    inject = None
                d = self.start(inject)
                what += ", while loading" + (" at %s #%d" % inject if inject else "")
                if inject:
                    d.wait_mounted(2)
                else:
                    time.sleep(rng.uniform(0, 0.02))
                t_kill = time.monotonic()
                d.kill()
                mi = mount_info(self.mnt)
                abort_and_unmount(self.mnt, mi[1] if mi and mi[0] == "fuse.regionfs" else None)
                self.check_log(d, what)
                self.stats["load_kills"] += 1
            else:
                inject = None
                if self.strace and kind > 0.6:
                    # at a system call of the daemon: restart it under strace
                    self.stop(what)
                    sc = rng.choice(sorted(STRACE_KILLS))
                    inject = (sc, rng.randint(1, STRACE_KILLS[sc]))
                    what += ", at %s #%d" % inject
                    d = self.start(inject)
                    if not d.wait_mounted():
                        if d.alive():
                            fail("%s: the daemon under strace did not mount" % what)
                        # the nth call came while loading: a kill point there
                        t_kill = time.monotonic()
                        d.kill()
                        mi = mount_info(self.mnt)
                        abort_and_unmount(self.mnt, mi[1] if mi and mi[0] == "fuse.regionfs" else None)
                        self.check_log(d, what)
                        self.stats["load_kills"] += 1
                        self.stats["strace_kills"] += 1
                        d = None
                    self.daemon = d
            if self.daemon is not None:
                delay = rng.uniform(0.005, 0.3) if rng.random() < 0.85 else rng.uniform(0.3, 0.8)
                if inject:
                    delay = 1.5  # at most: then the timer kills it
                pids, jpaths = self.fork_workers(rnd, rseed, models, delay + 5)
                end = time.monotonic() + delay
                # Killed under strace, the daemon dies between two polls:
                # results after the last poll that saw it alive are not
                # judged (errors of a dying daemon).
                t_alive = time.monotonic()
                while time.monotonic() < end:
                    t = time.monotonic()
                    if not self.daemon.alive():
                        break
                    t_alive = t
                    time.sleep(0.002 if inject else min(0.05, max(0, end - time.monotonic())))
                early = []
                for pid in pids:
                    r, st = os.waitpid(pid, os.WNOHANG)
                    if r:
                        early.append((pid, st))
                t_kill = t_alive if inject else time.monotonic()
                if not self.daemon.alive():
                    if inject:
                        self.stats["strace_kills"] += 1
                    else:
                        fail("%s: the daemon died by itself (status %s) before the kill" % (
                            what, self.daemon.proc.returncode))
                elif inject:
                    self.stats["strace_missed"] += 1
                self.daemon.kill()
                status = self.reap([p for p in pids if p not in dict(early)], 5)
                for pid, st in early:
                    if not inject:
                        fail("%s: worker %d ended before the kill (status %#x)" % (
                            what, pids.index(pid), st))
                for pid, st in status.items():
                    if os.WIFEXITED(st) and os.WEXITSTATUS(st) == 3:
                        fail("%s: worker %d raised an exception" % (what, pids.index(pid)))
                abort_and_unmount(self.mnt, self.daemon.dev)
                self.check_log(self.daemon, what)
            self.stats["kills"] += 1
            if self.selftest == "store" and not self.selftest_done:
                self.selftest_done = self.damage_store()
            d = self.start_mounted(what + ": remount")
            if d is None:
                failed_rounds.append(rnd)
                self.daemon = None
                break
            self.daemon = d
            new = self.verify(what, models, t_kill, jpaths, corrupt)
            if not self.check_leak(what, base_excess) and new is not None:
                failed_rounds.append(rnd)
            done += 1
            if new is None:
                failed_rounds.append(rnd)
                # go on from what is there, if it can be read at all
                new, _ = self.snapshot(what + " (re-read)")
                if new is None:
                    break
            trees = new
            if fails > fails_before:
                note("%s failed; journals in %s" % (what, self.jdir))

        if self.daemon is not None:
            fb = fails
            self.stop("last daemon")
            if fails == fb:
                ok("last daemon exited 0 after umount, log clean")
            self.check_leak("after the last umount", base_excess)
        s = self.stats
        elapsed = time.monotonic() - t0
        if done >= min(npoints, 10):
            ok("%d kill points tried (%d while loading the store)" % (s["kills"], s["load_kills"]))
        else:
            fail("only %d kill points in %.0f s" % (done, elapsed))
        if not failed_rounds:
            ok("every kill point: store consistent, flushed data intact, names as journaled")
        else:
            fail("kill points that failed: %s (base seed %d)" % (failed_rounds, seed))
        if s["leaks"] == 0 and self.exact:
            ok("no leaked file in the store")
        print("# crash summary (datapath=%s, seed %d): kill points tried %d (+%d initializing a "
              "new store; %d while loading, "
              "%d at an injected syscall, %d injections not reached: timer), "
              "regions checked %d, flushed regions verified %d, ops journaled %d, "
              "namespace ops in flight at the kill %d (found done %d), unflushed mapped pages "
              "lost %d / written back %d, leaks found %d%s, %.1f s" % (
                  self.datapath, seed, s["kills"], s["init_kills"], s["load_kills"], s["strace_kills"],
                  s["strace_missed"], s["regions"], s["flushed"], s["ops"], s["inflight_ns"],
                  s["inflight_done"], s["unflushed_lost"], s["unflushed_kept"], s["leaks"],
                  "" if self.exact else " (not counted: no exact file system)", elapsed))

    def cleanup(self):
        if self.daemon is not None and self.daemon.proc.poll() is None:
            self.daemon.kill()
            abort_and_unmount(self.mnt, self.daemon.dev)


def main():
    binary, datapath, work, storefs, exact = sys.argv[1:6]
    c = Crash(binary, datapath, work, storefs, exact == "1")
    try:
        c.run()
    except Exception:
        fail("crash.py raised: " + traceback.format_exc().replace("\n", " | "))
    finally:
        c.cleanup()
    print("# crash.py: %d passed, %d failed" % (passes, fails))
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
