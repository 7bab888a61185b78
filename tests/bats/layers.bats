#!/usr/bin/env bats
# tools/layers must fail on what it exists to catch: an include that goes
# up a layer, a private header used outside its module, and a circle —
# each named by both files. Each test plants one in a copy of src/.

setup() {
	: "${TK_SRCDIR:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
	COPY="$BATS_TEST_TMPDIR/tree"
	mkdir -p "$COPY"
	cp -r "$TK_SRCDIR/src" "$COPY/src"
}

layers() {
	run python3 "$TK_SRCDIR/tools/layers" "$COPY"
}

@test "layers: the tree as it is passes" {
	layers
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok 1 - every include follows src/layers"* ]]
}

@test "layers: an include that goes up a layer fails, naming both files" {
	sed -i '0,/^#include "onion\/base\/bytes.h"/s//#include "onion\/base\/bytes.h"\n#include "onion\/dir\/dirmgr.h"/' \
		"$COPY/src/onion/base/bytes.c"
	grep -q 'onion/dir/dirmgr.h' "$COPY/src/onion/base/bytes.c"
	layers
	[ "$status" -eq 1 ]
	[[ "$output" == *"not ok 1"* ]]
	[[ "$output" == *"src/onion/base/bytes.c includes src/onion/dir/dirmgr.h: onion/base may not include onion/dir"* ]]
}

@test "layers: the daemon may include the engine's facade only" {
	printf '#include "onion/client/circmgr.h"\n' >>"$COPY/src/daemon/engine_tor.c"
	layers
	[ "$status" -eq 1 ]
	[[ "$output" == *"src/daemon/engine_tor.c includes src/onion/client/circmgr.h: daemon may not include onion/client"* ]]
}

@test "layers: a private header used outside its module fails" {
	printf '/* private */\n' >"$COPY/src/onion/dir/dirmgr_int.h"
	printf '#include "onion/dir/dirmgr_int.h"\n' >>"$COPY/src/onion/dir/dirfetch.c"
	layers
	[ "$status" -eq 1 ]
	[[ "$output" == *"not ok 2"* ]]
	[[ "$output" == *"src/onion/dir/dirfetch.c includes src/onion/dir/dirmgr_int.h, private to src/onion/dir/dirmgr.c"* ]]
}

@test "layers: a circle of includes in one layer fails, naming the files" {
	# dirfetch.h already includes dirmgr.h; the way back closes a circle.
	printf '#include "onion/dir/dirfetch.h"\n' >>"$COPY/src/onion/dir/dirmgr.c"
	layers
	[ "$status" -eq 1 ]
	[[ "$output" == *"not ok 3"* ]]
	[[ "$output" == *"src/onion/dir/dirfetch"* ]]
	[[ "$output" == *"src/onion/dir/dirmgr"* ]]
}

@test "layers: a foo_*.c part sharing foo_int.h is its own module: calling both ways is a circle" {
	# A module split into files that share a private header and call
	# each other is still a circle: each part must be an object with
	# its own interface, used one way.
	printf 'struct tk_dirmgr;\n' >"$COPY/src/onion/dir/dirmgr_int.h"
	printf 'void tk_dirmgr_part(void);\n' >"$COPY/src/onion/dir/dirmgr_part.h"
	printf '#include "onion/dir/dirmgr_int.h"\n#include "onion/dir/dirmgr_part.h"\nvoid tk_dirmgr_part(void) {}\n' \
		>"$COPY/src/onion/dir/dirmgr_part.c"
	printf '#include "onion/dir/dirmgr_part.h"\n' >>"$COPY/src/onion/dir/dirmgr.c"
	layers
	[ "$status" -eq 1 ]
	[[ "$output" != *"not ok 2"* ]]
	[[ "$output" == *"not ok 3"* ]]
	[[ "$output" == *"src/onion/dir/dirmgr.c includes src/onion/dir/dirmgr_part.h"* ]]
	[[ "$output" == *"src/onion/dir/dirmgr_part.c includes src/onion/dir/dirmgr_int.h"* ]]
}

@test "layers: a file outside every unit fails" {
	mkdir -p "$COPY/src/stray"
	printf 'int x;\n' >"$COPY/src/stray/x.c"
	layers
	[ "$status" -eq 1 ]
	[[ "$output" == *"src/stray/x.c is in no unit of src/layers"* ]]
}
