#!/usr/bin/env bats
# Real SOCKS clients nobody here wrote, against torkitd: curl, ncat,
# OpenBSD nc, socat, Debian's tor-resolve, ssh's ProxyCommand.

load "$TK_SRCDIR/tests/bats/helpers"
load "$TK_SRCDIR/tests/bats/daemon_helpers"

HTTP_REPLY=$'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello, curl\n'

setup() {
	tk_start_dnsmasq "$BATS_TEST_TMPDIR/dns"
	dh_target ECHO echo
	dh_target WEB banner "$HTTP_REPLY" "$BATS_TEST_TMPDIR/web.request"
	dh_torkitd "ExitPolicyRejectPrivate 0"
}

teardown() { tk_stop_all; }

curl_via() {
	timeout 30 curl -sS --max-time 20 -x "$1://127.0.0.1:$DH_PORT" "$2"
}

@test "curl socks5h:// (name resolved by torkitd)" {
	run curl_via socks5h "http://echo.example.test:$WEB/x"
	[ "$status" -eq 0 ]
	[ "$output" = "hello, curl" ]
	grep -q "CONNECT echo.example.test:$WEB (socks5)" "$DH_LOG"
}

@test "curl socks5:// (IP literal)" {
	run curl_via socks5 "http://127.0.0.1:$WEB/x"
	[ "$status" -eq 0 ]
	[ "$output" = "hello, curl" ]
}

@test "curl socks4:// and socks4a://" {
	run curl_via socks4 "http://127.0.0.1:$WEB/x"
	[ "$status" -eq 0 ]
	[ "$output" = "hello, curl" ]
	run curl_via socks4a "http://echo.example.test:$WEB/x"
	[ "$status" -eq 0 ]
	[ "$output" = "hello, curl" ]
	grep -q "CONNECT echo.example.test:$WEB (socks4)" "$DH_LOG"
}

@test "curl sees the refusals: REP 05 closed port, REP 04 unknown name" {
	closed=$(tk_free_port)
	run curl_via socks5h "http://echo.example.test:$closed/"
	[ "$status" -eq 97 ]
	[[ "$output" == *"(5)"* ]]
	run curl_via socks5h "http://nothere.example.test:$WEB/"
	[ "$status" -eq 97 ]
	[[ "$output" == *"(4)"* ]]
}

@test "ncat --proxy-type socks5 and socks4, --proxy-dns remote" {
	run bash -c "printf 'via ncat 5\n' | timeout 20 ncat --proxy 127.0.0.1:$DH_PORT --proxy-type socks5 --proxy-dns remote echo.example.test $ECHO"
	[ "$status" -eq 0 ]
	[ "$output" = "via ncat 5" ]
	run bash -c "printf 'via ncat 4\n' | timeout 20 ncat --proxy 127.0.0.1:$DH_PORT --proxy-type socks4 127.0.0.1 $ECHO"
	[ "$status" -eq 0 ]
	[ "$output" = "via ncat 4" ]
	run bash -c "printf 'via ncat 4a\n' | timeout 20 ncat --proxy 127.0.0.1:$DH_PORT --proxy-type socks4 --proxy-dns remote echo.example.test $ECHO"
	[ "$status" -eq 0 ]
	[ "$output" = "via ncat 4a" ]
}

@test "nc.openbsd -X 5 and -X 4" {
	run bash -c "printf 'via nc 5\n' | timeout 20 nc.openbsd -N -X 5 -x 127.0.0.1:$DH_PORT echo.example.test $ECHO"
	[ "$status" -eq 0 ]
	[ "$output" = "via nc 5" ]
	run bash -c "printf 'via nc 4\n' | timeout 20 nc.openbsd -N -X 4 -x 127.0.0.1:$DH_PORT 127.0.0.1 $ECHO"
	[ "$status" -eq 0 ]
	[ "$output" = "via nc 4" ]
}

@test "socat SOCKS4 and SOCKS4A" {
	run bash -c "printf 'via socat 4\n' | timeout 20 socat -t 10 - SOCKS4:127.0.0.1:127.0.0.1:$ECHO,socksport=$DH_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = "via socat 4" ]
	run bash -c "printf 'via socat 4a\n' | timeout 20 socat -t 10 - SOCKS4A:127.0.0.1:echo.example.test:$ECHO,socksport=$DH_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = "via socat 4a" ]
}

@test "Debian's tor-resolve: forward, AAAA-only, SOCKS4a (-4)" {
	run timeout 20 tor-resolve -p "$DH_PORT" www.example.test 127.0.0.1
	[ "$status" -eq 0 ]
	[ "$output" = "192.0.2.10" ]
	run timeout 20 tor-resolve -p "$DH_PORT" v6only.example.test 127.0.0.1
	[ "$status" -eq 0 ]
	[ "$output" = "2001:db8::6" ]
	run timeout 20 tor-resolve -4 -p "$DH_PORT" v4only.example.test 127.0.0.1
	[ "$status" -eq 0 ]
	[ "$output" = "192.0.2.11" ]
}

@test "Debian's tor-resolve: reverse (-x) v4 and v6" {
	run timeout 20 tor-resolve -x -p "$DH_PORT" 192.0.2.10 127.0.0.1
	[ "$status" -eq 0 ]
	[ "$output" = "www.example.test" ]
	run timeout 20 tor-resolve -x -p "$DH_PORT" 2001:db8::6 127.0.0.1
	[ "$status" -eq 0 ]
	[ "$output" = "v6only.example.test" ]
}

@test "Debian's tor-resolve gets the friendly message for errors (ATYP 01)" {
	run timeout 20 tor-resolve -p "$DH_PORT" nothere.example.test 127.0.0.1
	[ "$status" -eq 1 ]
	[[ "$output" == *"Got SOCKS5 status response '4': host is unreachable"* ]]
	[[ "$output" != *"Failed parsing"* ]]
	run timeout 20 tor-resolve -x -p "$DH_PORT" 10.1.2.3 127.0.0.1
	[ "$status" -eq 1 ]
	[[ "$output" == *"status response '4'"* ]]
}

@test "ssh -o ProxyCommand through torkitd reaches an SSH server" {
	command -v ssh >/dev/null || skip "ssh not installed"
	# A banner-only SSH peer: enough to prove the ProxyCommand stream
	# carries the protocol both ways (ssh reads the banner, sends its own).
	dh_target SSHD banner $'SSH-2.0-torkit_test_peer\r\n' "$BATS_TEST_TMPDIR/ssh.in"
	run timeout 30 ssh -v -F /dev/null -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o "ProxyCommand=nc.openbsd -X 5 -x 127.0.0.1:$DH_PORT %h %p" \
		-p "$SSHD" test@echo.example.test true
	[[ "$output" == *"remote software version torkit_test_peer"* ]]
	for ((i = 0; i < 200; i++)); do
		grep -q '^SSH-2.0-OpenSSH' "$BATS_TEST_TMPDIR/ssh.in" 2>/dev/null && break
		sleep 0.05
	done
	grep -q '^SSH-2.0-OpenSSH' "$BATS_TEST_TMPDIR/ssh.in"
}

@test "ssh -o ProxyCommand through torkitd logs in to a real sshd" {
	sshd=$(command -v sshd || echo /usr/sbin/sshd)
	[ -x "$sshd" ] || skip "sshd not installed (Debian package openssh-server)"
	dh_sshd "$sshd" || skip "sshd cannot run here: $(cat "$DH_SSH_DIR/check")"
	d=$DH_SSH_DIR port=$DH_SSH_PORT
	run timeout 60 ssh -F /dev/null -i "$d/userkey" -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o "ProxyCommand=nc.openbsd -X 5 -x 127.0.0.1:$DH_PORT %h %p" \
		-p "$port" "$(id -un)@echo.example.test" 'echo logged-in-through-torkitd'
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "logged-in-through-torkitd" ]
	grep -q "CONNECT echo.example.test:$port" "$DH_LOG"
}
