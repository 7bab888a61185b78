# Shared by tests/interop/*.bats: the tornet network's variables, our
# binaries, and bounded waits. The suite needs a running network:
# TORNET_DIR names it (tests/interop/run starts one and sets it).

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

: "${TK_SRCDIR:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
: "${TK_BUILDDIR:=$TK_SRCDIR}"

if [ -z "${TORNET_DIR:-}" ]; then
	echo "TORNET_DIR is not set: the interop tests need a running tornet" >&2
	echo "(run tests/interop/run, or: tools/tornet start DIR; TORNET_DIR=DIR bats tests/interop)" >&2
	return 1
fi
eval "$("$TK_SRCDIR/tools/tornet" env "$TORNET_DIR")" || return 1

TOR_RESOLVE_DEB=/usr/bin/tor-resolve
TK_RESOLVE=$TK_BUILDDIR/src/cli/tor-resolve
TK_PTR=$TK_BUILDDIR/src/cli/tor-ptr
TK_CONNECT=$TK_BUILDDIR/src/cli/tor-connect
TK_TORKITD=$TK_BUILDDIR/src/daemon/torkitd
SOCKSRAW=$TK_SRCDIR/tests/interop/socksraw

# the torkitd of torkitd.bats: direct engine, tornet's DNS and exit policy
KD_PORT=$TORNET_SPARE_PORT
KD=127.0.0.1:$KD_PORT

# Debian's tor-resolve prefixes its log lines with a timestamp; drop it
# so outputs compare.
strip_tor_log() {
	sed -E 's/^[A-Z][a-z]{2} [ 0-9][0-9] [0-9:.]+ //'
}

# wait_file FILE GREP-PATTERN [TENTHS]: until FILE has a line matching
wait_file() {
	local i
	for ((i = 0; i < ${3:-600}; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "timed out waiting for /$2/ in $1" >&2
	return 1
}

# wait_size FILE BYTES [TENTHS]
wait_size() {
	local i
	for ((i = 0; i < ${3:-1200}; i++)); do
		[ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
		sleep 0.1
	done
	echo "timed out waiting for $2 bytes in $1" >&2
	return 1
}

# run_echo LINE CMD...: runs CMD, a client of tornet's echo service,
# with LINE on its standard input, which stays open until the echo is back
# (or CMD ended): Tor has no half-close, and on a loaded machine the echo
# can take longer than a short HalfCloseLinger. Sets status and output as
# `run` does.
run_echo() {
	local line=$1 out
	shift
	out=$(mktemp "$BATS_TEST_TMPDIR/echo.XXXXXX")
	run bash -c '
		{
			printf "%s\n" "$1"
			for ((i = 0; i < 1200; i++)); do
				[ -e "$2.st" ] || [ "$(stat -c %s "$2")" -gt "${#1}" ] && break
				sleep 0.1
			done
		} | { "${@:3}" >"$2"; echo $? >"$2.st"; }
		cat "$2"
		exit "$(cat "$2.st")"' _ "$line" "$out" "$@"
}

# wait_port PORT [TENTHS]: until something listens on 127.0.0.1:PORT
wait_port() {
	local i
	for ((i = 0; i < ${2:-200}; i++)); do
		(exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nothing listens on 127.0.0.1:$1" >&2
	return 1
}

# hold_stdin OUTFILE PATTERN DATA: print DATA, then keep the pipe open
# until OUTFILE shows PATTERN. Through real Tor a client's half-close ends
# the stream (doc/differences.md), so a client must not shut its write
# side before the answer is in.
hold_stdin() {
	printf '%s' "$3"
	wait_file "$1" "$2"
}

# control "COMMAND...": send commands to the client tor's ControlPort
# (no authentication configured, loopback only) and print the answer.
control() {
	local cmd
	cmd="AUTHENTICATE"$'\r\n'"$1"$'\r\n'"QUIT"$'\r\n'
	(
		exec 5<>"/dev/tcp/127.0.0.1/$TORNET_CONTROL_PORT" || exit 1
		printf '%s' "$cmd" >&5
		timeout 20 cat <&5
	) | tr -d '\r'
}

# tornet_start_node NODE: starts a node a test killed, exactly as tornet
# did (its recorded command line; tornet stop finds it by the new pid),
# and waits for its ORPort if it has one.
tornet_start_node() {
	local n=$1 args=() a orport lib="" tls="" cells=""
	while IFS= read -r -d '' a; do args+=("$a"); done <"$TORNET_DIR/run/$n.cmdline"
	# a network started with --tls13-only / --cell-log: the relay comes
	# back as it was (tools/tornet launch_tor)
	if [ -s "$TORNET_DIR/preload" ]; then
		{ read -r lib; read -r tls; read -r cells; } <"$TORNET_DIR/preload"
		[ "$tls" = 1 ] && tls=1.3 || tls=
		[ "$cells" = 1 ] && cells=$TORNET_DIR/nodes/$n/cells.log || cells=
	fi
	LD_PRELOAD=$lib TORNET_TLS_MIN=$tls TORNET_CELL_LOG=$cells \
		setsid "${args[@]}" </dev/null >>"$TORNET_DIR/run/$n.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	echo $! >"$TORNET_DIR/run/$n.pid"
	# the port it listens on (with --latency, not the advertised one)
	orport=$(sed -nE '/NoListen/d; s/^ORPort 127\.0\.0\.1:([0-9]+).*/\1/p' "$TORNET_DIR/nodes/$n/torrc")
	[ -z "$orport" ] || wait_port "$orport" 300
}

# tornet_relaunch NODE: starts a relay a test killed (tornet_start_node)
# and has tornet's client tor drop the circuits it built before (SIGNAL
# NEWNYM). The guard of a circuit through the dead
# relay may hold that circuit's DESTROY a long time (tor flushes queued
# DESTROYs only with other cells), so without NEWNYM the tests after
# this one could have Tor's client put their requests on dead circuits.
# Even then Tor's client has failed a RESOLVE in the seconds after (CI,
# twice), so it returns only once that client answers one again, as
# tornet start does before it calls a network ready (bounded: 1 if not
# within about a minute).
tornet_relaunch() {
	local n=$1 i
	tornet_start_node "$n"
	control "SIGNAL NEWNYM" | grep -q '^250 OK' ||
		echo "tornet_relaunch: the client tor refused NEWNYM" >&2
	for ((i = 0; i < 30; i++)); do
		timeout 20 "$TK_RESOLVE" "$TORNET_NAME_A" "$TORNET_SOCKS" \
			>/dev/null 2>&1 && break
		sleep 1
	done
	if [ "$i" -eq 30 ]; then
		echo "tornet_relaunch: tornet's client tor answers no RESOLVE since $n was restarted" >&2
		return 1
	fi
	# A relay that held an introduction point of an onion service leaves
	# the service's descriptor stale until the service notices and
	# uploads a new one (minutes): the onion tests after this one must
	# not meet the old one. tor's client refetches a descriptor whose
	# introduction points fail, so once it echoes through both services,
	# the HSDirs hold fresh ones (as tornet start waits for it).
	tornet_onions_wait ||
		{ echo "tornet_relaunch: tornet's client tor reaches no onion service since $n was restarted" >&2; return 1; }
}

# tornet_onions_wait: 0 once tornet's client tor echoes through both
# onion services (bounded: 15 tries), 1 if it never does
tornet_onions_wait() {
	local i
	for ((i = 0; i < 15; i++)); do
		onion_echo "$TORNET_ONION_PLAIN" && onion_echo "$TORNET_ONION_AUTH" &&
			return 0
		sleep 2
	done
	return 1
}

# onion_echo ONION: a line echoed through tornet's client tor and the
# onion service's echo port (stdin held open until the echo is back:
# tor ends a stream at the client's half-close)
onion_echo() {
	local o=${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}/onion_echo.out
	rm -f "$o"
	{ printf 'onion echo\n'; wait_file "$o" '^onion echo$' 200 2>/dev/null; } |
		timeout 25 "$TK_CONNECT" -P "$TORNET_SOCKS" "$1" "$TORNET_ONION_ECHO_PORT" >"$o" 2>/dev/null
	grep -qx 'onion echo' "$o"
}

# the SOCKS_USERNAME a circuit is isolated to ("" if none)
circuit_user() {
	control "GETINFO circuit-status" |
		awk -v c="$1" '$1 == c { if (match($0, /SOCKS_USERNAME="[^"]*"/)) print substr($0, RSTART + 16, RLENGTH - 17); exit }'
}

# torkitd (direct engine) for the "same requests against torkitd" tests
start_torkitd() {
	local dir=$1
	"$TK_TORKITD" --Engine direct --SocksPort "$KD" --DNSServer "$TORNET_DNS" \
		--ExitPolicy "$TORNET_EXIT_POLICY" --ExitPolicyRejectPrivate 0 \
		--Log "notice file $dir/torkitd.log" \
		</dev/null >"$dir/torkitd.out" 2>&1 3>&- &
	echo $! >"$dir/torkitd.pid"
	wait_port "$KD_PORT" || { cat "$dir/torkitd.out" >&2; return 1; }
}

stop_torkitd() {
	stop_pidfile "$1/torkitd.pid"
}

# stop_pidfile FILE [TEXT]: stops the process whose pid FILE holds — only
# while that pid is still ours: a torkitd, or a command line containing
# TEXT — waits (bounded) until it is gone, and removes FILE
stop_pidfile() {
	local f=$1 pid i
	pid=$(cat "$f" 2>/dev/null) || return 0
	if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
		if [ $# -gt 1 ]; then grep -qF -- "$2"; else grep -q "^$TK_TORKITD "; fi; then
		kill "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			[ -d "/proc/$pid" ] || break
			sleep 0.1
		done
	fi
	rm -f "$f"
}

# tornet_torkitd_conf DIR [LINE...]: DIR/torkitd.conf for a tor-engine
# torkitd on this tornet — its authorities, DataDirectory DIR/data, an
# info log in DIR/torkitd.log — then the LINEs. tornet's relays and names
# are all 127.0.0.1, so the distinct-subnet rule and the client's
# rejection of internal addresses are off (doc/differences.md); without
# TestingTorNetwork, whose shorter schedules only some files want.
tornet_torkitd_conf() {
	local d=$1
	shift
	mkdir -p "$d/data"
	{
		cat "$TORNET_DIRAUTHORITY_FILE"
		echo "Engine tor"
		echo "EnforceDistinctSubnets 0"
		echo "ClientRejectInternalAddresses 0"
		echo "ClientDNSRejectInternalAddresses 0"
		echo "DataDirectory $d/data"
		echo "Log info file $d/torkitd.log"
		printf '%s\n' "$@"
	} >"$d/torkitd.conf"
}

# tornet_own_start BASE [TORNET-OPTION...]: in setup_file, a tornet of the
# file's own in BATS_FILE_TMPDIR/net on port base BASE; from there on
# helpers.bash (loaded again by every test) describes that network
tornet_own_start() {
	local w=$BATS_FILE_TMPDIR/net log=$BATS_FILE_TMPDIR/tornet.log base=$1
	shift
	"$TK_SRCDIR/tools/tornet" start "$w" --base "$base" "$@" >"$log" 2>&1 || {
		cat "$log" >&2
		"$TK_SRCDIR/tools/tornet" stop "$w" >/dev/null 2>&1
		return 1
	}
	export TORNET_DIR=$w
	eval "$("$TK_SRCDIR/tools/tornet" env "$w")"
}

# tornet_own_stop: in teardown_file, stops tornet_own_start's network
tornet_own_stop() {
	"$TK_SRCDIR/tools/tornet" stop "$BATS_FILE_TMPDIR/net" >&2
}

# refute CMD [ARG...]: fails when CMD succeeds. A bare `! CMD` fails a
# test only as its last line: bats runs tests under errexit, which ignores
# a negated command.
refute() {
	if "$@"; then
		return 1
	fi
}
