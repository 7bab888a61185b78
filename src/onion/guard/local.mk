# guard: guard-spec's guard sets and their state-file lines.
src_onion_libonion_a_SOURCES += \
	src/onion/guard/guards.c \
	src/onion/guard/guards.h \
	src/onion/guard/guards_int.h \
	src/onion/guard/guards_state.c
