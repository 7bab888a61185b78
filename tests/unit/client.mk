# Unit tests of the guard and client layers: the circuit manager and the
# client streams against a scripted exit (the transport seam of ocirc.h),
# with the real stream table and windows; the guard sets and the state
# file; the learned circuit build timeout.
check_PROGRAMS += tests/unit/test_circmgr
tests_unit_test_circmgr_SOURCES = tests/unit/test_circmgr.c tests/unit/tap.h
tests_unit_test_circmgr_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS)
tests_unit_test_circmgr_LDADD = $(ONION_LINK_LIBS)
TESTS += tests/unit/test_circmgr
check_PROGRAMS += tests/unit/test_guards
tests_unit_test_guards_SOURCES = tests/unit/test_guards.c tests/unit/tap.h
tests_unit_test_guards_LDADD = $(ONION_LINK_LIBS)
tests_unit_test_guards_LDFLAGS = -Wl,--wrap=fsync -Wl,--wrap=rename
TESTS += tests/unit/test_guards
check_PROGRAMS += tests/unit/test_cbt
tests_unit_test_cbt_SOURCES = tests/unit/test_cbt.c tests/unit/tap.h
tests_unit_test_cbt_LDADD = $(ONION_LINK_LIBS) -lm
TESTS += tests/unit/test_cbt
