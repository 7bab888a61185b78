# bats tests of the onion engine's link layer that need no Tor network:
# the TLS ClientHello next to tor's (clienthello.py captures and
# compares; tor runs in a network namespace with loopback only).
LINK_BATS = tests/bats/link_clienthello.bats
TESTS += $(LINK_BATS)
EXTRA_DIST += $(LINK_BATS) tests/bats/clienthello.py
