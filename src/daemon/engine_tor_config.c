/* engine_tor_config.c — torkitd's configuration translated into the onion
 * library's (tk_engine_tor_config), and checked with it. */
#include "daemon/engine.h"

#include <stdio.h>
#include <string.h>

#include "daemon/conf.h"
#include "onion/onion.h"

/* Fills an onion configuration from torkitd's (log callbacks aside). */
int
tk_engine_tor_config(const struct tk_config *cfg, struct tk_onion_config *oc,
		     char *err, size_t errlen)
{
	char e2[256];

	tk_onion_config_init(oc);
	/* No DirAuthority line: the public Tor network, built in. */
	for (size_t i = 0; i < cfg->n_dir_authorities; i++) {
		if (tk_onion_config_add_authority(oc, cfg->dir_authorities[i],
						  e2, sizeof(e2)) < 0) {
			snprintf(err, errlen, "DirAuthority \"%s\": %s",
				 cfg->dir_authorities[i], e2);
			return -1;
		}
	}
	for (size_t i = 0; i < cfg->n_fallback_dirs; i++) {
		if (tk_onion_config_add_fallback(oc, cfg->fallback_dirs[i], e2,
						 sizeof(e2)) < 0) {
			snprintf(err, errlen, "FallbackDir \"%s\": %s",
				 cfg->fallback_dirs[i], e2);
			return -1;
		}
	}
	oc->use_default_fallbacks = cfg->use_default_fallback_dirs;
	oc->testing_tor_network = cfg->testing_tor_network;
	oc->data_dir = cfg->data_dir;
	oc->enforce_distinct_subnets = cfg->enforce_distinct_subnets;
	_Static_assert(TK_CONFIG_MAX_LONG_LIVED_PORTS <=
			       TK_ONION_MAX_LONG_LIVED_PORTS,
		       "LongLivedPorts fit the engine's config");
	memcpy(oc->long_lived_ports, cfg->long_lived_ports,
	       cfg->n_long_lived_ports * sizeof cfg->long_lived_ports[0]);
	oc->n_long_lived_ports = cfg->n_long_lived_ports;
	oc->client_use_ipv4 = cfg->client_use_ipv4;
	oc->client_use_ipv6 = cfg->client_use_ipv6;
	oc->client_prefer_ipv6_orport = cfg->client_prefer_ipv6_orport;
	oc->client_onion_auth_dir = cfg->client_onion_auth_dir;
	/* In 64 bits: a year of seconds does not fit in 32 bits of ms. */
	oc->linger_ms = (uint64_t)cfg->half_close_linger * 1000;
	oc->congestion_control = cfg->congestion_control;
	oc->connection_padding = cfg->connection_padding;
	oc->reduced_connection_padding = cfg->reduced_connection_padding;
	oc->scrub_hosts = cfg->safe_logging != 0;
	if (cfg->socks_timeout > 0)
		oc->request_timeout_ms = (uint64_t)cfg->socks_timeout * 1000;
	return 0;
}

int
tk_engine_tor_check(const struct tk_config *cfg, char *err, size_t errlen)
{
	struct tk_onion_config oc;

	return tk_engine_tor_config(cfg, &oc, err, errlen);
}
