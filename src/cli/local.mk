# tor-resolve, tor-ptr, tor-connect.
# Their shared code (options, output, the lookup engine, the relay pump)
# is a small convenience library so each program links only what it uses.
noinst_LIBRARIES += src/cli/libtkcli.a
src_cli_libtkcli_a_SOURCES = \
	src/cli/cli_opts.c src/cli/cli_opts.h \
	src/cli/cli_out.c src/cli/cli_out.h \
	src/cli/cli_lookup.c src/cli/cli_lookup.h \
	src/cli/cli_pump.c src/cli/cli_pump.h
src_cli_libtkcli_a_CPPFLAGS = $(AM_CPPFLAGS) $(UV_CFLAGS)

TK_CLI_LDADD = src/cli/libtkcli.a src/lib/libtorkit.a $(UV_LIBS)

bin_PROGRAMS += src/cli/tor-resolve src/cli/tor-ptr src/cli/tor-connect
src_cli_tor_resolve_SOURCES = src/cli/tor-resolve.c
src_cli_tor_resolve_LDADD = $(TK_CLI_LDADD)
src_cli_tor_ptr_SOURCES = src/cli/tor-ptr.c
src_cli_tor_ptr_LDADD = $(TK_CLI_LDADD)
src_cli_tor_connect_SOURCES = src/cli/tor-connect.c
src_cli_tor_connect_CPPFLAGS = $(AM_CPPFLAGS) $(UV_CFLAGS)
src_cli_tor_connect_LDADD = $(TK_CLI_LDADD)

# Manual pages (linted by man/lint-test in make check).
dist_man_MANS += man/tor-resolve.1 man/tor-ptr.1 man/tor-connect.1

# The resolve benchmark: tor-resolve -f against Debian's tor-resolve.
dist_noinst_SCRIPTS += tools/bench/resolve-bench
