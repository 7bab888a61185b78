# Developer tools, tornet, benchmarks.
# tools/tornet: a local network of real Tor relays for the interop tests
# (start|stop|status|env DIR [--base PORT]); see research/tornet.md.
dist_noinst_SCRIPTS += tools/tornet
