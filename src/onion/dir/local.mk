# dir: directory fetches (HTTP over BEGIN_DIR, one-hop circuits), the
# DataDirectory cache, and the bootstrap state machine with its books:
# sources and their backoff, authority certificates, microdescriptors;
# the public network's authorities and fallbacks (builtin_*.inc, made by
# tools/gen-dirlists).
src_onion_libonion_a_SOURCES += \
	src/onion/dir/dirhttp.c \
	src/onion/dir/dirhttp.h \
	src/onion/dir/dirclient.c \
	src/onion/dir/dirclient.h \
	src/onion/dir/dirfetch.c \
	src/onion/dir/dirfetch.h \
	src/onion/dir/dircache.c \
	src/onion/dir/dircache.h \
	src/onion/dir/dirsrc.c \
	src/onion/dir/dirsrc.h \
	src/onion/dir/certstore.c \
	src/onion/dir/certstore.h \
	src/onion/dir/mdstore.c \
	src/onion/dir/mdstore.h \
	src/onion/dir/dlsched.c \
	src/onion/dir/dlsched.h \
	src/onion/dir/dirstore.c \
	src/onion/dir/dirstore.h \
	src/onion/dir/dirdocs.c \
	src/onion/dir/dirdocs.h \
	src/onion/dir/dirreqs.c \
	src/onion/dir/dirreqs.h \
	src/onion/dir/dirmgr.c \
	src/onion/dir/dirmgr.h \
	src/onion/dir/builtin.c \
	src/onion/dir/builtin.h \
	src/onion/dir/builtin_authorities.inc \
	src/onion/dir/builtin_fallbacks.inc
