/* tor-resolve — resolve host names through a SOCKS proxy with Tor's
 * RESOLVE extension. A drop-in for Tor's tool (same synopsis, same
 * output for one name), plus batches; see tor-resolve(1). */
#include <signal.h>

#include "cli/cli_lookup.h"
#include "cli/cli_opts.h"

int
main(int argc, char **argv)
{
	struct cli_opts o;

	signal(SIGPIPE, SIG_IGN);
	cli_opts_parse(&o, CLI_RESOLVE, argc, argv);
	return cli_lookup_run(&o);
}
