#!/usr/bin/env bash
# Start (installing first if needed) the real servers Ledgerscope is tested
# against, on loopback only, idempotently:
#
#   - PostgreSQL: our own cluster (Debian's `postgresql` package), not the
#     system one, with role/password ledgerscope/ledgerscope and database
#     `ledgerscope`;
#   - FerretDB v1.24.2 (MongoDB wire protocol), built from tools/ferretdb,
#     on its SQLite handler by default or on the PostgreSQL server above;
#   - TLS on both, with certificates from a CA this script makes (in
#     $LEDGERSCOPE_SERVICES_DIR/tls): PostgreSQL takes TLS on its port
#     (and authenticates the role ledgerscope_cert by client certificate),
#     FerretDB listens with TLS on a second port and wants a client
#     certificate there.
#
# Usage:
#   eval "$(scripts/services.sh)"            # start both, set env vars
#   scripts/services.sh [--ferretdb-handler sqlite|postgresql] COMMAND
#
# Commands:
#   start (default)   start both, print both export lines
#   stop              stop both
#   start-mongo       start FerretDB (and PostgreSQL if its handler needs it)
#   stop-mongo        stop FerretDB
#   start-postgres    start PostgreSQL
#   stop-postgres     stop PostgreSQL
#   status            say what runs; exit 0 only if both run
#   env               print the export lines without starting anything
#
# stdout carries only `export NAME=VALUE` lines (status lines for `status`);
# all progress goes to stderr, so `eval "$(scripts/services.sh)"` is safe.
#
# Environment:
#   LEDGERSCOPE_SERVICES_DIR      state dir (default <repo>/.services)
#   LEDGERSCOPE_POSTGRES_PORT     default 55432
#   LEDGERSCOPE_MONGO_PORT        default 27018
#   LEDGERSCOPE_MONGO_TLS_PORT    default 27019 (FerretDB's TLS listener)
#   LEDGERSCOPE_FERRETDB_HANDLER  sqlite|postgresql; default: the handler of
#                                 the last start, else sqlite
#
# Prints:
#   export LEDGERSCOPE_MONGO_URI=mongodb://127.0.0.1:27018/
#   export LEDGERSCOPE_POSTGRES_URL=postgres://ledgerscope:ledgerscope@127.0.0.1:55432/ledgerscope
#   export LEDGERSCOPE_TLS_DIR=<services dir>/tls   (ca.crt, client.crt, client.key,
#                                                     client.pem, other-ca.crt)
#   export LEDGERSCOPE_MONGO_TLS_URI=mongodb://localhost:27019/?tls=true&tlsCAFile=...&tlsCertificateKeyFile=...
#   export LEDGERSCOPE_POSTGRES_TLS_URL=postgres://...@localhost:55432/ledgerscope?sslmode=verify-full&sslrootcert=...
set -euo pipefail

# runuser, pg tools and Go live in sbin / local dirs a minimal PATH may lack.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/local/go/bin"
# go build needs a cache dir; under `env -i` there is no HOME.
export HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"

# Keep the real stdout on fd 3 for the export lines; everything else,
# including the output of every command run here, goes to stderr.
exec 3>&1 1>&2

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
SDIR="${LEDGERSCOPE_SERVICES_DIR:-$REPO/.services}"
mkdir -p "$SDIR"
SDIR="$(cd "$SDIR" && pwd -P)"

PG_PORT="${LEDGERSCOPE_POSTGRES_PORT:-55432}"
MONGO_PORT="${LEDGERSCOPE_MONGO_PORT:-27018}"
MONGO_TLS_PORT="${LEDGERSCOPE_MONGO_TLS_PORT:-27019}"
HOST=127.0.0.1
PG_USER=ledgerscope
PG_PASSWORD=ledgerscope
PG_DB=ledgerscope
FERRET_PG_DB=ferretdb

MONGO_URI="mongodb://$HOST:$MONGO_PORT/"
POSTGRES_URL="postgres://$PG_USER:$PG_PASSWORD@$HOST:$PG_PORT/$PG_DB"
TLS_DIR="$SDIR/tls"
# The certificates name "localhost" only: connecting by 127.0.0.1 is a host
# name mismatch (what the tests of verify-full need).
MONGO_TLS_URI="mongodb://localhost:$MONGO_TLS_PORT/?tls=true&tlsCAFile=$TLS_DIR/ca.crt&tlsCertificateKeyFile=$TLS_DIR/client.pem"
POSTGRES_TLS_URL="postgres://$PG_USER:$PG_PASSWORD@localhost:$PG_PORT/$PG_DB?sslmode=verify-full&sslrootcert=$TLS_DIR/ca.crt"
FERRET_PG_URL="postgres://$PG_USER:$PG_PASSWORD@$HOST:$PG_PORT/$FERRET_PG_DB"

FERRET_SRC="$REPO/tools/ferretdb"
FERRET_BIN="$FERRET_SRC/bin/ferretdb"
FERRET_DIR="$SDIR/ferretdb"
FERRET_PIDFILE="$FERRET_DIR/ferretdb.pid"
FERRET_LOG="$FERRET_DIR/ferretdb.log"
FERRET_HANDLER_FILE="$FERRET_DIR/handler"

log() { printf 'services.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- arguments

CMD=""
HANDLER_ARG="${LEDGERSCOPE_FERRETDB_HANDLER:-}"
while [ $# -gt 0 ]; do
	case "$1" in
	--ferretdb-handler) [ $# -ge 2 ] || die "--ferretdb-handler needs a value"; HANDLER_ARG="$2"; shift 2 ;;
	--ferretdb-handler=*) HANDLER_ARG="${1#*=}"; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
	start | stop | start-mongo | stop-mongo | start-postgres | stop-postgres | status | env)
		[ -z "$CMD" ] || die "more than one command: $CMD, $1"; CMD="$1"; shift ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
done
CMD="${CMD:-start}"
case "$HANDLER_ARG" in
'' | sqlite | postgresql) ;;
*) die "--ferretdb-handler must be sqlite or postgresql, not '$HANDLER_ARG'" ;;
esac

# One invocation at a time per services dir (parallel test runs share it).
exec 9>"$SDIR/.lock"
flock 9

# ---------------------------------------------------------------- helpers

port_open() { (exec 8<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# pid_alive PID: PID is a live process (a zombie counts as dead: it has exited
# and only waits for its parent, or init, to reap it).
pid_alive() {
	local pid="$1" stat
	[ -n "$pid" ] || return 1
	stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
	# the state is the first field after the parenthesised comm
	stat="${stat##*) }"
	[ "${stat%% *}" != Z ] && [ "${stat%% *}" != X ]
}

# pid_is PID NAME: PID is a live process whose comm is NAME (guards against a
# PID from an old pidfile now reused by something else).
pid_is() {
	pid_alive "$1" && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}

print_exports() {
	local what
	for what in "$@"; do
		case "$what" in
		mongo)
			printf 'export LEDGERSCOPE_MONGO_URI=%s\n' "$MONGO_URI" >&3
			printf "export LEDGERSCOPE_MONGO_TLS_URI='%s'\n" "$MONGO_TLS_URI" >&3
			;;
		postgres)
			printf 'export LEDGERSCOPE_POSTGRES_URL=%s\n' "$POSTGRES_URL" >&3
			printf "export LEDGERSCOPE_POSTGRES_TLS_URL='%s'\n" "$POSTGRES_TLS_URL" >&3
			;;
		tls) printf 'export LEDGERSCOPE_TLS_DIR=%s\n' "$TLS_DIR" >&3 ;;
		esac
	done
}

# ---------------------------------------------------------------- certificates

# make_cert NAME CN USAGE: a key and a certificate signed by our CA.
make_cert() {
	local name="$1" cn="$2" usage="$3" ext="$TLS_DIR/$1.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$TLS_DIR/$name.key" -out "$TLS_DIR/$name.csr" -subj "/CN=$cn" 2>/dev/null
	printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n' "$usage" >"$ext"
	[ "$usage" = serverAuth ] && printf 'subjectAltName=DNS:localhost\n' >>"$ext"
	openssl x509 -req -in "$TLS_DIR/$name.csr" -CA "$TLS_DIR/ca.crt" -CAkey "$TLS_DIR/ca.key" \
		-CAcreateserial -out "$TLS_DIR/$name.crt" -days 3650 -extfile "$ext" 2>/dev/null
	rm -f "$TLS_DIR/$name.csr" "$ext"
}

# A CA, a server certificate for "localhost", a client certificate for the
# role ledgerscope_cert, and a second CA that signed none of them (for
# wrong-CA tests). Made once per services dir.
ensure_certificates() {
	[ -s "$TLS_DIR/client.pem" ] && [ -s "$TLS_DIR/other-ca.crt" ] && return 0
	command -v openssl >/dev/null 2>&1 || die "openssl not found (apt-get install openssl)"
	log "making a test CA and certificates in $TLS_DIR"
	rm -rf "$TLS_DIR"
	mkdir -p "$TLS_DIR"
	local ca
	for ca in ca other-ca; do
		openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$TLS_DIR/$ca.key" -out "$TLS_DIR/$ca.crt" -days 3650 \
			-subj "/CN=Ledgerscope test $ca" \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null ||
			die "openssl could not make the test CA"
	done
	make_cert server localhost serverAuth
	make_cert client ledgerscope_cert clientAuth
	cat "$TLS_DIR/client.crt" "$TLS_DIR/client.key" >"$TLS_DIR/client.pem"
	chmod 600 "$TLS_DIR"/*.key "$TLS_DIR/client.pem"
}

# ---------------------------------------------------------------- PostgreSQL

PG_BIN=""
PG_DIR="$SDIR/postgres"
PG_DATA="$PG_DIR/data"
PG_LOG="$PG_DIR/postgres.log"

find_pg_bin() {
	local d
	PG_BIN=""
	# shellcheck disable=SC2012 # version dirs are plain numbers
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] && PG_BIN="$d"
	done
	[ -n "$PG_BIN" ]
}

install_postgres() {
	find_pg_bin && return 0
	[ "$(id -u)" = 0 ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin and not root: apt-get install postgresql"
	log "installing Debian package postgresql"
	# We run our own cluster; do not let the package create and start 'main' on 5432.
	if [ -d /etc/postgresql-common ] || mkdir -p /etc/postgresql-common; then
		if ! grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf; then
			echo 'create_main_cluster = false' >>/etc/postgresql-common/createcluster.conf
		fi
	fi
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q postgresql </dev/null; then
		log "apt-get install failed; running apt-get update once and retrying"
		apt-get update -q </dev/null
		apt-get install -y -q postgresql </dev/null
	fi
	find_pg_bin || die "postgresql installed but no /usr/lib/postgresql/*/bin/initdb found"
}

# Run a PostgreSQL server-side command as the postgres OS user when we are root
# (the server refuses to run as root), from a directory it can enter.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && "$@")
	fi
}

# The postgres user must reach the data dir. If it cannot traverse $SDIR
# (e.g. a repo under /root), keep the cluster in postgres' home instead.
# Called only once the package is installed, so the postgres user exists.
choose_pg_dir() {
	[ "$(id -u)" = 0 ] || return 0
	command -v runuser >/dev/null || die "runuser (util-linux) not found"
	id -u postgres >/dev/null 2>&1 || die "no 'postgres' OS user (is the postgresql package installed?)"
	if ! runuser -u postgres -- test -x "$SDIR" 2>/dev/null; then
		local home
		home="$(getent passwd postgres | cut -d: -f6)"
		PG_DIR="${home:-/var/lib/postgresql}/ledgerscope-$(printf '%s' "$SDIR" | cksum | cut -d' ' -f1)"
		log "postgres user cannot enter $SDIR; keeping the cluster in $PG_DIR"
	fi
	PG_DATA="$PG_DIR/data"
	PG_LOG="$PG_DIR/postgres.log"
}

pg_psql() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PG_PORT" -U postgres "$@"; }

# Prints the postmaster PID if our cluster's postmaster is alive.
pg_running_pid() {
	local pid
	[ -r "$PG_DATA/postmaster.pid" ] || return 1
	pid="$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null)" || return 1
	pid_is "$pid" postgres || return 1
	printf '%s\n' "$pid"
}

init_postgres() {
	[ -s "$PG_DATA/PG_VERSION" ] && return 0
	log "initdb $PG_DATA"
	mkdir -p "$PG_DIR"
	rm -rf "$PG_DATA"
	if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PG_DIR"; fi
	chmod 700 "$PG_DIR"
	local pwfile="$PG_DIR/.pw"
	as_pg sh -c "umask 077; printf '%s\n' postgres >'$pwfile'"
	as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
		--auth-local=peer --auth-host=scram-sha-256 >/dev/null
	rm -f "$pwfile"
	# Loopback TCP only; the superuser may connect without a password so this
	# script can administer the cluster; every other role needs its password.
	as_pg sh -c "cat >'$PG_DATA/pg_hba.conf'" <<-'EOF'
		# Written by scripts/services.sh
		local   all postgres                     peer
		host    all postgres         127.0.0.1/32 trust
		hostssl all ledgerscope_cert 127.0.0.1/32 cert
		hostssl all ledgerscope_cert ::1/128      cert
		host    all all              127.0.0.1/32 scram-sha-256
		host    all all              ::1/128      scram-sha-256
	EOF
	as_pg sh -c "cat >>'$PG_DATA/postgresql.conf'" <<-EOF

		# Written by scripts/services.sh
		listen_addresses = '$HOST'
		port = $PG_PORT
		unix_socket_directories = ''
		max_connections = 200
		logging_collector = off
		log_line_prefix = '%m [%p] %q%u@%d '
	EOF
}

# TLS for the cluster: the server certificate in the data dir (owned by the
# server's user, as PostgreSQL requires), settings in an included file, and
# the client-certificate role in pg_hba.conf (added to clusters made by
# earlier versions of this script). Returns 0 when the running server must
# reload them.
ensure_pg_tls() {
	ensure_certificates
	local changed=1
	if ! cmp -s "$TLS_DIR/server.crt" "$PG_DATA/server.crt" 2>/dev/null; then
		install -m 600 "$TLS_DIR/server.crt" "$PG_DATA/server.crt"
		install -m 600 "$TLS_DIR/server.key" "$PG_DATA/server.key"
		install -m 644 "$TLS_DIR/ca.crt" "$PG_DATA/root.crt"
		if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PG_DATA/server.crt" "$PG_DATA/server.key" "$PG_DATA/root.crt"; fi
		changed=0
	fi
	if ! grep -qs "^include_if_exists = 'ledgerscope_tls.conf'" "$PG_DATA/postgresql.conf"; then
		as_pg sh -c "printf '%s\n' \"include_if_exists = 'ledgerscope_tls.conf'\" >>'$PG_DATA/postgresql.conf'"
		changed=0
	fi
	if [ ! -s "$PG_DATA/ledgerscope_tls.conf" ]; then
		as_pg sh -c "printf '%s\n' 'ssl = on' \"ssl_cert_file = 'server.crt'\" \"ssl_key_file = 'server.key'\" \"ssl_ca_file = 'root.crt'\" >'$PG_DATA/ledgerscope_tls.conf'"
		changed=0
	fi
	if ! grep -qs "ledgerscope_cert" "$PG_DATA/pg_hba.conf"; then
		as_pg sh -c "sed -i '/^host *all *postgres/a hostssl all ledgerscope_cert 127.0.0.1/32 cert\nhostssl all ledgerscope_cert ::1/128 cert' '$PG_DATA/pg_hba.conf'"
		changed=0
	fi
	return "$changed"
}

start_postgres() {
	install_postgres
	choose_pg_dir
	init_postgres
	local reload=1
	ensure_pg_tls && reload=0
	local pid
	if pid="$(pg_running_pid)"; then
		log "postgres already running (pid $pid) on $HOST:$PG_PORT"
		if [ "$reload" = 0 ]; then
			log "reloading postgres for its TLS settings"
			as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" reload >/dev/null 3>&- 9>&-
		fi
	else
		if [ -e "$PG_DATA/postmaster.pid" ]; then
			log "removing stale $PG_DATA/postmaster.pid"
			rm -f "$PG_DATA/postmaster.pid"
		fi
		if port_open "$PG_PORT"; then
			die "port $HOST:$PG_PORT is taken by another process; set LEDGERSCOPE_POSTGRES_PORT"
		fi
		# The port is passed on the command line too, so LEDGERSCOPE_POSTGRES_PORT
		# wins over whatever an older initdb wrote into postgresql.conf.
		log "starting postgres on $HOST:$PG_PORT (log $PG_LOG)"
		if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
			-o "-p $PG_PORT -c listen_addresses=$HOST" start >/dev/null 3>&- 9>&-; then
			tail -n 20 "$PG_LOG" >&2 || true
			die "postgres did not start"
		fi
	fi
	local i
	for i in $(seq 1 100); do
		"$PG_BIN/pg_isready" -q -h "$HOST" -p "$PG_PORT" -U postgres && break
		[ "$i" = 100 ] && die "postgres on $HOST:$PG_PORT not ready"
		sleep 0.1
	done
	ensure_pg_objects
}

ensure_pg_objects() {
	pg_psql -d postgres >/dev/null <<-EOF
		SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', '$PG_USER', '$PG_PASSWORD')
		  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER') \gexec
		SELECT format('CREATE ROLE %I LOGIN IN ROLE %I', 'ledgerscope_cert', '$PG_USER')
		  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ledgerscope_cert') \gexec
		SELECT format('CREATE DATABASE %I OWNER %I', d, '$PG_USER')
		  FROM unnest(ARRAY['$PG_DB', '$FERRET_PG_DB']) AS d
		  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = d) \gexec
	EOF
}

stop_postgres() {
	local pid
	if ! find_pg_bin || ! choose_pg_dir || ! pid="$(pg_running_pid)"; then
		log "postgres not running"
		return 0
	fi
	log "stopping postgres (pid $pid)"
	# fast: roll back open transactions and disconnect clients at once.
	as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null 3>&- 9>&- ||
		die "postgres did not stop"
}

# ---------------------------------------------------------------- FerretDB

ferret_handler() {
	if [ -n "$HANDLER_ARG" ]; then
		printf '%s\n' "$HANDLER_ARG"
	elif [ -s "$FERRET_HANDLER_FILE" ]; then
		cat "$FERRET_HANDLER_FILE"
	else
		echo sqlite
	fi
}

build_ferretdb() {
	local newer=""
	if [ -x "$FERRET_BIN" ]; then
		newer="$(find "$FERRET_SRC" -maxdepth 1 -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) \
			-newer "$FERRET_BIN" -print -quit)"
		[ -z "$newer" ] && return 0
		log "rebuilding FerretDB launcher ($newer changed)"
	else
		log "building FerretDB launcher (first build takes ~1.5 min)"
	fi
	command -v go >/dev/null 2>&1 ||
		die "'go' not found in PATH: Go >= 1.24 is needed to build tools/ferretdb (Debian: apt-get install golang is too old; use the machine's Go)"
	mkdir -p "$FERRET_SRC/bin"
	local tmp="$FERRET_SRC/bin/.ferretdb.$$"
	(cd "$FERRET_SRC" && GOFLAGS=-mod=readonly go build -trimpath -o "$tmp" .) ||
		{ rm -f "$tmp"; die "go build of tools/ferretdb failed"; }
	mv -f "$tmp" "$FERRET_BIN"
}

ferret_running_pid() {
	local pid
	[ -r "$FERRET_PIDFILE" ] || return 1
	pid="$(cat "$FERRET_PIDFILE" 2>/dev/null)" || return 1
	pid_is "$pid" ferretdb || return 1
	printf '%s\n' "$pid"
}

start_mongo() {
	local handler pid
	handler="$(ferret_handler)"
	if [ "$handler" = postgresql ]; then
		start_postgres
	fi
	build_ferretdb
	mkdir -p "$FERRET_DIR"
	if pid="$(ferret_running_pid)"; then
		if [ "$(cat "$FERRET_HANDLER_FILE" 2>/dev/null)" = "$handler" ]; then
			log "ferretdb already running (pid $pid, $handler handler) on $HOST:$MONGO_PORT"
			wait_mongo "$pid"
			return 0
		fi
		log "ferretdb runs with another handler; restarting with $handler"
		stop_mongo
	fi
	rm -f "$FERRET_PIDFILE"
	if port_open "$MONGO_PORT"; then
		die "port $HOST:$MONGO_PORT is taken by another process; set LEDGERSCOPE_MONGO_PORT"
	fi

	ensure_certificates
	if port_open "$MONGO_TLS_PORT"; then
		die "port $HOST:$MONGO_TLS_PORT is taken by another process; set LEDGERSCOPE_MONGO_TLS_PORT"
	fi
	local args=(--listen-addr "$HOST:$MONGO_PORT" --handler "$handler" --log-level warn --shutdown-timeout 1s
		--listen-tls "$HOST:$MONGO_TLS_PORT" --listen-tls-cert-file "$TLS_DIR/server.crt"
		--listen-tls-key-file "$TLS_DIR/server.key" --listen-tls-ca-file "$TLS_DIR/ca.crt")
	if [ "$handler" = sqlite ]; then
		mkdir -p "$FERRET_DIR/sqlite"
		args+=(--sqlite-url "file:$FERRET_DIR/sqlite/")
	else
		args+=(--postgresql-url "$FERRET_PG_URL")
	fi
	log "starting ferretdb ($handler handler) on $HOST:$MONGO_PORT (log $FERRET_LOG)"
	printf '%s\n' "$handler" >"$FERRET_HANDLER_FILE"
	printf '\n=== %s start %s\n' "$(date -u +%FT%TZ)" "${args[*]}" >>"$FERRET_LOG"
	# setsid: own session and no controlling terminal, so neither a Ctrl-C nor
	# a hangup of the calling shell reaches it; every fd is redirected or
	# closed so that `$(services.sh)` does not wait for it.
	setsid "$FERRET_BIN" "${args[@]}" </dev/null >>"$FERRET_LOG" 2>&1 3>&- 9>&- &
	pid=$!
	printf '%s\n' "$pid" >"$FERRET_PIDFILE"
	wait_mongo "$pid"
}

wait_mongo() {
	local pid="$1" i
	for i in $(seq 1 300); do
		# (until it has exec'd, the child's comm is still bash's or setsid's)
		if port_open "$MONGO_PORT" && pid_is "$pid" ferretdb; then
			return 0
		fi
		if ! pid_alive "$pid"; then
			tail -n 20 "$FERRET_LOG" >&2 || true
			rm -f "$FERRET_PIDFILE"
			die "ferretdb exited during start"
		fi
		sleep 0.1
	done
	die "ferretdb on $HOST:$MONGO_PORT did not accept connections within 30s"
}

stop_mongo() {
	local pid i
	if ! pid="$(ferret_running_pid)"; then
		rm -f "$FERRET_PIDFILE"
		log "ferretdb not running"
		return 0
	fi
	log "stopping ferretdb (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	# The launcher exits within its --shutdown-timeout (1s) after SIGTERM.
	for i in $(seq 1 100); do
		pid_is "$pid" ferretdb || break
		sleep 0.05
	done
	if pid_is "$pid" ferretdb; then
		log "ferretdb ignored SIGTERM for 5s; killing it"
		kill -KILL "$pid" 2>/dev/null || true
		sleep 0.1
	fi
	rm -f "$FERRET_PIDFILE"
}

# ---------------------------------------------------------------- status

status() {
	local ok=0 pid
	if find_pg_bin && choose_pg_dir && pid="$(pg_running_pid)"; then
		printf 'postgres: running (pid %s) on %s:%s, data %s\n' "$pid" "$HOST" "$PG_PORT" "$PG_DATA" >&3
	else
		printf 'postgres: stopped\n' >&3
		ok=1
	fi
	if pid="$(ferret_running_pid)"; then
		printf 'ferretdb: running (pid %s, %s handler) on %s:%s\n' "$pid" "$(ferret_handler)" "$HOST" "$MONGO_PORT" >&3
	else
		printf 'ferretdb: stopped\n' >&3
		ok=1
	fi
	return "$ok"
}

# ---------------------------------------------------------------- main

case "$CMD" in
start)
	start_postgres
	start_mongo
	print_exports mongo postgres tls
	;;
stop)
	stop_mongo
	stop_postgres
	;;
start-mongo)
	start_mongo
	print_exports mongo tls
	;;
stop-mongo) stop_mongo ;;
start-postgres)
	start_postgres
	print_exports postgres tls
	;;
stop-postgres) stop_postgres ;;
status) status ;;
env) print_exports mongo postgres tls ;;
esac
