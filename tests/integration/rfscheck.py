# SPDX-License-Identifier: GPL-2.0-or-later
"""Checks for the regionfs mount tests written in Python (imported by the
inline scripts of tests/integration/t-*.sh through rfs_py in lib.sh).

Every check prints one "PASS: ..." or "FAIL: ..." line; done() exits 1 when
any check failed. Errno checks are exact: raises(errno.EEXIST, fn, ...)."""

import ctypes
import errno
import os
import sys
import time

TARGET = os.environ.get("RFS_TEST_TARGET", "regionfs")
DATAPATH = os.environ.get("RFS_DATAPATH", "")
MNT = sys.argv[1] if len(sys.argv) > 1 else "."

passes = 0
fails = 0

sys.stdout.reconfigure(line_buffering=True)


def is_regionfs():
    return TARGET != "tmpfs"


def P(*parts):
    """A path under the mountpoint."""
    return os.path.join(MNT, *parts)


def ok(cond, msg):
    global passes, fails
    if cond:
        passes += 1
        print("PASS: " + msg)
    else:
        fails += 1
        print("FAIL: " + msg)
    return cond


def eq(actual, expected, msg):
    if actual == expected:
        return ok(True, msg)
    a, e = repr(actual), repr(expected)
    if len(a) > 200:
        a = a[:200] + "..."
    if len(e) > 200:
        e = e[:200] + "..."
    return ok(False, "%s (expected %s, got %s)" % (msg, e, a))


def ename(e):
    return errno.errorcode.get(e, str(e))


def raises(err, fn, *args, msg=None, **kwargs):
    """Pass when fn(*args) raises OSError with errno exactly err."""
    what = msg or "%s%r" % (getattr(fn, "__name__", "call"), args)
    try:
        r = fn(*args, **kwargs)
    except OSError as e:
        return eq(ename(e.errno), ename(err), "%s -> %s" % (what, ename(err)))
    if isinstance(r, int) and r >= 0 and fn is os.open:
        os.close(r)
    return ok(False, "%s -> %s (succeeded, returned %r)" % (what, ename(err), r))


def succeeds(fn, *args, msg=None, **kwargs):
    """Pass when fn(*args) does not raise; returns its result (or None)."""
    what = msg or "%s%r" % (getattr(fn, "__name__", "call"), args)
    try:
        r = fn(*args, **kwargs)
    except OSError as e:
        ok(False, "%s succeeds (got %s: %s)" % (what, ename(e.errno), e))
        return None
    ok(True, "%s succeeds" % what)
    return r


def write_file(path, data, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def as_user(code, *args, uid=2001):
    """Run python code as uid (and gid) 2001 without supplementary groups;
    its stdout and stderr, stripped."""
    import subprocess
    r = subprocess.run(["setpriv", "--reuid", str(uid), "--regid", str(uid), "--clear-groups",
                        "python3", "-c", code] + list(args),
                       capture_output=True, text=True, timeout=60)
    return r.stdout.strip() + r.stderr.strip()


def wait_for(cond, seconds=10):
    """Poll cond() every 50 ms until it is true (True) or seconds passed (False)."""
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > seconds:
            return False
        time.sleep(0.05)
    return True


def fs_used(path=None):
    """Bytes in use on the file system of path (default: the mount), as df."""
    sv = os.statvfs(path or MNT)
    return (sv.f_blocks - sv.f_bfree) * sv.f_frsize


def fs_inodes_used(path=None):
    """Inodes in use on the file system of path (default: the mount), as df -i."""
    sv = os.statvfs(path or MNT)
    return sv.f_files - sv.f_ffree


def reachable_inodes(top):
    """Distinct inodes of top and of everything below it."""
    seen = set()
    for d, dirs, files in os.walk(top):
        seen.add(os.lstat(d).st_ino)
        for n in files:
            seen.add(os.lstat(os.path.join(d, n)).st_ino)
    return len(seen)


def excess_inodes(top):
    """Inodes in use on top's file system that no name under top reaches
    (with top the root of that file system: unlinked files still held)."""
    return fs_inodes_used(top) - reachable_inodes(top)


_libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2


def renameat2(old, new, flags):
    """renameat2(2) through glibc; raises OSError like os.rename."""
    _libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                                ctypes.c_char_p, ctypes.c_uint]
    r = _libc.renameat2(AT_FDCWD, os.fsencode(old), AT_FDCWD, os.fsencode(new), flags)
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), old, None, new)
    return r


def getxattr_size(path, name, size):
    """getxattr(2) with an explicit buffer size (os.getxattr grows it)."""
    _libc.getxattr.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p,
                               ctypes.c_size_t]
    _libc.getxattr.restype = ctypes.c_ssize_t
    buf = ctypes.create_string_buffer(max(size, 1))
    r = _libc.getxattr(os.fsencode(path), os.fsencode(name), buf if size else None, size)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), path)
    return r


def done():
    print("# python checks: %d passed, %d failed" % (passes, fails))
    sys.stdout.flush()
    sys.exit(1 if fails else 0)
