#!/usr/bin/env bats
# torkitd with Engine tor on the real Tor relays of tools/tornet: every
# client of the interop suite (our tor-resolve / tor-ptr / tor-connect,
# curl socks5h and socks4a, ncat socks5 and socks4, Debian's tor-resolve)
# through 3-hop circuits; 10 MB both ways through one stream; many
# streams at once; NXDOMAIN, internal PTR refused by the exit, exit-policy
# refusal; SOCKS credentials isolating streams onto different circuits;
# a relay killed under a live stream.
#
# torkitd logs at info with SafeLogging 0, so the log names the circuit
# ("CONNECT echo.test:PORT open on circ N guard~middle~exit ...") that
# each stream got.

load helpers

KT_PORT=$((TORNET_SPARE_PORT + 2))
KT=127.0.0.1:$KT_PORT
# a second SocksPort of the same torkitd, with IsolateDestPort
KT_DP_PORT=$((TORNET_SPARE_PORT + 4))
KT_DP=127.0.0.1:$KT_DP_PORT
# a third, with ExtendedErrors
KT_EE_PORT=$((TORNET_SPARE_PORT + 6))
KT_EE=127.0.0.1:$KT_EE_PORT

# tornet is all 127.0.0.1: Tor's defaults would refuse every one of its
# addresses (TestingTorNetwork turns them off in tor)
CLIENT_REJECT="ClientRejectInternalAddresses 0
ClientDNSRejectInternalAddresses 0"

setup_file() {
	local d=$BATS_FILE_TMPDIR
	tornet_torkitd_conf "$d" "SocksPort $KT" "SocksPort $KT_DP IsolateDestPort" \
		"SocksPort $KT_EE ExtendedErrors" "HalfCloseLinger 2" "SafeLogging 0"
	# reconfigure swaps these lines in the file
	grep -qF "$CLIENT_REJECT" "$d/torkitd.conf"
	"$TK_TORKITD" -f "$d/torkitd.conf" </dev/null >"$d/torkitd.out" 2>&1 3>&- &
	echo $! >"$d/torkitd.pid"
	wait_port "$KT_PORT" || { cat "$d/torkitd.out" >&2; return 1; }
	wait_file "$d/torkitd.log" 'Bootstrapped 100%' 1200 ||
		{ cat "$d/torkitd.log" >&2; return 1; }
}

teardown_file() {
	stop_torkitd "$BATS_FILE_TMPDIR"
	grep -q 'Clean shutdown finished' "$BATS_FILE_TMPDIR/torkitd.log" ||
		echo "torkitd did not log a clean shutdown" >&2
}

setup() {
	T=$BATS_TEST_TMPDIR
	LOG=$BATS_FILE_TMPDIR/torkitd.log
	export TOR_SOCKS_HOST=127.0.0.1 TOR_SOCKS_PORT=$KT_PORT
}

# the circuit number torkitd logged for the Nth (1-based) stream opened
# to TARGET since log line FROM
circ_of() {
	tail -n +"$1" "$LOG" |
		sed -nE "s/.*CONNECT $2 open on circ ([0-9]+) .*/\\1/p" |
		sed -n "${3:-1}p"
}

log_lines() {
	wc -l <"$LOG"
}

# circs_aba FROM TARGET WHAT: of the first three streams to TARGET since
# log line FROM, the first and third share a circuit, the second has its
# own (WHAT names the three in the test's output)
circs_aba() {
	local a b c
	a=$(circ_of "$1" "$2" 1)
	b=$(circ_of "$1" "$2" 2)
	c=$(circ_of "$1" "$2" 3)
	echo "$3: circuits $a, $b, $c"
	[ -n "$a" ] && [ -n "$b" ] && [ -n "$c" ] &&
		[ "$a" != "$b" ] && [ "$a" = "$c" ]
}

@test "the engine bootstrapped from the DirAuthority lines and built a 3-hop circuit" {
	grep -q 'starting (engine tor)' "$LOG"
	grep -q 'Bootstrapped 100%' "$LOG"
	wait_file "$LOG" 'circ [0-9]* built: [^~ ]*~[^~ ]*~[^~ ]* in'
}

@test "our tor-resolve: A, AAAA-only, both families; -4 is SOCKS4a" {
	run "$TK_RESOLVE" "$TORNET_NAME_A"
	assert_success
	assert_output "$TORNET_ADDR_A"
	run "$TK_RESOLVE" "$TORNET_NAME_AAAA_ONLY"
	assert_success
	assert_output "$TORNET_ADDR_AAAA_ONLY"
	run "$TK_RESOLVE" "$TORNET_NAME_DUAL"
	assert_success
	assert_output "$TORNET_ADDR_DUAL_A"
	run "$TK_RESOLVE" -4 "$TORNET_NAME_DUAL"
	assert_success
	assert_output "$TORNET_ADDR_DUAL_A"
}

@test "our tor-resolve: NXDOMAIN is a failure answer (exit 1), not a hang" {
	run "$TK_RESOLVE" "$TORNET_NAME_NX"
	echo "$output"
	assert_failure 1
	grep -q "RESOLVE $TORNET_NAME_NX failed: END RESOLVEFAILED" "$LOG"
}

@test "our tor-resolve: batch of names at once" {
	run "$TK_RESOLVE" -j 4 "$TORNET_NAME_A" "$TORNET_NAME_DUAL" \
		"$TORNET_NAME_AAAA_ONLY" "$TORNET_NAME_NX"
	echo "$output"
	assert_failure 1
	assert_output --partial "$TORNET_ADDR_A"
	assert_output --partial "$TORNET_ADDR_DUAL_A"
	assert_output --partial "$TORNET_ADDR_AAAA_ONLY"
}

@test "our tor-ptr: IPv4 and IPv6 names; the exit refuses an internal address; no record" {
	run "$TK_PTR" "$TORNET_PTR4_ADDR" "$TORNET_PTR6_ADDR"
	echo "$output"
	assert_success
	assert_line --regexp "^$TORNET_PTR4_ADDR[[:space:]]+$TORNET_PTR4_NAME\$"
	assert_line --regexp "^$TORNET_PTR6_ADDR[[:space:]]+$TORNET_PTR6_NAME\$"
	run "$TK_PTR" "$TORNET_PTR_INTERNAL"
	echo "$output"
	assert_failure 1
	run "$TK_PTR" "$TORNET_PTR_NX"
	echo "$output"
	assert_failure 1
	grep -q "RESOLVE_PTR $TORNET_PTR_INTERNAL failed: END RESOLVEFAILED" "$LOG"
}

@test "Debian's tor-resolve: A, reverse, NXDOMAIN, SOCKS4a" {
	run "$TOR_RESOLVE_DEB" "$TORNET_NAME_A" "$KT"
	assert_success
	assert_output "$TORNET_ADDR_A"
	run "$TOR_RESOLVE_DEB" -x "$TORNET_PTR4_ADDR" "$KT"
	assert_success
	assert_output "$TORNET_PTR4_NAME"
	run "$TOR_RESOLVE_DEB" -4 "$TORNET_NAME_DUAL" "$KT"
	assert_success
	assert_output "$TORNET_ADDR_DUAL_A"
	run "$TOR_RESOLVE_DEB" "$TORNET_NAME_NX" "$KT"
	assert_failure
}

@test "our tor-connect: SOCKS5 and SOCKS4a by name, SOCKS4 by address, through 3 hops" {
	for v in -5 -4a; do
		run_echo "hello $v" "$TK_CONNECT" $v "$TORNET_ECHO_NAME" "$TORNET_ECHO_PORT"
		assert_success
		assert_output "hello $v"
	done
	run_echo "hello v4" "$TK_CONNECT" -4 "$TORNET_ECHO_HOST" "$TORNET_ECHO_PORT"
	assert_success
	assert_output "hello v4"
	# the client's half-close did not end the stream
	# (doc/differences.md): the echo came back, then the stream lingered
	# and ended
	grep -q "idle 2000 ms after shutdown" "$LOG"
}

@test "curl --socks5-hostname and --socks4a: HTTP through 3 hops" {
	run curl -sS --max-time 60 --socks5-hostname "$KT" \
		"http://$TORNET_ECHO_NAME:$TORNET_HTTP_PORT/"
	assert_success
	assert_output "$TORNET_HTTP_BODY"
	run curl -sS --max-time 60 --socks4a "$KT" \
		"http://$TORNET_ECHO_NAME:$TORNET_HTTP_PORT/"
	assert_success
	assert_output "$TORNET_HTTP_BODY"
	grep -q "CONNECT $TORNET_ECHO_NAME:$TORNET_HTTP_PORT open on circ" "$LOG"
}

@test "ncat --proxy-type socks5 (name sent to the proxy) and socks4 (address)" {
	run_echo ncat5 timeout 60 ncat --proxy "$KT" \
		--proxy-type socks5 --proxy-dns remote "$TORNET_ECHO_NAME" \
		"$TORNET_ECHO_PORT"
	assert_success
	assert_output "ncat5"
	run_echo ncat4 timeout 60 ncat --proxy "$KT" \
		--proxy-type socks4 "$TORNET_ECHO_HOST" "$TORNET_ECHO_PORT"
	assert_success
	assert_output "ncat4"
}

# Clients keep their sending side open until the whole echo is back:
# with Tor there is no half-close, and under load a stream of a shared
# circuit can sit idle for longer than HalfCloseLinger.
echo_check() {
	local in=$1 out=$2 size
	size=$(stat -c %s "$in")
	{ cat "$in"; wait_size "$out" "$size" 2400; } |
		timeout 300 "$TK_CONNECT" "$TORNET_ECHO_NAME" "$TORNET_ECHO_PORT" >"$out"
}

@test "10 MB each way through one stream (circuit and stream SENDMEs)" {
	head -c 10485760 /dev/urandom >"$T/big"
	echo_check "$T/big" "$T/big.out"
	cmp "$T/big" "$T/big.out"
}

@test "20 concurrent streams, 100 KB each way each" {
	local pids=() i
	head -c 102400 /dev/urandom >"$T/chunk"
	for ((i = 0; i < 20; i++)); do
		echo_check "$T/chunk" "$T/o.$i" 2>"$T/e.$i" &
		pids+=($!)
	done
	for ((i = 0; i < 20; i++)); do
		wait "${pids[$i]}" || { cat "$T/e.$i" >&2; false; }
	done
	for ((i = 0; i < 20; i++)); do
		cmp "$T/chunk" "$T/o.$i"
	done
}

@test "a port every exit refuses: SOCKS5 02 (not allowed by ruleset) after each exit said EXITPOLICY" {
	run "$TK_CONNECT" -v "$TORNET_NAME_BLOCKED" "$TORNET_ECHO_PORT" </dev/null
	echo "$output"
	assert_failure 1
	grep -q "CONNECT $TORNET_NAME_BLOCKED:$TORNET_ECHO_PORT failed: END EXITPOLICY" "$LOG"
	assert_output --partial 'not allowed (SOCKS5 reply 02)'
}

@test "a closed port at the destination fails with the exit's reason instead of hanging" {
	run "$TK_CONNECT" "$TORNET_ECHO_HOST" "$TORNET_CLOSED_PORT" </dev/null
	echo "$output"
	assert_failure 1
}

@test "isolation: credentials a and b get different circuits, a again shares a's" {
	local from
	from=$(($(log_lines) + 1))
	for u in a b a; do
		run_echo "iso $u" env TOR_SOCKS_PASSWORD=pw "$TK_CONNECT" -u "$u" \
			"$TORNET_ECHO_NAME" "$TORNET_ECHO_PORT"
		assert_success
		assert_output "iso $u"
	done
	circs_aba "$from" "$TORNET_ECHO_NAME:$TORNET_ECHO_PORT" "a, b, a again"
}

@test "isolation: IsolateClientAddr (on by default, as in Tor): 127.0.0.2 gets its own circuit" {
	local from url=http://$TORNET_ECHO_NAME:$TORNET_HTTP_PORT/
	from=$(($(log_lines) + 1))
	for src in 127.0.0.1 127.0.0.2 127.0.0.1; do
		run curl -sS --max-time 60 --interface "$src" \
			--socks5-hostname "$KT" --proxy-user 'ca:pw' "$url"
		assert_success
		assert_output "$TORNET_HTTP_BODY"
	done
	circs_aba "$from" "$TORNET_ECHO_NAME:$TORNET_HTTP_PORT" \
		"127.0.0.1, 127.0.0.2, 127.0.0.1 again"
}

@test "isolation: IsolateDestPort on a second SocksPort; without it two ports share a circuit" {
	local from url=http://$TORNET_ECHO_NAME:$TORNET_HTTP_PORT/ h1 e1 h2 h3 e3
	local http=$TORNET_ECHO_NAME:$TORNET_HTTP_PORT echo=$TORNET_ECHO_NAME:$TORNET_ECHO_PORT
	from=$(($(log_lines) + 1))
	# the IsolateDestPort port: HTTP, echo, HTTP again
	run curl -sS --max-time 60 --socks5-hostname "$KT_DP" --proxy-user 'dp:pw' "$url"
	assert_success
	run_echo dp env TOR_SOCKS_PORT="$KT_DP_PORT" TOR_SOCKS_PASSWORD=pw "$TK_CONNECT" -u dp "$TORNET_ECHO_NAME" "$TORNET_ECHO_PORT"
	assert_success
	assert_output "dp"
	run curl -sS --max-time 60 --socks5-hostname "$KT_DP" --proxy-user 'dp:pw' "$url"
	assert_success
	h1=$(circ_of "$from" "$http" 1)
	e1=$(circ_of "$from" "$echo" 1)
	h2=$(circ_of "$from" "$http" 2)
	# the default port: HTTP then echo, one circuit
	run curl -sS --max-time 60 --socks5-hostname "$KT" --proxy-user 'nodp:pw' "$url"
	assert_success
	run_echo nodp env TOR_SOCKS_PASSWORD=pw "$TK_CONNECT" -u nodp "$TORNET_ECHO_NAME" "$TORNET_ECHO_PORT"
	assert_success
	h3=$(circ_of "$from" "$http" 3)
	e3=$(circ_of "$from" "$echo" 2)
	echo "IsolateDestPort: http $h1, echo $e1, http again $h2; default port: http $h3, echo $e3"
	[ -n "$h1" ] && [ -n "$e1" ] && [ -n "$h2" ] && [ -n "$h3" ] && [ -n "$e3" ]
	[ "$h1" != "$e1" ]
	[ "$h1" = "$h2" ]
	[ "$h3" = "$e3" ]
	[ "$h3" != "$h1" ]
}

@test "isolation: SOCKS4 userids isolate too (curl socks4a with a user)" {
	local from
	from=$(($(log_lines) + 1))
	run curl -sS --max-time 60 --socks4a "$KT" --proxy-user 'x:' \
		"http://$TORNET_ECHO_NAME:$TORNET_HTTP_PORT/"
	assert_success
	run curl -sS --max-time 60 --socks4a "$KT" --proxy-user 'y:' \
		"http://$TORNET_ECHO_NAME:$TORNET_HTTP_PORT/"
	assert_success
	x=$(circ_of "$from" "$TORNET_ECHO_NAME:$TORNET_HTTP_PORT" 1)
	y=$(circ_of "$from" "$TORNET_ECHO_NAME:$TORNET_HTTP_PORT" 2)
	echo "x: $x, y: $y"
	[ -n "$x" ] && [ -n "$y" ] && [ "$x" != "$y" ]
}

@test "once bootstrapped, directory fetches go to directory guards: sampled guards, at most 3 of them" {
	local boot
	# tornet votes every 20 s: a consensus refresh (or a microdescriptor
	# fetch) comes within a minute of the bootstrap
	wait_file "$LOG" 'fetching .* (directory guard)' 900
	boot=$(grep -n 'Bootstrapped 100%' "$LOG" | head -1 | cut -d: -f1)
	tail -n +"$boot" "$LOG" | grep 'fetching ' >"$T/fetches" || true
	cat "$T/fetches"
	[ -s "$T/fetches" ]
	# every fetch since names a directory guard, never a cache at random
	[ -z "$(grep -v '(directory guard)' "$T/fetches")" ]
	sed -nE 's/.*fetching [a-z ]+ from ([^ ]+) \(directory guard\).*/\1/p' "$T/fetches" |
		sort -u >"$T/asked"
	echo "directory guards asked: $(tr '\n' ' ' <"$T/asked")"
	# guard-spec: the first primary guards (3 by default), members of the
	# guard sample torkitd keeps in its state file (written at most once
	# a minute, hence the wait)
	[ "$(wc -l <"$T/asked")" -le 3 ]
	while read -r name; do
		wait_file "$BATS_FILE_TMPDIR/data/state" "^Guard in=default .*nickname=$name " 700 ||
			{ echo "$name is no sampled guard"; false; }
	done <"$T/asked"
}

@test "a relay killed under a live stream: the client sees the stream end, the next request works on a new circuit" {
	local from fifo=$T/in node first second
	from=$(($(log_lines) + 1))
	mkfifo "$fifo"
	# a fresh isolation key: a circuit of its own
	TOR_SOCKS_PASSWORD=me timeout 200 "$TK_CONNECT" -u kill "$TORNET_ECHO_NAME" "$TORNET_ECHO_PORT" \
		<"$fifo" >"$T/out" 2>"$T/err" 3>&- &
	pid=$!
	exec 7>"$fifo"
	printf 'before\n' >&7
	wait_file "$T/out" '^before$'
	first=$(circ_of "$from" "$TORNET_ECHO_NAME:$TORNET_ECHO_PORT" 1)
	node=$(tail -n +"$from" "$LOG" |
		sed -nE "s/.*CONNECT $TORNET_ECHO_NAME:$TORNET_ECHO_PORT open on circ $first [^~ ]+~tn([a-z]+[0-9]+)~.*/\\1/p" | head -1)
	echo "circ $first, middle $node"
	[ -n "$node" ] && [ -f "$TORNET_DIR/run/$node.pid" ]
	kill -KILL "$(cat "$TORNET_DIR/run/$node.pid")"
	# the stream fails (DESTROY from the guard): torkitd closes the
	# client connection and tor-connect ends, its stdin still open
	local i
	for ((i = 0; i < 1200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	exec 7>&-
	wait "$pid" && status=0 || status=$?
	echo "tor-connect exit $status: $(cat "$T/err")"
	tornet_relaunch "$node"
	tail -n +"$from" "$LOG" | grep -E 'circ|stream|CONNECT'
	grep -q "stream to $TORNET_ECHO_NAME:$TORNET_ECHO_PORT failed: END DESTROY" "$LOG"
	# the next request with the same credentials gets a new circuit
	run_echo after env TOR_SOCKS_PASSWORD=me "$TK_CONNECT" -u kill "$TORNET_ECHO_NAME" "$TORNET_ECHO_PORT"
	assert_success
	assert_output "after"
	second=$(circ_of "$from" "$TORNET_ECHO_NAME:$TORNET_ECHO_PORT" 2)
	echo "second stream on circ $second"
	[ -n "$second" ] && [ "$second" != "$first" ]
}

# the first hops (guards) of the circuits torkitd logged since line FROM
first_hops() {
	tail -n +"$1" "$LOG" |
		sed -nE "s/.*CONNECT [^ ]+ open on circ [0-9]+ ([^~ ]+)~.*/\1/p"
}

# guard-spec's primary guards by our reading of DataDirectory/state:
# confirmed ones in confirmed order, then the others in sample order
primary_guards() {
	local st=$BATS_FILE_TMPDIR/data/state
	{
		sed -nE 's/^Guard in=default .*nickname=([^ ]+) .*confirmed_idx=([0-9]+).*/\2 \1/p' "$st" | sort -n | cut -d' ' -f2
		grep '^Guard in=default' "$st" | grep -v confirmed_idx |
			sed -nE 's/.*nickname=([^ ]+) .*/\1/p'
	} | head -n "${1:-3}"
}

@test "a guard killed: the next circuit goes through another primary guard, as guard-spec says" {
	local from guard node next
	from=$(($(log_lines) + 1))
	run_echo one env TOR_SOCKS_PASSWORD=g "$TK_CONNECT" -u guard1 "$TORNET_ECHO_NAME" "$TORNET_ECHO_PORT"
	assert_success
	guard=$(first_hops "$from" | tail -n 1)
	node=${guard#tn}
	echo "first hop: $guard; primary guards: $(primary_guards | tr '\n' ' ')"
	[ -n "$guard" ] && [ -f "$TORNET_DIR/run/$node.pid" ]
	kill -KILL "$(cat "$TORNET_DIR/run/$node.pid")"
	from=$(($(log_lines) + 1))
	# a new isolation key: a new circuit, which cannot use the dead guard
	run_echo two env TOR_SOCKS_PASSWORD=g "$TK_CONNECT" -u guard2 "$TORNET_ECHO_NAME" "$TORNET_ECHO_PORT"
	echo "$output"
	tail -n +"$from" "$LOG" | grep -E 'circ|guard' | head -n 20
	tornet_relaunch "$node"
	assert_success
	assert_output "two"
	next=$(first_hops "$from" | tail -n 1)
	echo "first hop after the kill: $next"
	[ -n "$next" ] && [ "$next" != "$guard" ]
	primary_guards 4 | grep -qxF "$next"
}

# reconfigure "OLD" "NEW": replace a line of torkitd's file, SIGHUP, and
# wait until the reload is logged
reconfigure() {
	local d=$BATS_FILE_TMPDIR from
	from=$(($(log_lines) + 1))
	python3 - "$d/torkitd.conf" "$1" "$2" <<'PY'
import sys
p, old, new = sys.argv[1:4]
s = open(p).read()
assert old in s, old
open(p, "w").write(s.replace(old, new))
PY
	kill -HUP "$(cat "$d/torkitd.pid")"
	for ((i = 0; i < 200; i++)); do
		tail -n +"$from" "$LOG" | grep -q "Engine tor keeps its" && return 0
		sleep 0.05
	done
	echo "no reload in the log" >&2
	return 1
}

ONION_V3=duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion
ONION_BAD=duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczae.onion

@test "onion names never reach an exit: Tor's replies, F0/F6 with ExtendedErrors" {
	local from hexv3 hexbad
	from=$(($(log_lines) + 1))
	hexv3=$(printf '%02x' ${#ONION_V3})$(printf '%s' "$ONION_V3" | xxd -p | tr -d '\n')
	hexbad=$(printf '%02x' ${#ONION_BAD})$(printf '%s' "$ONION_BAD" | xxd -p | tr -d '\n')
	# the control: a BEGIN for an ordinary name is logged
	run_echo ctl "$TK_CONNECT" "$TORNET_ECHO_NAME" "$TORNET_ECHO_PORT"
	assert_success
	tail -n +"$from" "$LOG" | grep -q "BEGIN $TORNET_ECHO_NAME:$TORNET_ECHO_PORT sent on circ"
	# a well-formed v3 address no HSDir has: REP 04 (descriptor not
	# found), F0 with ExtendedErrors; a malformed one: REP 01, F6 (Tor's
	# answers). onion_hs.bats reaches real services.
	run "$SOCKSRAW" -t 120 "$KT" s:050100 r:2 "s:05010003${hexv3}0050" e
	assert_output "050005040001000000000000 [closed]"
	run "$SOCKSRAW" -t 120 "$KT_EE" s:050100 r:2 "s:05010003${hexv3}0050" e
	assert_output "050005f00001000000000000 [closed]"
	run "$SOCKSRAW" "$KT" s:050100 r:2 "s:05010003${hexbad}0050" e
	assert_output "050005010001000000000000 [closed]"
	run "$SOCKSRAW" "$KT_EE" s:050100 r:2 "s:05010003${hexbad}0050" e
	assert_output "050005f60001000000000000 [closed]"
	# SOCKS4a and a subdomain: the same service, the same answer
	run "$TK_CONNECT" -4a "www.$ONION_V3" 80 </dev/null
	assert_failure 1
	# not one BEGIN, RESOLVE or retry carried an onion name
	run bash -c "tail -n +$from '$LOG' | grep -E '(BEGIN|RESOLVE) .*onion'"
	assert_failure
	tail -n +"$from" "$LOG" | grep -q "onion service $ONION_V3: no HSDir had the descriptor"
}

@test "ClientRejectInternalAddresses / ClientDNSRejectInternalAddresses (Tor's defaults, on by SIGHUP): refused locally" {
	local from
	reconfigure "$CLIENT_REJECT" "ClientRejectInternalAddresses 1
ClientDNSRejectInternalAddresses 1"
	from=$(($(log_lines) + 1))
	# a private literal: REP 01 at once, without a BEGIN
	run "$SOCKSRAW" "$KT" s:050100 r:2 "s:050100017f000001$(printf %04x "$TORNET_ECHO_PORT")" e
	assert_output "050005010001000000000000 [closed]"
	run "$SOCKSRAW" "$KT" s:050100 r:2 "s:05010003096c6f63616c686f73740050" e
	assert_output "050005010001000000000000 [closed]"
	tail -n +"$from" "$LOG" | grep -q "Rejecting SOCKS request for anonymous connection to private address"
	# an exit's answer naming an internal address is dropped: REP 04
	run "$TK_RESOLVE" "$TORNET_NAME_A"
	assert_failure 1
	# a name whose CONNECTED names an internal address: closed
	run bash -c "printf 'x\n' | timeout 60 '$TK_CONNECT' '$TORNET_ECHO_NAME' '$TORNET_ECHO_PORT'"
	assert_failure 1
	# a reverse lookup of an internal address: answered here
	run "$TK_PTR" "$TORNET_PTR_INTERNAL"
	assert_failure 1
	tail -n +"$from" "$LOG" | grep -q "RESOLVE_PTR $TORNET_PTR_INTERNAL: an internal address; refused here"
	run bash -c "tail -n +$from '$LOG' | grep -E 'BEGIN (127\.0\.0\.1|localhost)|RESOLVE_PTR 1\.0\.0\.127\.in-addr'"
	assert_failure
	# public names still work (dual.test has public-looking addresses)
	run "$TK_RESOLVE" "$TORNET_NAME_DUAL"
	assert_success
	assert_output "$TORNET_ADDR_DUAL_A"
	reconfigure "ClientRejectInternalAddresses 1
ClientDNSRejectInternalAddresses 1" "$CLIENT_REJECT"
}

@test "SafeLogging changed by SIGHUP reaches the engine's own log lines" {
	local from
	reconfigure "SafeLogging 0" "SafeLogging 1"
	from=$(($(log_lines) + 1))
	# a half-closed stream lingers (HalfCloseLinger 2), then the engine
	# logs that it closes it: with the destination scrubbed now
	run bash -c "printf 'scrub\n' | timeout 60 '$TK_CONNECT' '$TORNET_ECHO_NAME' '$TORNET_ECHO_PORT'"
	assert_success
	for ((i = 0; i < 200; i++)); do
		tail -n +"$from" "$LOG" | grep -q "idle [0-9]* ms after shutdown" && break
		sleep 0.1
	done
	tail -n +"$from" "$LOG" | grep "idle [0-9]* ms after shutdown" | grep -q "stream to \[scrubbed\]:"
	run bash -c "tail -n +$from '$LOG' | grep -F '$TORNET_ECHO_NAME'"
	assert_failure
	reconfigure "SafeLogging 1" "SafeLogging 0"
}

@test "torkitd is still alive and answering after all of the above" {
	pid=$(cat "$BATS_FILE_TMPDIR/torkitd.pid")
	kill -0 "$pid" || {
		cat "$BATS_FILE_TMPDIR/torkitd.out"
		tail -30 "$LOG"
		false
	}
	run "$TK_RESOLVE" "$TORNET_NAME_A"
	assert_success
	assert_output "$TORNET_ADDR_A"
}
