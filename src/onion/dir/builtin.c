/* builtin.h: the generated lists (builtin_*.inc). */
#include "onion/dir/builtin.h"

#include "common/util.h"

static const char *const authorities[] = {
#include "onion/dir/builtin_authorities.inc"
};

static const struct tk_builtin_fallback fallbacks[] = {
#include "onion/dir/builtin_fallbacks.inc"
};

const char *const *
tk_builtin_authorities(size_t *n)
{
	*n = ARRAY_SIZE(authorities);
	return authorities;
}

const struct tk_builtin_fallback *
tk_builtin_fallbacks(size_t *n)
{
	*n = ARRAY_SIZE(fallbacks);
	return fallbacks;
}
