# dir: directory fetches, the DataDirectory cache, the bootstrap state
# machine.
src_onion_libonion_a_SOURCES += \
	src/onion/dir/dirhttp.c \
	src/onion/dir/dirhttp.h \
	src/onion/dir/dirclient.c \
	src/onion/dir/dirclient.h \
	src/onion/dir/dirfetch.c \
	src/onion/dir/dirfetch.h \
	src/onion/dir/dircache.c \
	src/onion/dir/dircache.h \
	src/onion/dir/dirmgr.c \
	src/onion/dir/dirmgr.h \
	src/onion/dir/dirmgr_int.h \
	src/onion/dir/dirmgr_mds.c \
	src/onion/dir/dirmgr_sources.c \
	src/onion/dir/dirmgr_store.c
