# The directory manager fed hostile directory answers. Needs to be
# included after tests/fuzz/local.mk (FUZZ_TESTS, FUZZ_REPLAY).
check_PROGRAMS += tests/fuzz/fuzz_dirmgr
tests_fuzz_fuzz_dirmgr_SOURCES = tests/fuzz/fuzz_dirmgr.c $(FUZZ_REPLAY)
tests_fuzz_fuzz_dirmgr_LDADD = $(ONION_LINK_LIBS)
tests_fuzz_fuzz_dirmgr_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_dirmgr
EXTRA_DIST += tests/fuzz/corpus/dirmgr
