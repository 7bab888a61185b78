/* One formatted line to a tk_log_fn: what every part of the engine that
 * takes a log callback and its argument in its configuration needs, so
 * that each writes `tk_logf(cfg.log, cfg.log_arg, level, "...", ...)`
 * (or a macro of its own over it) instead of a copy of this. */
#ifndef TK_ONION_BASE_LOGF_H
#define TK_ONION_BASE_LOGF_H

#include "common/log_level.h"

/* Longest line, with its NUL: a longer one is cut. */
#define TK_LOGF_MAX 512

/* Formats and passes the line to fn(arg, level, line); nothing when fn
 * is NULL (silent), not even the formatting. */
void tk_logf(tk_log_fn fn, void *arg, int level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
