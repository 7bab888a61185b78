# common: headers every part of torkit may include (no code).
noinst_HEADERS = src/common/log_level.h src/common/util.h
