# guard: the persistent guard set.
src_onion_libonion_a_SOURCES += \
	src/onion/guard/guards.c \
	src/onion/guard/guards.h
