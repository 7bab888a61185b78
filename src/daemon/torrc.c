/* torrc.c — split a torrc-style file and the command line into entries.
 *
 * The file is Tor's format: `Keyword value` per line, `#` comments, a
 * trailing backslash continues a line, values may be "quoted" with C
 * escapes. A `--Keyword value` pair on the command line replaces every
 * file line of that keyword when every line of it counts (as in Tor).
 * What a keyword means is the caller's business (conf.c).
 */
#include "daemon/torrc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

void
tk_torrc_init(struct tk_torrc *t, tk_torrc_lookup_fn *lookup, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->lookup = lookup;
	t->arg = arg;
}

void
tk_torrc_free(struct tk_torrc *t)
{
	/* The value lives in the keyword's allocation. */
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].keyword != NULL ? t->v[i].keyword : t->v[i].value);
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

/* Append an entry; keyword and value are copied into one allocation. */
static int
push(struct tk_torrc *t, int kind, const char *keyword, const char *value,
     const char *file, int line)
{
	struct tk_torrc_entry *e;
	size_t klen = keyword != NULL ? strlen(keyword) + 1 : 0;
	size_t vlen = strlen(value) + 1;
	char *buf;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		struct tk_torrc_entry *v = realloc(t->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	buf = malloc(klen + vlen);
	if (buf == NULL)
		return -1;
	e = &t->v[t->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->id = -1;
	e->keyword = keyword != NULL ? buf : NULL;
	if (keyword != NULL)
		memcpy(buf, keyword, klen);
	e->value = buf + klen;
	memcpy(e->value, value, vlen);
	e->file = file;
	e->line = line;
	return 0;
}

int
tk_torrc_unquote(char *s)
{
	size_t len = strlen(s);
	char *o = s;

	if (len < 2 || s[len - 1] != '"')
		return -1;
	s[len - 1] = '\0';
	for (char *p = s + 1; *p; p++) {
		if (*p == '"')
			return -1;
		if (*p != '\\') {
			*o++ = *p;
			continue;
		}
		p++;
		/* clang-format off */
		switch (*p) {
		case 'n': *o++ = '\n'; break;
		case 't': *o++ = '\t'; break;
		case 'r': *o++ = '\r'; break;
		case '\\': *o++ = '\\'; break;
		case '"': *o++ = '"'; break;
		case '\'': *o++ = '\''; break;
		default: return -1;
		}
		/* clang-format on */
	}
	*o = '\0';
	return 0;
}

/* One logical line, comment and continuations gone: an entry, or
 * nothing when it is blank. */
static int
tokenize(struct tk_torrc *t, const char *file, int line, char *p)
{
	struct tk_torrc_entry *e;
	char *key, *val, *end;

	while (isspace((unsigned char)*p))
		p++;
	end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		*--end = '\0';
	if (*p == '\0')
		return 0;
	key = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	if (*p)
		*p++ = '\0';
	while (isspace((unsigned char)*p))
		p++;
	val = p;
	if (push(t, TK_TORRC_ENTRY, key, val, file, line) < 0)
		return -1;
	e = &t->v[t->n - 1];
	e->id = t->lookup(t->arg, key, &e->repeated);
	/* An unknown keyword says more than its value's quoting. */
	if (e->id < 0)
		e->kind = TK_TORRC_UNKNOWN;
	else if (*val == '"' && tk_torrc_unquote(e->value) < 0) {
		strcpy(e->value, val); /* as written, for a message */
		e->kind = TK_TORRC_BAD_QUOTE;
	}
	return 0;
}

int
tk_torrc_read(struct tk_torrc *t, const char *file, FILE *f)
{
	char *line = NULL, *logical = NULL;
	size_t cap = 0, llen = 0;
	ssize_t n;
	int lineno = 0, start_line = 0;

	while ((n = getline(&line, &cap, f)) >= 0) {
		char *p, *end;
		int cont = 0, in_q = 0;

		lineno++;
		if (logical == NULL)
			start_line = lineno;
		/* The rest of such a line could not be seen: skip it
		 * whole, but keep joining a continued line around it. */
		if (memchr(line, '\0', (size_t)n) != NULL) {
			if (push(t, TK_TORRC_NUL, NULL, "", file, lineno) < 0)
				goto oom;
			continue;
		}
		/* Strip the comment (outside quotes) and the newline. */
		for (p = line; *p; p++) {
			if (*p == '"' && (p == line || p[-1] != '\\'))
				in_q = !in_q;
			if (*p == '#' && !in_q) {
				*p = '\0';
				break;
			}
		}
		end = line + strlen(line);
		while (end > line && (end[-1] == '\n' || end[-1] == '\r'))
			*--end = '\0';
		if (end > line && end[-1] == '\\') {
			*--end = '\0';
			cont = 1;
		}
		{
			size_t add = strlen(line);
			char *nl = realloc(logical, llen + add + 2);

			if (nl == NULL)
				goto oom;
			logical = nl;
			memcpy(logical + llen, line, add);
			llen += add;
			logical[llen] = '\0';
		}
		if (cont)
			continue;
		if (tokenize(t, file, start_line, logical) < 0)
			goto oom;
		free(logical);
		logical = NULL;
		llen = 0;
	}
	if (logical != NULL &&
	    push(t, TK_TORRC_UNTERMINATED, NULL, "", file, start_line) < 0)
		goto oom;
	free(line);
	free(logical);
	return 0;
oom:
	free(line);
	free(logical);
	return -1;
}

int
tk_torrc_args(struct tk_torrc *t, int argc, char *const *argv)
{
	size_t first_arg = t->n, o = 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		int id = -1, repeated = 0, kind = TK_TORRC_ENTRY;

		if (strncmp(a, "--", 2) == 0)
			id = t->lookup(t->arg, a + 2, &repeated);
		/* Not knowing what it is, leave the next argument be: it
		 * is reported on its own. */
		if (id < 0) {
			if (push(t, TK_TORRC_UNKNOWN, a, "", NULL, i + 1) < 0)
				return -1;
			continue;
		}
		if (i + 1 >= argc)
			kind = TK_TORRC_NO_VALUE;
		if (push(t, kind, a + 2,
			 kind == TK_TORRC_NO_VALUE ? "" : argv[i + 1], NULL,
			 i + 1) < 0)
			return -1;
		t->v[t->n - 1].id = id;
		t->v[t->n - 1].repeated = repeated;
		i++;
	}

	/* A repeated option given on the command line replaces the
	 * file's lines; a missing value replaces nothing. */
	for (size_t i = 0; i < first_arg; i++) {
		struct tk_torrc_entry *e = &t->v[i];

		if (e->kind != TK_TORRC_ENTRY || !e->repeated)
			continue;
		for (size_t j = first_arg; j < t->n; j++)
			if (t->v[j].kind == TK_TORRC_ENTRY &&
			    t->v[j].id == e->id) {
				free(e->keyword);
				e->keyword = e->value = NULL;
				break;
			}
	}
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].value != NULL)
			t->v[o++] = t->v[i];
	t->n = o;
	return 0;
}
