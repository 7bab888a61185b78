#!/usr/bin/env bats
# The clients against real peers: torkitd (direct engine) resolving through
# a local dnsmasq that alone knows the test names, an echo server behind
# it, and Debian's tor-resolve as the reference for output.

load "$TK_SRCDIR/tests/bats/cli_helpers" # also from copy/ (daemon.mk)

setup_file() {
	local dir="$BATS_FILE_TMPDIR" i recs=()
	[ -x "$TK_TORKITD" ] || skip "torkitd not built"
	for ((i = 0; i < 1000; i++)); do
		recs+=("n$i.bulk.test,198.18.$((i / 250)).$((i % 250 + 1))")
	done
	tk_start_dnsmasq "$dir/dns" "${recs[@]}"
	echo_start
	tk_start_torkitd "$dir/torkitd" --DNSServer "127.0.0.1:$TK_DNS_PORT" \
		--ExitPolicyRejectPrivate 0 --ExitPolicy "accept *:*"
	printf '%s\n' "${TK_PIDS[@]}" >"$dir/pids"
	export P="127.0.0.1:$TK_SOCKS_PORT"
}

teardown_file() {
	local pid
	[ -f "$BATS_FILE_TMPDIR/pids" ] || return 0
	while read -r pid; do tk_stop "$pid"; done <"$BATS_FILE_TMPDIR/pids"
}

teardown() {
	tk_stop_all
}

@test "the test names exist only behind the proxy (precondition)" {
	run getent hosts www.example.test
	[ "$status" -ne 0 ]
	run getent hosts echo.example.test
	[ "$status" -ne 0 ]
	run getent hosts n1.bulk.test
	[ "$status" -ne 0 ]
}

@test "same output as Debian's tor-resolve for single lookups" {
	command -v tor-resolve >/dev/null || skip "Debian's tor-resolve is not installed"
	local args
	for args in "www.example.test" "v4only.example.test" \
		"v6only.example.test" "-x 192.0.2.10" "-x 2001:db8::10" \
		"-4 www.example.test" "-5 echo.example.test" "192.0.2.55" \
		"nx.example.test" "-x 192.0.2.99"; do
		# shellcheck disable=SC2086
		theirs=$(tor-resolve $args "$P" 2>/dev/null) || true
		# shellcheck disable=SC2086
		ours=$("$TK_RESOLVE" $args "$P" 2>/dev/null) || true
		if [ "$theirs" != "$ours" ]; then
			echo "tor-resolve $args: Tor's '$theirs', ours '$ours'" >&2
			return 1
		fi
	done
	# And both agree on what the answers are.
	run "$TK_RESOLVE" www.example.test "$P"
	assert_output "192.0.2.10"
	run "$TK_RESOLVE" v6only.example.test "$P"
	assert_output "2001:db8::6"
}

@test "where Tor's tool says 'Failed parsing', ours says why" {
	run "$TK_RESOLVE" nx.example.test "$P"
	assert_exit 1
	assert_output "tor-resolve: nx.example.test: host is unreachable (SOCKS5 reply 04)"
}

@test "tor-ptr: IPv4 and IPv6, batch in input order, internal refused" {
	run "$TK_PTR" -P "$P" 192.0.2.10
	assert_exit 0
	assert_output "www.example.test"
	run --separate-stderr "$TK_PTR" -P "$P" 2001:db8::6 192.0.2.10 127.0.0.1 192.0.2.11
	assert_exit 1
	assert_line --index 0 "2001:db8::6	v6only.example.test"
	assert_line --index 1 "192.0.2.10	www.example.test"
	assert_line --index 2 "192.0.2.11	v4only.example.test"
	[[ $stderr == "tor-ptr: 127.0.0.1: host is unreachable (SOCKS5 reply 04)" ]]
}

@test "batch: arguments, -f, stdin, --json; errors per line; exit non-zero" {
	printf '# names\nwww.example.test\n\n  v6only.example.test \r\nnx.example.test\n' >"$BATS_TEST_TMPDIR/names"
	run --separate-stderr "$TK_RESOLVE" -P "$P" -f "$BATS_TEST_TMPDIR/names"
	assert_exit 1
	assert_output "$(printf 'www.example.test\t192.0.2.10\nv6only.example.test\t2001:db8::6')"
	[ "$stderr" = "tor-resolve: nx.example.test: host is unreachable (SOCKS5 reply 04)" ]
	run bash -c "printf 'www.example.test\n' | '$TK_RESOLVE' -P '$P' - v4only.example.test"
	assert_exit 0
	assert_output "$(printf 'www.example.test\t192.0.2.10\nv4only.example.test\t192.0.2.11')"
	run "$TK_RESOLVE" -P "$P" --json www.example.test v6only.example.test nx.example.test
	assert_exit 1
	run jq -c . <<<"$output"
	assert_line --index 0 '{"query":"www.example.test","type":"A","answer":"192.0.2.10"}'
	assert_line --index 1 '{"query":"v6only.example.test","type":"AAAA","answer":"2001:db8::6"}'
	assert_line --index 2 '{"query":"nx.example.test","error":"host is unreachable (SOCKS5 reply 04)","reply":4,"exit":1}'
	run "$TK_PTR" -P "$P" --json 192.0.2.10
	assert_output '{"query":"192.0.2.10","type":"PTR","answer":"www.example.test"}'
}

@test "--ipv6 / --ipv4 check the family of the proxy's answer" {
	run "$TK_RESOLVE" -P "$P" -6 v6only.example.test
	assert_exit 0
	assert_output "2001:db8::6"
	run "$TK_RESOLVE" -P "$P" --ipv4 www.example.test
	assert_exit 0
	run "$TK_RESOLVE" -P "$P" --ipv6 v4only.example.test
	assert_exit 1
	assert_output --partial "the proxy answered 192.0.2.11, not an IPv6 address"
}

@test "a batch of 1,000 names, every answer right and in order" {
	local i
	for ((i = 0; i < 1000; i++)); do echo "n$i.bulk.test"; done >"$BATS_TEST_TMPDIR/bulk"
	for ((i = 0; i < 1000; i++)); do
		printf 'n%d.bulk.test\t198.18.%d.%d\n' "$i" $((i / 250)) $((i % 250 + 1))
	done >"$BATS_TEST_TMPDIR/want"
	run bash -c "'$TK_RESOLVE' -P '$P' -j 64 -f '$BATS_TEST_TMPDIR/bulk' >'$BATS_TEST_TMPDIR/got'"
	assert_exit 0
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	# The same through --json and stdin: 1,000 valid objects.
	run bash -c "'$TK_RESOLVE' -P '$P' --json - <'$BATS_TEST_TMPDIR/bulk' | jq -r 'select(.type == \"A\") | .query' | wc -l"
	assert_output 1000
}

@test "no local DNS: strace shows no resolver files and no connection but the proxy's" {
	command -v strace >/dev/null || skip "strace is not installed"
	local tr="$BATS_TEST_TMPDIR/trace" port=${P##*:}
	# LeakSanitizer cannot run under ptrace; the other tests cover leaks.
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
	# The control first: a proxy given by name is resolved locally, and
	# the trace shows it, so the check below can fail.
	run strace -f -e trace=openat,connect -o "$tr" "$TK_RESOLVE" -P "localhost:$port" www.example.test
	assert_exit 0
	grep -Eq '"/etc/(hosts|nsswitch\.conf|resolv\.conf)"' "$tr"
	for cmd in "$TK_RESOLVE -P $P echo.example.test" \
		"$TK_RESOLVE -P $P -4 echo.example.test" \
		"$TK_PTR -P $P 192.0.2.10" \
		"$TK_CONNECT -z -P $P echo.example.test $ECHO_PORT" \
		"$TK_CONNECT -4a -z -P $P echo.example.test $ECHO_PORT"; do
		# shellcheck disable=SC2086
		run strace -f -e trace=openat,connect -o "$tr" $cmd
		assert_exit 0
		if grep -E '"/etc/(hosts|nsswitch\.conf|resolv\.conf|gai\.conf|host\.conf)"|libnss_|sun_path="/var/run/nscd|htons\(53\)' "$tr"; then
			echo "$cmd consulted the local resolver" >&2
			return 1
		fi
		# Every connect() goes to the proxy.
		run grep -c 'connect(' "$tr"
		[ "$output" -ge 1 ]
		if grep 'connect(' "$tr" | grep -v "sin_port=htons($port), sin_addr=inet_addr(\"127.0.0.1\")"; then
			echo "$cmd connected somewhere else" >&2
			return 1
		fi
	done
}

@test "tor-connect: half-close through torkitd to an echo server" {
	run bash -c "printf 'hello\nthrough torkitd\n' | timeout 30 '$TK_CONNECT' -P '$P' echo.example.test $ECHO_PORT"
	assert_exit 0
	assert_output "$(printf 'hello\nthrough torkitd')"
	head -c 2000000 /dev/urandom >"$BATS_TEST_TMPDIR/in"
	run bash -c "timeout 60 '$TK_CONNECT' -4a -P '$P' echo.example.test $ECHO_PORT <'$BATS_TEST_TMPDIR/in' >'$BATS_TEST_TMPDIR/out'"
	assert_exit 0
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	run bash -c "printf 'v4\n' | timeout 30 '$TK_CONNECT' -4 -P '$P' 127.0.0.1 $ECHO_PORT"
	assert_exit 0
	assert_output "v4"
}

@test "tor-connect: failures from torkitd carry their words and exit 1" {
	run "$TK_CONNECT" -P "$P" nx.example.test 80 </dev/null
	assert_exit 1
	assert_output "tor-connect: nx.example.test:80: host is unreachable (SOCKS5 reply 04)"
	port=$(tk_free_port)
	run "$TK_CONNECT" -z -P "$P" echo.example.test "$port"
	assert_exit 1
	assert_output --partial "connection refused (SOCKS5 reply 05)"
	run "$TK_CONNECT" -z -P "$P" echo.example.test "$ECHO_PORT"
	assert_exit 0
	assert_output "echo.example.test:$ECHO_PORT open"
}

@test "tor-connect -L through torkitd, several clients at once" {
	"$TK_CONNECT" -L 0 -P "$P" echo.example.test "$ECHO_PORT" \
		2>"$BATS_TEST_TMPDIR/fwd.err" &
	tk_track $!
	tk_wait_log "$BATS_TEST_TMPDIR/fwd.err" '^tor-connect: listening on ' 10
	port=$(sed -n 's/^tor-connect: listening on 127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$BATS_TEST_TMPDIR/fwd.err")
	local i pids=()
	for i in 1 2 3 4 5; do
		(seq 1 20000 | sed "s/^/$i-/" | timeout 30 nc.openbsd -N 127.0.0.1 "$port" >"$BATS_TEST_TMPDIR/c$i") &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	for i in 1 2 3 4 5; do
		seq 1 20000 | sed "s/^/$i-/" | cmp - "$BATS_TEST_TMPDIR/c$i"
	done
}

@test "ssh-style ProxyCommand use: the far end closes first, stdin stays open" {
	# Like an ssh server that sends its banner and hangs up: tor-connect
	# must print the banner and exit although ssh keeps its pipe open.
	fake_start -n 1 "hex:$(printf 'SSH-2.0-torkit-test\r\n' | od -An -v -tx1 | tr -d ' \n')" close
	stdin_open_start
	run timeout 20 "$TK_CONNECT" -P "$P" echo.example.test "$FAKE_PORT" <&5
	stdin_open_stop
	assert_exit 0
	assert_output "$(printf 'SSH-2.0-torkit-test\r')"
}

@test "ssh -o ProxyCommand='tor-connect %h %p' logs in through torkitd" {
	[ -x /usr/sbin/sshd ] && command -v ssh >/dev/null || skip "openssh-server/client not installed"
	local d="$BATS_TEST_TMPDIR/ssh" port
	mkdir -p "$d" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$d/host"
	ssh-keygen -q -t ed25519 -N '' -f "$d/user"
	cp "$d/user.pub" "$d/authorized_keys"
	port=$(tk_free_port)
	cat >"$d/sshd_config" <<-CONF
		ListenAddress 127.0.0.1:$port
		HostKey $d/host
		AuthorizedKeysFile $d/authorized_keys
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		StrictModes no
		PermitRootLogin prohibit-password
		PidFile $d/sshd.pid
	CONF
	/usr/sbin/sshd -D -e -f "$d/sshd_config" 2>"$d/sshd.log" &
	tk_track $!
	tk_wait_port 127.0.0.1 "$port" 10
	# echo.example.test exists only in the proxy's DNS: ssh cannot have
	# reached it any other way.
	run timeout 60 ssh -F /dev/null -i "$d/user" -o IdentitiesOnly=yes \
		-o BatchMode=yes -o StrictHostKeyChecking=no -o CheckHostIP=no -o LogLevel=ERROR \
		-o UserKnownHostsFile="$d/known_hosts" \
		-o ProxyCommand="$TK_CONNECT -P $P %h %p" -p "$port" \
		"$(id -un)@echo.example.test" 'echo "logged in as $(id -un)"'
	assert_exit 0
	assert_output "logged in as $(id -un)"
}
