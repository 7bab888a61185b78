/* torrc.h — the torrc tokenizer: `Keyword value` lines from a file in
 * Tor's format and `--Keyword value` pairs from the command line, each
 * with where it came from.
 *
 * It knows the format (comments, continued lines, "quoted" values) and,
 * through a callback, which keywords exist and which may repeat; nothing
 * of what an option means. Problems become entries too, in the order they
 * occur, so the caller reports them in that order with its own words. */
#ifndef TK_DAEMON_TORRC_H
#define TK_DAEMON_TORRC_H

#include <stddef.h>
#include <stdio.h>

enum tk_torrc_kind {
	TK_TORRC_ENTRY,	       /* keyword and value */
	TK_TORRC_UNKNOWN,      /* a keyword the callback does not know */
	TK_TORRC_BAD_QUOTE,    /* a "quoted" value that does not unquote */
	TK_TORRC_NUL,	       /* a NUL byte: the physical line is skipped */
	TK_TORRC_UNTERMINATED, /* the file ends inside a continued line */
	TK_TORRC_NO_VALUE,     /* --Keyword is the last argument */
};

struct tk_torrc_entry {
	int kind;	  /* enum tk_torrc_kind */
	int id;		  /* the callback's number for the keyword */
	int repeated;	  /* every line of it counts */
	char *keyword;	  /* as written; on the command line without
			   * "--", except for TK_TORRC_UNKNOWN which
			   * keeps the argument whole. NULL for NUL
			   * and UNTERMINATED */
	char *value;	  /* unquoted; "" when there is none */
	const char *file; /* the caller's string; NULL: command line */
	int line;	  /* of the file (the first of a continued
			   * line), or argv index + 1 */
};

/* Whether `keyword` names an option, case-insensitively: a number >= 0,
 * the same for every spelling, or -1. *repeated is set when every line
 * of it counts, so that --Keyword replaces the file's lines. */
typedef int tk_torrc_lookup_fn(void *arg, const char *keyword, int *repeated);

struct tk_torrc {
	struct tk_torrc_entry *v;
	size_t n, cap;
	tk_torrc_lookup_fn *lookup;
	void *arg;
};

void tk_torrc_init(struct tk_torrc *t, tk_torrc_lookup_fn *lookup, void *arg);
/* Append the lines of `f`; `file` names it in the entries and must
 * outlive them. 0, or -1 when out of memory. */
int tk_torrc_read(struct tk_torrc *t, const char *file, FILE *f);
/* Append `--Keyword value` pairs, then drop the file lines of every
 * repeated keyword they name: call it after tk_torrc_read. An unknown
 * argument does not take the next one with it. 0, or -1 out of memory. */
int tk_torrc_args(struct tk_torrc *t, int argc, char *const *argv);
void tk_torrc_free(struct tk_torrc *t);

/* Unquote a "..." value (s starts with the quote) with C escapes, in
 * place; 0, or -1 if malformed. */
int tk_torrc_unquote(char *s);

#endif
