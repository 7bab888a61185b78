# Directory document unit tests.
NETDOC_TEST_LIBS = $(ONION_CORE_LIBS)

check_PROGRAMS += tests/unit/test_netdoc_docs
tests_unit_test_netdoc_docs_SOURCES = tests/unit/test_netdoc_docs.c \
	tests/unit/netdoc_testutil.h
tests_unit_test_netdoc_docs_LDADD = $(NETDOC_TEST_LIBS)
TESTS += tests/unit/test_netdoc_docs

EXTRA_DIST += tests/data/netdoc

check_PROGRAMS += tests/unit/test_netdoc_tokenizer
tests_unit_test_netdoc_tokenizer_SOURCES = tests/unit/test_netdoc_tokenizer.c
tests_unit_test_netdoc_tokenizer_LDADD = $(NETDOC_TEST_LIBS)
TESTS += tests/unit/test_netdoc_tokenizer

check_PROGRAMS += tests/unit/test_netdoc_path
tests_unit_test_netdoc_path_SOURCES = tests/unit/test_netdoc_path.c \
	tests/unit/netdoc_testutil.h
tests_unit_test_netdoc_path_LDADD = $(NETDOC_TEST_LIBS) -lm
TESTS += tests/unit/test_netdoc_path
