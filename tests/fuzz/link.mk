# Fuzz harness of the link layer's parser of untrusted bytes: the
# directory HTTP response (cells and CERTS have theirs in onion.mk).
check_PROGRAMS += tests/fuzz/fuzz_dirhttp
tests_fuzz_fuzz_dirhttp_SOURCES = tests/fuzz/fuzz_dirhttp.c $(FUZZ_REPLAY)
tests_fuzz_fuzz_dirhttp_LDADD = $(ONION_LINK_LIBS)
tests_fuzz_fuzz_dirhttp_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_dirhttp
EXTRA_DIST += tests/fuzz/corpus/dirhttp

check_PROGRAMS += tests/fuzz/fuzz_dirauth
tests_fuzz_fuzz_dirauth_SOURCES = tests/fuzz/fuzz_dirauth.c $(FUZZ_REPLAY)
tests_fuzz_fuzz_dirauth_LDADD = $(ONION_LINK_LIBS)
tests_fuzz_fuzz_dirauth_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_dirauth
EXTRA_DIST += tests/fuzz/corpus/dirauth
