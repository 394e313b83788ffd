#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The libregionfs examples, compiled with pkg-config as a user would, run
# against a fresh mount: a second single instance learns that one runs and
# which, and becomes the first once that one is SIGKILLed (last-close); a
# producer and a consumer pass 200,000 checked records through one view and
# the name goes when both are done; a file-backed view written and flushed
# durably is found again after the daemon restarted.
#
# Usage: t-examples.sh DAEMON_BINARY DATAPATH PKGCONFIG_DIR EXAMPLES_DIR [SANITIZE]
#   SANITIZE: the build's b_sanitize ("address,undefined": the examples are
#   built with it too, since the library they link is)

. "$(dirname "$0")/../integration/lib.sh"
rfs_regionfs_only "the examples use the user.regionfs.* attributes"
PCDIR=$3
EXAMPLES=$4
SANITIZE=${5:-none}
rfs_init "$@"

flags=$(PKG_CONFIG_PATH=$PCDIR pkg-config --cflags --libs regionfs)
[ "$SANITIZE" = none ] || flags="$flags -fsanitize=$SANITIZE"
libdir=$(PKG_CONFIG_PATH=$PCDIR pkg-config --libs-only-L regionfs | sed 's/^ *-L//; s/ .*//')
for ex in single_instance producer_consumer backed_restart; do
	# shellcheck disable=SC2086
	check "example $ex builds with pkg-config" \
		cc -std=gnu11 -Wall -Werror -o "$RFS_TMP/$ex" "$EXAMPLES/$ex.c" $flags
done
export LD_LIBRARY_PATH=$libdir

rfs_mount "size=64M,mode=1777,allow_other"
export REGIONFS_MOUNT=$RFS_MNT
LOCAL=$RFS_MNT/Local/$(id -u)

# Single instance.
mkfifo "$RFS_TMP/hold"
"$RFS_TMP/single_instance" app <"$RFS_TMP/hold" >"$RFS_TMP/first.out" &
first=$!
rfs_bg_track "$first"
exec 9>"$RFS_TMP/hold"
check "the first instance says so" wait_until 60 grep -qx "first instance" "$RFS_TMP/first.out"
out=$("$RFS_TMP/single_instance" app </dev/null)
st=$?
check_eq "a second instance exits 1" 1 "$st"
check_eq "and names the first" "already running: pid $first" "$out"
kill -KILL "$first"
wait "$first" 2>/dev/null
exec 9>&-
check "the first SIGKILLed, its region goes (last-close)" wait_until 60 test ! -e "$LOCAL/app"
out=$("$RFS_TMP/single_instance" app </dev/null)
check_eq "the next start is a first instance" "first instance" "$out"

# Producer and consumer.
"$RFS_TMP/producer_consumer" consume ring 200000 >"$RFS_TMP/cons.out" 2>&1 &
cons=$!
"$RFS_TMP/producer_consumer" produce ring 200000 >"$RFS_TMP/prod.out" 2>&1
pst=$?
wait "$cons"
cst=$?
check_eq "the producer finishes" "0 produced 200000 records" "$pst $(cat "$RFS_TMP/prod.out")"
check_eq "the consumer checked every record" "0 consumed 200000 records" "$cst $(cat "$RFS_TMP/cons.out")"
check "both gone, the ring's name goes" wait_until 60 test ! -e "$LOCAL/ring"

# A file-backed view across a restart of the daemon.
check_eq "backed: written" "written and flushed" \
	"$("$RFS_TMP/backed_restart" write "$RFS_TMP/state.dat" state 2>&1)"
check_eq "the file has the region's size" 1048576 "$(stat -c %s "$RFS_TMP/state.dat")"
rfs_umount
rfs_mount "size=64M,mode=1777,allow_other"
export REGIONFS_MOUNT=$RFS_MNT
check_eq "backed: after a restart, all there" "all there" \
	"$("$RFS_TMP/backed_restart" check "$RFS_TMP/state.dat" state 2>&1)"
rfs_done
