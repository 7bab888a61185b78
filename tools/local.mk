# Developer tools, tornet, benchmarks.
# tools/tornet: a local network of real Tor relays for the interop tests
# (start|stop|status|env DIR [--base PORT]); see research/tornet.md.
dist_noinst_SCRIPTS += tools/tornet
# Benchmarks (tools/bench/): each runs its peers in the same run and prints
# ratios. socksload is the libuv load generator socks-bench builds itself.
dist_noinst_SCRIPTS += tools/bench/socks-bench
EXTRA_DIST += tools/bench/socksload.c
dist_noinst_SCRIPTS += tools/bench/onion-bench
