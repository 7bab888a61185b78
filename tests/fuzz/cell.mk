# Fuzz harnesses for cells, CERTS and base64. Seeds:
# tests/fuzz/corpus/<name>/.
check_PROGRAMS += tests/fuzz/fuzz_cell
tests_fuzz_fuzz_cell_SOURCES = tests/fuzz/fuzz_cell.c $(FUZZ_REPLAY)
tests_fuzz_fuzz_cell_LDADD = $(ONION_CORE_LIBS)
tests_fuzz_fuzz_cell_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_cell
EXTRA_DIST += tests/fuzz/corpus/cell

check_PROGRAMS += tests/fuzz/fuzz_cell_payload
tests_fuzz_fuzz_cell_payload_SOURCES = tests/fuzz/fuzz_cell_payload.c \
	$(FUZZ_REPLAY)
tests_fuzz_fuzz_cell_payload_LDADD = $(ONION_CORE_LIBS)
tests_fuzz_fuzz_cell_payload_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_cell_payload
EXTRA_DIST += tests/fuzz/corpus/cell_payload

check_PROGRAMS += tests/fuzz/fuzz_certs
tests_fuzz_fuzz_certs_SOURCES = tests/fuzz/fuzz_certs.c $(FUZZ_REPLAY)
tests_fuzz_fuzz_certs_LDADD = $(ONION_CORE_LIBS)
tests_fuzz_fuzz_certs_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_certs
EXTRA_DIST += tests/fuzz/corpus/certs

check_PROGRAMS += tests/fuzz/fuzz_base64
tests_fuzz_fuzz_base64_SOURCES = tests/fuzz/fuzz_base64.c $(FUZZ_REPLAY)
tests_fuzz_fuzz_base64_LDADD = $(ONION_CORE_LIBS)
tests_fuzz_fuzz_base64_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_base64
EXTRA_DIST += tests/fuzz/corpus/base64
