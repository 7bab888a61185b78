# libtorkit: the shared core (codec, addresses, client session).
# src/lib/client.mk appends the libuv client session with +=.
noinst_LIBRARIES += src/lib/libtorkit.a
src_lib_libtorkit_a_SOURCES = \
	src/lib/addr.h src/lib/addr.c \
	src/lib/socks_proto.h src/lib/socks_int.h \
	src/lib/socks_proto_server.c \
	src/lib/socks_proto_client.c \
	src/lib/socks_proto_reply.c
