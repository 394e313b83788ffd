#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Create with a size, once (the README recipe, shm_create.c): processes
# racing to create-or-open one name agree on one creator and one size and
# never see another size; a creator killed at every step of the recipe, and
# racers killed at random moments, leave no pending name behind (lifetime
# "creator" of .regionfs-pending), and the name is then either absent or a
# whole region; users 2001 and 2002 race in one 1777 directory.
#
# Usage: t-create.sh DAEMON_BINARY DATAPATH SHM_CREATE_PROGRAM

. "$(dirname "$0")/lib.sh"
rfs_regionfs_only "the recipe needs user.regionfs.lifetime"
PROG=$3
rfs_init "$@"
rfs_mount "size=256M,mode=1777,allow_other"

rfs_py "$PROG" <<'EOF'
import os, random, signal, subprocess, sys, time
from rfscheck import *

PROG = sys.argv[2]
PEND = ".regionfs-pending"

def start(name, size, *extra, user=None, go=None, final="persist"):
    cmd = [PROG, MNT, name, str(size), final] + list(extra)
    if user is not None:
        cmd = ["setpriv", "--reuid", str(user), "--regid", str(user), "--clear-groups"] + cmd
    env = dict(os.environ)
    if go:
        env["RFS_GO"] = go
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

def result(p):
    out, err = p.communicate(timeout=120)
    return p.returncode, out.strip(), err.strip()

def parse(line):
    """'created size=N header=PID' -> ('created', N, PID)."""
    role, size, header = line.split()
    return role, int(size.split("=")[1]), header.split("=")[1]

def pending():
    try:
        return sorted(os.listdir(P(PEND)))
    except FileNotFoundError:
        return []

def settles(name, want_present):
    """Wait until the pending directory is empty and name is (not) there."""
    return wait_for(lambda: not pending() and os.path.exists(P(name)) == want_present, 60)

# One process alone: created, with its size and its header; a second opens it.
rc, out, err = result(start("one", 12345))
eq((rc, err), (0, ""), "a lone create-or-open succeeds")
role, size, header = parse(out)
eq((role, size), ("created", 12345), "the first one creates it with its size")
eq(os.stat(P("one")).st_size, 12345, "the published region has the creator's size")
eq(os.getxattr(P("one"), "user.regionfs.lifetime"), b"persist", "then it keeps the final lifetime")
eq(os.getxattr(P(PEND), "user.regionfs.lifetime"), b"creator",
   "the pending directory gives its regions lifetime creator")
rc, out, err = result(start("one", 999))
eq(parse(out), ("existed", 12345, header), "a later call opens it: existed, the creator's size wins")
eq(pending(), [], "no pending name is left")

# Racers: one creator, one size, everyone sees the creator's header.
for round_ in range(3):
    name = "race%d" % round_
    go = os.path.join(os.environ.get("TMPDIR", "/tmp"), "rfs-go-%d-%d" % (os.getpid(), round_))
    procs = [start(name, 4096 * (i + 1), user=(2001, 2002, None)[i % 3], go=go) for i in range(24)]
    time.sleep(0.2)
    open(go, "w").close()
    res = [result(p) for p in procs]
    os.unlink(go)
    eq([r[0] for r in res if r[0] != 0], [], "round %d: every racer succeeds %s" % (
        round_, [r[2] for r in res if r[0] != 0][:2]))
    parsed = [parse(r[1]) for r in res if r[0] == 0]
    creators = [p for p in parsed if p[0] == "created"]
    eq(len(creators), 1, "round %d: exactly one creator among 24" % round_)
    if creators:
        _, csize, cpid = creators[0]
        eq(sorted(set((p[1], p[2]) for p in parsed)), [(csize, cpid)],
           "round %d: all 24 see one size and one creator" % round_)
        eq(os.stat(P(name)).st_size, csize, "round %d: the region has that size" % round_)
        cr = os.getxattr(P(name), "user.regionfs.creator").decode()
        ok(cr.startswith("pid=%s " % cpid), "round %d: user.regionfs.creator names it: %s" % (round_, cr))
    eq(pending(), [], "round %d: no pending name is left" % round_)

# A creator killed right after each step of the recipe.
for i, at in enumerate(["created", "sized", "filled", "published", "final"]):
    name = "die-%s" % at
    p = start(name, 65536, at)
    rc, out, err = result(p)
    eq(rc, -signal.SIGKILL, "killed after '%s'" % at)
    survives = at == "final"
    ok(settles(name, survives), "killed after '%s': no pending name; the name is %s" % (
        at, "there (its lifetime was set)" if survives else "gone (it was still the creator's)"))
    if survives:
        eq(os.stat(P(name)).st_size, 65536, "killed after 'final': the region is whole")
    rc, out, err = result(start(name, 4096))
    eq((rc, parse(out)[0] if rc == 0 else err),
       (0, "existed" if survives else "created"), "after the kill at '%s' the name works" % at)

# Racers killed at random moments: whatever is left is whole.
random.seed(int(os.environ.get("RFS_SEED", "11")))
killed = 0
for round_ in range(3):
    name = "kill%d" % round_
    go = os.path.join(os.environ.get("TMPDIR", "/tmp"), "rfs-kill-%d-%d" % (os.getpid(), round_))
    procs = [start(name, 8192 * (i + 1), final="-", go=go) for i in range(16)]
    time.sleep(0.2)
    open(go, "w").close()
    for p in random.sample(procs, 10):
        time.sleep(random.random() * 0.003)
        p.kill()
    res = [result(p) for p in procs]
    os.unlink(go)
    killed += sum(1 for r in res if r[0] == -signal.SIGKILL)
    alive = [parse(r[1]) for r in res if r[0] == 0]
    ok(all(p[1] in [8192 * (i + 1) for i in range(16)] and p[2] != "none" for p in alive),
       "round %d: the %d survivors saw a whole region of a requested size" % (round_, len(alive)))
    # Lifetime "-" kept "creator": once every racer is gone, so is the name.
    ok(settles(name, False), "round %d: with every racer gone no name and no pending name is left %s" % (
        round_, (sorted(os.listdir(MNT)), pending())))
print("# %d racers were killed in the middle of the recipe or before it" % killed)

done()
EOF

rm -rf "${RFS_MNT:?}"/* "$RFS_MNT/.regionfs-pending"
rfs_expect_empty
rfs_done
