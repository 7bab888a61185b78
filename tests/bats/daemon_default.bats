#!/usr/bin/env bats
# torkitd with no options and no configuration file: the tor engine on the
# public Tor network, bootstrapping from its built-in fallbacks. Run ONLY
# inside an empty network namespace (unshare -n, then lo up): there a
# connection to a public address fails at once (ENETUNREACH) and no
# packet leaves this machine. As an unprivileged user, so the default
# DataDirectory is ~/.torkit under a temporary HOME.

load "$TK_SRCDIR/tests/bats/helpers"

setup() {
	unshare -n true 2>/dev/null ||
		skip "needs unshare -n (root): this test must run in an empty network namespace"
	command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
	command -v strace >/dev/null || skip "needs strace"
	# nobody's HOME: outside bats's private (0700) directories
	home=$(mktemp -d "${TMPDIR:-/tmp}/tk-default-home.XXXXXX")
	chmod 777 "$home"
	out=$BATS_TEST_TMPDIR/out
	trace=$BATS_TEST_TMPDIR/strace
}

teardown() {
	# torkitd first (strace, stopped, would only detach from it)
	if [ -n "${pid:-}" ]; then
		for k in $(pgrep -P "$pid"); do
			kill -INT "$k" 2>/dev/null || true
			tk_wait_exit "$k" 10 || kill -KILL "$k" 2>/dev/null
		done
	fi
	tk_stop_all
	[ -n "${home:-}" ] && rm -rf "$home"
}

# A shell in a new, empty network namespace with lo up, where torkitd
# runs as nobody with nothing but HOME and PATH set.
netns_torkitd() {
	unshare -n sh -c '
		ip link set lo up || exit 97
		# nothing but loopback: refuse to run otherwise
		[ "$(ip -o link show | grep -vc " lo:")" = 0 ] || exit 98
		ip -o addr show | grep -qv " lo " && exit 98
		exec strace -f -qq -e trace=connect,openat -o "$1" \
			setpriv --reuid=65534 --regid=65534 --clear-groups \
			env -i HOME="$2" PATH=/usr/bin:/bin "$3"
	' netns "$trace" "$home" "$TK_TORKITD" </dev/null >"$out" 2>&1 &
	pid=$!
	tk_track "$pid"
}

@test "no options, no config file: Engine tor tries the fallbacks, keeps retrying with clear lines, no busy loop (in an empty network namespace)" {
	netns_torkitd
	# the second report of a stuck bootstrap: it kept trying
	for ((i = 0; i < 900; i++)); do
		[ "$(grep -c 'Problem bootstrapping' "$out")" -ge 2 ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$out"
	# $pid is strace (unshare and sh exec'd it); torkitd is its child
	kpid=$(pgrep -P "$pid" | head -n1)
	[ -n "$kpid" ] && tk_track "$kpid"
	[ "$(cat "/proc/$kpid/comm")" = torkitd ]
	# CPU time so far: user + system ticks of torkitd
	ticks=$(awk '{ print $14 + $15 }' "/proc/$kpid/stat")
	hz=$(getconf CLK_TCK)
	elapsed=$(awk -v hz="$hz" -v st="$(awk '{ print $22 }' "/proc/$kpid/stat")" \
		'{ print int($1 - st / hz) }' /proc/uptime)
	# torkitd itself: strace would only detach on a signal
	kill -INT "$kpid"
	tk_wait_exit "$kpid"
	tk_wait_exit "$pid"
	grep -q 'starting (engine tor)' "$out"
	grep -q 'Engine tor: the public Tor network (9 authorities, 200 fallback directory mirrors), DataDirectory '"$home"'/.torkit' "$out"
	grep -q 'Opened Socks listener connection (ready) on 127.0.0.1:9050' "$out"
	grep -q 'Bootstrapped 5% (conn): Connecting to a relay' "$out"
	grep -q 'consensus from .* failed: cannot connect to .*: network is unreachable; trying elsewhere' "$out"
	grep -q 'Problem bootstrapping. Stuck at 5% (conn): no directory source could be reached. .* made to fallback directory mirrors' "$out"
	grep -q 'Check that this host can open TCP connections to the Internet' "$out"
	grep -q 'Clean shutdown finished' "$out"
	[ -d "$home/.torkit" ]
	# no configuration file was there to read
	grep -q 'torkitd.conf", O_RDONLY) = -1 ENOENT' "$trace"
	# every TCP connection went to a public address (a fallback or an
	# authority) and failed at once; none was made in a tight loop
	n=$(grep -c 'connect(.*sa_family=AF_INET' "$trace")
	unreach=$(grep -c 'connect(.*sa_family=AF_INET.*ENETUNREACH' "$trace")
	echo "connections: $n, unreachable: $unreach, elapsed ${elapsed}s, CPU ticks $ticks of $hz/s"
	[ "$n" -ge 4 ]
	[ "$n" -eq "$unreach" ]
	# the schedule: the first attempt at 0 s, then ever further apart
	[ "$n" -le $((elapsed * 2 + 4)) ]
	# a busy loop would burn the whole time; allow 2 s of CPU
	[ "$ticks" -le $((2 * hz)) ]
}
