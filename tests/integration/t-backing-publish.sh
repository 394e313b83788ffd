#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The shell recipe that publishes a file-backed region so that no opener
# ever sees it half made:
#
#     touch "$M/.frame.tmp"
#     setfattr -n user.regionfs.backing -v /abs/frame.dat "$M/.frame.tmp"
#     mv "$M/.frame.tmp" "$M/frame"          # rename is atomic
#
# A concurrent reader opens "$M/frame" in a tight loop and must only ever
# see ENOENT or the whole file (size from fstat and every byte) - never an
# empty or unbound region. Every step of every round must succeed (no
# EBUSY from a release still in flight). First a self-check that the reader
# does catch a region that is published before it is bound.
#
# Usage: t-backing-publish.sh DAEMON_BINARY DATAPATH

. "$(dirname "$0")/lib.sh"
rfs_regionfs_only "file-backed regions are a regionfs feature"
rfs_init "$@"
rfs_mount "size=1M"
M=$RFS_MNT
F=$RFS_TMP/files
mkdir -p "$F"
X=user.regionfs.backing
ROUNDS=150

# 256 KiB of data, larger than one FUSE read, with a recognisable start.
{
	printf 'FRAME-HEADER'
	head -c $((256 * 1024 - 12)) /dev/urandom
} >"$F/frame.dat"

# reader PATH EXPECTED_FILE STOPFILE [ONCE]: prints "ok=N enoent=N bad=N"
# and one "# bad: ..." line per bad open (at most 5).
cat >"$RFS_TMP/reader.py" <<'EOF'
import errno, os, sys

path, expected, stop = sys.argv[1], sys.argv[2], sys.argv[3]
once = len(sys.argv) > 4
want = open(expected, "rb").read()
ok = enoent = bad = 0


def note(msg):
    global bad
    bad += 1
    if bad <= 5:
        print("# bad: " + msg, flush=True)


while True:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as e:
        if e.errno != errno.ENOENT:
            note("open: " + errno.errorcode.get(e.errno, str(e.errno)))
        else:
            enoent += 1
    else:
        try:
            size = os.fstat(fd).st_size
            data = b""
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(fd)
        if size != len(want) or data != want:
            note("fstat size %d, read %d bytes, %s" % (size, len(data),
                 "same bytes" if data == want else "different bytes"))
        else:
            ok += 1
    if once or os.path.exists(stop):
        break
print("ok=%d enoent=%d bad=%d" % (ok, enoent, bad), flush=True)
EOF
PY=$(command -v python3)

# Self-check: a region published first and bound afterwards is caught.
touch "$M/frame"
out=$("$PY" "$RFS_TMP/reader.py" "$M/frame" "$F/frame.dat" /nonexistent once)
check_eq "self-check: the reader reports an unbound region as bad" "ok=0 enoent=0 bad=1" \
	"$(printf '%s\n' "$out" | tail -n 1)"
rm -f "$M/frame"

stop=$RFS_TMP/stop
"$PY" "$RFS_TMP/reader.py" "$M/frame" "$F/frame.dat" "$stop" >"$RFS_TMP/reader.out" 2>&1 &
reader=$!
rfs_bg_track "$reader"

steps_failed=0
first_failure=
for ((i = 0; i < ROUNDS; i++)); do
	for step in "touch $M/.frame.tmp" \
		"setfattr -n $X -v $F/frame.dat $M/.frame.tmp" \
		"mv $M/.frame.tmp $M/frame"; do
		if ! err=$($step 2>&1); then
			steps_failed=$((steps_failed + 1))
			[ -n "$first_failure" ] || first_failure="round $i: $step: $err"
		fi
	done
	# let the reader see it for a moment, then take it away again
	sleep 0.0$((RANDOM % 5))
	rm -f "$M/frame" "$M/.frame.tmp"
	sleep 0.0$((RANDOM % 3))
done
touch "$stop"
if wait_until 30 test -s "$RFS_TMP/reader.out" && wait "$reader"; then
	ok "the reader finished"
else
	fail "the reader did not finish: $(cat "$RFS_TMP/reader.out")"
fi
grep '^# bad' "$RFS_TMP/reader.out"
res=$(tail -n 1 "$RFS_TMP/reader.out")
echo "# reader: $res"
check_eq "every step of $ROUNDS rounds succeeded${first_failure:+ (first failure: $first_failure)}" \
	0 "$steps_failed"
check_eq "the reader never saw a half-made region" "bad=0" "$(printf '%s' "$res" | grep -o 'bad=[0-9]*')"
check "the reader saw the whole file at least once" \
	test "$(printf '%s' "$res" | sed -n 's/.*ok=\([0-9]*\).*/\1/p')" -gt 0
check "the reader saw the name missing at least once" \
	test "$(printf '%s' "$res" | sed -n 's/.*enoent=\([0-9]*\).*/\1/p')" -gt 0
check_eq "the file is untouched" FRAME-HEADER "$(head -c 12 "$F/frame.dat")"
check_eq "...and complete" $((256 * 1024)) "$(stat -c %s "$F/frame.dat")"
rfs_expect_empty
rfs_done
