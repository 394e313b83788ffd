#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Bindings kept in a persistent store (store=DIR) are re-opened at load as
# the region's owner, with every check of a live bind (issue 9, section 1),
# and one that cannot be re-opened does not block the store:
#  - attack (a): a placeholder written straight into DIR while the daemon
#    is down, owned by uid 2001, pointing at root's 0600 file: the store
#    loads, the region opens with ENXIO (as root too) and never shows the
#    file's bytes;
#  - attack (b): uid 2001 binds its own file, then (daemon down) replaces
#    it with a symlink to root's 0600 file: ENXIO, no bytes;
#  - a bound file deleted, a relative path in a placeholder: the store
#    loads, the region keeps its name, owner and `getfattr` path, opening
#    and truncate give ENXIO, rm works; the daemon logs one info line per
#    region, naming it; a file put back is bound again at the next open;
#  - a file on a file system not mounted yet (a loop ext4 unmounted while
#    the daemon is down): ENXIO until the ext4 is mounted again, then the
#    next open shows the data.
#
# Usage: t-backing-store.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_regionfs_only "file-backed regions are a regionfs feature"
rfs_init "$@"
X=user.regionfs.backing
S=$RFS_TMP/store
F=$RFS_TMP/files
U=$RFS_TMP/u2001
E=$RFS_TMP/ext
IMG=$RFS_TMP/late.img
mkdir -p "$S" "$F" "$U" "$E"
chmod 755 "$RFS_TMP" "$F"
chown 2001:2001 "$U"

AS_USER=(setpriv --reuid=2001 --regid=2001 --clear-groups)

backing_of()
{
	getfattr --absolute-names --only-values -n "$X" "$1" 2>&1
}

# open_errno NAME [RUN_AS_PREFIX...]: the errno name of open(NAME, O_RDONLY), or
# the bytes read.
open_errno()
{
	local path=$1
	shift
	"$@" /usr/bin/python3 -c '
import errno, os, sys
try:
    fd = os.open(sys.argv[1], os.O_RDONLY)
    print(os.read(fd, 100).decode(errors="replace"))
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
' "$path" 2>&1
}

printf TOPSECRET >"$F/root600.dat"
chmod 600 "$F/root600.dat"
printf 'users data' >"$U/own.dat"
chown 2001:2001 "$U/own.dat"
chmod 600 "$U/own.dat"
printf 'delete me' >"$F/del.dat"
printf 'gone for now' >"$F/gone.dat"
truncate -s 16M "$IMG"
if ! mkfs.ext4 -q -F "$IMG" >/dev/null 2>&1 || ! mount -o loop "$IMG" "$E"; then
	fail "cannot make a loop-mounted ext4"
	rfs_done
fi
printf 'late data' >"$E/late.dat"

# ------------------------------------------------- the first daemon binds

rfs_mount "size=1M,allow_other,store=$S"
M=$RFS_MNT
chmod 1777 "$M"
"${AS_USER[@]}" touch "$M/mine"
check "uid 2001 binds its own 0600 file" "${AS_USER[@]}" setfattr -n "$X" -v "$U/own.dat" "$M/mine"
touch "$M/del" "$M/late"
mkdir "$M/dir"
touch "$M/dir/gone"
check "root binds a file it will delete" setfattr -n "$X" -v "$F/del.dat" "$M/del"
check "root binds a file in a directory" setfattr -n "$X" -v "$F/gone.dat" "$M/dir/gone"
check "root binds a file on the ext4" setfattr -n "$X" -v "$E/late.dat" "$M/late"
echo anon >"$M/anon"
rfs_umount

# ------------------------------------------- meanwhile, with the daemon down

# (a) straight into the store: a placeholder owned by 2001 naming root's file.
: >"$S/root/evil"
setfattr -n "$X" -v "$F/root600.dat" "$S/root/evil"
chown 2001:2001 "$S/root/evil"
chmod 666 "$S/root/evil"
: >"$S/root/rel"
setfattr -n "$X" -v "rel/x.dat" "$S/root/rel"
chown 2001:2001 "$S/root/rel"
# An empty binding (no live bind makes one; fuzz_store found it half-handled).
: >"$S/root/blank"
setfattr -n "$X" -v "" "$S/root/blank"
# (b) the user's own file becomes a symlink to root's file.
"${AS_USER[@]}" rm "$U/own.dat"
"${AS_USER[@]}" ln -s "$F/root600.dat" "$U/own.dat"
rm "$F/del.dat" "$F/gone.dat"
umount "$E"

# ---------------------------------------------------- the second daemon

rfs_mount "size=1M,allow_other,store=$S"
M=$RFS_MNT
check_eq "the store loads with every name" "anon blank del dir evil late mine rel" \
	"$(ls "$M" | tr '\n' ' ' | sed 's/ $//')"
check_eq "the anonymous region is back" anon "$(cat "$M/anon" 2>&1)"
check_eq "(a) a planted placeholder naming root's file: ENXIO for root" ENXIO "$(open_errno "$M/evil")"
check_eq "...and for uid 2001" ENXIO "$(open_errno "$M/evil" "${AS_USER[@]}")"
check_fails "...writing into it as uid 2001 fails" "${AS_USER[@]}" sh -c "echo x >>'$M/evil'"
check_eq "...getfattr shows the path" "$F/root600.dat" "$(backing_of "$M/evil")"
check_eq "(b) own file replaced by a symlink to root's file: ENXIO" ENXIO \
	"$(open_errno "$M/mine" "${AS_USER[@]}")"
check_eq "...also for root (re-opened as the owner, 2001)" ENXIO "$(open_errno "$M/mine")"
check_eq "...keeps its owner" 2001 "$(stat -c %u "$M/mine")"
check_eq "root's file was never touched" TOPSECRET "$(cat "$F/root600.dat")"
check_eq "a relative path in a placeholder: ENXIO" ENXIO "$(open_errno "$M/rel")"
check_eq "...getfattr shows it as it is" rel/x.dat "$(backing_of "$M/rel")"
check_eq "an empty binding: ENXIO" ENXIO "$(open_errno "$M/blank")"
check_eq "...listed as a binding" "$X" \
	"$(python3 -c "import os, sys; print(' '.join(os.listxattr(sys.argv[1])))" "$M/blank")"
check_eq "...getfattr gives it, empty" 0 \
	"$(python3 -c "import os, sys; print(len(os.getxattr(sys.argv[1], sys.argv[2])))" "$M/blank" "$X")"
check "...rm works" rm "$M/blank"
check_eq "a deleted bound file: ENXIO" ENXIO "$(open_errno "$M/del")"
check_eq "...getfattr still shows the path" "$F/del.dat" "$(backing_of "$M/del")"
check_errno "...truncate" ENXIO "os.truncate(P('del'), 10)"
check_errno "...a new binding over it (EEXIST: it is bound)" EEXIST \
	"os.setxattr(P('del'), '$X', b'$F/root600.dat')"
check "...rm works" rm "$M/del"
check_eq "a file on an ext4 not mounted yet: ENXIO" ENXIO "$(open_errno "$M/late")"
check_eq "one info line per unbound region, naming it" \
	"/blank /del /dir/gone /evil /late /mine /rel" \
	"$(sed -n 's/.*store: region \([^ ]*\) stays unbound from .*/\1/p' "$RFS_LOG" | sort | tr '\n' ' ' | sed 's/ $//')"
grep -q "store: region /dir/gone stays unbound from $F/gone.dat for now (ENOENT as uid 0)" "$RFS_LOG" &&
	ok "...with the path and the reason" || fail "...with the path and the reason: $(grep 'stays unbound' "$RFS_LOG" | head -n 3)"
check_eq "...and no more lines after the failed opens (retries log at debug level)" 7 \
	"$(grep -c 'stays unbound' "$RFS_LOG")"

# Retried at the next open, as the owner.
printf 'back again' >"$F/gone.dat"
check_eq "a file put back: the next open binds it" "back again" "$(open_errno "$M/dir/gone")"
check_eq "...stat shows its size" 10 "$(stat -c %s "$M/dir/gone")"
if mount -o loop "$IMG" "$E"; then
	check_eq "the ext4 mounted again: the next open shows the data" "late data" \
		"$(open_errno "$M/late")"
	echo more >>"$M/late"
	check_eq "...and writes reach the file" "late datamore" "$(cat "$E/late.dat")"
else
	fail "cannot mount the ext4 again"
fi
check_eq "the planted placeholder is still ENXIO" ENXIO "$(open_errno "$M/evil")"
rfs_umount

# The store still holds what was changed: del is gone, the others are kept.
rfs_mount "size=1M,allow_other,store=$S"
M=$RFS_MNT
check_eq "after another remount: del stays removed" "anon dir evil late mine rel" \
	"$(ls "$M" | tr '\n' ' ' | sed 's/ $//')"
check_eq "...late is bound at load" "late datamore" "$(cat "$M/late" 2>&1)"
rm -rf "${M:?}"/*
rfs_expect_empty
rfs_umount
umount "$E" 2>/dev/null || true
rfs_done
