# Shared fuzz support. A harness is one file defining LLVMFuzzerTestOneInput;
# without --enable-fuzzing it links tests/fuzz/replay.c and `make check`
# replays its seed corpus (tests/fuzz/corpus/<name>/). tests/fuzz/run builds
# the libFuzzer versions with clang and runs each for a bounded time.
#
# A harness fragment adds, for harness NAME:
#   check_PROGRAMS += tests/fuzz/fuzz_NAME
#   tests_fuzz_fuzz_NAME_SOURCES = tests/fuzz/fuzz_NAME.c $(FUZZ_REPLAY)
#   tests_fuzz_fuzz_NAME_LDADD = <libraries>
#   tests_fuzz_fuzz_NAME_LDFLAGS = $(FUZZ_LINK_FLAGS)
#   FUZZ_TESTS += tests/fuzz/fuzz_NAME
#   EXTRA_DIST += tests/fuzz/corpus/NAME
FUZZ_REPLAY = tests/fuzz/replay.c
FUZZ_TESTS =
if FUZZING
FUZZ_LINK_FLAGS = -fsanitize=fuzzer
else
FUZZ_LINK_FLAGS =
endif
EXTRA_DIST += tests/fuzz/run
