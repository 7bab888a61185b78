/* libFuzzer harness: the state file's lines (guards_state.c, cbt.c), as
 * a Tor state file or a damaged one holds them. Properties: no crash or
 * overrun, the bounds hold (TK_GUARDS_MAX members, TK_CBT_NCIRCUITS
 * times), and every line we write back is accepted again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onion/client/cbt.h"
#include "onion/guard/guards.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t counter(void *arg)
{
	uint64_t *c = arg;
	return (*c)++ * 0x9e3779b97f4a7c15ULL;
}

static void feed(tk_guards *g, tk_cbt *b, char *text)
{
	char err[200], *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "Guard ", 6))
			tk_guards_load_line(g, line + 6, err, sizeof err);
		else
			tk_cbt_load_line(b, line, err, sizeof err);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tk_guards *g, *g2;
	tk_cbt *b, *b2;
	char *in, *gl, *bl, err[200], *save = NULL;
	uint64_t c = 1;

	if (size > 65536)
		return 0;
	in = malloc(size + 1);
	g = tk_guards_new();
	b = tk_cbt_new();
	g2 = tk_guards_new();
	b2 = tk_cbt_new();
	if (!in || !g || !b || !g2 || !b2)
		abort();
	memcpy(in, data, size);
	in[size] = '\0';
	feed(g, b, in);
	tk_cbt_load_done(b, counter, &c);
	if (tk_guards_count(g) > TK_GUARDS_MAX ||
	    tk_cbt_count(b) > TK_CBT_NCIRCUITS)
		abort();
	gl = tk_guards_state_text(g);
	bl = tk_cbt_state_text(b);
	if (!gl || !bl)
		abort();
	for (char *line = strtok_r(gl, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "Guard ", 6) ||
		    tk_guards_load_line(g2, line + 6, err, sizeof err) != 0)
			abort(); /* we wrote a line we refuse */
	save = NULL;
	for (char *line = strtok_r(bl, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (tk_cbt_load_line(b2, line, err, sizeof err) != 1)
			abort();
	if (tk_guards_count(g2) != tk_guards_count(g))
		abort();
	free(gl);
	free(bl);
	free(in);
	tk_guards_free(g);
	tk_guards_free(g2);
	tk_cbt_free(b);
	tk_cbt_free(b2);
	return 0;
}
