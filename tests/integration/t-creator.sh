#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# user.regionfs.creator: "pid=N uid=N comm=NAME time=ISO-8601" of the process
# that created a region (CREATE and MKNOD): a shell as uid 2001 and python3 as
# root; hard links, renames and a bind keep it; read-only (EPERM on set/remove, as owner and
# as root); read by name, never listed (cp --preserve=xattr between regions
# works), ENODATA on directories and the root; a comm with control characters shows '?' on one line; another user
# reads it when the region is readable (EACCES when not, as any user.*);
# kept in a store: after a remount, the saved record.
#
# Usage: t-creator.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_regionfs_only "user.regionfs.creator is a regionfs feature"
rfs_init "$@"
S=$RFS_TMP/store
mkdir -p "$S"
rfs_mount "size=16M,mode=1777,allow_other,store=$S"
M=$RFS_MNT

# A shell as uid 2001 creates a region: its pid and comm, as it sees them.
out=$(setpriv --reuid 2001 --regid 2001 --clear-groups \
	sh -c 'echo "$$ $(cat /proc/$$/comm)"; : >"$1"' sh "$M/u")
upid=${out%% *}
ucomm=${out#* }
check "uid 2001 created a region" test -f "$M/u"

printf 'file data' >"$RFS_TMP/bound.dat"
rfs_py "$upid" "$ucomm" "$RFS_TMP/bound.dat" <<'EOF'
import calendar, errno, os, re, stat, subprocess, sys, time
from rfscheck import *

NAME = "user.regionfs.creator"
upid, ucomm, bound = int(sys.argv[2]), sys.argv[3], sys.argv[4]
LINE = re.compile(r"pid=(\d+) uid=(\d+) comm=([\x20-\x7e]*) time=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$")

def creator(path):
    v = os.getxattr(path, NAME).decode("ascii")
    m = LINE.match(v)
    ok(m is not None, "%s: one printable line in the documented format: %r" % (path, v))
    return m.groups() if m else (None, None, None, None)

ERRNO_OF = """
import errno, os, sys
try:
    r = %s
    print("ok", r.decode() if isinstance(r, bytes) else r)
except OSError as e:
    print(errno.errorcode[e.errno])
"""

u = P("u")
pid, uid, comm, stamp = creator(u)
eq(pid, str(upid), "creator pid: the shell's")
eq(uid, "2001", "creator uid: 2001")
eq(comm, ucomm, "creator comm: the shell's (%s)" % ucomm)
eq(os.stat(u).st_uid, 2001, "owned by 2001")

# As root, from python3 (open O_CREAT: CREATE); the time is the creation's.
before = int(time.time())
r = P("r")
os.close(os.open(r, os.O_CREAT | os.O_RDWR, 0o644))
after = int(time.time())
pid, uid, comm, stamp = creator(r)
eq(pid, str(os.getpid()), "root's region: this process's pid")
eq(uid, "0", "root's region: uid 0")
eq(comm, "python3", "root's region: comm python3")
if stamp:
    t = calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))
    ok(before <= t <= after, "time is the creation's, in UTC (%s in [%d, %d])" % (stamp, before, after))

# MKNOD makes a region too.
n = P("nod")
os.mknod(n, 0o600 | stat.S_IFREG)
eq(creator(n)[2], "python3", "mknod: creator recorded")

# Bound to a file, it is still the region its creator made.
v = os.getxattr(n, NAME)
succeeds(os.setxattr, n, "user.regionfs.backing", bound.encode(), msg="bind the mknod region")
eq(os.getxattr(n, NAME), v, "bound region: the same creator")
eq(sorted(x for x in os.listxattr(n) if x.startswith("user.")), ["user.regionfs.backing"],
   "bound region lists the binding, not the creator")

# A hard link is the same region: the same creator, whoever links it.
os.link(u, P("u.link"))
eq(os.getxattr(P("u.link"), NAME), os.getxattr(u, NAME), "hard link: same creator")
os.rename(P("u.link"), P("u.moved"))
eq(os.getxattr(P("u.moved"), NAME), os.getxattr(u, NAME), "renamed: same creator")

# Read-only, for everyone.
raises(errno.EPERM, os.setxattr, r, NAME, b"pid=1", msg="root sets it")
raises(errno.EPERM, os.removexattr, r, NAME, msg="root removes it")
eq(as_user(ERRNO_OF % "os.setxattr(sys.argv[1], %r, b'x')" % NAME, u), "EPERM", "owner 2001 sets it -> EPERM")
eq(as_user(ERRNO_OF % "os.removexattr(sys.argv[1], %r)" % NAME, u), "EPERM", "owner 2001 removes it -> EPERM")
eq(creator(u)[1], "2001", "unchanged after the refusals")

# Read by name, never listed (cp would copy or fail to set it); ENODATA on directories.
ok(NAME not in os.listxattr(r), "listxattr of a region does not list it")
os.setxattr(r, "user.mine", b"v")
eq(sorted(x for x in os.listxattr(r) if x.startswith("user.")), ["user.mine"],
   "only the region's own user.* names are listed")
os.mkdir(P("d"))
ok(NAME not in os.listxattr(P("d")), "listxattr of a directory does not list it")
raises(errno.ENODATA, os.getxattr, P("d"), NAME, msg="getxattr on a directory")
raises(errno.ENODATA, os.getxattr, P(), NAME, msg="getxattr on the root")
eq(getxattr_size(r, NAME, 0), len(os.getxattr(r, NAME)), "size query returns the length")
raises(errno.ERANGE, getxattr_size, r, NAME, 4, msg="a 4-byte buffer")

# Another user reads it when the region is readable, not otherwise (as user.*).
v = os.getxattr(r, NAME).decode()
eq(as_user(ERRNO_OF % "os.getxattr(sys.argv[1], %r)" % NAME, r), "ok " + v, "2001 reads root's 0644 region's creator")
os.chmod(r, 0o600)
eq(as_user(ERRNO_OF % "os.getxattr(sys.argv[1], %r)" % NAME, r), "EACCES", "2001 on root's 0600 region -> EACCES")

# A user-chosen comm with control and non-ASCII bytes: '?' each, one line.
code = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(15, ctypes.c_char_p(b"ev\\nil\\x01\\x7f\\xc3\\xa9"), 0, 0, 0) == 0
os.close(os.open(sys.argv[1], os.O_CREAT | os.O_RDWR, 0o600))
print(os.getpid())
"""
cpid = subprocess.run(["python3", "-c", code, P("evil")], capture_output=True, text=True, timeout=60).stdout.strip()
v = os.getxattr(P("evil"), NAME)
ok(b"\n" not in v and all(0x20 <= c <= 0x7e for c in v), "control characters made printable: %r" % v)
eq(creator(P("evil"))[:3], (cpid, "0", "ev?il????"), "evil comm shown as ev?il????")
done()
EOF

# Kept in the store: a region loaded from it shows its saved creator.
saved=$(getfattr --absolute-names --only-values -n user.regionfs.creator "$M/r")
rfs_umount
rfs_mount "size=16M,mode=1777,allow_other,store=$S"
rfs_py "$saved" <<'EOF'
import errno, os, sys
from rfscheck import *

NAME = "user.regionfs.creator"
ok(os.path.exists(P("r")), "the region came back from the store")
eq(os.getxattr(P("r"), NAME).decode(), sys.argv[2], "loaded region: its saved creator")
eq(sorted(x for x in os.listxattr(P("r")) if x.startswith("user.")), ["user.mine"],
   "loaded region: only its own user.* names listed")
raises(errno.EPERM, os.setxattr, P("r"), NAME, b"pid=1", msg="still read-only after a load")
os.close(os.open(P("new"), os.O_CREAT | os.O_RDWR, 0o644))
eq(os.getxattr(P("new"), NAME).decode().split()[2], "comm=python3", "a region created after the load has one")
done()
EOF
# The attribute is read by name only: copies with attributes neither fail on it nor carry it.
M=$RFS_MNT
setfattr -n user.note -v kept "$M/new"
check "cp --preserve=xattr between regions" cp --preserve=xattr "$M/new" "$M/copy"
check_eq "...the copy keeps user.note" kept "$(getfattr --absolute-names --only-values -n user.note "$M/copy" 2>&1)"
check_eq "...and has its own creator (cp's)" "comm=cp" \
	"$(getfattr --absolute-names --only-values -n user.regionfs.creator "$M/copy" | tr ' ' '\n' | grep '^comm=')"
mkdir -p "$RFS_TMP/out"
check "cp -a out of the mount" cp -a "$M/new" "$RFS_TMP/out/new"
check_eq "...carries no user.regionfs.* attribute" "" \
	"$(getfattr --absolute-names -d -m 'user\.regionfs\.' "$RFS_TMP/out/new" 2>&1)"
rfs_done
