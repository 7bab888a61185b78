# Interop tests against real Tor on tools/tornet (make check-interop).
# Not part of `make check`: they start 8 tor processes, dnsmasq and socat
# services on 127.0.0.1 (ports from TORNET_BASE, default 22000) and take
# a few minutes. tests/interop/run always stops the network it started.
dist_noinst_SCRIPTS += \
	tests/interop/run \
	tests/interop/compare \
	tests/interop/socksraw \
	tests/interop/socks_rtt \
	tests/interop/slowproxy
EXTRA_DIST += \
	tests/interop/helpers.bash \
	tests/interop/resolve.bats \
	tests/interop/connect.bats \
	tests/interop/torkitd.bats \
	tests/interop/tornet.bats \
	tests/interop/onion_link.bats \
	tests/interop/onion_bootstrap.bats \
	tests/interop/onion_streams.bats \
	tests/interop/onion_wire.bats \
	tests/interop/onion_ipv6.bats \
	tests/interop/daemon_tor.bats \
	tests/interop/onion_cc.bats \
	tests/interop/onion_fallback.bats \
	tests/interop/onion_hs.bats \
	tests/interop/control_stem.bats \
	tests/interop/wrappers.bats \
	tests/interop/stem_control.py

check-interop: all
	TK_BUILDDIR='$(abs_top_builddir)' TK_SRCDIR='$(abs_top_srcdir)' \
	$(SHELL) '$(abs_top_srcdir)/tests/interop/run'

# The side-by-side table, Tor vs torkitd, on a network started by hand:
#   tools/tornet start DIR && make interop-table TORNET_DIR=DIR
interop-table: all
	TK_BUILDDIR='$(abs_top_builddir)' \
	'$(abs_top_srcdir)/tests/interop/compare' '$(TORNET_DIR)'

.PHONY: check-interop interop-table

# tools/tornet's LD_PRELOAD library for its relays (--tls13-only,
# --cell-log). Built by make, never linked into anything of ours.
noinst_PROGRAMS += tests/helpers/tornet_preload.so
tests_helpers_tornet_preload_so_SOURCES = tests/helpers/tornet_preload.c
tests_helpers_tornet_preload_so_CFLAGS = $(AM_CFLAGS) -fPIC
tests_helpers_tornet_preload_so_LDFLAGS = -shared
tests_helpers_tornet_preload_so_LDADD = -ldl
