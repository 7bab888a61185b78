#!/usr/bin/env bats
# The built-in directory lists: src/onion/dir/builtin_*.inc must be what
# tools/gen-dirlists makes of tor's lists in tools/dirlists/, and the
# generator must skip bridge authorities and stop at a bad entry, naming
# its line.

setup() {
	: "${TK_SRCDIR:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
	GEN="$TK_SRCDIR/tools/gen-dirlists"
	out="$BATS_TEST_TMPDIR/out"
	mkdir -p "$out"
}

@test "gen-dirlists: the committed lists are generated from tools/dirlists" {
	run python3 "$GEN" --check
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"up to date: 9 authorities, 200 fallbacks (95 with IPv6)"* ]]
}

@test "gen-dirlists: a bridge authority is skipped, a v3 authority kept" {
	cat >"$BATS_TEST_TMPDIR/auth.inc" <<'E'
"moria1 orport=9201 "
  "v3ident=F533C81CEF0BC0267857C99B2F471ADF249FA232 "
  "128.31.0.39:9231 1A25 C635 8DB9 1342 AA51 720A 5038 B727 4273 2498",
/* a comment */
"Serge orport=9001 bridge "
  "66.111.2.131:9030 BA44 A889 E64B 93FA A2B1 14E0 2C2A 279A 8555 C533",
E
	run python3 "$GEN" --auth "$BATS_TEST_TMPDIR/auth.inc" \
		--fallback "$TK_SRCDIR/tools/dirlists/fallback_dirs.inc" --out "$out"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 authorities (skipped Serge)"* ]]
	grep -q '^"moria1 orport=9201 v3ident=F533C81CEF0BC0267857C99B2F471ADF249FA232 128.31.0.39:9231 1A25C6358DB91342AA51720A5038B72742732498",$' "$out/builtin_authorities.inc"
	[ -z "$(grep '^"Serge' "$out/builtin_authorities.inc")" ]
}

@test "gen-dirlists: a bad entry stops it, naming the file and line" {
	printf '%s\n' '"192.0.2.1 orport=443 id=0123456789ABCDEF0123456789ABCDEF01234567"' \
		'/* nickname=good */' ',' \
		'"192.0.2.2 orport=70000 id=0123456789ABCDEF0123456789ABCDEF01234568"' \
		>"$BATS_TEST_TMPDIR/fb.inc"
	run python3 "$GEN" --auth "$TK_SRCDIR/tools/dirlists/auth_dirs.inc" \
		--fallback "$BATS_TEST_TMPDIR/fb.inc" --out "$out"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"fb.inc:4: bad orport \"70000\""* ]]
	[ ! -e "$out/builtin_fallbacks.inc" ]
}

@test "gen-dirlists: a stale committed list fails the check" {
	cp -r "$TK_SRCDIR/tools" "$BATS_TEST_TMPDIR/tools"
	mkdir -p "$BATS_TEST_TMPDIR/src/onion/dir"
	cp "$TK_SRCDIR"/src/onion/dir/builtin_*.inc "$BATS_TEST_TMPDIR/src/onion/dir/"
	sed -i '0,/orport=445/s//orport=446/' "$BATS_TEST_TMPDIR/tools/dirlists/fallback_dirs.inc"
	run python3 "$BATS_TEST_TMPDIR/tools/gen-dirlists" --check
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"not generated from the lists in tools/dirlists"*"builtin_fallbacks.inc"* ]]
}
