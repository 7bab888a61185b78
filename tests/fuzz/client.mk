# Fuzz harness for the state file's lines (guards and build times).
check_PROGRAMS += tests/fuzz/fuzz_statefile
tests_fuzz_fuzz_statefile_SOURCES = tests/fuzz/fuzz_statefile.c $(FUZZ_REPLAY)
tests_fuzz_fuzz_statefile_LDADD = $(ONION_CORE_LIBS) -lm
tests_fuzz_fuzz_statefile_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_statefile
EXTRA_DIST += tests/fuzz/corpus/statefile
