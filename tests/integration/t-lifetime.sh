#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# user.regionfs.lifetime (persist | last-close | creator):
#  - the attribute: persist by default; read without NUL or newline; set
#    by the owner only (or CAP_FOWNER), as chmod: a lifetime removes names,
#    and whoever may write a 0666 region in a sticky directory may not
#    unlink it (EPERM for uid 2001 with write permission; EACCES without it;
#    EPERM on a sticky directory of another user); unknown values EINVAL; XATTR_CREATE EEXIST; removing
#    it sets persist; never listed (cp --preserve=xattr keeps working)
#  - directories: their value is what regions and directories made in them
#    afterwards get (copied, not live); the mount option lifetime= sets the
#    root's
#  - last-close: a producer (creates, writes, keeps it open) and a consumer
#    (opens, maps, closes its fd, keeps the mapping): the name stays while
#    either holds it, and goes after both; a mapping alone keeps it; a
#    SIGKILL closes everything; an open cancels a pending removal
#  - creator: a creator killed with SIGKILL takes the name with it while a
#    reader keeps its mapping and the data; a thread of the creator that
#    exits does not count (not even the leader), the process does; hard links in other
#    directories and renames go too; setting creator on a region whose
#    creator is gone removes it at once
#  - a store: at load last-close regions and regions of gone creators are
#    removed, persist ones and those of a living creator are kept (and that
#    creator is watched again)
#
# Usage: t-lifetime.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_regionfs_only "user.regionfs.lifetime is a regionfs feature"
rfs_init "$@"
S=$RFS_TMP/store
mkdir -p "$S"
rfs_mount "size=32M,mode=1777,allow_other,store=$S"

rfs_py <<'EOF'
import errno, os, subprocess, sys
from rfscheck import *

NAME = "user.regionfs.lifetime"

def lt(path):
    return os.getxattr(path, NAME)

SET = """
import errno, os, sys
try:
    os.setxattr(sys.argv[1], %r, sys.argv[2].encode())
    print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])
""" % NAME

eq(lt(P()), b"persist", "the root: persist by default")
write_file(P("a"), b"x")
# Held open while it is last-close: the RELEASE of write_file's close may
# still be on its way (asynchronous), and would remove it.
afd = os.open(P("a"), os.O_RDONLY)
eq(lt(P("a")), b"persist", "a region: persist by default, no NUL, no newline")
for v in (b"last-close", b"creator", b"persist"):
    succeeds(os.setxattr, P("a"), NAME, v, msg="set " + v.decode())
    eq(lt(P("a")), v, "read back " + v.decode())
succeeds(os.setxattr, P("a"), NAME, b"last-close\n", msg="a trailing newline (echo) is accepted")
eq(lt(P("a")), b"last-close", "...and not kept")
for bad in (b"", b"forever", b"persist ", b"Creator", b"last-close\n\n", b"persist\0"):
    raises(errno.EINVAL, os.setxattr, P("a"), NAME, bad, msg="unknown value %r" % bad)
eq(lt(P("a")), b"last-close", "unchanged after the refusals")
raises(errno.EEXIST, os.setxattr, P("a"), NAME, b"persist", os.XATTR_CREATE, msg="XATTR_CREATE")
succeeds(os.setxattr, P("a"), NAME, b"persist", os.XATTR_REPLACE, msg="XATTR_REPLACE")
os.setxattr(P("a"), NAME, b"creator")
succeeds(os.removexattr, P("a"), NAME, msg="remove it")
eq(lt(P("a")), b"persist", "removed: persist")
ok(NAME not in os.listxattr(P("a")), "not listed on a region")
ok(NAME not in os.listxattr(P()), "not listed on the root")
eq(getxattr_size(P("a"), NAME, 0), 7, "size query: 7 bytes")
raises(errno.ERANGE, getxattr_size, P("a"), NAME, 3, msg="a 3-byte buffer")

# Who may set it: whoever may write the node (the kernel checks it, as for user.*).
os.chmod(P("a"), 0o644)
eq(as_user(SET, P("a"), "creator"), "EACCES", "uid 2001, no write permission -> EACCES")
eq(lt(P("a")), b"persist", "...unchanged")
os.chmod(P("a"), 0o666)
eq(as_user(SET, P("a"), "last-close"), "EPERM",
   "uid 2001 with write permission, not the owner -> EPERM (it could not unlink it either)")
eq(as_user(SET, P("a"), "persist"), "EPERM", "...nor keep it: EPERM for persist too")
eq(lt(P("a")), b"persist", "...unchanged")
eq(as_user(SET, P("a"), "bogus"), "EINVAL", "uid 2001, unknown value -> EINVAL")
os.setxattr(P("a"), NAME, b"persist")
os.mkdir(P("sticky"))
os.chmod(P("sticky"), 0o1777)
eq(as_user(SET, P("sticky"), "creator"), "EPERM", "uid 2001 on root's sticky directory -> EPERM")
eq(lt(P("sticky")), b"persist", "...unchanged")
# mknod: no open, so no RELEASE on its way that would remove it once last-close.
as_user("import os, sys; os.mknod(sys.argv[1], 0o100600)", P("sticky", "u"))
eq(as_user(SET, P("sticky", "u"), "last-close"), "ok", "uid 2001 sets its own region")
# The attack: root's 0666 region in a sticky directory, which uid 2001 may
# write but not unlink; a lifetime would remove it at its next close.
write_file(P("sticky", "roots"), b"root's data", 0o666)
os.chmod(P("sticky", "roots"), 0o666)
eq(as_user("import errno, os, sys\ntry:\n    os.unlink(sys.argv[1])\nexcept OSError as e:\n    print(errno.errorcode[e.errno])",
           P("sticky", "roots")), "EPERM", "uid 2001 may not unlink root's region in the sticky directory")
eq(as_user(SET, P("sticky", "roots"), "last-close"), "EPERM",
   "...nor give it lifetime last-close (EPERM)")
eq(as_user("import os, sys; fd = os.open(sys.argv[1], os.O_RDWR); os.close(fd); print('ok')",
           P("sticky", "roots")), "ok", "uid 2001 opens and closes it")
eq(read_file(P("sticky", "roots")), b"root's data", "root's region is still there")
os.unlink(P("sticky", "roots"))
eq(as_user("import os, sys; print(os.getxattr(sys.argv[1], %r).decode())" % NAME, P("sticky", "u")),
   "last-close", "uid 2001 reads it")
os.unlink(P("sticky", "u")) if os.path.exists(P("sticky", "u")) else None

# cp --preserve=xattr between regions: the attribute is not listed, so not copied.
os.setxattr(P("a"), NAME, b"creator")
os.setxattr(P("a"), "user.note", b"n")
r = subprocess.run(["cp", "--preserve=xattr", P("a"), P("a.copy")], capture_output=True, text=True)
eq(r.returncode, 0, "cp --preserve=xattr works: " + r.stderr.strip())
eq(lt(P("a.copy")), b"persist", "...the copy gets its directory's lifetime")

# Directories: the default of what is made in them afterwards, copied.
os.mkdir(P("lc"))
os.setxattr(P("lc"), NAME, b"last-close")
os.mkdir(P("lc", "sub"))
eq(lt(P("lc", "sub")), b"last-close", "a directory made in a last-close directory: last-close")
fd = os.open(P("lc", "sub", "r"), os.O_CREAT | os.O_RDWR, 0o644)
eq(lt(P("lc", "sub", "r")), b"last-close", "a region made in it: last-close")
os.setxattr(P("lc"), NAME, b"creator")
eq(lt(P("lc", "sub")), b"last-close", "copied, not live: the subdirectory keeps its value")
os.mknod(P("lc", "nod"), 0o600 | 0o100000)
eq(lt(P("lc", "nod")), b"creator", "mknod: the directory's value now")
os.setxattr(P("lc", "nod"), NAME, b"persist")
os.close(fd)
ok(wait_for(lambda: not os.path.exists(P("lc", "sub", "r")), 30), "touched and closed in a last-close directory: gone")
write_file(P("idle"), b"i")
write_file(P("keep.lc"), b"l")
os.close(afd)
done()
EOF

# The root's default from the mount option.
rfs_umount
rfs_mount "size=32M,mode=1777,allow_other,lifetime=creator"
rfs_py <<'EOF'
import errno, os
from rfscheck import *
NAME = "user.regionfs.lifetime"
eq(os.getxattr(P(), NAME), b"creator", "lifetime=creator: the root's value")
os.mkdir(P("d"))
eq(os.getxattr(P("d"), NAME), b"creator", "a directory in it: creator")
write_file(P("d", "f"), b"x")
eq(os.getxattr(P("d", "f"), NAME), b"creator", "a region in it: creator (this process made it)")
done()
EOF
rfs_umount

rfs_mount "size=32M,mode=1777,allow_other,store=$S"
rfs_py "$RFS_DATAPATH" <<'EOF'
import errno, mmap, os, signal, subprocess, sys, time
from rfscheck import *

NAME = "user.regionfs.lifetime"
DP = sys.argv[2]
os.makedirs(P("lc"), exist_ok=True)
os.setxattr(P("lc"), NAME, b"last-close")
os.makedirs(P("cr"), exist_ok=True)
os.setxattr(P("cr"), NAME, b"creator")

class Proc:
    """A helper python process driven line by line: it prints 'ready' after each step."""
    def __init__(self, code, *args):
        self.p = subprocess.Popen(["python3", "-c", code] + list(args), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        self.expect()
    def expect(self):
        line = self.p.stdout.readline().strip()
        if not line.startswith("ready"):
            raise RuntimeError("helper said %r" % line)
        return line[6:]
    def step(self):
        self.p.stdin.write("\n")
        self.p.stdin.flush()
        return self.expect()
    def kill(self):
        self.p.kill()
        self.p.wait()
    def finish(self):
        self.p.stdin.close()
        self.p.wait()

def gone(path, secs=30):
    return wait_for(lambda: not os.path.exists(path), secs)

def stays(path):
    """Still there after the daemon had every chance to remove it: a
    removal is queued at RELEASE and done by the reaper's next look; a
    stat after a sync round trip through a fresh open of a sibling lets
    both happen first. Checked again a few times."""
    for _ in range(5):
        os.close(os.open(P(), os.O_RDONLY))
        time.sleep(0.1)
        if not os.path.exists(path):
            return False
    return True

PRODUCER = r"""
import os, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR, 0o644)
os.ftruncate(fd, 4096)
os.pwrite(fd, b"produced", 0)
print("ready", flush=True)
sys.stdin.readline()
os.close(fd)
print("ready", flush=True)
sys.stdin.readline()
"""

CONSUMER = r"""
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 4096)
os.close(fd)
print("ready", m[:8].decode(), flush=True)
sys.stdin.readline()
m.close()
print("ready", flush=True)
sys.stdin.readline()
"""

# Producer/consumer: the name stays while either holds the region.
pc = P("lc", "pc")
prod = Proc(PRODUCER, pc)
eq(os.getxattr(pc, NAME), b"last-close", "the producer's region: last-close (its directory's)")
cons = Proc(CONSUMER, pc)
ok(stays(pc), "producer open, consumer mapped: the name stays")
prod.step()  # the producer closes
ok(stays(pc), "producer closed, consumer still maps it (fd closed): the name stays (%s)" % DP)
cons.step()  # the consumer unmaps
ok(gone(pc), "both gone: the name is gone")
prod.finish(); cons.finish()

# A mapping alone (fd closed) keeps it; SIGKILL closes and unmaps everything.
mk = P("lc", "killed")
prod = Proc(PRODUCER, mk)
cons = Proc(CONSUMER, mk)
prod.step()
ok(stays(mk), "only a mapping left: the name stays")
cons.kill()
ok(gone(mk), "the mapping process got SIGKILL: the name is gone")
prod.finish()
mk2 = P("lc", "killed2")
prod = Proc(PRODUCER, mk2)
ok(stays(mk2), "open by the producer: stays")
prod.kill()
ok(gone(mk2), "the producer got SIGKILL with it open: gone")

# An open while a removal is pending (mapped elsewhere) keeps the region.
mo = P("lc", "reopened")
prod = Proc(PRODUCER, mo)
cons = Proc(CONSUMER, mo)
prod.step()
fd = os.open(mo, os.O_RDONLY)
cons.step()
ok(stays(mo), "unmapped while this process has it open: stays")
os.close(fd)
ok(gone(mo), "then closed: gone")
prod.finish(); cons.finish()

# A region given last-close while nobody holds it goes at its next last
# close (made before the remount: no RELEASE of it can still be on its way).
idle = P("idle")
os.setxattr(idle, NAME, b"last-close")
ok(stays(idle), "set last-close while unheld: stays")
os.close(os.open(idle, os.O_RDONLY))
ok(gone(idle), "opened and closed once: gone")

# creator: killed with SIGKILL, the name goes; a reader keeps the memory.
CREATOR = r"""
import os, sys, threading
paths = sys.argv[1:]
def make():
    for p in paths:
        fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o644)
        os.ftruncate(fd, 4096)
        os.pwrite(fd, b"creator data", 0)
        os.close(fd)
# Made by a thread that then exits: the process is the creator.
t = threading.Thread(target=make); t.start(); t.join()
print("ready", os.getpid(), flush=True)
sys.stdin.readline()
"""
c1 = P("cr", "c1")
cre = Proc(CREATOR, c1)
pid = cre.p.pid
eq(os.getxattr(c1, NAME), b"creator", "the creator's region: creator")
rec = os.getxattr(c1, "user.regionfs.creator").decode()
ok(rec.startswith("pid=%d " % pid),
   "the creator record names the process (%d), not the thread that made it: %s" % (pid, rec))
ok(stays(c1), "the creating thread exited, the process runs: stays")
fd = os.open(c1, os.O_RDWR)
m = mmap.mmap(fd, 4096)
os.close(fd)
os.link(c1, P("lc", "c1.link"))
os.rename(c1, P("cr", "c1.renamed"))
cre.kill()
ok(gone(P("cr", "c1.renamed")), "creator SIGKILLed: its renamed region is gone")
ok(gone(P("lc", "c1.link")), "...and its hard link in another directory")
eq(m[:12], b"creator data", "the reader's mapping keeps the data")
m[:4] = b"STIL"
eq(m[:4], b"STIL", "...and stays writable")
m.close()

# The thread-group leader exits (pthread_exit) while another thread runs:
# the process is still there, so is the region; it goes with the process.
LEADER = r"""
import ctypes, os, sys, threading
go = threading.Event()
def worker():
    go.wait()
    print("ready", flush=True)
    sys.stdin.readline()
threading.Thread(target=worker).start()
# Made by the leader while another thread runs.
os.close(os.open(sys.argv[1], os.O_CREAT | os.O_RDWR, 0o644))
go.set()
ctypes.CDLL(None).pthread_exit(None)
"""
lp = P("cr", "leader")
ld = Proc(LEADER, lp)
ok(os.getxattr(lp, "user.regionfs.creator").decode().startswith("pid=%d " % ld.p.pid),
   "made by the leader of a process with two threads: that process")
def leader_zombie():
    with open("/proc/%d/status" % ld.p.pid) as f:
        return "\nState:\tZ" in f.read()
ok(wait_for(leader_zombie, 30), "the leader thread exited, another thread runs")
ok(stays(lp), "...the region stays")
ld.finish()
ok(gone(lp), "the last thread exited: the region is gone")

# Creator gone before the attribute is set: removed at once.
late = P("late")
subprocess.run(["python3", "-c", "import os, sys; open(sys.argv[1], 'w').write('x')", late], check=True)
ok(os.path.exists(late), "made by a process that exited, persist: stays")
os.setxattr(late, NAME, b"creator")
ok(gone(late, 5), "set to creator after the creator exited: removed at once")

# Regions for the store checks below, each kind once.
write_file(P("keep.persist"), b"p")
os.setxattr(P("keep.lc"), NAME, b"last-close")  # made before the remount, as idle
done()
EOF

# The store: a living creator (kept, watched again), a gone one (removed),
# last-close (removed), persist (kept).
mkfifo "$RFS_TMP/live.fifo"
python3 -c '
import os, sys
for p in sys.argv[1:3]:
    open(p, "w").write("x")
os.setxattr(sys.argv[1], "user.regionfs.lifetime", b"creator")
os.setxattr(sys.argv[2], "user.regionfs.lifetime", b"creator")
print(os.getpid(), flush=True)
open(sys.argv[3]).read()
' "$RFS_MNT/live" "$RFS_MNT/live2" "$RFS_TMP/live.fifo" >"$RFS_TMP/live.pid" &
LIVE=$!
rfs_bg_track "$LIVE"
wait_until 30 test -s "$RFS_TMP/live.pid"
python3 -c 'import os, sys; open(sys.argv[1], "w").write("x"); os.setxattr(sys.argv[1], "user.regionfs.lifetime", b"creator")' "$RFS_MNT/dead"
check "the dead creator's region is removed while mounted" wait_until 30 test ! -e "$RFS_MNT/dead"
# A creator that exits while the store is not mounted.
mkfifo "$RFS_TMP/dead.fifo"
python3 -c '
import os, sys
open(sys.argv[1], "w").write("x")
os.setxattr(sys.argv[1], "user.regionfs.lifetime", b"creator")
print(os.getpid(), flush=True)
open(sys.argv[2]).read()
' "$RFS_MNT/dead" "$RFS_TMP/dead.fifo" >"$RFS_TMP/dead.pid" &
DEADPID=$!
rfs_bg_track "$DEADPID"
wait_until 30 test -s "$RFS_TMP/dead.pid"
rfs_umount
echo >"$RFS_TMP/dead.fifo"
wait "$DEADPID"
check "the second dead creator's file is still in the store" test -e "$S/root/dead"
check "the last-close region's file is in the store" test -e "$S/root/keep.lc"
# Records of another boot (the store's own attributes, as a crash and a
# reboot would leave them): a creator region whose creator ran then is
# gone; a persist region with such a record stays.
boot=$(cut -c1-8 /proc/sys/kernel/random/boot_id)
other=00000000
[ "$boot" = "$other" ] && other=11111111
: >"$S/root/otherboot"
chown 65534:65534 "$S/root/otherboot"
setfattr -n user.regionfs.lifetime -v creator "$S/root/otherboot"
setfattr -n user.regionfs.creator -v "$$ 1 $other 0 0 old boot" "$S/root/otherboot"
setfattr -n user.regionfs.creator -v "$$ 1 $other 0 0 old boot" "$S/root/keep.persist"
rfs_mount "size=32M,mode=1777,allow_other,store=$S"
M=$RFS_MNT
check "at load: persist region kept" test -e "$M/keep.persist"
check "at load: a creator region of another boot removed" test ! -e "$M/otherboot"
check_eq "...a persist region shows its record of another boot" "pid=$$ uid=0 comm=old boot time=1970-01-01T00:00:00Z" \
	"$(getfattr --absolute-names --only-values -n user.regionfs.creator "$M/keep.persist")"
setfattr -n user.regionfs.lifetime -v creator "$M/keep.persist"
check "...set to creator: removed at once (its creator ran in another boot)" \
	wait_until 10 test ! -e "$M/keep.persist"
check "at load: last-close region removed" test ! -e "$M/keep.lc"
check "at load: region of a gone creator removed" test ! -e "$M/dead"
check "at load: its store file is gone too" test ! -e "$S/root/dead"
check "at load: regions of a living creator kept" test -e "$M/live"
check_eq "...still creator" creator "$(getfattr --absolute-names --only-values -n user.regionfs.lifetime "$M/live")"
check_eq "...the saved creator record" "pid=$(cat "$RFS_TMP/live.pid")" \
	"$(getfattr --absolute-names --only-values -n user.regionfs.creator "$M/live" | cut -d' ' -f1)"
echo >"$RFS_TMP/live.fifo"
wait "$LIVE"
check "the living creator exits after the load: its region goes" wait_until 30 test ! -e "$M/live"
check "...both of them" wait_until 30 test ! -e "$M/live2"
rfs_umount

# More creators than pidfds: with RLIMIT_NOFILE 256 the daemon watches 16
# by pidfd (a sixteenth) and polls the others; every region still goes.
RFS_DAEMON_PREFIX=(prlimit --nofile=256:256 --)
rfs_mount "size=16M,mode=1777,allow_other,lifetime=creator"
M=$RFS_MNT
mkfifo "$RFS_TMP/many.fifo"
pids=()
for i in $(seq 1 24); do
	python3 -c 'import sys; open(sys.argv[1], "w").write("x"); print(flush=True); open(sys.argv[2]).read()' \
		"$M/many$i" "$RFS_TMP/many.fifo" >"$RFS_TMP/many$i.ready" &
	pids+=($!)
	rfs_bg_track "$!"
done
for i in $(seq 1 24); do wait_until 30 test -s "$RFS_TMP/many$i.ready"; done
check_eq "24 creators, 24 regions" 24 "$(ls "$M" | grep -c '^many')"
npidfd=$(ls -l "/proc/$RFS_DAEMON_PID/fd" | grep -c 'anon_inode:\[pidfd\]')
check_eq "the daemon holds 16 pidfds (RLIMIT_NOFILE 256 / 16), polls the rest" 16 "$npidfd"
kill -KILL "${pids[@]}"
wait "${pids[@]}" 2>/dev/null
none_left() { ! ls "$M" | grep -q '^many'; }
check "all 24 creators killed: every region is gone (polled ones within 2 s)" \
	wait_until 30 none_left
rfs_done
