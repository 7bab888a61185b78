/* cli_lookup.h — many RESOLVE / RESOLVE_PTR lookups at once; tor-resolve
 * and tor-ptr are this plus their options. */
#ifndef TK_CLI_LOOKUP_H
#define TK_CLI_LOOKUP_H

#include "cli/cli_opts.h"

/* Runs every query in o (arguments, -f, - for stdin), prints the answers
 * and returns the exit code: 0 if all succeeded, else the largest code
 * among the failures. */
int cli_lookup_run(struct cli_opts *o);

#endif
