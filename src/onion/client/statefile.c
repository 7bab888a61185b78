/* statefile.h: the DataDirectory's state file. */
#include "onion/client/statefile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "onion/base/atomicfile.h"

static void
note(char *err, size_t errlen, int *bad, unsigned lineno, const char *why)
{
	if (!*bad)
		snprintf(err, errlen, "line %u: %s", lineno, why);
	*bad = 1;
}

int
tk_statefile_load(const char *path, tk_guards *g, tk_cbt *b,
		  uint64_t (*rand)(void *arg), void *arg, char *err,
		  size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text, *line, *save = NULL;
	size_t len;
	unsigned lineno = 0;
	int bad = 0;

	err[0] = '\0';
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	text = malloc(TK_STATEFILE_MAX + 1);
	if (!text) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	len = fread(text, 1, TK_STATEFILE_MAX + 1, f);
	fclose(f);
	if (len > TK_STATEFILE_MAX) {
		free(text);
		snprintf(err, errlen, "larger than %u bytes: not read",
			 (unsigned)TK_STATEFILE_MAX);
		return -1;
	}
	text[len] = '\0';
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char why[160];
		size_t l = strlen(line);
		lineno++;
		if (l && line[l - 1] == '\r')
			line[--l] = '\0';
		if (!strncmp(line, "Guard ", 6)) {
			if (g && tk_guards_load_line(g, line + 6, why,
						     sizeof why) != 0)
				note(err, errlen, &bad, lineno, why);
		} else if (b &&
			   tk_cbt_load_line(b, line, why, sizeof why) < 0) {
			note(err, errlen, &bad, lineno, why);
		}
	}
	free(text);
	if (b)
		tk_cbt_load_done(b, rand, arg);
	if (g)
		tk_guards_saved(g);
	return bad;
}

int
tk_statefile_save(const char *path, tk_guards *g, tk_cbt *b, int64_t wall_s,
		  char *err, size_t errlen)
{
	char head[128];
	char *gl = g ? tk_guards_state_text(g) : NULL;
	char *bl = b ? tk_cbt_state_text(b) : NULL;
	const void *parts[3];
	size_t lens[3];
	time_t t = (time_t)wall_s;
	struct tm tm;
	int rc;

	if ((g && !gl) || (b && !bl)) {
		free(gl);
		free(bl);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof tm);
	snprintf(head, sizeof head,
		 "# torkit state file: rewritten by torkitd, edit with care\n"
		 "LastWritten %04d-%02d-%02d %02d:%02d:%02d\n",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
	parts[0] = head;
	lens[0] = strlen(head);
	parts[1] = gl ? gl : "";
	lens[1] = gl ? strlen(gl) : 0;
	parts[2] = bl ? bl : "";
	lens[2] = bl ? strlen(bl) : 0;
	rc = tk_file_replace(path, parts, lens, 3, err, errlen);
	free(gl);
	free(bl);
	if (rc == 0) {
		if (g)
			tk_guards_saved(g);
		if (b)
			tk_cbt_saved(b);
	}
	return rc;
}
