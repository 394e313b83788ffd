#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Set-user-ID and set-group-ID bits, compared with a tmpfs that this test
# mounts next to the mount under test and runs the same steps on:
# - users 2001 (owner) and 2002 on a mount with allow_other (hence
#   default_permissions): write(2), truncate, ftruncate (same size too),
#   open(O_TRUNC), fallocate and copy_file_range by another user, by the
#   owner, by a member and a non-member of the file's group, by root; chown
#   and chown(-1, -1); chmod g+s by a member and a non-member; a store
#   through a shared mapping; a zero-length write.
# - root and a root without capabilities on a mount without allow_other
#   (only the mounting uid gets in) and without the default_permissions
#   option (always on all the same): root's writes keep
#   the bits (CAP_FSETID), a capability-less root's write, truncate and
#   O_TRUNC remove them, its chmod g+s of a file of a group it is not in
#   drops S_ISGID.
# - store=DIR: the cleared mode is what a remount shows.
# Besides "as tmpfs", each step's expected mode is asserted outright, so
# that the comparison cannot pass by doing nothing on both sides.
#
# Usage: t-suid.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_init "$@"

rfs_user_python

u1() { setpriv --reuid=2001 --regid=2001 --clear-groups "$@"; }
u2() { setpriv --reuid=2002 --regid=2002 --clear-groups "$@"; }
# uid 0 without any capability (CapEff 0 after the exec).
capless() { setpriv --inh-caps=-all --bounding-set=-all "$@"; }

REF=$RFS_TMP/ref
mkdir -p "$REF"
if ! mount -t tmpfs -o mode=1777,size=16M rfs-ref "$REF"; then
	fail "mount the reference tmpfs"
	exit 1
fi

# mk DIR NAME MODE [OWNER:GROUP]: an empty file (2001:2001 by default).
mk()
{
	rm -f "$1/$2"
	: >"$1/$2"
	chown "${4:-2001:2001}" "$1/$2"
	chmod "$3" "$1/$2"
}

# py AS DIR NAME CODE: run Python as AS (a command prefix, or "") with f
# the file's path.
py()
{
	$1 "$PY" -c "import os, mmap; f = '$2/$3'; $4"
}

# The steps as users 2001/2002 in DIR; prints "NAME MODE" per step.
user_steps()
{
	local d=$1 n
	mk "$d" write-other 6777
	u2 sh -c "echo x >>'$d/write-other'"
	# after one write removed them, bits set again go with the next write
	mk "$d" write-again 6777
	u2 sh -c "echo x >>'$d/write-again'; echo x >>'$d/write-again'"
	chmod 6777 "$d/write-again"
	u2 sh -c "echo x >>'$d/write-again'"
	mk "$d" write-other-suid 4755
	chmod 4757 "$d/write-other-suid"
	u2 sh -c "echo x >>'$d/write-other-suid'"
	mk "$d" write-owner 6777
	u1 sh -c "echo x >>'$d/write-owner'"
	mk "$d" write-root 6777
	echo x >>"$d/write-root"
	mk "$d" write-nonmember-nogx 6767
	u2 sh -c "echo x >>'$d/write-nonmember-nogx'"
	mk "$d" write-member-nogx 6767
	u1 sh -c "echo x >>'$d/write-member-nogx'"
	mk "$d" write-owner-nonmember 2767 2001:3000
	u1 sh -c "echo x >>'$d/write-owner-nonmember'"
	mk "$d" write-zero 6777
	py u2 "$d" write-zero "fd = os.open(f, os.O_WRONLY); os.pwrite(fd, b'', 0); os.close(fd)"
	mk "$d" truncate-other 6777
	u2 truncate -s 100 "$d/truncate-other"
	mk "$d" truncate-owner 6777
	u1 truncate -s 100 "$d/truncate-owner"
	mk "$d" truncate-root 6777
	truncate -s 100 "$d/truncate-root"
	mk "$d" ftruncate-same 6777
	py u2 "$d" ftruncate-same "fd = os.open(f, os.O_WRONLY); os.ftruncate(fd, 0); os.close(fd)"
	mk "$d" otrunc-other 6777
	echo data >>"$d/otrunc-other"
	u2 sh -c ": >'$d/otrunc-other'"
	mk "$d" otrunc-root 6777
	echo data >>"$d/otrunc-root"
	: >"$d/otrunc-root"
	mk "$d" fallocate-other 6777
	u2 fallocate -l 8192 "$d/fallocate-other"
	mk "$d" copy-other 6777
	echo source >"$d/source"
	chmod 644 "$d/source"
	py u2 "$d" copy-other "s = os.open('$d/source', os.O_RDONLY); t = os.open(f, os.O_WRONLY); os.copy_file_range(s, t, 7); os.close(s); os.close(t)"
	mk "$d" chown-root 6777
	chown 2002 "$d/chown-root"
	mk "$d" chown-root-nogx 6745
	chown 2002:3000 "$d/chown-root-nogx"
	mk "$d" chown-owner-same 6755
	u1 chown 2001:2001 "$d/chown-owner-same"
	mk "$d" chown-none 6777
	py u1 "$d" chown-none "os.chown(f, -1, -1)"
	mk "$d" chmod-member 0777
	u1 chmod 2777 "$d/chmod-member"
	mk "$d" chmod-nonmember 0777 2001:3000
	u1 chmod 2777 "$d/chmod-nonmember"
	mk "$d" mmap-other 6777
	truncate -s 4096 "$d/mmap-other"
	chmod 6777 "$d/mmap-other"
	py u2 "$d" mmap-other "fd = os.open(f, os.O_RDWR); m = mmap.mmap(fd, 4096); m[0:1] = b'z'; m.flush(); m.close(); os.close(fd)"
	for n in write-other write-again write-other-suid write-owner write-root write-nonmember-nogx \
		write-member-nogx write-owner-nonmember write-zero truncate-other truncate-owner \
		truncate-root ftruncate-same otrunc-other otrunc-root fallocate-other copy-other \
		chown-root chown-root-nogx chown-owner-same chown-none chmod-member \
		chmod-nonmember mmap-other; do
		echo "$n $(stat -c %a "$d/$n")"
	done
}

# The steps as root and as a root without capabilities (mount without
# allow_other: nobody else gets in).
root_steps()
{
	local d=$1 n
	mk "$d" root-write 6777
	echo x >>"$d/root-write"
	mk "$d" capless-write 6777
	capless sh -c "echo x >>'$d/capless-write'"
	mk "$d" capless-truncate 6777
	capless truncate -s 10 "$d/capless-truncate"
	mk "$d" capless-otrunc 6777
	echo data >>"$d/capless-otrunc"
	capless sh -c ": >'$d/capless-otrunc'"
	mk "$d" capless-mmap 6777
	truncate -s 4096 "$d/capless-mmap"
	chmod 6777 "$d/capless-mmap"
	py capless "$d" capless-mmap "fd = os.open(f, os.O_RDWR); m = mmap.mmap(fd, 4096); m[0:1] = b'z'; m.flush(); m.close(); os.close(fd)"
	mk "$d" root-chmod-nonmember 0777 0:3000
	chmod 2777 "$d/root-chmod-nonmember"
	mk "$d" capless-chmod-nonmember 0777 0:3000
	capless chmod 2777 "$d/capless-chmod-nonmember"
	mk "$d" capless-chmod-member 0777 0:0
	capless chmod 2777 "$d/capless-chmod-member"
	for n in root-write capless-write capless-truncate capless-otrunc capless-mmap \
		root-chmod-nonmember capless-chmod-nonmember capless-chmod-member; do
		echo "$n $(stat -c %a "$d/$n")"
	done
}

# compare WHAT REF_FILE GOT_FILE EXPECTED_FILE: each step as on tmpfs, and
# as expected.
compare()
{
	local what=$1 name mode got want
	while read -r name mode; do
		got=$(awk -v n="$name" '$1 == n { print $2 }' "$3")
		want=$(awk -v n="$name" '$1 == n { print $2 }' "$4")
		check_eq "$what: $name as on tmpfs" "$mode" "$got"
		check_eq "$what: $name expected" "$want" "$got"
	done <"$2"
}

cat >"$RFS_TMP/users.want" <<'EOF'
write-other 777
write-again 777
write-other-suid 757
write-owner 777
write-root 6777
write-nonmember-nogx 767
write-member-nogx 2767
write-owner-nonmember 767
write-zero 6777
truncate-other 777
truncate-owner 777
truncate-root 6777
ftruncate-same 777
otrunc-other 777
otrunc-root 6777
fallocate-other 777
copy-other 777
chown-root 777
chown-root-nogx 2745
chown-owner-same 755
chown-none 777
chmod-member 2777
chmod-nonmember 777
mmap-other 6777
EOF
cat >"$RFS_TMP/root.want" <<'EOF'
root-write 6777
capless-write 777
capless-truncate 777
capless-otrunc 777
capless-mmap 6777
root-chmod-nonmember 2777
capless-chmod-nonmember 777
capless-chmod-member 2777
EOF

check_eq "a capability-less root has no effective capabilities" "0000000000000000" \
	"$(capless awk '/^CapEff:/ { print $2 }' /proc/self/status)"

# 1. Users, allow_other.
user_steps "$REF" >"$RFS_TMP/users.ref"
rfs_mount "size=32M,mode=1777,allow_other"
user_steps "$RFS_MNT" >"$RFS_TMP/users.got"
compare "users" "$RFS_TMP/users.ref" "$RFS_TMP/users.got" "$RFS_TMP/users.want"
rfs_umount

# 2. Root only, no default_permissions option given.
root_steps "$REF" >"$RFS_TMP/root.ref"
rfs_mount "size=32M,mode=1777"
root_steps "$RFS_MNT" >"$RFS_TMP/root.got"
compare "root" "$RFS_TMP/root.ref" "$RFS_TMP/root.got" "$RFS_TMP/root.want"
rfs_umount

# 3. store=DIR: the mode a remount shows.
if rfs_is_regionfs; then
	S=$RFS_TMP/store
	mkdir -p "$S"
	rfs_mount "size=32M,mode=1777,allow_other,store=$S"
	mk "$RFS_MNT" killed 6777
	u2 sh -c "echo x >>'$RFS_MNT/killed'"
	mk "$RFS_MNT" truncated 6777
	u2 sh -c ": >'$RFS_MNT/truncated'"
	mk "$RFS_MNT" kept 6777
	echo x >>"$RFS_MNT/kept"
	check_eq "store: write by another user clears" 777 "$(stat -c %a "$RFS_MNT/killed")"
	rfs_umount
	rfs_mount "size=32M,mode=1777,allow_other,store=$S"
	check_eq "store: the cleared mode after a remount" 777 "$(stat -c %a "$RFS_MNT/killed")"
	check_eq "store: the mode O_TRUNC cleared after a remount" 777 \
		"$(stat -c %a "$RFS_MNT/truncated")"
	check_eq "store: root's write kept the bits across a remount" 6777 \
		"$(stat -c %a "$RFS_MNT/kept")"
	rm -f "$RFS_MNT"/*
	rfs_umount
fi

umount "$REF" || fail "umount the reference tmpfs"
rfs_done
