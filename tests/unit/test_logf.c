/* tk_logf (onion/base/logf.h): the line reaches the callback with its
 * level and argument, formatted; a NULL callback is silent; a line
 * longer than TK_LOGF_MAX - 1 is cut there, never overrun. */
#include <string.h>

#include "../unit/tap.h"
#include "onion/base/logf.h"

static int calls, got_level;
static void *got_arg;
static char got[2 * TK_LOGF_MAX];

static void
sink(void *arg, int level, const char *msg)
{
	calls++;
	got_arg = arg;
	got_level = level;
	strncpy(got, msg, sizeof got - 1);
}

int
main(void)
{
	char big[TK_LOGF_MAX + 100];
	int token;

	tk_logf(sink, &token, TK_LOG_NOTICE,
		"circ %u (%s) failed after %d hops", 7u, "g~m~x", 2);
	tap_eq_long(calls, 1, "one call");
	tap_ok(got_arg == &token, "the callback's argument is passed");
	tap_eq_long(got_level, TK_LOG_NOTICE, "the level is passed");
	tap_eq_str(got, "circ 7 (g~m~x) failed after 2 hops", "formatted");

	tk_logf(NULL, &token, TK_LOG_ERR, "%s", "nobody listens");
	tap_eq_long(calls, 1, "a NULL callback: nothing");

	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	tk_logf(sink, NULL, TK_LOG_INFO, "%s!", big);
	tap_eq_long(calls, 2, "a long line is passed");
	tap_eq_long((long)strlen(got), TK_LOGF_MAX - 1,
		    "cut at TK_LOGF_MAX - 1 bytes");
	tap_ok(strspn(got, "a") == TK_LOGF_MAX - 1, "its start kept");
	return tap_done();
}
