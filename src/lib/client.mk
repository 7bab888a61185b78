# libtorkit additions: the libuv SOCKS client session used by the clients.
src_lib_libtorkit_a_SOURCES += \
	src/lib/socks_client.h src/lib/socks_client.c
