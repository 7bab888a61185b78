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

# Consensus diffs with the SHA3 that names documents, and subprotocol
# lists; the documents are signed at run time with the test authorities'
# keys (tests/data/netdoc/testauth, tools/dirsign.c).
check_PROGRAMS += tests/unit/test_netdoc_consdiff
tests_unit_test_netdoc_consdiff_SOURCES = tests/unit/test_netdoc_consdiff.c \
	tests/unit/testdocs.h tests/unit/netdoc_testutil.h \
	tools/dirsign.c tools/dirsign.h
tests_unit_test_netdoc_consdiff_LDADD = $(NETDOC_TEST_LIBS)
TESTS += tests/unit/test_netdoc_consdiff

# Documents of the public network and the built-in directory lists.
check_PROGRAMS += tests/unit/test_netdoc_realnet
tests_unit_test_netdoc_realnet_SOURCES = tests/unit/test_netdoc_realnet.c
tests_unit_test_netdoc_realnet_LDADD = $(NETDOC_TEST_LIBS)
TESTS += tests/unit/test_netdoc_realnet
EXTRA_DIST += tests/data/realnet
