# Fuzz harnesses for directory documents.
check_PROGRAMS += tests/fuzz/fuzz_netdoc
tests_fuzz_fuzz_netdoc_SOURCES = tests/fuzz/fuzz_netdoc.c $(FUZZ_REPLAY)
tests_fuzz_fuzz_netdoc_LDADD = $(ONION_CORE_LIBS)
tests_fuzz_fuzz_netdoc_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_netdoc
EXTRA_DIST += tests/fuzz/corpus/netdoc

check_PROGRAMS += tests/fuzz/fuzz_consensus
tests_fuzz_fuzz_consensus_SOURCES = tests/fuzz/fuzz_consensus.c $(FUZZ_REPLAY)
tests_fuzz_fuzz_consensus_LDADD = $(ONION_CORE_LIBS)
tests_fuzz_fuzz_consensus_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_consensus
EXTRA_DIST += tests/fuzz/corpus/consensus

check_PROGRAMS += tests/fuzz/fuzz_microdesc
tests_fuzz_fuzz_microdesc_SOURCES = tests/fuzz/fuzz_microdesc.c $(FUZZ_REPLAY)
tests_fuzz_fuzz_microdesc_LDADD = $(ONION_CORE_LIBS)
tests_fuzz_fuzz_microdesc_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_microdesc
EXTRA_DIST += tests/fuzz/corpus/microdesc

check_PROGRAMS += tests/fuzz/fuzz_authcert
tests_fuzz_fuzz_authcert_SOURCES = tests/fuzz/fuzz_authcert.c $(FUZZ_REPLAY)
tests_fuzz_fuzz_authcert_LDADD = $(ONION_CORE_LIBS)
tests_fuzz_fuzz_authcert_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_authcert
EXTRA_DIST += tests/fuzz/corpus/authcert

check_PROGRAMS += tests/fuzz/fuzz_consdiff
tests_fuzz_fuzz_consdiff_SOURCES = tests/fuzz/fuzz_consdiff.c $(FUZZ_REPLAY)
tests_fuzz_fuzz_consdiff_LDADD = $(ONION_CORE_LIBS)
tests_fuzz_fuzz_consdiff_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_consdiff
EXTRA_DIST += tests/fuzz/corpus/consdiff
