# Unit tests of the dir layer and the facade: the directory manager with
# a fake environment, the DataDirectory cache, tk_onion_*.
check_PROGRAMS += tests/unit/test_dirmgr tests/unit/test_dirmgr_cache
tests_unit_test_dirmgr_SOURCES = tests/unit/test_dirmgr.c \
	tests/unit/dirmgr_fake.h tests/unit/netdoc_testutil.h tests/unit/tap.h
tests_unit_test_dirmgr_LDADD = $(ONION_LINK_LIBS)
tests_unit_test_dirmgr_cache_SOURCES = tests/unit/test_dirmgr_cache.c \
	tests/unit/dirmgr_fake.h tests/unit/netdoc_testutil.h tests/unit/tap.h
tests_unit_test_dirmgr_cache_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS)
tests_unit_test_dirmgr_cache_LDADD = $(ONION_LINK_LIBS)
TESTS += tests/unit/test_dirmgr tests/unit/test_dirmgr_cache


# tor's bootstrap in the fake world: fallbacks and authorities, 503,
# stalls, protocols, diffs, the directory guard; signed test documents.
check_PROGRAMS += tests/unit/test_dirmgr_boot
tests_unit_test_dirmgr_boot_SOURCES = tests/unit/test_dirmgr_boot.c \
	tests/unit/dirmgr_fake.h tests/unit/testdocs.h \
	tests/unit/netdoc_testutil.h tests/unit/tap.h \
	tools/dirsign.c tools/dirsign.h
tests_unit_test_dirmgr_boot_LDADD = $(ONION_LINK_LIBS)
TESTS += tests/unit/test_dirmgr_boot
