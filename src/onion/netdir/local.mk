# netdir: the network as a directory describes it (consensus joined with
# microdescriptors) and pure choices over it: roles, weights, paths.
src_onion_libonion_a_SOURCES += \
	src/onion/netdir/path.c \
	src/onion/netdir/path.h \
	src/onion/netdir/nodes.c \
	src/onion/netdir/nodes.h \
	src/onion/netdir/reach.c \
	src/onion/netdir/reach.h
