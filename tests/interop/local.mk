# Interop tests against real Tor on tools/tornet (make check-interop).
