#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A bind does only what the caller could do itself (issue 9, section 2),
# tried as an attacker would:
#  - a process in its own mount namespace, with a tmpfs over a directory
#    hiding a file: ENOENT for the hidden file (the path resolves in the
#    caller's namespace, not the daemon's), and a file that only exists in
#    its namespace binds and shows its bytes to everyone;
#  - a read-only bind mount that exists only in the caller's namespace:
#    EROFS (the same file binds from the daemon's namespace);
#  - a uid-0 process without capabilities: EACCES for uid 2001's 0600 file
#    (a root with capabilities binds it);
#  - only the region's owner (or CAP_FOWNER) binds it: EPERM for uid 2002
#    on uid 2001's 0666 region, and for a capability-less root;
#  - "root" of a user namespace of its own (unshare -Ur, every capability
#    there): none of them counts (EPERM, EACCES as its plain uid);
#  - a chrooted caller: absolute paths, "/.." and a symlink "../../etc/x"
#    all stay inside its root;
#  - a file leased by its owner (F_SETLEASE): the bind fails at once with
#    ETXTBSY (no daemon thread waits out the lease-break time; EAGAIN does
#    not survive the kernel's SETXATTR path), and another
#    user's requests go on meanwhile;
#  - a file on another FUSE file system, its server stopped: ENODEV at
#    once, no request sent to it;
#  - files of pseudo file systems (/proc, /sys): ENODEV, in both data paths.
#
# Usage: t-backing-caller.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_regionfs_only "file-backed regions are a regionfs feature"
rfs_init "$@"
rfs_mount "size=1M,allow_other"
M=$RFS_MNT
F=$RFS_TMP/files
mkdir -p "$F"
chmod 755 "$RFS_TMP" "$F"
X=user.regionfs.backing

rfs_user_python

AS_USER=(setpriv --reuid=2001 --regid=2001 --clear-groups)
AS_USER2=(setpriv --reuid=2002 --regid=2002 --clear-groups)
# uid 0 with no capability at all (checked below from /proc/self/status).
NOCAPS=(setpriv --inh-caps=-all --ambient-caps=-all --bounding-set=-all)

# Python that binds REGION to VALUE (setxattr) and prints OK or the errno name.
BIND_PY='
import errno, os, sys
try:
    os.setxattr(sys.argv[1], "user.regionfs.backing", sys.argv[2].encode())
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
'

# bind_errno DESCRIPTION EXPECTED REGION VALUE [RUN_AS_PREFIX...]
bind_errno()
{
	local desc=$1 want=$2 region=$3 value=$4 got st
	shift 4
	got=$(timeout 20 "$@" "$PY" -c "$BIND_PY" "$region" "$value" 2>&1)
	st=$?
	[ "$st" -eq 124 ] && got="hung (killed after 20 s)"
	check_eq "$desc: $want" "$want" "$got"
}

backing_of()
{
	getfattr --absolute-names --only-values -n "$X" "$1" 2>&1
}

# ------------------------------------------- the caller's mount namespace

H=$RFS_TMP/home
mkdir -p "$H"
printf 'PRIVATE KEY' >"$H/secret"
chmod 666 "$H/secret" # readable and writable: only the namespace hides it
touch "$M/hidden" "$M/nsonly"
out=$(unshare --mount --propagation private sh -c '
	mount -t tmpfs sandbox "$1" || exit 1
	printf "only in the sandbox" >"$1/nsonly"
	"$2" -c "$3" "$4/hidden" "$1/secret"
	"$2" -c "$3" "$4/nsonly" "$1/nsonly"
' sh "$H" "$PY" "$BIND_PY" "$M" 2>&1)
check_eq "own mount namespace: the hidden file is not there (ENOENT), its own file binds" \
	"ENOENT OK" "$(printf '%s' "$out" | tr '\n' ' ' | sed 's/ $//')"
check_eq "...the hidden region stays empty" 0 "$(stat -c %s "$M/hidden")"
check_eq "...the region shows the sandbox's file" "only in the sandbox" "$(cat "$M/nsonly" 2>&1)"
check_eq "...the hidden file was not touched" "PRIVATE KEY" "$(cat "$H/secret")"
bind_errno "the daemon's namespace: the same path binds the real file" OK "$M/hidden" "$H/secret"
check_eq "...and shows it" "PRIVATE KEY" "$(cat "$M/hidden" 2>&1)"
rm -f "$M/hidden" "$M/nsonly"

# A read-only bind mount in the caller's namespace only.
R=$RFS_TMP/rw
mkdir -p "$R"
: >"$R/f.dat"
chmod 666 "$R/f.dat"
touch "$M/ro" "$M/rw"
out=$(unshare --mount --propagation private sh -c '
	mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" || exit 1
	"$2" -c "$3" "$4/ro" "$1/f.dat"
' sh "$R" "$PY" "$BIND_PY" "$M" 2>&1)
check_eq "a read-only bind mount in the caller's namespace: EROFS" EROFS "$out"
check_eq "...the region stays unbound" "" "$(getfattr --absolute-names --only-values -n "$X" "$M/ro" 2>/dev/null)"
bind_errno "the same file from the daemon's (writable) namespace" OK "$M/rw" "$R/f.dat"
rm -f "$M/ro" "$M/rw"

# ----------------------------------------------- capabilities of uid 0

U=$RFS_TMP/u2001
mkdir -p "$U"
chown 2001:2001 "$U"
chmod 755 "$U"
printf 'users secret' >"$U/own600.dat"
chown 2001:2001 "$U/own600.dat"
chmod 600 "$U/own600.dat"
check_eq "the capability-less root has no effective capability" "0000000000000000" \
	"$("${NOCAPS[@]}" sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)"
touch "$M/nocap" "$M/withcap"
chmod 666 "$M/nocap"
bind_errno "uid 0 without capabilities: uid 2001's 0600 file" EACCES "$M/nocap" \
	"$U/own600.dat" "${NOCAPS[@]}"
check_eq "...the region shows nothing" "" "$(cat "$M/nocap" 2>&1)"
bind_errno "uid 0 with its capabilities: the same file" OK "$M/withcap" "$U/own600.dat"
check_eq "...shows it" "users secret" "$(cat "$M/withcap" 2>&1)"
"${AS_USER[@]}" touch "$M/own2001"
chmod 666 "$M/own2001"
bind_errno "uid 2001 itself: its own file, its own region" OK "$M/own2001" "$U/own600.dat" \
	"${AS_USER[@]}"
rm -f "$M/nocap" "$M/withcap" "$M/own2001"
# Supplementary groups count (read from the caller's status, as for set-id bits).
printf 'group secret' >"$U/g3000.dat"
chown 2001:3000 "$U/g3000.dat"
chmod 660 "$U/g3000.dat"
"${AS_USER2[@]}" touch "$M/own2002"
bind_errno "uid 2002 without group 3000: a 0660 file of group 3000" EACCES "$M/own2002" \
	"$U/g3000.dat" "${AS_USER2[@]}"
bind_errno "uid 2002 in supplementary group 3000: the same file" OK "$M/own2002" \
	"$U/g3000.dat" setpriv --reuid=2002 --regid=2002 --groups=3000
check_eq "...shows it" "group secret" "$(cat "$M/own2002" 2>&1)"
rm -f "$M/own2002"

# Only the region's owner binds it (a stored binding is re-opened as the
# owner): another user who may write the region gets EPERM.
"${AS_USER[@]}" touch "$M/of2001"
chmod 666 "$M/of2001"
: >"$RFS_TMP/f2002.dat"
chown 2002:2002 "$RFS_TMP/f2002.dat"
bind_errno "uid 2002 on uid 2001's 0666 region" EPERM "$M/of2001" "$RFS_TMP/f2002.dat" "${AS_USER2[@]}"
bind_errno "uid 0 without capabilities on uid 2001's region" EPERM "$M/of2001" "$RFS_TMP/f2002.dat" \
	"${NOCAPS[@]}"
# "root" of a user namespace of its own has every capability there, none here.
USERNS=(unshare --user --map-root-user)
check_eq "uid 2002 in its own user namespace has every capability there" 000001ffffffffff \
	"$("${AS_USER2[@]}" "${USERNS[@]}" sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)"
bind_errno "...binding uid 2001's region" EPERM "$M/of2001" "$RFS_TMP/f2002.dat" \
	"${AS_USER2[@]}" "${USERNS[@]}"
"${AS_USER2[@]}" touch "$M/userns"
bind_errno "...binding uid 2001's 0600 file to its own region" EACCES "$M/userns" \
	"$U/own600.dat" "${AS_USER2[@]}" "${USERNS[@]}"
bind_errno "...binding its own file to its own region" OK "$M/userns" "$RFS_TMP/f2002.dat" \
	"${AS_USER2[@]}" "${USERNS[@]}"
rm -f "$M/userns"
bind_errno "root (CAP_FOWNER) on uid 2001's region" OK "$M/of2001" "$RFS_TMP/f2002.dat"
rm -f "$M/of2001"

# --------------------------------------------------- a chrooted caller

J=$RFS_TMP/jail
C=$J/root
mkdir -p "$C/etc" "$C/d" "$RFS_TMP/etc"
printf inside >"$C/etc/x"
printf escaped >"$RFS_TMP/etc/x" # what "../../etc/x" from $C would reach outside
ln -s ../../etc/x "$C/link"
ln -s ../../../../../../../../etc/x "$C/d/deep"
ln -s /etc/x "$C/abs"
for n in c1 c2 c3 c4 c5; do
	touch "$M/$n"
done
out=$("$PY" - "$C" "$M" <<'EOF' 2>&1
import errno, os, sys
root, mnt = sys.argv[1], sys.argv[2]
mntfd = os.open(mnt, os.O_RDONLY | os.O_DIRECTORY)
os.chroot(root)
os.fchdir(mntfd)  # the regions by relative names; paths in the values start at the new root
for n, value in (("c1", "/link"), ("c2", "/d/deep"), ("c3", "/abs"), ("c4", "/../../etc/x"),
                 ("c5", "/etc/../../x")):
    try:
        os.setxattr(n, "user.regionfs.backing", value.encode())
        print("OK", end=" ")
    except OSError as e:
        print(errno.errorcode.get(e.errno, str(e.errno)), end=" ")
print()
EOF
)
check_eq "chrooted: ../../etc/x, /d/../../(...)/etc/x, /etc/x, /../../etc/x bind inside the root; /etc/../../x is missing there" \
	"OK OK OK OK ENOENT" "$(printf '%s' "$out" | sed 's/ *$//')"
for n in c1 c2 c3 c4; do
	check_eq "...$n shows the file inside the root" inside "$(cat "$M/$n" 2>&1)"
done
check_eq "...the file outside was never reached" escaped "$(cat "$RFS_TMP/etc/x")"
rm -f "$M"/c?

# ------------------------------------------------ a lease on the file

L=$RFS_TMP/lease
mkdir -p "$L"
chown 2001:2001 "$L"
: >"$L/leased.dat"
chown 2001:2001 "$L/leased.dat"
chmod 666 "$L/leased.dat"
"${AS_USER2[@]}" touch "$M/leased"
"${AS_USER[@]}" "$PY" - "$L/leased.dat" "$L/ready" <<'EOF' &
import fcntl, os, signal, sys, time
signal.signal(signal.SIGIO, signal.SIG_IGN)  # the break notice: keep the lease until killed
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
open(sys.argv[2], "w").close()
time.sleep(120)
EOF
holder=$!
rfs_bg_track "$holder"
if wait_until 20 test -e "$L/ready"; then
	bind_errno "a file leased by its owner: fails at once" ETXTBSY "$M/leased" "$L/leased.dat" \
		"${AS_USER2[@]}"
	bind_errno "...again while the lease is being broken" ETXTBSY "$M/leased" "$L/leased.dat"
	check "...meanwhile another user's requests are served" "${AS_USER2[@]}" sh -c \
		"touch '$M/other2002' && echo hi >'$M/other2002' && cat '$M/other2002' >/dev/null"
	check "...the lease holder is still there" kill -0 "$holder"
else
	fail "the lease holder did not take its lease"
fi
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
check_eq "the region stays unbound" "" "$(getfattr --absolute-names --only-values -n "$X" "$M/leased" 2>/dev/null)"
rm -f "$M/leased" "$M/other2002"

# ------------------------------------- another FUSE file system (stalled)

# Any user can mount a FUSE file system; one whose server never answers must
# not park a daemon thread: refused before any request reaches it.
O=$RFS_TMP/otherfuse
mkdir -p "$O"
"$RFS_BIN" -f -o size=1M,datapath=cache "$O" </dev/null >"$RFS_TMP/other.log" 2>&1 &
other=$!
rfs_bg_track "$other"
if wait_until 20 sh -c "grep -q ' $O ' /proc/self/mountinfo"; then
	echo data >"$O/f"
	touch "$M/viafuse"
	kill -STOP "$other"
	bind_errno "a file on another FUSE file system whose server is stopped" ENODEV \
		"$M/viafuse" "$O/f"
	ln -s "$O/f" "$F/link-fuse"
	bind_errno "...through a symlink" ENODEV "$M/viafuse" "$F/link-fuse"
	check "...meanwhile other requests are served" stat "$M/viafuse"
	kill -CONT "$other"
	rm -f "$M/viafuse"
	umount "$O" || umount -l "$O"
	wait_until 20 sh -c "! kill -0 $other 2>/dev/null" || fail "the other daemon did not exit"
else
	fail "the other FUSE file system did not come up: $(cat "$RFS_TMP/other.log")"
fi

# ------------------------------------------------- pseudo file systems

touch "$M/p"
bind_errno "a /proc file" ENODEV "$M/p" /proc/sys/kernel/hostname
bind_errno "a /proc file of the caller" ENODEV "$M/p" /proc/self/comm
sysfile=$(find /sys/kernel -maxdepth 2 -type f -perm -u+w 2>/dev/null | head -n 1)
if [ -n "$sysfile" ]; then
	bind_errno "a /sys file ($sysfile)" ENODEV "$M/p" "$sysfile"
else
	fail "no writable file under /sys/kernel to try"
fi
ln -s /proc/sys/kernel/hostname "$F/link-proc"
bind_errno "a symlink to a /proc file" ENODEV "$M/p" "$F/link-proc"
check_eq "the region stays empty" 0 "$(stat -c %s "$M/p")"
rm -f "$M/p"

rfs_expect_empty
rfs_done
