# Fuzz harnesses for the SOCKS codec and the address parsers.
check_PROGRAMS += tests/fuzz/fuzz_socks_server tests/fuzz/fuzz_socks_client \
	tests/fuzz/fuzz_socks_addr
tests_fuzz_fuzz_socks_server_SOURCES = tests/fuzz/fuzz_socks_server.c \
	$(FUZZ_REPLAY)
tests_fuzz_fuzz_socks_server_LDADD = src/lib/libtorkit.a
tests_fuzz_fuzz_socks_server_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_socks_client_SOURCES = tests/fuzz/fuzz_socks_client.c \
	$(FUZZ_REPLAY)
tests_fuzz_fuzz_socks_client_LDADD = src/lib/libtorkit.a
tests_fuzz_fuzz_socks_client_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_socks_addr_SOURCES = tests/fuzz/fuzz_socks_addr.c \
	$(FUZZ_REPLAY)
tests_fuzz_fuzz_socks_addr_LDADD = src/lib/libtorkit.a
tests_fuzz_fuzz_socks_addr_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_socks_server tests/fuzz/fuzz_socks_client \
	tests/fuzz/fuzz_socks_addr
EXTRA_DIST += tests/fuzz/corpus/socks_server tests/fuzz/corpus/socks_client \
	tests/fuzz/corpus/socks_addr
