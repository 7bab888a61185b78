#!/usr/bin/env bats
# torkitd on the wire: every command and error path, raw bytes in and out,
# against a real dnsmasq and a real echo target.

load "$TK_SRCDIR/tests/bats/helpers"
load "$TK_SRCDIR/tests/bats/daemon_helpers"

setup() {
	tk_start_dnsmasq "$BATS_TEST_TMPDIR/dns"
	dh_target ECHO echo
	dh_torkitd "ExitPolicyRejectPrivate 0"
	P=$(dh_hexport "$ECHO")
}

teardown() { tk_stop_all; }

# SOCKS5 greeting + reply as hex.
G5=050100
R5="05 00"
OK5="05 00 00 01 00 00 00 00 00 00"

@test "SOCKS5 CONNECT by name, pipelined with data: reply, then the echo" {
	run dh_raw -W "$DH_PORT" "$G5 0501 0003 $(dh_hexname echo.example.test) $P 68656c6c6f0a"
	[ "${lines[0]}" = "$R5 $OK5 68 65 6c 6c 6f 0a" ]
	[ "${lines[1]}" = "EOF" ]
	grep -q "echo.example.test" "$TK_DNS_LOG"
}

@test "SOCKS5 CONNECT split byte by byte gives the same bytes" {
	run dh_raw -1 -W "$DH_PORT" "$G5 0501 0003 $(dh_hexname echo.example.test) $P 68690a"
	[ "${lines[0]}" = "$R5 $OK5 68 69 0a" ]
	[ "${lines[1]}" = "EOF" ]
}

@test "SOCKS5 CONNECT IPv4 and IPv6 literals" {
	run dh_raw -W "$DH_PORT" "$G5 0501 0001 7f000001 $P 4142"
	[ "${lines[0]}" = "$R5 $OK5 41 42" ]
	# nothing listens on [::1]:port: a real refusal, REP 05
	run dh_raw -W "$DH_PORT" "$G5 0501 0004 00000000000000000000000000000001 $P"
	[ "${lines[0]}" = "$R5 05 05 00 01 00 00 00 00 00 00" ]
}

@test "SOCKS4 CONNECT and SOCKS4a CONNECT" {
	run dh_raw -W "$DH_PORT" "0401 $P 7f000001 00 7a7a"
	[ "${lines[0]}" = "00 5a 00 00 00 00 00 00 7a 7a" ]
	run dh_raw -1 -W "$DH_PORT" "0401 $P 00000001 757365720a00 $(dh_hexstr echo.example.test | tr -d ' ')00 7879"
	[ "${lines[0]}" = "00 5a 00 00 00 00 00 00 78 79" ]
}

@test "username/password: 02 chosen, any credentials accepted, then CONNECT" {
	run dh_raw -W "$DH_PORT" "05020002 01 0475736572 0470617373 0501 0001 7f000001 $P 21"
	[ "${lines[0]}" = "05 02 01 00 $OK5 21" ]
}

@test "RESOLVE: A record, IPv4 preferred over AAAA" {
	run dh_raw "$DH_PORT" "$G5 05f00003 $(dh_hexname www.example.test) 0000"
	[ "${lines[0]}" = "$R5 05 00 00 01 c0 00 02 0a 00 00" ]
	[ "${lines[1]}" = "EOF" ]
}

@test "RESOLVE: AAAA-only name answers ATYP 04" {
	run dh_raw "$DH_PORT" "$G5 05f00003 $(dh_hexname v6only.example.test) 0000"
	[ "${lines[0]}" = "$R5 05 00 00 04 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 06 00 00" ]
}

@test "RESOLVE: NXDOMAIN is REP 04 with ATYP 01 (10 bytes), then close" {
	run dh_raw "$DH_PORT" "$G5 05f00003 $(dh_hexname nothere.example.test) 0000"
	[ "${lines[0]}" = "$R5 05 04 00 01 00 00 00 00 00 00" ]
	[ "${lines[1]}" = "EOF" ]
}

@test "RESOLVE: SOCKS4a answer in DSTIP; IPv6-only name is 5B" {
	run dh_raw "$DH_PORT" "04f0 0000 00000001 00 $(dh_hexstr www.example.test | tr -d ' ')00"
	[ "${lines[0]}" = "00 5a 00 00 c0 00 02 0a" ]
	run dh_raw "$DH_PORT" "04f0 0000 00000001 00 $(dh_hexstr v6only.example.test | tr -d ' ')00"
	[ "${lines[0]}" = "00 5b 00 00 00 00 00 00" ]
}

@test "RESOLVE of IP literals is answered without DNS" {
	run dh_raw "$DH_PORT" "$G5 05f00003 $(dh_hexname 198.51.100.7) 0000"
	[ "${lines[0]}" = "$R5 05 00 00 01 c6 33 64 07 00 00" ]
	run dh_raw "$DH_PORT" "$G5 05f00003 $(dh_hexname '[2001:db8::77]') 0000"
	[ "${lines[0]}" = "$R5 05 00 00 04 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 77 00 00" ]
	refute grep -q "198.51.100.7\|2001:db8::77" "$TK_DNS_LOG"
}

@test "RESOLVE of .onion is refused without DNS" {
	name=duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion
	run dh_raw "$DH_PORT" "$G5 05f00003 $(dh_hexname $name) 0000"
	[ "${lines[0]}" = "$R5 05 04 00 01 00 00 00 00 00 00" ]
	refute grep -q onion "$TK_DNS_LOG"
	grep -q "Resolve requests to hidden services not allowed" "$DH_LOG"
}

@test "RESOLVE_PTR: IPv4, IPv6, and the address given as text" {
	run dh_raw "$DH_PORT" "$G5 05f10001 c000020a 0000"
	[ "${lines[0]}" = "$R5 05 00 00 03 10 $(dh_hexstr www.example.test) 00 00" ]
	run dh_raw "$DH_PORT" "$G5 05f10004 20010db8000000000000000000000006 0000"
	[ "${lines[0]}" = "$R5 05 00 00 03 13 $(dh_hexstr v6only.example.test) 00 00" ]
	run dh_raw "$DH_PORT" "$G5 05f10003 $(dh_hexname 192.0.2.11) 0000"
	[ "${lines[0]}" = "$R5 05 00 00 03 13 $(dh_hexstr v4only.example.test) 00 00" ]
}

@test "RESOLVE_PTR of internal addresses is refused without DNS" {
	run dh_raw "$DH_PORT" "$G5 05f10001 7f000001 0000"
	[ "${lines[0]}" = "$R5 05 04 00 01 00 00 00 00 00 00" ]
	run dh_raw "$DH_PORT" "$G5 05f10001 0a000001 0000"
	[ "${lines[0]}" = "$R5 05 04 00 01 00 00 00 00 00 00" ]
	run dh_raw "$DH_PORT" "$G5 05f10004 fe800000000000000000000000000001 0000"
	[ "${lines[0]}" = "$R5 05 04 00 01 00 00 00 00 00 00" ]
	refute grep -q "in-addr.arpa\|ip6.arpa" "$TK_DNS_LOG"
}

@test "RESOLVE_PTR of a name is REP 08; SOCKS4 RESOLVE_PTR is 5B" {
	run dh_raw "$DH_PORT" "$G5 05f10003 $(dh_hexname www.example.test) 0000"
	[ "${lines[0]}" = "$R5 05 08 00 01 00 00 00 00 00 00" ]
	run dh_raw "$DH_PORT" "04f1 0001 c000020a 00"
	[ "${lines[0]}" = "00 5b 00 00 00 00 00 00" ]
}

@test "CONNECT to port 0 is refused with REP 01" {
	run dh_raw "$DH_PORT" "$G5 0501 0001 7f000001 0000"
	[ "${lines[0]}" = "$R5 05 01 00 01 00 00 00 00 00 00" ]
	grep -q "Application asked to connect to port 0. Refusing." "$DH_LOG"
}

@test "CONNECT to a closed port is REP 05 (connection refused)" {
	closed=$(tk_free_port)
	run dh_raw "$DH_PORT" "$G5 0501 0001 7f000001 $(dh_hexport $closed)"
	[ "${lines[0]}" = "$R5 05 05 00 01 00 00 00 00 00 00" ]
	run dh_raw "$DH_PORT" "0401 $(dh_hexport $closed) 7f000001 00"
	[ "${lines[0]}" = "00 5b 00 00 00 00 00 00" ]
}

@test "CONNECT to a name that does not exist is REP 04" {
	run dh_raw "$DH_PORT" "$G5 0501 0003 $(dh_hexname nothere.example.test) $P"
	[ "${lines[0]}" = "$R5 05 04 00 01 00 00 00 00 00 00" ]
}

@test "CONNECT to .exit is refused with REP 01" {
	run dh_raw "$DH_PORT" "$G5 0501 0003 $(dh_hexname www.example.test.exit) $P"
	[ "${lines[0]}" = "$R5 05 01 00 01 00 00 00 00 00 00" ]
}

@test "BIND and UDP ASSOCIATE: REP 07" {
	run dh_raw "$DH_PORT" "$G5 0502 0001 7f000001 $P"
	[ "${lines[0]}" = "$R5 05 07 00 01 00 00 00 00 00 00" ]
	run dh_raw "$DH_PORT" "$G5 0503 0001 7f000001 $P"
	[ "${lines[0]}" = "$R5 05 07 00 01 00 00 00 00 00 00" ]
}

@test "no acceptable method: 05 FF and close" {
	run dh_raw "$DH_PORT" "050101"
	[ "${lines[0]}" = "05 ff" ]
	[ "${lines[1]}" = "EOF" ]
}

@test "HTTP on the SOCKS port: a 501 page, then close" {
	run bash -c "printf 'GET / HTTP/1.0\r\nHost: x\r\n\r\n' | timeout 20 curl -sS -i http://127.0.0.1:$DH_PORT/"
	[[ "$output" == "HTTP/1.0 501 "* ]]
	[[ "$output" == *"SOCKS"* ]]
	run dh_raw "$DH_PORT" "$(dh_hexstr 'CONNECT a:1 HTTP/1.1' | tr -d ' ')0d0a0d0a"
	[[ "${lines[0]}" == "48 54 54 50 2f 31 2e 30 20 35 30 31"* ]]
	[ "${lines[-1]}" = "EOF" ]
}

@test "garbage: closed without a reply, and the daemon keeps serving" {
	run dh_raw "$DH_PORT" "160301000568656c6c6f"
	[ "$output" = "EOF" ]
	run dh_raw "$DH_PORT" "00"
	[ "$output" = "EOF" ]
	dh_alive
}

@test "SOCKS5 request with a bad ATYP: general failure" {
	run dh_raw "$DH_PORT" "$G5 0501 0023 7f000001 $P"
	[ "${lines[0]}" = "$R5 05 01 00 01 00 00 00 00 00 00" ]
}

@test "a client half-closing right after RESOLVE still gets its answer" {
	run dh_raw -W "$DH_PORT" "$G5 05f00003 $(dh_hexname www.example.test) 0000"
	[ "${lines[0]}" = "$R5 05 00 00 01 c0 00 02 0a 00 00" ]
}

@test "ExitPolicy refusal is REP 02 at once, for IPs and for names" {
	dh_torkitd "ExitPolicyRejectPrivate 0" "ExitPolicy reject 127.0.0.1:$ECHO, accept *:*"
	run dh_raw "$DH_PORT" "$G5 0501 0001 7f000001 $P"
	[ "${lines[0]}" = "$R5 05 02 00 01 00 00 00 00 00 00" ]
	run dh_raw "$DH_PORT" "$G5 0501 0003 $(dh_hexname echo.example.test) $P"
	[ "${lines[0]}" = "$R5 05 02 00 01 00 00 00 00 00 00" ]
	run dh_raw "$DH_PORT" "0401 $P 7f000001 00"
	[ "${lines[0]}" = "00 5b 00 00 00 00 00 00" ]
}

@test "default ExitPolicyRejectPrivate refuses loopback targets (REP 02)" {
	dh_torkitd
	run dh_raw "$DH_PORT" "$G5 0501 0001 7f000001 $P"
	[ "${lines[0]}" = "$R5 05 02 00 01 00 00 00 00 00 00" ]
	run dh_raw "$DH_PORT" "$G5 0501 0001 c0a80001 0050"
	[ "${lines[0]}" = "$R5 05 02 00 01 00 00 00 00 00 00" ]
}

@test "ExitPolicy port ranges and masks: first match wins" {
	dh_torkitd "ExitPolicyRejectPrivate 0" \
		"ExitPolicy accept 127.0.0.0/255.0.0.0:$ECHO-$ECHO" \
		"ExitPolicy reject 127.0.0.0/8:*"
	run dh_raw -W "$DH_PORT" "$G5 0501 0001 7f000001 $P 6f6b"
	[ "${lines[0]}" = "$R5 $OK5 6f 6b" ]
	other=$(tk_free_port)
	run dh_raw "$DH_PORT" "$G5 0501 0001 7f000001 $(dh_hexport $other)"
	[ "${lines[0]}" = "$R5 05 02 00 01 00 00 00 00 00 00" ]
}

@test "SafeSocks refuses requests that carry only an IP" {
	dh_torkitd "ExitPolicyRejectPrivate 0" "SafeSocks 1"
	run dh_raw "$DH_PORT" "$G5 0501 0001 7f000001 $P"
	[ "${lines[0]}" = "$R5 05 02 00 01 00 00 00 00 00 00" ]
	run dh_raw "$DH_PORT" "0401 $P 7f000001 00"
	[ "${lines[0]}" = "00 5b 00 00 00 00 00 00" ]
	run dh_raw -W "$DH_PORT" "$G5 0501 0003 $(dh_hexname echo.example.test) $P 6f6b"
	[ "${lines[0]}" = "$R5 $OK5 6f 6b" ]
}

@test "TestSocks logs whether a request was safe" {
	dh_torkitd "ExitPolicyRejectPrivate 0" "TestSocks 1"
	run dh_raw -W "$DH_PORT" "0401 $P 00000001 00 $(dh_hexstr echo.example.test | tr -d ' ')00"
	[ "${lines[0]}" = "00 5a 00 00 00 00 00 00" ]
	tk_wait_log "$DH_LOG" "This is good" 10
}

@test "every kind of request, split byte by byte, gives the same answers" {
	run dh_raw -1 "$DH_PORT" "$G5 05f00003 $(dh_hexname www.example.test) 0000"
	[ "${lines[0]}" = "$R5 05 00 00 01 c0 00 02 0a 00 00" ]
	run dh_raw -1 "$DH_PORT" "$G5 05f10001 c000020a 0000"
	[ "${lines[0]}" = "$R5 05 00 00 03 10 $(dh_hexstr www.example.test) 00 00" ]
	run dh_raw -1 "$DH_PORT" "04f0 0000 00000001 00 $(dh_hexstr www.example.test | tr -d ' ')00"
	[ "${lines[0]}" = "00 5a 00 00 c0 00 02 0a" ]
	run dh_raw -1 -W "$DH_PORT" "05020002 01 0475736572 0470617373 0501 0001 7f000001 $P 21"
	[ "${lines[0]}" = "05 02 01 00 $OK5 21" ]
	run dh_raw -1 "$DH_PORT" "$(dh_hexstr 'GET / HTTP/1.0' | tr -d ' ')0d0a0d0a"
	[[ "${lines[0]}" == "48 54 54 50 2f 31 2e 30 20 35 30 31"* ]]
}

@test "greeting, auth and request in separate writes, then data" {
	run dh_raw -W "$DH_PORT" 05020002 0104757365720470617373 "0501 0001 7f000001 $P" 6869
	[ "${lines[0]}" = "05 02 01 00 $OK5 68 69" ]
}

@test "ExitPolicyRejectLocalInterfaces (default 1): this host's own public address is refused, in a namespace of the test's own" {
	# In a network namespace the test makes (loopback only): lo also gets
	# 198.51.100.7, standing for the host's public address, and a service
	# listens on 0.0.0.0 there. torkitd must not reach it through that
	# address, which ExitPolicyRejectPrivate does not cover.
	command -v unshare >/dev/null || skip "no unshare"
	cat >"$BATS_TEST_TMPDIR/ns.sh" <<EOS
set -e
ip link set lo up
ip addr add 198.51.100.7/32 dev lo
socat TCP-LISTEN:7777,bind=0.0.0.0,fork,reuseaddr,backlog=1024 EXEC:/bin/cat & s=\$!
for i in \$(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/7777) 2>/dev/null && break; sleep 0.05; done
run_torkitd() {
	rm -f "$BATS_TEST_TMPDIR/k.log"
	"$TK_TORKITD" -f /dev/null --Engine direct --SocksPort 127.0.0.1:9050 --DNSServer 127.0.0.1:1 \\
		--Log "info file $BATS_TEST_TMPDIR/k.log" "\$@" & t=\$!
	for i in \$(seq 200); do grep -q "Opened Socks listener" "$BATS_TEST_TMPDIR/k.log" 2>/dev/null && break; sleep 0.05; done
	"$DH_RAW" -W 9050 "050100 0501 0001 c6336407 1e61 6f6b" | head -n 1
	kill \$t; wait \$t || true
}
echo "default: \$(run_torkitd)"
echo "off: \$(run_torkitd --ExitPolicyRejectLocalInterfaces 0)"
kill \$s
EOS
	run unshare -n bash "$BATS_TEST_TMPDIR/ns.sh"
	echo "$output"
	assert_line() { printf '%s\n' "${lines[@]}" | grep -qx -- "$1"; }
	# refused as the exit policy refuses (REP 02), at once
	assert_line "default: 05 00 05 02 00 01 00 00 00 00 00 00"
	# and reachable when the option is off: the test shows something
	assert_line "off: 05 00 05 00 00 01 00 00 00 00 00 00 6f 6b"
}
