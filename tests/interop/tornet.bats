#!/usr/bin/env bats
# tools/tornet itself, on the running network: what `env` promises is true
# of the network, and a second start cannot disturb it.

load helpers

TORNET=$TK_SRCDIR/tools/tornet

@test "status: all 13 recorded processes run as started (14 with --latency), client bootstrapped" {
	run "$TORNET" status "$TORNET_DIR"
	assert_success
	assert_line --regexp '^client +pid [0-9]+ +running$'
	assert_line --regexp '^dnsmasq +pid [0-9]+ +running$'
	assert_line --regexp '^onion +pid [0-9]+ +running$'
	assert_line "client: bootstrapped"
	refute_output --partial "NOT running"
	if [ "$TORNET_LATENCY_MS" -gt 0 ]; then
		assert_line --regexp '^delay +pid [0-9]+ +running$'
		[ "$(grep -c ' running$' <<<"$output")" -eq 14 ]
	else
		[ "$(grep -c ' running$' <<<"$output")" -eq 13 ]
	fi
}

@test "env: three DirAuthority torrc lines naming the authorities' real keys" {
	local n=0 nick orport v3 addr fp
	while read -r kw nick orport v3 addr fp; do
		assert_equal "$kw" DirAuthority
		[[ $orport =~ ^orport=[0-9]+$ ]]
		[[ $v3 =~ ^v3ident=[0-9A-F]{40}$ ]]
		[[ $addr =~ ^127\.0\.0\.1:[0-9]+$ ]]
		[[ $fp =~ ^[0-9A-F]{40}$ ]]
		# the v3ident is the authority certificate's, fp the relay identity
		grep -q "^fingerprint ${v3#v3ident=}$" "$TORNET_DIR/nodes/${nick#tn}/data/keys/authority_certificate"
		grep -q " $fp$" "$TORNET_DIR/nodes/${nick#tn}/data/fingerprint"
		n=$((n + 1))
	done <<<"$TORNET_DIRAUTHORITY_LINES"
	assert_equal "$n" 3
}

@test "env: the DNS records listed are the ones dnsmasq serves" {
	local name type value
	while read -r name type value; do
		case $type in
		A | AAAA) grep -q "^host-record=$name,.*$value" "$TORNET_DIR/dnsmasq.conf" ;;
		PTR) grep -q "^host-record=$value,.*$name" "$TORNET_DIR/dnsmasq.conf" ;;
		*) false ;;
		esac
	done <<<"$TORNET_DNS_RECORDS"
	grep -q '^no-resolv$' "$TORNET_DIR/dnsmasq.conf"
	grep -q '^local=/#/$' "$TORNET_DIR/dnsmasq.conf"
}

@test "the consensus carries sendme_accept_min_version=1 and sendme_emit_min_version=1" {
	run grep '^params ' "$TORNET_DIR/nodes/client/data/cached-microdesc-consensus"
	assert_success
	assert_output --partial "sendme_accept_min_version=1"
	assert_output --partial "sendme_emit_min_version=1"
}

@test "the consensus carries the live network's congestion control: cc_alg=2 and its Vegas parameters" {
	run grep '^params ' "$TORNET_DIR/nodes/client/data/cached-microdesc-consensus"
	assert_success
	for p in cc_alg=2 cc_cwnd_inc=1 cc_cwnd_inc_rate=31 cc_cwnd_min=124 \
		cc_sscap_exit=600 cc_vegas_alpha_exit=186 cc_vegas_delta_exit=310; do
		assert_output --partial " $p "
	done
	# and every relay can do it: FlowCtrl=2, ntor v3 (Relay=4)
	run grep -c '^pr .*FlowCtrl=1-2 .*Relay=2-[4-9]' \
		"$TORNET_DIR/nodes/client/data/cached-microdesc-consensus"
	assert_output 7
}

@test "--latency: a circuit through tor has about 3 x the round trip added per link" {
	[ "$TORNET_LATENCY_MS" -gt 0 ] || skip "this network has no added latency (TORNET_LATENCY)"
	local ms
	ms=$(python3 "$TK_SRCDIR/tests/interop/socks_rtt" "$TORNET_SOCKS_PORT")
	echo "one-byte echo through tor: $ms ms; per link $TORNET_LATENCY_MS ms"
	[ "$ms" -ge $((3 * TORNET_LATENCY_MS)) ]
	[ "$ms" -le $((3 * TORNET_LATENCY_MS + 400)) ]
	grep -q "$((TORNET_LATENCY_MS / 2)) ms each way" "$TORNET_DIR/run/delay.out"
}

@test "the consensus lists 7 running relays, all HSDirs, 2 of them exits" {
	local c=$TORNET_DIR/nodes/client/data/cached-microdesc-consensus
	[ "$(grep -c '^r ' "$c")" -eq 7 ]
	[ "$(grep '^s ' "$c" | grep -c ' Running')" -eq 7 ]
	[ "$(grep '^s ' "$c" | grep -c ' HSDir')" -eq 7 ]
	[ "$(grep '^s ' "$c" | grep -c ' Exit')" -eq 2 ]
}

@test "the echo, count and HTTP servers listen with a backlog of 1024, not socat's 5" {
	# a LISTEN socket's Send-Q is its backlog
	local port q
	for port in "$TORNET_ECHO_PORT" "$TORNET_COUNT_PORT" "$TORNET_HTTP_PORT"; do
		q=$(ss -Hltn "sport = :$port" | awk '{print $3}')
		echo "port $port: backlog ${q:-none}"
		[ "$q" = 1024 ]
	done
}

@test "a second start on the same directory refuses and leaves the network alone" {
	run "$TORNET" start "$TORNET_DIR" --base "$TORNET_BASE"
	assert_failure 1
	assert_output --partial "already running"
	run "$TORNET" status "$TORNET_DIR"
	assert_success
}

@test "a start whose ports are taken refuses before starting anything" {
	run "$TORNET" start "$BATS_TEST_TMPDIR/other" --base "$TORNET_BASE"
	assert_failure 1
	assert_output --regexp "port [0-9]+ \\((tcp|udp)\\) is in use"
	[ ! -e "$BATS_TEST_TMPDIR/other/run/dnsmasq.pid" ]
	run "$TORNET" status "$TORNET_DIR"
	assert_success
}

@test "stop on a directory with nothing recorded does nothing" {
	mkdir -p "$BATS_TEST_TMPDIR/empty"
	run "$TORNET" stop "$BATS_TEST_TMPDIR/empty"
	assert_success
	run "$TORNET" status "$TORNET_DIR"
	assert_success
}

@test "env: two v3 onion addresses, the ones the service tor wrote" {
	[[ $TORNET_ONION_PLAIN =~ ^[a-z2-7]{55}d\.onion$ ]]
	[[ $TORNET_ONION_AUTH =~ ^[a-z2-7]{55}d\.onion$ ]]
	[ "$TORNET_ONION_PLAIN" != "$TORNET_ONION_AUTH" ]
	assert_equal "$TORNET_ONION_PLAIN" "$(cat "$TORNET_DIR/nodes/onion/hs_plain/hostname")"
	assert_equal "$TORNET_ONION_AUTH" "$(cat "$TORNET_DIR/nodes/onion/hs_auth/hostname")"
	grep -q "^HiddenServicePort $TORNET_ONION_ECHO_PORT 127.0.0.1:$TORNET_ECHO_PORT$" "$TORNET_DIR/nodes/onion/torrc"
	grep -q "^HiddenServicePort $TORNET_ONION_HTTP_PORT 127.0.0.1:$TORNET_HTTP_PORT$" "$TORNET_DIR/nodes/onion/torrc"
}

@test "env: the auth_private file names the auth service and holds the private half of its authorized client key" {
	local f line pub
	f=$(ls "$TORNET_ONION_AUTH_DIR"/*.auth_private)
	[ "$(wc -l <<<"$f")" -eq 1 ]
	line=$(cat "$f")
	[[ $line =~ ^${TORNET_ONION_AUTH%.onion}:descriptor:x25519:[a-z2-7]{52}$ ]]
	# the public key of that private key is the one the service authorizes
	pub=$(python3 -c '
import base64, sys
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives import serialization as s
k = sys.argv[1].upper() + "===="
p = X25519PrivateKey.from_private_bytes(base64.b32decode(k)).public_key()
raw = p.public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)
print(base64.b32encode(raw).decode().rstrip("=").lower())' "${line##*:}")
	assert_equal "descriptor:x25519:$pub" "$(cat "$TORNET_DIR/nodes/onion/hs_auth/authorized_clients/tornet.auth")"
}

@test "the client tor reaches both onion services (curl --socks5-hostname)" {
	# (tornet start already made an echo round trip to each)
	local onion
	for onion in "$TORNET_ONION_PLAIN" "$TORNET_ONION_AUTH"; do
		run curl -sS --max-time 60 --socks5-hostname "$TORNET_SOCKS" "http://$onion:$TORNET_ONION_HTTP_PORT/"
		assert_success
		assert_output "$TORNET_HTTP_BODY"
	done
}
