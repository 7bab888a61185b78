# Developer tools, tornet, benchmarks.
# tools/tornet: a local network of real Tor relays for the interop tests
# (start|stop|status|env DIR [--base PORT]); its header comment says how.
dist_noinst_SCRIPTS += tools/tornet
# tkdelay: the forwarder that gives tornet's links latency (--latency).
noinst_PROGRAMS += tools/tkdelay
tools_tkdelay_SOURCES = tools/tkdelay.c
tools_tkdelay_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS)
tools_tkdelay_LDADD = $(UV_LIBS)
TESTS += tests/bats/tkdelay.bats
EXTRA_DIST += tests/bats/tkdelay.bats
# Benchmarks (tools/bench/): each runs its peers in the same run and prints
# ratios. socksload is the libuv load generator socks-bench builds itself.
dist_noinst_SCRIPTS += tools/bench/socks-bench
# socks-syscalls: torkitd's system calls per CONNECT (strace -c -f), with
# socksload; counts, not speed.
dist_noinst_SCRIPTS += tools/bench/socks-syscalls
EXTRA_DIST += tools/bench/socksload.c tools/bench/proctree.sh
dist_noinst_SCRIPTS += tools/bench/onion-bench tools/bench/onion-hs-bench \
	tools/bench/dir-bench
# trickle-bench: RSS of torkitd, dante and microsocks under 1-byte
# segments into targets that do not read; trickle.c is its load tool.
dist_noinst_SCRIPTS += tools/bench/trickle-bench
EXTRA_DIST += tools/bench/trickle.c
# soak: both engines (tor on a tornet it starts) under a mixed load for
# 30 minutes; soakload.py is its load and its echo target.
dist_noinst_SCRIPTS += tools/bench/soak tools/bench/soakload.py

# Developer tools over the onion engine. tkonion: a link handshake and
# one-hop directory fetches. tkbootstrap: bootstrap from DirAuthority
# lines and print progress. tkstream: bootstrap, then resolve, reverse
# resolve or pipe stdin/stdout over a 3-hop stream.
noinst_PROGRAMS += tools/tkonion tools/tkbootstrap tools/tkstream tools/tkmkdir
tools_tkonion_SOURCES = tools/tkonion.c
tools_tkonion_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS)
tools_tkonion_LDADD = $(ONION_LINK_LIBS)
tools_tkbootstrap_SOURCES = tools/tkbootstrap.c
tools_tkbootstrap_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS)
tools_tkbootstrap_LDADD = $(ONION_LINK_LIBS)
tools_tkstream_SOURCES = tools/tkstream.c
tools_tkstream_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS)
tools_tkstream_LDADD = $(ONION_LINK_LIBS)
# tkmkdir: a synthetic directory of N relays from the real entries of
# tests/data/realnet, signed by given authority keys (tools/dirsign.c),
# written as a DataDirectory's cache (scale tests, tools/bench/dir-bench).
tools_tkmkdir_SOURCES = tools/tkmkdir.c tools/dirsign.c tools/dirsign.h
tools_tkmkdir_LDADD = $(ONION_LINK_LIBS)

# The built-in directory lists: tools/gen-dirlists makes
# src/onion/dir/builtin_*.inc from tor's lists in tools/dirlists/ (`make
# dirlists` refreshes them; dirlists.bats checks they are current).
dist_noinst_SCRIPTS += tools/gen-dirlists
EXTRA_DIST += tools/dirlists tests/bats/dirlists.bats
TESTS += tests/bats/dirlists.bats
dirlists:
	python3 $(top_srcdir)/tools/gen-dirlists
.PHONY: dirlists

# The layering check: every include under src/ against src/layers, and no
# circle between modules (tools/layers reads the built objects' symbols
# too). layers.bats plants violations in a copy and expects the failures.
dist_check_SCRIPTS += tools/layers
EXTRA_DIST += src/layers tests/bats/layers.bats
TESTS += tools/layers tests/bats/layers.bats
