/* log.c — Tor-style timestamped log lines to the configured sinks. */
#include "daemon/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_SINKS_MAX 16

struct active_sink {
	int min, max, kind;
	int fd; /* stdout/stderr/file */
};

static const char *const level_names[] = {
	"debug", "info", "notice", "warn", "err",
};

/* Until the configuration is read, notices go to stderr so startup errors
 * are seen. */
static struct active_sink sinks[LOG_SINKS_MAX] = {
	{ TK_LOG_NOTICE, TK_LOG_ERR, TK_LOG_STDERR, STDERR_FILENO },
};
static int n_sinks = 1;
/* Every loop's thread logs (NumCPUs); the sinks change on reload. A
 * line is one write(2) either way, so the lock only keeps the sink list
 * whole while it is read or replaced. */
static pthread_mutex_t sinks_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int safe_logging = 1; /* read by every loop */
static int syslog_open;

int
tk_dlog_level_parse(const char *word)
{
	for (int i = 0; i <= TK_LOG_ERR; i++)
		if (strcasecmp(word, level_names[i]) == 0)
			return i;
	/* Tor accepts "warning" in places; so do we. */
	if (strcasecmp(word, "warning") == 0)
		return TK_LOG_WARN;
	return -1;
}

int
tk_dlog_parse_sink(const char *value, struct tk_log_sink *out, char *err,
		   size_t errlen)
{
	char buf[1024], *save = NULL, *sev, *kind, *rest, *dash;

	memset(out, 0, sizeof(*out));
	if (strlen(value) >= sizeof(buf)) {
		snprintf(err, errlen, "Log line too long");
		return -1;
	}
	strcpy(buf, value);
	sev = strtok_r(buf, " \t", &save);
	kind = strtok_r(NULL, " \t", &save);
	rest = strtok_r(NULL, "", &save);
	if (sev == NULL) {
		snprintf(err, errlen,
			 "Log needs a severity, e.g. "
			 "\"Log notice stderr\"");
		return -1;
	}
	/* "min-max" or "min" (meaning min up to err), as in Tor. */
	dash = strchr(sev, '-');
	if (dash != NULL) {
		*dash = '\0';
		out->min = tk_dlog_level_parse(sev);
		out->max = tk_dlog_level_parse(dash + 1);
	} else {
		out->min = tk_dlog_level_parse(sev);
		out->max = TK_LOG_ERR;
	}
	if (out->min < 0 || out->max < 0 || out->min > out->max) {
		snprintf(err, errlen,
			 "bad severity in Log \"%s\": use debug, "
			 "info, notice, warn or err, or a range like "
			 "info-err",
			 value);
		return -1;
	}
	if (kind == NULL)
		kind = "stdout";
	if (strcasecmp(kind, "stdout") == 0)
		out->kind = TK_LOG_STDOUT;
	else if (strcasecmp(kind, "stderr") == 0)
		out->kind = TK_LOG_STDERR;
	else if (strcasecmp(kind, "syslog") == 0)
		out->kind = TK_LOG_SYSLOG;
	else if (strcasecmp(kind, "file") == 0) {
		out->kind = TK_LOG_FILE;
		while (rest != NULL && (*rest == ' ' || *rest == '\t'))
			rest++;
		if (rest == NULL || *rest == '\0') {
			snprintf(err, errlen,
				 "Log %s file: missing the file "
				 "name",
				 sev);
			return -1;
		}
		out->path = strdup(rest);
		if (out->path == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		return 0;
	} else {
		snprintf(err, errlen,
			 "unknown log destination \"%s\": use "
			 "stdout, stderr, syslog or file PATH",
			 kind);
		return -1;
	}
	if (rest != NULL && strspn(rest, " \t") != strlen(rest)) {
		snprintf(err, errlen, "unexpected \"%s\" after Log %s", rest,
			 kind);
		return -1;
	}
	return 0;
}

static void
close_sinks(struct active_sink *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i].kind == TK_LOG_FILE && s[i].fd >= 0)
			close(s[i].fd);
}

int
tk_dlog_configure(const struct tk_log_sink *in, int n, int safe, char *err,
		  size_t errlen)
{
	struct active_sink next[LOG_SINKS_MAX];
	int used_syslog = 0;

	if (n > LOG_SINKS_MAX) {
		snprintf(err, errlen, "too many Log lines (at most %d)",
			 LOG_SINKS_MAX);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		next[i].min = in[i].min;
		next[i].max = in[i].max;
		next[i].kind = in[i].kind;
		next[i].fd = -1;
		switch (in[i].kind) {
		case TK_LOG_STDOUT:
			next[i].fd = STDOUT_FILENO;
			break;
		case TK_LOG_STDERR:
			next[i].fd = STDERR_FILENO;
			break;
		case TK_LOG_SYSLOG:
			used_syslog = 1;
			break;
		case TK_LOG_FILE:
			next[i].fd =
				open(in[i].path,
				     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
				     0600);
			if (next[i].fd < 0) {
				snprintf(err, errlen,
					 "cannot open log file "
					 "%s: %s",
					 in[i].path, strerror(errno));
				close_sinks(next, i);
				return -1;
			}
			break;
		}
	}
	pthread_mutex_lock(&sinks_lock);
	close_sinks(sinks, n_sinks);
	memcpy(sinks, next, sizeof(next[0]) * (size_t)n);
	n_sinks = n;
	safe_logging = safe;
	if (used_syslog && !syslog_open) {
		openlog("torkitd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		syslog_open = 1;
	}
	pthread_mutex_unlock(&sinks_lock);
	return 0;
}

void
tk_dlog_detach_tty(void)
{
	int j = 0;

	pthread_mutex_lock(&sinks_lock);
	for (int i = 0; i < n_sinks; i++)
		if (sinks[i].kind != TK_LOG_STDOUT &&
		    sinks[i].kind != TK_LOG_STDERR)
			sinks[j++] = sinks[i];
	n_sinks = j;
	pthread_mutex_unlock(&sinks_lock);
}

void
tk_dlog_shutdown(void)
{
	pthread_mutex_lock(&sinks_lock);
	close_sinks(sinks, n_sinks);
	n_sinks = 0;
	if (syslog_open)
		closelog();
	syslog_open = 0;
	pthread_mutex_unlock(&sinks_lock);
}

int
tk_dlog_enabled(int level)
{
	int on = 0;

	pthread_mutex_lock(&sinks_lock);
	for (int i = 0; i < n_sinks && !on; i++)
		on = level >= sinks[i].min && level <= sinks[i].max;
	pthread_mutex_unlock(&sinks_lock);
	return on;
}

int
tk_dlog_scrubbing(void)
{
	return safe_logging;
}

const char *
tk_dlog_safe(const char *s)
{
	return safe_logging ? "[scrubbed]" : s;
}

/* One write(2) per line so lines from a dying process are never torn. */
static void
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

void
tk_dlog_v(int level, const char *fmt, va_list ap)
{
	static const int syslog_prio[] = {
		LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARNING, LOG_ERR,
	};
	char line[2048], msg[1800];
	struct timeval tv;
	struct tm tm;
	size_t n;
	int len;

	if (!tk_dlog_enabled(level))
		return;
	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (len < 0)
		return;
	/* Nothing from the network reaches a log unescaped: control bytes
	 * become '?', so a hostile name cannot forge log lines. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%b %d %H:%M:%S", &tm);
	len = snprintf(line + n, sizeof(line) - n, ".%03d [%s] %s\n",
		       (int)(tv.tv_usec / 1000), level_names[level], msg);
	if (len < 0)
		return;
	n += (size_t)len < sizeof(line) - n ? (size_t)len
					    : sizeof(line) - n - 1;
	pthread_mutex_lock(&sinks_lock);
	for (int i = 0; i < n_sinks; i++) {
		if (level < sinks[i].min || level > sinks[i].max)
			continue;
		if (sinks[i].kind == TK_LOG_SYSLOG)
			syslog(syslog_prio[level], "%s", msg);
		else
			write_all(sinks[i].fd, line, n);
	}
	pthread_mutex_unlock(&sinks_lock);
}

void
tk_dlog(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tk_dlog_v(level, fmt, ap);
	va_end(ap);
}
