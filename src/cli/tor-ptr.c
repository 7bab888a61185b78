/* tor-ptr — reverse lookups (Tor's RESOLVE_PTR) of IPv4 and IPv6
 * addresses through a SOCKS proxy; see tor-ptr(1). */
#include <signal.h>

#include "cli/cli_lookup.h"
#include "cli/cli_opts.h"

int
main(int argc, char **argv)
{
	struct cli_opts o;

	signal(SIGPIPE, SIG_IGN);
	cli_opts_parse(&o, CLI_PTR, argc, argv);
	return cli_lookup_run(&o);
}
