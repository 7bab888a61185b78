/* The public Tor network's directory authorities and fallback directory
 * mirrors, compiled in: what the tor engine trusts and asks when nothing
 * else is configured. The lists are generated from tor's own
 * (tools/gen-dirlists, from tools/dirlists/); they go stale within months
 * and are refreshed the same way.
 *
 * Strings in torrc syntax, for tk_dirauth_parse() and
 * tk_dirfallback_parse() (netdoc/dirauth.h). */
#ifndef TK_ONION_DIR_BUILTIN_H
#define TK_ONION_DIR_BUILTIN_H

#include <stddef.h>

struct tk_builtin_fallback {
	const char *nickname; /* "" if the list had none */
	const char *line;     /* FallbackDir syntax */
};

/* The v3 authorities (bridge authorities are not in the list). */
const char *const *tk_builtin_authorities(size_t *n);
const struct tk_builtin_fallback *tk_builtin_fallbacks(size_t *n);

#endif
