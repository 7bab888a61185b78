# libtorkit additions: the libuv SOCKS client session used by the clients.
