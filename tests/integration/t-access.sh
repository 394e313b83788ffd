#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# access(2), chdir and open on a mount without default_permissions, where
# the kernel leaves these checks to the daemon, compared with a tmpfs that
# this test mounts next to it: regions and directories of several owners,
# groups and modes (0600 ... 0001, 0000), asked for R_OK, W_OK and X_OK
# (and opened for reading and for writing, chdir'ed into, executed) by root, a
# root without capabilities (held to the mode bits: owner, group 0 or a
# supplementary group, other), a root with only CAP_DAC_READ_SEARCH and one
# with only CAP_DAC_OVERRIDE, and a root of a user namespace of its own
# (all capabilities there, none here: they must not open another user's
# files). A mount with default_permissions (the kernel decides; the
# daemon's handler must not change a thing) runs the same.
# One documented difference, failing closed: that namespace's root may
# override the modes of files whose owner and group are mapped into its
# namespace (root's, here) on tmpfs, not through the daemon, which counts
# no capability of another user namespace.
# Without allow_other only uid 0 (and gid 0) gets in here; a uid 2001
# caller needs a daemon of its own, which this machine's /dev/fuse (0600)
# does not allow.
#
# Usage: t-access.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

REF=$RFS_TMP/ref
mkdir -p "$REF"
if ! mount -t tmpfs -o mode=1777,size=16M rfs-ref "$REF"; then
	fail "mount the reference tmpfs"
	exit 1
fi

# NAME TYPE OWNER:GROUP MODE
OBJECTS="
f600 f 2001:2001 600
f700 f 2001:2001 700
f755 f 2001:2001 755
f644 f 2001:2001 644
f000 f 2001:2001 000
f007 f 2001:2001 007
f001 f 2001:2001 001
f070g3000 f 2001:3000 070
f070g0 f 2001:0 070
f707g0 f 2001:0 707
r600 f 0:0 600
r100 f 0:0 100
r000 f 0:0 000
d700 d 2001:2001 700
d755 d 2001:2001 755
d000 d 0:0 000
d111 d 2001:2001 111
x711 x 2001:2001 711
x744 x 2001:2001 744
x700 x 2001:2001 700
x100 x 0:0 100
"

populate()
{
	local d=$1 name type owner mode
	while read -r name type owner mode; do
		[ -n "$name" ] || continue
		if [ "$type" = d ]; then
			mkdir "$d/$name"
		elif [ "$type" = x ]; then
			cp /usr/bin/true "$d/$name"
		else
			echo data >"$d/$name"
		fi
		chown "$owner" "$d/$name"
		chmod "$mode" "$d/$name"
	done <<<"$OBJECTS"
}

# The callers: uid 0 and gid 0 all (the only ones a mount without
# allow_other admits).
CALLERS="root capless capless-g3000 readsearch override userns"
as_caller()
{
	local who=$1
	shift
	case $who in
	root) "$@" ;;
	capless) setpriv --inh-caps=-all --bounding-set=-all "$@" ;;
	capless-g3000) setpriv --groups=3000 --inh-caps=-all --bounding-set=-all "$@" ;;
	readsearch) setpriv --inh-caps=-all --bounding-set=-all,+dac_read_search "$@" ;;
	override) setpriv --inh-caps=-all --bounding-set=-all,+dac_override "$@" ;;
	userns) unshare --user --map-root-user "$@" ;;
	esac
}

# One line per object: NAME R W X OPEN_R OPEN_W (or CHDIR for directories),
# and EXEC for the programs.
matrix()
{
	as_caller "$2" "$PY" - "$1" "$OBJECTS" <<'EOF'
import os, sys, errno, subprocess
d, objs = sys.argv[1], sys.argv[2]
def res(fn):
    try:
        fn()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
for line in objs.split("\n"):
    if not line.strip():
        continue
    name, typ = line.split()[:2]
    p = os.path.join(d, name)
    out = [name] + [str(int(os.access(p, m))) for m in (os.R_OK, os.W_OK, os.X_OK)]
    if typ == "d":
        out.append("chdir=" + res(lambda: os.chdir(p)))
        os.chdir("/")
    else:
        out.append("r=" + res(lambda: os.close(os.open(p, os.O_RDONLY))))
        out.append("w=" + res(lambda: os.close(os.open(p, os.O_WRONLY))))
    if typ == "x":
        out.append("exec=" + res(lambda: subprocess.run([p], check=True)))
    print(" ".join(out))
EOF
}

# compare WHAT WHO REF_FILE GOT_FILE: each object as on tmpfs (but for the
# documented difference: see the top).
compare()
{
	local line name got
	while read -r line; do
		name=${line%% *}
		got=$(grep "^$name " "$4")
		check_eq "$1, $2: $name as on tmpfs" "$line" "$got"
	done <"$3"
}

# Is this regionfs without default_permissions (where the daemon decides)?
is_regionfs_nodp()
{
	rfs_is_regionfs && case ",$1," in *,default_permissions,*) false ;; *) true ;; esac
}

# expect FILE NAME LINE: a few answers asserted outright (the comparison
# alone would pass if both sides went wrong the same way).
expect()
{
	check_eq "$1: $2" "$2 $3" "$(grep "^$2 " "$1")"
}

check_eq "a capability-less root has no effective capabilities" "0000000000000000" \
	"$(as_caller capless awk '/^CapEff:/ { print $2 }' /proc/self/status)"
check_eq "readsearch has CAP_DAC_READ_SEARCH only" "0000000000000004" \
	"$(as_caller readsearch awk '/^CapEff:/ { print $2 }' /proc/self/status)"

populate "$REF"
for who in $CALLERS; do
	matrix "$REF" "$who" >"$RFS_TMP/ref.$who"
done

for opts in "size=16M,mode=1777" "size=16M,mode=1777,default_permissions"; do
	rfs_mount "$opts"
	populate "$RFS_MNT"
	for who in $CALLERS; do
		matrix "$RFS_MNT" "$who" >"$RFS_TMP/got.$who"
		compare "$opts" "$who" "$RFS_TMP/ref.$who" "$RFS_TMP/got.$who"
	done
	G=$RFS_TMP/got
	expect "$G.root" f600 "1 1 0 r=ok w=ok"
	expect "$G.root" f001 "1 1 1 r=ok w=ok"
	expect "$G.root" d000 "1 1 1 chdir=ok"
	expect "$G.capless" f600 "0 0 0 r=EACCES w=EACCES"
	expect "$G.capless" r600 "1 1 0 r=ok w=ok"
	expect "$G.capless" f707g0 "0 0 0 r=EACCES w=EACCES"
	expect "$G.capless" f007 "1 1 1 r=ok w=ok"
	expect "$G.capless" d700 "0 0 0 chdir=EACCES"
	expect "$G.capless-g3000" f070g3000 "1 1 1 r=ok w=ok"
	expect "$G.readsearch" f600 "1 0 0 r=ok w=EACCES"
	expect "$G.readsearch" d700 "1 0 1 chdir=ok"
	expect "$G.override" f600 "1 1 0 r=ok w=ok"
	expect "$G.override" f755 "1 1 1 r=ok w=ok"
	expect "$G.capless" x711 "0 0 1 r=EACCES w=EACCES exec=ok"
	expect "$G.capless" x744 "1 0 0 r=ok w=EACCES exec=EACCES"
	expect "$G.root" x700 "1 1 1 r=ok w=ok exec=ok"
	expect "$G.capless" x700 "0 0 0 r=EACCES w=EACCES exec=EACCES"
	expect "$G.userns" f600 "0 0 0 r=EACCES w=EACCES"
	expect "$G.userns" d700 "0 0 0 chdir=EACCES"
	expect "$G.userns" r600 "1 1 0 r=ok w=ok"
	expect "$G.userns" r000 "1 1 0 r=ok w=ok"
	expect "$G.userns" d000 "1 1 1 chdir=ok"
	rfs_umount
done

umount "$REF" || fail "umount the reference tmpfs"
rfs_done
