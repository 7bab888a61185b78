#!/usr/bin/env bats
# The onion engine's link layer against the real tor relays of
# tools/tornet: the link handshake (right and wrong identities), and
# directory documents fetched over a one-hop CREATE_FAST circuit with
# BEGIN_DIR, compared byte for byte with what the authority's DirPort
# serves. Uses tools/tkonion.

load helpers

TKONION=$TK_BUILDDIR/tools/tkonion
CONSENSUS=/tor/status-vote/current/consensus-microdesc

setup() {
	[ -x "$TKONION" ] || skip "tools/tkonion not built"
	line=$(head -n 1 "$TORNET_DIRAUTHORITY_FILE")
	# DirAuthority NICK orport=P v3ident=V IP:DIRPORT FINGERPRINT
	orport=$(sed -E 's/.* orport=([0-9]+).*/\1/' <<<"$line")
	dirport=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+:[0-9]+$/) { split($i, a, ":"); print a[2] } }' <<<"$line")
	fp=$(awk '{ s = ""; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+:[0-9]+$/) { for (j = i + 1; j <= NF; j++) s = s $j; print s } }' <<<"$line")
	nick=$(awk '{ print $2 }' <<<"$line")
	[ -n "$orport" ] && [ -n "$dirport" ] && [ ${#fp} -eq 40 ]
	tmp=$BATS_TEST_TMPDIR
}

# flip the last hex digit of a fingerprint
other_fp() {
	local last=${1: -1}
	[ "$last" = 0 ] && last=1 || last=0
	echo "${1:0:39}$last"
}

# The relay's Ed25519 identity from its data directory.
ed_id() {
	local f
	for f in "$TORNET_DIR"/nodes/*/data/fingerprint; do
		if [ "$(awk '{ print $2 }' "$f")" = "$1" ]; then
			awk '{ print $2 }' "$(dirname "$f")/fingerprint-ed25519"
			return 0
		fi
	done
	return 1
}

# relay_hop NODE: "ADDR:PORT,FINGERPRINT,NTORKEY,ED25519" of tornet node
# NODE (nickname tnNODE) from the consensus and its microdescriptor, as
# tkonion -x wants it.
relay_hop() {
	local cons md ip port d fp ntor ed
	cons=$(curl -sf "http://127.0.0.1:$dirport$CONSENSUS") || return 1
	read -r ip port d < <(awk -v n="tn$1" '$1 == "r" && $2 == n { ip = $6; p = $7; f = 1; next } f && $1 == "m" { print ip, p, $2; exit }' <<<"$cons")
	[ -n "$d" ] || return 1
	md=$(curl -sf "http://127.0.0.1:$dirport/tor/micro/d/$d") || return 1
	ntor=$(awk '$1 == "ntor-onion-key" { print $2 }' <<<"$md")
	ed=$(awk '$1 == "id" && $2 == "ed25519" { print $3 }' <<<"$md")
	fp=$(awk '{ print $2 }' "$TORNET_DIR/nodes/$1/data/fingerprint")
	[ -n "$ntor" ] && [ -n "$fp" ] || return 1
	echo "$ip:$port,$fp,$ntor${ed:+,$ed}"
}

# all microdescriptor digests of the current consensus, as a /tor/micro/d/ path
md_path() {
	curl -sf "http://127.0.0.1:$dirport$CONSENSUS" | awk '$1 == "m" { print $2 }' | sort | paste -sd- | sed 's|^|/tor/micro/d/|'
}

# fetch_same PATH [tkonion options]: our BEGIN_DIR fetch must equal the
# DirPort's answer. Directory documents change at every vote, so fetch
# DirPort, ours, DirPort again: ours must equal one of the two; retry a
# few times if a vote fell exactly in between.
fetch_same() {
	local path=$1 i
	shift
	for ((i = 0; i < 3; i++)); do
		curl -sf "http://127.0.0.1:$dirport$path" >"$tmp/dirport1" || return 1
		"$TKONION" "$@" fetch "$line" "$path" >"$tmp/ours" 2>"$tmp/err" || {
			cat "$tmp/err" >&2
			return 1
		}
		curl -sf "http://127.0.0.1:$dirport$path" >"$tmp/dirport2" || return 1
		if cmp -s "$tmp/ours" "$tmp/dirport1" || cmp -s "$tmp/ours" "$tmp/dirport2"; then
			[ -s "$tmp/ours" ]
			return
		fi
	done
	echo "BEGIN_DIR answer differs from the DirPort's for $path" >&2
	diff "$tmp/ours" "$tmp/dirport2" | head -n 20 >&2
	return 1
}

@test "handshake with every authority: link 5, CERTS 1 2 4 5 7, identity proved, TLS 1.3" {
	local l op f
	while read -r l; do
		op=$(sed -E 's/.* orport=([0-9]+).*/\1/' <<<"$l")
		f=$(awk '{ s = ""; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+:[0-9]+$/) { for (j = i + 1; j <= NF; j++) s = s $j; print s } }' <<<"$l")
		run "$TKONION" handshake "127.0.0.1:$op" "$f"
		assert_success
		assert_line "link protocol: 5"
		assert_line "certs: 1 2 4 5 7"
		assert_line "rsa identity: $f (matches the expected fingerprint)"
		assert_line "netinfo: relay sees us as 127.0.0.1"
		assert_line "auth challenge methods: 3 (ignored: we do not authenticate)"
		# OpenSSL (the default) speaks TLS 1.3 to tor's relays;
		# configure --with-tls=mbedtls only 1.2
		if grep -q '^tls library: OpenSSL' <<<"$output"; then
			assert_line --regexp '^tls: TLSv1\.3 TLS_'
		else
			assert_line --regexp '^tls: TLSv1\.2 '
		fi
	done <"$TORNET_DIRAUTHORITY_FILE"
}

@test "handshake with the Ed25519 identity too: verified" {
	local ed
	ed=$(ed_id "$fp")
	[ -n "$ed" ]
	run "$TKONION" handshake "127.0.0.1:$orport" "$fp" "$ed"
	assert_success
	assert_line "ed25519 identity: $ed (verified)"
}

@test "wrong RSA fingerprint: refused with a clear error" {
	local bad
	bad=$(other_fp "$fp")
	run "$TKONION" handshake "127.0.0.1:$orport" "$bad"
	assert_failure 1
	assert_output --partial "wrong relay identity: the relay proved RSA identity $fp but we expected $bad"
	refute_output --partial "link protocol"
}

@test "wrong Ed25519 identity (right RSA): refused" {
	local ed bad
	ed=$(ed_id "$fp")
	# another relay's Ed25519 identity
	bad=$(cat "$TORNET_DIR"/nodes/*/data/fingerprint-ed25519 | awk -v e="$ed" '$2 != e { print $2; exit }')
	[ -n "$bad" ]
	run "$TKONION" handshake "127.0.0.1:$orport" "$fp" "$bad"
	assert_failure 1
	assert_output --partial "Ed25519 identity differs"
}

@test "nothing listening: connection refused, exit 3" {
	run "$TKONION" handshake "127.0.0.1:$TORNET_CLOSED_PORT" "$fp"
	assert_failure 3
	assert_output --partial "connection refused"
}

@test "the microdesc consensus over BEGIN_DIR equals the authority's DirPort" {
	fetch_same "$CONSENSUS"
	run head -n 1 "$tmp/ours"
	assert_output "network-status-version 3 microdesc"
	grep -q '^directory-signature ' "$tmp/ours"
}

@test "the same consensus with deflate (-z) over BEGIN_DIR" {
	fetch_same "$CONSENSUS" -z
}

@test "authority key certificates (/tor/keys/all) equal the DirPort's" {
	fetch_same /tor/keys/all
	[ "$(grep -c '^dir-key-certificate-version 3' "$tmp/ours")" -eq "$(wc -l <"$TORNET_DIRAUTHORITY_FILE")" ]
}

@test "microdescriptors named by the consensus equal the DirPort's" {
	local ds
	curl -sf "http://127.0.0.1:$dirport$CONSENSUS" >"$tmp/cons"
	ds=$(awk '$1 == "m" { print $2 }' "$tmp/cons" | sort | paste -sd-)
	[ -n "$ds" ]
	fetch_same "/tor/micro/d/$ds"
	[ "$(grep -c '^onion-key' "$tmp/ours")" -ge 1 ]
}

@test "a request longer than one cell (digests listed 5 times): same answer as the DirPort" {
	local ds path
	curl -sf "http://127.0.0.1:$dirport$CONSENSUS" >"$tmp/cons"
	ds=$(awk '$1 == "m" { print $2 }' "$tmp/cons" | sort)
	path=/tor/micro/d/$(for i in 1 2 3 4 5; do echo "$ds"; done | paste -sd-)
	[ ${#path} -gt 498 ]
	fetch_same "$path"
}

@test "the fetch refuses an authority line with the wrong fingerprint" {
	local bad badline
	bad=$(other_fp "$fp")
	badline="DirAuthority $nick orport=$orport no-v2 127.0.0.1:$dirport $bad"
	run "$TKONION" fetch "$badline" "$CONSENSUS"
	assert_failure 1
	assert_output --partial "wrong relay identity"
}

@test "a missing document: HTTP 404 reported, exit 1" {
	run "$TKONION" fetch "$line" /tor/micro/d/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
	assert_failure 1
	assert_output --partial "HTTP 404"
}

@test "3 hops (CREATE_FAST, EXTEND2 x2 with RSA+Ed25519 link specifiers): microdescs from the exit's cache equal the DirPort's" {
	local m e path
	m=$(relay_hop middle0)
	e=$(relay_hop exit0)
	path=$(md_path)
	run "$TKONION" -v -x "$m" -x "$e" fetch "$line" "$path"
	assert_success
	assert_output --partial "circuit extended to 3 hops"
	curl -sf "http://127.0.0.1:$dirport$path" >"$tmp/dirport"
	"$TKONION" -x "$m" -x "$e" fetch "$line" "$path" >"$tmp/ours"
	cmp "$tmp/ours" "$tmp/dirport"
}

@test "first hop with CREATE2 (ntor key from the microdesc), then EXTEND2" {
	local a m path
	a=$(relay_hop auth0)
	m=$(relay_hop middle1)
	path=$(md_path)
	run "$TKONION" -v -n "$(cut -d, -f3 <<<"$a")" -x "$m" fetch "$line" "$path"
	assert_success
	assert_output --partial "built with CREATE2 (ntor)"
	assert_output --partial "circuit extended to 2 hops"
}

@test "wrong ntor key: CREATE2 and EXTEND2 replies do not authenticate" {
	local m other bad
	m=$(relay_hop middle1)
	other=$(cut -d, -f3 <<<"$(relay_hop middle0)")
	run "$TKONION" -n "$other" fetch "$line" /tor/keys/all
	assert_failure 1
	assert_output --partial "CREATED2 does not authenticate"
	bad=$(awk -F, -v k="$other" 'BEGIN { OFS = "," } { $3 = k; print }' <<<"$m")
	run "$TKONION" -x "$bad" fetch "$line" /tor/keys/all
	assert_failure 1
	assert_output --partial "EXTENDED2 does not authenticate"
}
