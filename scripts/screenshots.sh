#!/usr/bin/env bash
# Screenshots of the window: runs the real release binary under Xvfb on a
# demo ledger built with the CLI (4000 mixed events, a snapshot, one drifted
# read row) and saves one PNG per screen into assets/screenshots/.
#
#   scripts/screenshots.sh                      # build, make the demo ledger, shoot every screen
#   scripts/screenshots.sh emit compare         # only these screens
#   SIZE=900x600 THEME=light OUT=/tmp/shots scripts/screenshots.sh   # check a layout
#   SETTLE_SECS=10 scripts/screenshots.sh       # wait longer on slow machines
#
# SIZE is the window's size (default 1280x800); THEME is dark (default) or
# light. The screens: emit, timeline, time-travel, time-travel-difference
# (against a pinned earlier position), time-travel-step, time-travel-sorted
# (a table sorted and searched), over-time, what-if, history, compare,
# operations, models (two example models kept, one built), models-900x600,
# locked (the top bar while another process locks the read store),
# light-900x600 (the light theme at the smallest size); in Spanish:
# es-emit, es-time-travel, es-operations, es-models, es-900x600; and the
# guided scenarios, each prepared by the window in a training dir under the
# demo dir: scenario-<slug>[-<step>] (Spanish) and scenario-outage-en.
#
# LEDGERSCOPE_BIN=target/debug/ledgerscope uses that binary instead of
# building the release one (the pictures are the same).
set -euo pipefail
cd "$(dirname "$0")/.."

SETTLE_SECS="${SETTLE_SECS:-7}"
OUT="${OUT:-assets/screenshots}"
SIZE="${SIZE:-1280x800}"
THEME="${THEME:-dark}"
DISPLAY_NUM="${DISPLAY_NUM:-99}"
ONLY=("$@")

# Install what is missing (Debian/Ubuntu).
missing=()
command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
command -v xwd >/dev/null 2>&1 || missing+=(x11-apps)
command -v xdotool >/dev/null 2>&1 || missing+=(xdotool)
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

if [ -n "${LEDGERSCOPE_BIN:-}" ]; then
    BIN="$(realpath "$LEDGERSCOPE_BIN")"
else
    cargo build --release --quiet
    BIN="$PWD/target/release/ledgerscope"
fi
# The window's language in the shots (en or es); a shot may set its own.
UI_LANGUAGE="${UI_LANGUAGE:-en}"

DEMO="$(mktemp -d)"
XVFB_PID=""
APP_PID=""
LOCK_PID=""
cleanup() {
    [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null || true
    [ -n "$LOCK_PID" ] && kill "$LOCK_PID" 2>/dev/null || true
    [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null || true
    rm -rf "$DEMO"
}
trap cleanup EXIT

echo "demo ledger in $DEMO" >&2
"$BIN" --data-dir "$DEMO" emit --count 4000 --seed 7 --mix --json >/dev/null
"$BIN" --data-dir "$DEMO" project --json >/dev/null
"$BIN" --data-dir "$DEMO" snapshot take --json >/dev/null
# One drifted read row for Compare to find.
sqlite3 "$DEMO/views.sqlite3" \
    "UPDATE bookings SET guests = guests + 7 WHERE booking_id = (SELECT booking_id FROM bookings ORDER BY booking_id LIMIT 1);"

# A free display number (a stale lock from a crashed run is skipped).
while [ -e "/tmp/.X$DISPLAY_NUM-lock" ] || [ -e "/tmp/.X11-unix/X$DISPLAY_NUM" ]; do
    DISPLAY_NUM=$((DISPLAY_NUM + 1))
done
Xvfb ":$DISPLAY_NUM" -screen 0 1920x1080x24 -nolisten tcp >/dev/null 2>&1 &
XVFB_PID=$!
export DISPLAY=":$DISPLAY_NUM"
for _ in $(seq 1 100); do
    [ -e "/tmp/.X11-unix/X$DISPLAY_NUM" ] && break
    sleep 0.1
done
[ -e "/tmp/.X11-unix/X$DISPLAY_NUM" ] || { echo "Xvfb did not start on :$DISPLAY_NUM" >&2; exit 1; }
export LIBGL_ALWAYS_SOFTWARE=1
unset WAYLAND_DISPLAY

# prefs THEME LANGUAGE: a preferences file with the theme and the language
# (and nothing else kept).
prefs() {
    local file="$DEMO/prefs-$1-$2.json"
    printf '{"look": {"theme": "%s", "zoom_factor": 1.0}, "language": "%s"}\n' "$1" "$2" >"$file"
    echo "$file"
}

wanted() {
    [ "${#ONLY[@]}" -eq 0 ] && return 0
    local name
    for name in "${ONLY[@]}"; do [ "$name" = "$1" ] && return 0; done
    return 1
}

mkdir -p "$OUT"
# shoot_at NAME SIZE THEME PANEL [VAR=VALUE...]: the window on PANEL at
# SIZE (WxH) in THEME, saved as NAME.png.
shoot_at() {
    local name="$1" size="$2" theme="$3" panel="$4"
    shift 4
    wanted "$name" || return 0
    local width="${size%x*}" height="${size#*x}" attempt
    # The X server sometimes refuses a window right after the last one
    # closed (winit: "os error"): try again a moment later.
    for attempt in 1 2 3; do
        env LEDGERSCOPE_UI_PREFS="$(prefs "$theme" "$UI_LANGUAGE")" LEDGERSCOPE_START_PANEL="$panel" \
            LEDGERSCOPE_TRAINING_DIR="$DEMO/training" "$@" \
            "$BIN" --data-dir "$DEMO" --snapshot-every 0 >"$DEMO/$name.log" 2>&1 &
        APP_PID=$!
        sleep 1
        kill -0 "$APP_PID" 2>/dev/null && break
        echo "the app did not start (attempt $attempt): $(tail -n 1 "$DEMO/$name.log")" >&2
        sleep 2
    done
    local window=""
    for _ in $(seq 1 100); do
        window=$(xdotool search --name '^Ledgerscope$' 2>/dev/null | head -n 1 || true)
        [ -n "$window" ] && break
        sleep 0.1
    done
    if [ -n "$window" ]; then
        xdotool windowmove "$window" 0 0 windowsize "$window" "$width" "$height"
    fi
    sleep "$SETTLE_SECS"
    if ! kill -0 "$APP_PID" 2>/dev/null; then
        echo "the app exited early:" >&2
        cat "$DEMO/$name.log" >&2
        exit 1
    fi
    xwd -root -silent | /usr/bin/convert xwd:- -crop "${width}x${height}+0+0" +repage "png:$OUT/$name.png"
    kill "$APP_PID" 2>/dev/null || true
    wait "$APP_PID" 2>/dev/null || true
    APP_PID=""
    echo "saved $OUT/$name.png" >&2
}
# shoot_as NAME PANEL [VAR=VALUE...]: at SIZE in THEME.
shoot_as() {
    local name="$1"
    shift
    shoot_at "$name" "$SIZE" "$THEME" "$@"
}
shoot() {
    shoot_as "$1" "$@"
}

shoot emit LEDGERSCOPE_START_GENERATE=1
shoot timeline LEDGERSCOPE_START_POSITION=1234
shoot time-travel LEDGERSCOPE_START_POSITION=2000
shoot_as time-travel-difference time-travel LEDGERSCOPE_START_PIN=1000 \
    LEDGERSCOPE_START_POSITION=1200 LEDGERSCOPE_START_VIEW=difference
shoot_as time-travel-step time-travel LEDGERSCOPE_START_POSITION=1185 LEDGERSCOPE_START_VIEW=step
shoot_as time-travel-sorted time-travel LEDGERSCOPE_START_POSITION=3000 \
    LEDGERSCOPE_START_QUERY="bookings:price:desc:Suite"
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
# Models: two of the examples kept and built, the list beside the editor.
if wanted models || wanted models-900x600; then
    "$BIN" --data-dir "$DEMO" model add examples/models/revenue_by_service_month.sql >/dev/null
    "$BIN" --data-dir "$DEMO" model add examples/models/users.sql >/dev/null
    "$BIN" --data-dir "$DEMO" model build revenue_by_service_month >/dev/null 2>&1
fi
shoot models
shoot_at models-900x600 900x600 "$THEME" models
# The top bar while another process holds the read store's write lock: the
# generated event's projection waits, and the health line says so.
if wanted locked; then
    python3 -c "
import sqlite3, time
c = sqlite3.connect('$DEMO/views.sqlite3', isolation_level=None)
c.execute('BEGIN EXCLUSIVE')
time.sleep(40)
" &
    LOCK_PID=$!
    # The last window was killed holding the projectors' leases: wait them
    # out (10 s), so this window projects (and its write waits on the lock).
    sleep 11
    shoot locked LEDGERSCOPE_START_GENERATE=1
    kill "$LOCK_PID" 2>/dev/null || true
    wait "$LOCK_PID" 2>/dev/null || true
    LOCK_PID=""
fi
shoot_at light-900x600 900x600 light time-travel LEDGERSCOPE_START_PIN=1000 \
    LEDGERSCOPE_START_POSITION=1200 LEDGERSCOPE_START_VIEW=difference
# The window in Spanish.
UI_LANGUAGE=es shoot_as es-emit emit LEDGERSCOPE_START_GENERATE=1
UI_LANGUAGE=es shoot_as es-time-travel time-travel LEDGERSCOPE_START_PIN=1000 \
    LEDGERSCOPE_START_POSITION=1200 LEDGERSCOPE_START_VIEW=difference
UI_LANGUAGE=es shoot_as es-operations operations
UI_LANGUAGE=es shoot_as es-models models
UI_LANGUAGE=es shoot_at es-900x600 900x600 "$THEME" emit
# The guided scenarios (Spanish; one in English): each is prepared by the
# window in a fresh training dir and connected to before the shot.
scenario() {
    local name="$1" start="$2"
    SETTLE_SECS=$((SETTLE_SECS + 8)) shoot_as "$name" emit LEDGERSCOPE_START_SCENARIO="$start"
}
UI_LANGUAGE=es scenario scenario-idempotency idempotency:2
UI_LANGUAGE=es scenario scenario-anatomy anatomy:2
UI_LANGUAGE=es scenario scenario-outage outage:2
UI_LANGUAGE=es scenario scenario-replay replay:2
UI_LANGUAGE=es scenario scenario-time-travel time-travel:3
# Its ledger is the largest (the recoveries are timed on it).
UI_LANGUAGE=es SETTLE_SECS=45 scenario scenario-snapshots snapshots:1
UI_LANGUAGE=es scenario scenario-read-model read-model:1
UI_LANGUAGE=en scenario scenario-outage-en outage:2
