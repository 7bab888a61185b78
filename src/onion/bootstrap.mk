# onion bootstrap: directory manager, DataDirectory cache, one-hop
# directory fetches, the engine facade (H9).
src_onion_libonion_a_SOURCES += \
	src/onion/dircache.c src/onion/dircache.h \
	src/onion/dirmgr.c src/onion/dirmgr.h src/onion/dirmgr_int.h \
	src/onion/dirmgr_sources.c src/onion/dirmgr_store.c \
	src/onion/dirmgr_mds.c \
	src/onion/dirfetch.c src/onion/dirfetch.h \
	src/onion/onion.c src/onion/onion.h

# Developer tool: bootstrap against DirAuthority lines, print progress and
# the usable relay count.
noinst_PROGRAMS += tools/tkbootstrap
tools_tkbootstrap_SOURCES = tools/tkbootstrap.c
tools_tkbootstrap_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS)
tools_tkbootstrap_LDADD = $(ONION_LINK_LIBS)
