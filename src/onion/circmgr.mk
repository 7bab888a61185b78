# onion circuit manager, guards, streams (H10).
src_onion_libonion_a_SOURCES += \
	src/onion/guards.c src/onion/guards.h \
	src/onion/circmgr.c src/onion/circmgr.h src/onion/circmgr_int.h \
	src/onion/circmgr_tp.c \
	src/onion/ostream.c src/onion/ostream.h

# Developer tool: bootstrap from DirAuthority lines, then resolve, reverse
# resolve, or pipe stdin/stdout over a 3-hop stream.
noinst_PROGRAMS += tools/tkstream
tools_tkstream_SOURCES = tools/tkstream.c
tools_tkstream_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS)
tools_tkstream_LDADD = $(ONION_LINK_LIBS)
EXTRA_DIST += tests/interop/onion_streams.bats
