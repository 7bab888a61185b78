#!/usr/bin/env bats
# What `make install` puts beside the programs: the bash completions
# (contrib/bash-completion/torkit, driven by the programs' own option
# tables) and the systemd unit (contrib/systemd/torkitd.service.in),
# installed into a DESTDIR and checked there.

load "$TK_SRCDIR/tests/bats/helpers"

setup_file() {
	DEST="$BATS_FILE_TMPDIR/dest"
	make -s -C "$TK_BUILDDIR" install-data-local install-systemdsystemunitDATA \
		DESTDIR="$DEST" bashcompdir=/bc systemdsystemunitdir=/unit >&2
	export DEST
}

# complete WORD...: what the installed completion offers for the command
# line WORD... (the last word is the one being completed), one a line,
# sorted; the programs are the build's, first in PATH.
complete() {
	PATH="$TK_BUILDDIR/src/cli:$TK_BUILDDIR/src/daemon:$PATH" bash -c '
		source /usr/share/bash-completion/bash_completion
		source "$0/bc/$1"
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		f=$(complete -p "$1" | sed -E "s/.* -F ([^ ]+) .*/\1/")
		"$f" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort' "$DEST" "$@"
}

@test "make install: one completion file, linked under each client's name" {
	[ -f "$DEST/bc/torkitd" ]
	for p in tor-resolve tor-ptr tor-connect; do
		[ "$(readlink "$DEST/bc/$p")" = torkitd ]
	done
	make -s -C "$TK_BUILDDIR" uninstall-local DESTDIR="$DEST" bashcompdir=/bc
	[ -z "$(ls -A "$DEST/bc")" ]
	make -s -C "$TK_BUILDDIR" install-data-local DESTDIR="$DEST" bashcompdir=/bc
}

@test "completions: each client's options come from the program, per program" {
	run complete tor-resolve --js
	[ "$output" = --json ]
	run complete tor-connect --js
	[ "$output" = "" ]
	run complete tor-connect --pro
	[ "$output" = "$(printf '%s\n' --probe --proxy)" ]
	run complete tor-ptr -
	[[ "$output" == *$'\n'-5$'\n'* ]]
	[[ "$output" != *$'\n'-4$'\n'* ]]
	[[ "$output" != *-x* ]]
	# -f takes a file name
	mkdir -p "$BATS_TEST_TMPDIR/d" && touch "$BATS_TEST_TMPDIR/d/names.txt"
	run complete tor-resolve -f "$BATS_TEST_TMPDIR/d/na"
	[ "$output" = "$BATS_TEST_TMPDIR/d/names.txt" ]
}

@test "completions: every option a client's --help shows is offered, and each offered one is taken" {
	for p in tor-resolve tor-ptr tor-connect; do
		prog="$TK_BUILDDIR/src/cli/$p"
		offered=$(complete "$p" -)
		for o in $("$prog" --help | grep -oE '(^|[ ,;(])--?[A-Za-z0-9][a-z0-9-]*' | sed -E 's/^[ ,;(]//' | sort -u); do
			grep -qx -- "$o" <<<"$offered" || { echo "$p: $o in --help, not completed" >&2; false; }
		done
		# each one the program lists is one it takes (before --help,
		# which then ends the run: nothing is sent anywhere)
		"$prog" --list-options >"$BATS_TEST_TMPDIR/opts"
		[ "$(cut -d' ' -f1 "$BATS_TEST_TMPDIR/opts" | sort)" = "$offered" ]
		while read -r o arg; do
			run "$prog" "$o" ${arg:+1} --help
			[ "$status" -eq 0 ] || { echo "$p $o: $output" >&2; false; }
		done <"$BATS_TEST_TMPDIR/opts"
	done
	# a long option of another program is refused
	run "$TK_BUILDDIR/src/cli/tor-connect" --jobs 3 host 80
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown option --jobs"* ]]
}

@test "completions: torkitd's options from its option table, with their values" {
	run complete torkitd --Control
	[ "$output" = "$(printf '%s\n' --ControlPort --ControlSocket)" ]
	run complete torkitd --Engine ""
	[ "$output" = "$(printf '%s\n' direct tor)" ]
	run complete torkitd --CookieAuthentication ""
	[ "$output" = "$(printf '%s\n' 0 1)" ]
	run complete torkitd --sa
	[ "$output" = --sample-config ]
	n=$("$TK_TORKITD" --list-torrc-options | wc -l)
	[ "$(complete torkitd -- | grep -c '^--[A-Z]')" -eq "$n" ]
	# each of torkitd's own flags the completion offers is one --help shows
	for o in $(complete torkitd - | grep -v '^--[A-Z]'); do
		"$TK_TORKITD" --help | grep -q -- "$o" || { echo "torkitd --help has no $o" >&2; false; }
	done
}

@test "systemd unit: Type=notify, hardened as tor's, systemd-analyze verify clean" {
	command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing (tools/deps: systemd)" >&2; false; }
	unit="$DEST/unit/torkitd.service"
	[ -f "$unit" ]
	grep -qx 'Type=notify' "$unit"
	for h in NoNewPrivileges=yes PrivateTmp=yes PrivateDevices=yes ProtectHome=yes \
		ProtectSystem=full 'CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_NET_BIND_SERVICE'; do
		grep -q "^$h" "$unit" || { echo "no $h" >&2; false; }
	done
	grep -q "^ExecStart=$(make -s -C "$TK_BUILDDIR" -f Makefile -f - p <<<'p: ; @echo $(sbindir)')/torkitd .*--User torkit" "$unit"
	# verify needs the programs and the man pages where the unit says:
	# a copy pointing at the build, the man pages of the tree
	mkdir -p "$BATS_TEST_TMPDIR/man/man8" "$BATS_TEST_TMPDIR/man/man5"
	ln -s "$TK_SRCDIR/man/torkitd.8" "$BATS_TEST_TMPDIR/man/man8/"
	ln -s "$TK_SRCDIR/man/torkitd.conf.5" "$BATS_TEST_TMPDIR/man/man5/"
	sed -E "s|^(Exec[A-Za-z]*=)[^ ]*/torkitd |\\1$TK_TORKITD |" "$unit" >"$BATS_TEST_TMPDIR/torkitd.service"
	run env MANPATH="$BATS_TEST_TMPDIR/man" systemd-analyze verify "$BATS_TEST_TMPDIR/torkitd.service"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# the same command line the unit runs, as far as a test can: the
	# configuration it names is checked by --verify-config
	run "$TK_TORKITD" -f /dev/null --RunAsDaemon 0 --DataDirectory "$BATS_TEST_TMPDIR/data" --verify-config
	[ "$status" -eq 0 ]
}
