/* log.h — torkitd's log, formatted like Tor's:
 *   "Nov 27 08:00:00.123 [notice] Opened Socks listener ..."
 * Sinks come from `Log` lines (stdout, stderr, file, syslog), each with a
 * severity range. Hostnames and addresses go through tk_dlog_safe() so
 * SafeLogging can scrub them. */
#ifndef TK_DAEMON_LOG_H
#define TK_DAEMON_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "common/log_level.h"

enum tk_log_kind {
	TK_LOG_STDOUT,
	TK_LOG_STDERR,
	TK_LOG_FILE,
	TK_LOG_SYSLOG,
};

struct tk_log_sink {
	int min, max; /* enum tk_log_level, inclusive */
	int kind;     /* enum tk_log_kind */
	char *path;   /* TK_LOG_FILE */
};

/* Parse a Log value ("notice stderr", "info-err file /path",
 * "warn syslog"). 0 or -1 with a message in err. */
int tk_dlog_parse_sink(const char *value, struct tk_log_sink *out, char *err,
		       size_t errlen);
int tk_dlog_level_parse(const char *word);

/* Replace the active sinks (files are opened here; on failure the old
 * sinks stay and -1 is returned with err set). */
int tk_dlog_configure(const struct tk_log_sink *sinks, int n, int safe,
		      char *err, size_t errlen);
/* Drop stdout/stderr sinks (RunAsDaemon). */
void tk_dlog_detach_tty(void);
void tk_dlog_shutdown(void);
int tk_dlog_enabled(int level);

void tk_dlog(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tk_dlog_v(int level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* A hostname or address for a log line: itself, or "[scrubbed]" while
 * SafeLogging is on. */
const char *tk_dlog_safe(const char *s);
int tk_dlog_scrubbing(void);

#define tk_debug(...) tk_dlog(TK_LOG_DEBUG, __VA_ARGS__)
#define tk_info(...) tk_dlog(TK_LOG_INFO, __VA_ARGS__)
#define tk_notice(...) tk_dlog(TK_LOG_NOTICE, __VA_ARGS__)
#define tk_warn(...) tk_dlog(TK_LOG_WARN, __VA_ARGS__)
#define tk_err(...) tk_dlog(TK_LOG_ERR, __VA_ARGS__)

#endif
