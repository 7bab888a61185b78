/* Log severities, with Tor's names and order: one set for the whole
 * project. Libraries that log take a tk_log_fn and leave the formatting
 * of the line's date and severity to whoever prints it. */
#ifndef TK_COMMON_LOG_LEVEL_H
#define TK_COMMON_LOG_LEVEL_H

enum tk_log_level {
	TK_LOG_DEBUG,
	TK_LOG_INFO,
	TK_LOG_NOTICE,
	TK_LOG_WARN,
	TK_LOG_ERR,
};

/* One line of text without a newline, at a tk_log_level. */
typedef void (*tk_log_fn)(void *arg, int level, const char *msg);

#endif
