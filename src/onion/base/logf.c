/* logf.h: one formatted line to a log callback. */
#include "onion/base/logf.h"

#include <stdarg.h>
#include <stdio.h>

void
tk_logf(tk_log_fn fn, void *arg, int level, const char *fmt, ...)
{
	char msg[TK_LOGF_MAX];
	va_list ap;
	if (!fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fn(arg, level, msg);
}
