#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Permissions are the kernel's, exactly as on tmpfs: default_permissions is
# always on, also on a mount given without that option (root only, no
# allow_other), where the kernel would otherwise leave every check to the
# daemon. Compared with a tmpfs that this test mounts next to it, on
# regions and directories of several owners, groups and modes (0600 ...
# 0001, 0000, sticky, set-group-ID), every operation is tried by:
# root; a root without capabilities (held to the mode bits: owner, group 0
# or a supplementary group, other); a root with only CAP_DAC_READ_SEARCH;
# one with only CAP_DAC_OVERRIDE; the root of a user namespace of its own
# (every capability there, which count here only over files whose owner
# and group are mapped into it, root's). The operations: access(2) R_OK,
# W_OK, X_OK; open for reading and for writing; execve; chdir; readdir;
# create, unlink and rename in a directory (one 0755 and owned by someone
# else among them); utimes to now and to a given time; setxattr; chmod
# (with S_ISGID: dropped for a non-member without CAP_FSETID) and the
# mode it leaves; chown (which drops S_ISGID with group execute) and the
# mode and owner the object has afterwards.
# Each caller works on a fresh copy of the objects; a mount given the
# option runs the same. Besides "as tmpfs", a few answers are asserted
# outright (the comparison alone would pass if both sides went wrong the
# same way).
# Without allow_other only uid 0 (and gid 0) gets in here; a uid 2001
# caller needs a daemon of its own, which this machine's /dev/fuse (0600)
# does not allow.
#
# Usage: t-access.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"

rfs_user_python

REF=$RFS_TMP/ref
mkdir -p "$REF"
if ! mount -t tmpfs -o mode=1777,size=16M rfs-ref "$REF"; then
	fail "mount the reference tmpfs"
	exit 1
fi

# NAME TYPE OWNER:GROUP MODE (f file, x program, d directory)
OBJECTS="
f600 f 2001:2001 600
f700 f 2001:2001 700
f755 f 2001:2001 755
f644 f 2001:2001 644
f666 f 2001:2001 666
f000 f 2001:2001 000
f007 f 2001:2001 007
f001 f 2001:2001 001
f070g3000 f 2001:3000 070
f070g0 f 2001:0 070
f707g0 f 2001:0 707
r600 f 0:0 600
r600g3000 f 0:3000 600
r100 f 0:0 100
r000 f 0:0 000
x711 x 2001:2001 711
x744 x 2001:2001 744
x700 x 2001:2001 700
x100 x 0:0 100
d700 d 2001:2001 700
d755 d 2001:2001 755
d777 d 2001:2001 777
t1777 d 2001:2001 1777
d070g0 d 2001:0 070
d111 d 2001:2001 111
r755 d 0:0 755
r700g3000 d 0:3000 700
d000 d 0:0 000
"

# populate DIR: the objects, each directory with two files of uid 2001.
populate()
{
	local d=$1 name type owner mode
	rm -rf "$d"
	mkdir -m 755 "$d"
	while read -r name type owner mode; do
		[ -n "$name" ] || continue
		if [ "$type" = d ]; then
			mkdir "$d/$name"
			echo victim >"$d/$name/victim"
			echo victim2 >"$d/$name/victim2"
			chown 2001:2001 "$d/$name/victim" "$d/$name/victim2"
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
	capless) setpriv --inh-caps=-all --ambient-caps=-all --bounding-set=-all "$@" ;;
	capless-g3000)
		setpriv --groups=3000 --inh-caps=-all --ambient-caps=-all --bounding-set=-all "$@" ;;
	readsearch)
		setpriv --inh-caps=-all --ambient-caps=-all --bounding-set=-all,+dac_read_search "$@" ;;
	override)
		setpriv --inh-caps=-all --ambient-caps=-all --bounding-set=-all,+dac_override "$@" ;;
	userns) unshare --user --map-root-user "$@" ;;
	esac
}

# matrix DIR WHO: one line per object, "NAME KEY=RESULT...", RESULT ok or
# the errno name.
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
    except subprocess.CalledProcessError as e:
        return "exit%d" % e.returncode
def create(p):
    os.close(os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
def after(p):
    st = os.lstat(p)
    return "%o:%d:%d" % (st.st_mode & 0o7777, st.st_uid, st.st_gid)
for line in objs.split("\n"):
    if not line.strip():
        continue
    name, typ = line.split()[:2]
    p = os.path.join(d, name)
    out = [name] + ["%s=%d" % (k, os.access(p, m))
                    for k, m in (("R", os.R_OK), ("W", os.W_OK), ("X", os.X_OK))]
    if typ == "d":
        out.append("chdir=" + res(lambda: os.chdir(p)))
        os.chdir("/")
        out.append("readdir=" + res(lambda: os.listdir(p)))
        out.append("create=" + res(lambda: create(os.path.join(p, "new"))))
        out.append("unlink=" + res(lambda: os.unlink(os.path.join(p, "victim"))))
        out.append("rename=" + res(lambda: os.rename(os.path.join(p, "victim2"),
                                                     os.path.join(p, "renamed"))))
        sgid_mode = 0o2775
    else:
        out.append("open_r=" + res(lambda: os.close(os.open(p, os.O_RDONLY))))
        out.append("open_w=" + res(lambda: os.close(os.open(p, os.O_WRONLY))))
        if typ == "x":
            out.append("exec=" + res(lambda: subprocess.run([p], check=True)))
        sgid_mode = 0o2770
    out.append("utime_now=" + res(lambda: os.utime(p)))
    out.append("utime_set=" + res(lambda: os.utime(p, (1000000, 1000000))))
    out.append("setxattr=" + res(lambda: os.setxattr(p, "user.t", b"v")))
    out.append("chmod=" + res(lambda: os.chmod(p, sgid_mode)))
    out.append("mode=" + after(p))
    out.append("chown=" + res(lambda: os.chown(p, 0, 0)))
    out.append("after=" + after(p))
    print(" ".join(out))
EOF
}

# compare WHAT WHO REF_FILE GOT_FILE: each object as on tmpfs.
compare()
{
	local line name got n=0
	while read -r line; do
		name=${line%% *}
		got=$(grep "^$name " "$4")
		check_eq "$1, $2: $name as on tmpfs" "$line" "$got"
		n=$((n + 1))
	done <"$3"
	check_eq "$1, $2: every object answered" "$(grep -c . <<<"$OBJECTS")" "$n"
}

# expect FILE NAME KEY=VALUE...: answers asserted outright.
expect()
{
	local f=$1 name=$2 line kv
	shift 2
	line=" $(grep "^$name " "$f") "
	for kv in "$@"; do
		case $line in
		*" $kv "*) ok "$f: $name $kv" ;;
		*) fail "$f: $name $kv (got:$line)" ;;
		esac
	done
}

check_eq "a capability-less root has no effective capabilities" "0000000000000000" \
	"$(as_caller capless awk '/^CapEff:/ { print $2 }' /proc/self/status)"
check_eq "readsearch has CAP_DAC_READ_SEARCH only" "0000000000000004" \
	"$(as_caller readsearch awk '/^CapEff:/ { print $2 }' /proc/self/status)"
check_eq "override has CAP_DAC_OVERRIDE only" "0000000000000002" \
	"$(as_caller override awk '/^CapEff:/ { print $2 }' /proc/self/status)"

for opts in "size=16M,mode=1777" "size=16M,mode=1777,default_permissions"; do
	rfs_mount "$opts"
	if rfs_is_regionfs; then
		sopts=$(awk -v m="$RFS_MNT" '$5 == m { for (i = 7; i <= NF; i++)
			if ($i == "-") { print $(i + 3); exit } }' /proc/self/mountinfo)
		case ",$sopts," in
		*,default_permissions,*) ok "$opts: the mount line shows default_permissions" ;;
		*) fail "$opts: the mount line lacks default_permissions: $sopts" ;;
		esac
		case ",$sopts," in
		*,allow_other,*) fail "$opts: allow_other without being asked: $sopts" ;;
		*) ok "$opts: no allow_other" ;;
		esac
	fi
	G=$RFS_TMP/got
	for who in $CALLERS; do
		populate "$REF/$who"
		matrix "$REF/$who" "$who" >"$RFS_TMP/ref.$who"
		populate "$RFS_MNT/$who"
		matrix "$RFS_MNT/$who" "$who" >"$G.$who"
		compare "$opts" "$who" "$RFS_TMP/ref.$who" "$G.$who"
	done
	expect "$G.root" f600 R=1 W=1 X=0 open_r=ok open_w=ok chmod=ok mode=2770:2001:2001 chown=ok \
		after=770:0:0
	expect "$G.root" f001 R=1 W=1 X=1
	expect "$G.root" d000 R=1 W=1 X=1 chdir=ok create=ok unlink=ok
	expect "$G.root" x700 exec=ok
	expect "$G.capless" f600 R=0 W=0 X=0 open_r=EACCES open_w=EACCES utime_now=EACCES \
		utime_set=EPERM setxattr=EACCES chmod=EPERM chown=EPERM after=600:2001:2001
	expect "$G.capless" f666 open_w=ok utime_now=ok utime_set=EPERM setxattr=ok chmod=EPERM
	expect "$G.capless" r600 R=1 W=1 X=0 open_r=ok open_w=ok chmod=ok mode=2770:0:0
	# chmod g+s of a file of a group the caller is not in: S_ISGID dropped
	expect "$G.capless" r600g3000 chmod=ok mode=770:0:3000 chown=ok after=770:0:0
	expect "$G.capless-g3000" r600g3000 chmod=ok mode=2770:0:3000
	expect "$G.capless" f707g0 R=0 W=0 X=0 open_r=EACCES
	expect "$G.capless" f007 R=1 W=1 X=1 open_r=ok
	expect "$G.capless" f070g3000 R=0 open_r=EACCES
	expect "$G.capless-g3000" f070g3000 R=1 W=1 X=1 open_r=ok open_w=ok
	expect "$G.capless" x711 X=1 open_r=EACCES exec=ok
	expect "$G.capless" x744 R=1 X=0 exec=EACCES
	expect "$G.capless" x700 exec=EACCES
	expect "$G.capless" d700 chdir=EACCES readdir=EACCES create=EACCES unlink=EACCES
	expect "$G.capless" d755 chdir=ok readdir=ok create=EACCES unlink=EACCES rename=EACCES \
		chmod=EPERM chown=EPERM
	expect "$G.capless" d777 create=ok unlink=ok rename=ok
	expect "$G.capless" t1777 create=ok unlink=EPERM rename=EPERM
	expect "$G.capless" d111 chdir=ok readdir=EACCES create=EACCES
	expect "$G.readsearch" f600 R=1 W=0 X=0 open_r=ok open_w=EACCES
	expect "$G.readsearch" d700 R=1 W=0 X=1 chdir=ok readdir=ok create=EACCES
	expect "$G.override" f600 R=1 W=1 X=0 open_w=ok utime_now=ok utime_set=EPERM chown=EPERM
	expect "$G.override" f755 X=1
	expect "$G.override" d755 create=ok unlink=ok rename=ok
	expect "$G.override" t1777 unlink=EPERM
	expect "$G.userns" f600 R=0 W=0 X=0 open_r=EACCES open_w=EACCES chown=EPERM
	expect "$G.userns" d700 chdir=EACCES create=EACCES
	expect "$G.userns" d755 create=EACCES
	# Root's files: owner and group mapped into its namespace, so its
	# capabilities count for them (as on tmpfs).
	expect "$G.userns" r000 R=1 W=1 X=0 open_r=ok
	expect "$G.userns" d000 chdir=ok create=ok
	rfs_umount
done

umount "$REF" || fail "umount the reference tmpfs"
rfs_done
