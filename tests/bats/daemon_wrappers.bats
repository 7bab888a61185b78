#!/usr/bin/env bats
# Programs run under the SOCKS wrappers nobody here wrote, through torkitd
# (direct engine): proxychains4 in proxy_dns mode (the program's names go
# to the proxy in its CONNECTs; getaddrinfo answers a placeholder from
# remote_dns_subnet) and torsocks (the program's getaddrinfo becomes
# Tor's RESOLVE, gethostbyaddr RESOLVE_PTR). The names exist only in the
# test's dnsmasq, which only torkitd asks: an answer proves the lookup went
# through torkitd, and its log names each request. The programs: curl,
# Python's socket module, ssh (logging in to a real sshd).

load "$TK_SRCDIR/tests/bats/helpers"
load "$TK_SRCDIR/tests/bats/daemon_helpers"

HTTP_REPLY=$'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello, curl\n'
# Debian's python, a plain dynamically linked program the wrappers preload
PY=/usr/bin/python3

setup() {
	tk_start_dnsmasq "$BATS_TEST_TMPDIR/dns"
	dh_target ECHO echo
	dh_target WEB banner "$HTTP_REPLY" "$BATS_TEST_TMPDIR/web.request"
	dh_torkitd "ExitPolicyRejectPrivate 0"
	PC="$BATS_TEST_TMPDIR/proxychains.conf"
	printf '%s\n' strict_chain proxy_dns "remote_dns_subnet 224" \
		"tcp_read_time_out 15000" "tcp_connect_time_out 8000" \
		"[ProxyList]" "socks5 127.0.0.1 $DH_PORT" >"$PC"
	TS="$BATS_TEST_TMPDIR/torsocks.conf"
	printf '%s\n' "TorAddress 127.0.0.1" "TorPort $DH_PORT" >"$TS"
}

teardown() { tk_stop_all; }

@test "proxychains4 proxy_dns: curl fetches by name, the name goes to torkitd" {
	command -v proxychains4 >/dev/null || { echo "proxychains4 missing (tools/deps)" >&2; false; }
	run timeout 30 proxychains4 -q -f "$PC" curl -sS --max-time 20 "http://echo.example.test:$WEB/x"
	[ "$status" -eq 0 ]
	[ "$output" = "hello, curl" ]
	grep -q "CONNECT echo.example.test:$WEB (socks5)" "$DH_LOG"
}

@test "proxychains4 proxy_dns: Python's socket module connects by name and echoes; getaddrinfo is a placeholder" {
	run timeout 30 proxychains4 -q -f "$PC" "$PY" -c '
import socket, sys
s = socket.create_connection(("echo.example.test", int(sys.argv[1])), timeout=20)
s.sendall(b"through proxychains\n")
print(s.recv(100).decode().strip())
print(socket.gethostbyname("echo.example.test"))
' "$ECHO"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "through proxychains" ]
	# proxychains' own answer (remote_dns_subnet 224), not a lookup
	[[ "${lines[1]}" == 224.* ]]
	grep -q "CONNECT echo.example.test:$ECHO (socks5)" "$DH_LOG"
	refute grep -q "RESOLVE" "$DH_LOG"
}

@test "torsocks: Python's getaddrinfo is a RESOLVE and gethostbyaddr a RESOLVE_PTR to torkitd" {
	command -v torsocks >/dev/null || { echo "torsocks missing (tools/deps)" >&2; false; }
	run env TORSOCKS_CONF_FILE="$TS" timeout 30 torsocks "$PY" -c '
import socket
print(sorted({a[4][0] for a in socket.getaddrinfo("www.example.test", 80, socket.AF_INET)}))
print(socket.gethostbyaddr("192.0.2.10")[0])
try:
    socket.getaddrinfo("nx.example.test", 80, socket.AF_INET)
    print("nx: answered")
except socket.gaierror:
    print("nx: no address")
'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "['192.0.2.10']" ]
	[ "${lines[1]}" = "www.example.test" ]
	# torsocks logs the failure answer (REP 04, as Tor's) on stderr
	grep -qx "nx: no address" <<<"$output"
	grep -q "Unable to resolve. Status reply: 4" <<<"$output"
	grep -q "RESOLVE www.example.test (socks5)" "$DH_LOG"
	grep -q "RESOLVE_PTR 192.0.2.10" "$DH_LOG"
	grep -q "RESOLVE nx.example.test (socks5)" "$DH_LOG"
}

@test "proxychains4 proxy_dns: ssh logs in to a real sshd by a name only torkitd can resolve" {
	sshd=$(command -v sshd || echo /usr/sbin/sshd)
	[ -x "$sshd" ] || { echo "sshd missing (tools/deps: openssh-server)" >&2; false; }
	dh_sshd "$sshd" || { echo "sshd refuses its configuration: $(cat "$DH_SSH_DIR/check")" >&2; false; }
	d=$DH_SSH_DIR port=$DH_SSH_PORT
	run timeout 60 proxychains4 -q -f "$PC" ssh -F /dev/null -i "$d/userkey" \
		-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-p "$port" "$(id -un)@echo.example.test" 'echo logged-in-through-proxychains'
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "logged-in-through-proxychains" ]
	grep -q "CONNECT echo.example.test:$port (socks5)" "$DH_LOG"
}
