#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# regionctl against a fresh mount: what each command prints and its exit
# status (0 done, 1 missing, 2 bad usage: one line each), ls -l and --json
# with lifetimes, seals, holders and backing files, nothing half-created.
#
# Usage: t-regionctl.sh DAEMON_BINARY DATAPATH REGIONCTL

. "$(dirname "$0")/../integration/lib.sh"
rfs_regionfs_only "regionctl shows the user.regionfs.* attributes"
RC=$3
rfs_init "$@"
rfs_mount "size=256M,mode=1777,allow_other"
export REGIONFS_MOUNT=$RFS_MNT
M=$RFS_MNT
L=$M/Local/$(id -u)

# run EXPECTED_STATUS DESCRIPTION ARGS...: the status, and the output in $out.
run()
{
	local want=$1 desc=$2
	shift 2
	out=$("$RC" "$@" 2>&1)
	check_eq "$desc: exit $want" "$want" "$?"
}

run 0 "create" create frame --size 64M
check_eq "create says created" "created" "$out"
check_eq "the region has the size" 67108864 "$(stat -c %s "$L/frame")"
run 0 "create of an existing one" create frame --size 1M
check_eq "it says so, with the size that wins" "opened existing (size 67108864)" "$out"
run 1 "create --exclusive of an existing one" create frame --size 1M --exclusive
check_eq "one line" 1 "$(printf '%s\n' "$out" | wc -l)"
run 2 "a malformed size" create other --size 12Q
check_eq "names it on one line" "regionctl: malformed size '12Q' (see regionctl --help)" "$out"
run 2 "an unknown option" ls --bogus
check_eq "names it on one line" "regionctl: unknown option '--bogus' (see regionctl --help)" "$out"
run 2 "an unknown lifetime" create other --size 1M --lifetime forever
check "no region was made" test ! -e "$L/other"
run 2 "an unknown seal" create other --size 1M --seal sideways
check "nothing half-created: the region went again" test ! -e "$L/other"
run 1 "info of a missing region" info nothing
check_eq "one line" "regionctl: nothing: no such region" "$out"
run 0 "--version" --version
check_eq "the version" "regionctl 0.1.0" "$out"
run 0 "--help" --help
check "help names every command" grep -q "holders NAME" <<<"$out"

# Lifetimes, seals, backing files and holders in ls and info.
run 0 "create with seals" create ring --size 4K --seal grow
run 0 "create with lifetime creator" create gone --size 4K --lifetime creator
check "its creator, regionctl, exited: it is gone" wait_until 60 test ! -e "$L/gone"
printf 'backed' >"$RFS_TMP/file.dat"
run 0 "create backed" create bk --backing "$RFS_TMP/file.dat" --size 1M
check_eq "the file was extended" 1048576 "$(stat -c %s "$RFS_TMP/file.dat")"
python3 - "$L/frame" "$RFS_TMP/ready" <<'PY' &
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 4096)
open(sys.argv[2], "w").close()
time.sleep(600)
PY
holder=$!
rfs_bg_track "$holder"
wait_until 60 test -e "$RFS_TMP/ready"
run 0 "ls -l" ls -l "$L"
check "a header" grep -q "^NAME  *SIZE  *RESERVED  *LIFETIME  *SEALS  *HOLDERS  *BACKING$" <<<"$out"
check "frame: 64M, persist, one holder" grep -Eq "^frame +64M +[0-9.]+[BKMG]? +persist +- +1 +-$" <<<"$out"
check "bk: backed" grep -Eq "^bk +1.0M +.* $RFS_TMP/file.dat$" <<<"$out"
run 0 "ls --json" ls --json "$L"
rfs_py "$out" <<'PY'
import json, sys
from rfscheck import *
rows = {r["name"]: r for r in json.loads(sys.argv[2])}
eq(sorted(rows), ["bk", "frame", "ring"], "json: every region")
eq((rows["frame"]["size"], rows["frame"]["lifetime"], rows["frame"]["holders"]),
   (67108864, "persist", 1), "json: frame's size, lifetime, holders")
eq(rows["ring"]["seals"], "grow", "json: ring's seals")
eq(rows["bk"]["backing"].endswith("/file.dat"), True, "json: bk's backing file")
done()
PY
run 0 "holders" holders frame
check "a header" grep -Eq "^ +PID +USER +COMMAND +OPEN +MAPPED$" <<<"$out"
check "the holder's pid and command: $out" grep -Eq "^ *$holder +root +python3 +[0-9]+ +1$" <<<"$out"
run 0 "info" info frame
check "info: size" grep -qx "size:     67108864 (64M)" <<<"$out"
check "info: creator" grep -q "^creator:  pid=[0-9]* uid=0 comm=regionctl" <<<"$out"
check "info: one holder" grep -qx "holders:  1" <<<"$out"
kill "$holder"
wait "$holder" 2>/dev/null

# In passthrough, grow needs nobody to have it open: the holder's RELEASE comes asynchronously.
check "seal (once the holder's last close arrived)" wait_until 60 "$RC" seal frame shrink,grow
check_eq "the seals" "shrink,grow" "$(getfattr --only-values -n user.regionfs.seals "$L/frame")"
check_errno "a sealed region cannot shrink" EPERM "os.truncate(P('Local/0/frame'), 1)"
run 2 "an unknown seal" seal frame sideways
run 0 "flush --durable" flush bk --durable
run 0 "flush" flush frame
run 0 "df" df
check "df: the mount and its size" grep -Eq "^$M +256M " <<<"$out"
run 0 "rm" rm frame bk
run 1 "rm of a missing one" rm frame
check_eq "one line" "regionctl: frame: no such region" "$out"
rm -rf "${M:?}"/*  "$M/Local/.regionfs-pending" 2>/dev/null
rfs_done
