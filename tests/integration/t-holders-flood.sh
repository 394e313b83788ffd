#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A flood of user.regionfs.holders reads by one user stalls nobody else:
# /proc passes run on the holders thread, one at a time, each answering
# every request queued meanwhile; a full queue answers EAGAIN. With 300
# extra processes (a pass takes a while), uid 2001 reads the holders of a
# region from 32 threads until it has 320 answers; meanwhile uid 2002
# does 1,000 stats of missing names and 20 create/write/read/stat/unlink
# rounds, all of which reach the daemon. Checked by counting, not timing:
# uid 2002 finishes while the flood still runs; the flood saw only correct
# values and EAGAIN. Requests over io_uring (when the kernel offers it) and
# over /dev/fuse (uring=off): the holders thread replies through both.
# Then SIGTERM during a flood: queued requests are answered, the daemon
# exits 0 with a clean log (and, in the ASan build, no leaks).
#
# Usage: t-holders-flood.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_regionfs_only "user.regionfs.holders is a regionfs feature"
rfs_init "$@"
rfs_user_python

# The flood, as uid 2001: THREADS threads read the holders of REGION until
# each has PER answers (0: until killed); prints "started" after the first,
# then at the end "ok=N eagain=N other=N bad=N".
FLOOD='
import errno, os, sys, threading
path, per, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lock = threading.Lock()
count = {"ok": 0, "eagain": 0, "other": 0, "bad": 0}
started = threading.Event()
def run():
    done = 0
    while per == 0 or done < per:
        try:
            v = os.getxattr(path, "user.regionfs.holders")
        except OSError as e:
            k = "eagain" if e.errno == errno.EAGAIN else "other"
            with lock:
                count[k] += 1
            if k == "other":
                print("errno", errno.errorcode.get(e.errno), flush=True)
                return
            threading.Event().wait(0.001)
            continue
        done += 1
        with lock:
            count["ok" if b" open=1 mapped=0\n" in v else "bad"] += 1
        if not started.is_set():
            started.set()
            print("started", flush=True)
ts = [threading.Thread(target=run) for _ in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(" ".join("%s=%d" % kv for kv in count.items()), flush=True)
'
export FLOOD

for requests in auto off; do
	rfs_mount "size=16M,mode=1777,allow_other,uring=$requests"
	rfs_py "$requests" <<'EOF'
import os, subprocess, sys, time
from rfscheck import *

requests = sys.argv[2]
FLOOD = os.environ["FLOOD"]
as_user = lambda uid: ["setpriv", "--reuid", str(uid), "--regid", str(uid), "--clear-groups"]

held = P("held")
write_file(held, b"x" * 4096)
fd = os.open(held, os.O_RDONLY)  # the one holder: this process, open=1 mapped=0
os.mkdir(P("u2002"))
os.chown(P("u2002"), 2002, 2002)
sleepers = [subprocess.Popen(["sleep", "600"]) for _ in range(300)]

t0 = time.monotonic()
flood = subprocess.Popen(as_user(2001) + ["python3", "-c", FLOOD, held, "10", "32"],
                         stdout=subprocess.PIPE, text=True)
eq(flood.stdout.readline().strip(), "started", "uid 2001's flood got its first answer")
print("# requests over %s" % os.getxattr(P(), "user.regionfs.requests").decode())

OTHER = r'''
import os, sys
d = sys.argv[1]
n = 0
for i in range(1000):
    try:
        os.stat(os.path.join(d, "missing%d" % i))
    except FileNotFoundError:
        n += 1
for i in range(20):
    p = os.path.join(d, "f%d" % i)
    with open(p, "wb") as f:
        f.write(b"data%d" % i)
    with open(p, "rb") as f:
        n += f.read() == b"data%d" % i
    n += os.stat(p).st_size == len(b"data%d" % i)
    os.unlink(p)
print(n)
'''
t1 = time.monotonic()
other = subprocess.run(as_user(2002) + ["python3", "-c", OTHER, P("u2002")],
                       capture_output=True, text=True, timeout=600)
running = flood.poll() is None
t2 = time.monotonic()
eq(other.stdout.strip(), "1040", "uid 2002: 1,000 stats and 20 create/read/stat/unlink rounds done")
ok(running, "uid 2002 finished while uid 2001's flood (320 answers) was still running")

out, _ = flood.communicate(timeout=600)
counts = dict(kv.split("=") for kv in out.split()[-4:]) if out.split() else {}
print("# flood: %s; %.1f s (uid 2002: %.2f s)" % (out.strip(), time.monotonic() - t0, t2 - t1))
eq(counts.get("ok"), "320", "the flood: 320 answers")
eq((counts.get("bad"), counts.get("other")), ("0", "0"),
   "the flood: every answer right, no error but EAGAIN")
for s in sleepers:
    s.kill()
    s.wait()
os.close(fd)
done()
EOF
	rfs_umount
done

# SIGTERM while requests wait in the holders queue.
rfs_mount "size=16M,mode=1777,allow_other"
for i in $(seq 100); do sleep 600 & rfs_bg_track $!; done
echo x >"$RFS_MNT/held"
chmod 644 "$RFS_MNT/held"
exec 5<"$RFS_MNT/held"
setpriv --reuid 2001 --regid 2001 --clear-groups "$PY" -c "$FLOOD" "$RFS_MNT/held" 0 32 \
	>"$RFS_TMP/flood.out" 2>&1 &
flood=$!
rfs_bg_track $flood
check "a flood is running" wait_until 60 grep -q started "$RFS_TMP/flood.out"
kill -TERM "$RFS_DAEMON_PID"
rfs_judge_daemon "after SIGTERM during a holders flood"
exec 5<&-
check "the flood's readers were answered (they end)" wait_until 60 rfs_proc_gone "$flood"
rfs_done
