#!/usr/bin/env bash
# Screenshots of every panel: runs the real release binary under Xvfb at
# 1280x800 on a demo ledger built with the CLI (4000 events, a snapshot, one
# drifted read row) and saves one PNG per panel (and one of a row's
# history) into assets/screenshots/.
#
#   scripts/screenshots.sh            # build, make the demo ledger, shoot
#   SETTLE_SECS=10 scripts/screenshots.sh   # wait longer on slow machines
set -euo pipefail
cd "$(dirname "$0")/.."

SETTLE_SECS="${SETTLE_SECS:-7}"
OUT=assets/screenshots
DISPLAY_NUM="${DISPLAY_NUM:-99}"

# Install what is missing (Debian/Ubuntu).
missing=()
command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
command -v xwd >/dev/null 2>&1 || missing+=(x11-apps)
[ -x /usr/bin/convert ] || missing+=(imagemagick)
command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)
dpkg -s libgl1-mesa-dri >/dev/null 2>&1 || missing+=(libgl1-mesa-dri)
dpkg -s libegl-mesa0 >/dev/null 2>&1 || missing+=(libegl-mesa0)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cargo build --release --quiet
BIN="$PWD/target/release/ledgerscope"

DEMO="$(mktemp -d)"
XVFB_PID=""
APP_PID=""
cleanup() {
    [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null || true
    [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null || true
    rm -rf "$DEMO"
}
trap cleanup EXIT

echo "demo ledger in $DEMO" >&2
mix=""
"$BIN" emit --help 2>/dev/null | grep -q -- "--mix" && mix="--mix"
"$BIN" --data-dir "$DEMO" emit --count 4000 --seed 7 $mix --json >/dev/null
"$BIN" --data-dir "$DEMO" project --json >/dev/null
"$BIN" --data-dir "$DEMO" snapshot take --json >/dev/null
# One drifted read row for Compare to find.
sqlite3 "$DEMO/views.sqlite3" \
    "UPDATE bookings SET guests = guests + 7 WHERE booking_id = (SELECT booking_id FROM bookings ORDER BY booking_id LIMIT 1);"

# A free display number (a stale lock from a crashed run is skipped).
while [ -e "/tmp/.X$DISPLAY_NUM-lock" ] || [ -e "/tmp/.X11-unix/X$DISPLAY_NUM" ]; do
    DISPLAY_NUM=$((DISPLAY_NUM + 1))
done
Xvfb ":$DISPLAY_NUM" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
XVFB_PID=$!
export DISPLAY=":$DISPLAY_NUM"
for _ in $(seq 1 100); do
    [ -e "/tmp/.X11-unix/X$DISPLAY_NUM" ] && break
    sleep 0.1
done
[ -e "/tmp/.X11-unix/X$DISPLAY_NUM" ] || { echo "Xvfb did not start on :$DISPLAY_NUM" >&2; exit 1; }
export LIBGL_ALWAYS_SOFTWARE=1
export LEDGERSCOPE_UI_PREFS=none
unset WAYLAND_DISPLAY

mkdir -p "$OUT"
# shoot_as NAME PANEL [VAR=VALUE...]: the window on PANEL, saved as NAME.png.
shoot_as() {
    local name="$1" panel="$2"
    shift 2
    env LEDGERSCOPE_START_PANEL="$panel" "$@" "$BIN" --data-dir "$DEMO" --snapshot-every 0 >"$DEMO/$name.log" 2>&1 &
    APP_PID=$!
    sleep "$SETTLE_SECS"
    if ! kill -0 "$APP_PID" 2>/dev/null; then
        echo "the app exited early:" >&2
        cat "$DEMO/$name.log" >&2
        exit 1
    fi
    xwd -root -silent | /usr/bin/convert xwd:- "png:$OUT/$name.png"
    kill "$APP_PID" 2>/dev/null || true
    wait "$APP_PID" 2>/dev/null || true
    APP_PID=""
    echo "saved $OUT/$name.png" >&2
}
shoot() {
    shoot_as "$1" "$@"
}

shoot emit LEDGERSCOPE_START_GENERATE=1
shoot timeline LEDGERSCOPE_START_POSITION=1234
shoot time-travel LEDGERSCOPE_START_POSITION=2000
shoot over-time
# A booking that was rescheduled or cancelled: its history has versions,
# and leaving out its wizard makes those later events no-ops.
changed=$(sqlite3 "$DEMO/ledger.sqlite3" \
    "SELECT aggregate_id FROM events WHERE event_type IN ('BookingCancelled','BookingRescheduled') ORDER BY position LIMIT 1;")
made=$(sqlite3 "$DEMO/ledger.sqlite3" \
    "SELECT MIN(position) FROM events WHERE aggregate_id = '$changed';")
shoot what-if LEDGERSCOPE_START_WHATIF="$made"
shoot_as history time-travel LEDGERSCOPE_START_POSITION=2000 LEDGERSCOPE_START_HISTORY="booking:$changed"
shoot compare
shoot operations
