/* Unit tests of what engine_tor_config.c and engine_tor_iso.c make of
 * torkitd's configuration and requests, without starting an engine: the
 * onion configuration (times in 64-bit milliseconds) and the isolation
 * key. */
#include <stdio.h>
#include <string.h>

#include "../unit/tap.h"
#include "daemon/conf.h"
#include "daemon/engine.h"
#include "onion/onion.h"

static const char auth[] =
	"tnauth0 orport=23200 v3ident=FCC1D1A53BFCE637786FB3ACC653FA1C5B65FBBF "
	"127.0.0.1:23250 462C60E93B22CBF109703F8F580A90F2F5A89D43";

static void
set(struct tk_config *cfg, const char *name, const char *value)
{
	char err[256];

	if (tk_config_set(cfg, tk_config_option(name), value, err,
			  sizeof(err)) < 0)
		tap_ok(0, "%s %s: %s", name, value, err);
}

static void
test_times(void)
{
	struct tk_config cfg;
	struct tk_onion_config oc;
	char err[256];

	memset(&cfg, 0, sizeof(cfg));
	set(&cfg, "DirAuthority", auth);
	/* 4294968 s * 1000 wrapped to 704 ms in 32 bits. */
	set(&cfg, "HalfCloseLinger", "4294968");
	set(&cfg, "SocksTimeout", "365 days");
	tap_eq_long(tk_engine_tor_config(&cfg, &oc, err, sizeof(err)), 0,
		    "the onion configuration is made (%s)", err);
	tap_ok(oc.linger_ms == 4294968000ULL,
	       "HalfCloseLinger 4294968 is 4294968000 ms (%llu)",
	       (unsigned long long)oc.linger_ms);
	tap_ok(oc.request_timeout_ms == 31536000000ULL,
	       "SocksTimeout 365 days is 31536000000 ms (%llu)",
	       (unsigned long long)oc.request_timeout_ms);
	tk_config_free(&cfg);
}

/* ClientUseIPv4/6 and ClientPreferIPv6ORPort reach the engine, whose
 * own defaults are tor's. */
static void
test_ip_versions(void)
{
	struct tk_config cfg;
	struct tk_onion_config oc;
	char err[256];

	memset(&cfg, 0, sizeof(cfg));
	set(&cfg, "DirAuthority", auth);
	set(&cfg, "ClientUseIPv4", "0");
	set(&cfg, "ClientUseIPv6", "1");
	set(&cfg, "ClientPreferIPv6ORPort", "1");
	tap_ok(tk_engine_tor_config(&cfg, &oc, err, sizeof(err)) == 0 &&
		       oc.client_use_ipv4 == 0 && oc.client_use_ipv6 == 1 &&
		       oc.client_prefer_ipv6_orport == 1,
	       "ClientUseIPv4 0, ClientUseIPv6 1, ClientPreferIPv6ORPort 1 "
	       "reach the onion configuration");
	tk_config_free(&cfg);
	tk_onion_config_init(&oc);
	tap_ok(oc.client_use_ipv4 == 1 && oc.client_use_ipv6 == 0 &&
		       oc.client_prefer_ipv6_orport == -1,
	       "the engine's defaults: IPv4 1, IPv6 0, prefer auto");
}

static void
test_iso_key(void)
{
	uint8_t u1[300], u2[300], k1[TK_ISO_KEY_MAX], k2[TK_ISO_KEY_MAX];
	struct tk_isolation a = { .listener_id = 1, .socks_version = 4 };
	struct tk_isolation b;
	size_t n1, n2;

	memset(u1, 'u', sizeof(u1));
	memcpy(u2, u1, sizeof(u2));
	u2[280] = 'v'; /* past the first 255 bytes */
	a.has_auth = 1;
	a.username = u1;
	a.username_len = sizeof(u1);
	b = a;
	b.username = u2;
	n1 = tk_engine_tor_iso_key(&a, k1);
	n2 = tk_engine_tor_iso_key(&b, k2);
	tap_ok(n1 != n2 || memcmp(k1, k2, n1) != 0,
	       "300-byte SOCKS4 userids differing at byte 280 isolate");
	b.username = u1;
	b.username_len = 256; /* a prefix of the same bytes */
	n2 = tk_engine_tor_iso_key(&b, k2);
	tap_ok(n1 != n2 || memcmp(k1, k2, n1) != 0,
	       "a 256-byte prefix of a userid is another key");
	b = a;
	n2 = tk_engine_tor_iso_key(&b, k2);
	tap_ok(n1 == n2 && memcmp(k1, k2, n1) == 0,
	       "the same userid is the same key");
	{
		/* the largest request fits */
		static uint8_t big[TK_SOCKS_USER_MAX];
		static char host[256];
		struct tk_isolation m = a;

		memset(host, 'h', 255);
		m.username = big;
		m.username_len = sizeof(big);
		m.rules = TK_ISO_DEST_ADDR | TK_ISO_CLIENT_ADDR |
			  TK_ISO_DEST_PORT | TK_ISO_CLIENT_PROTOCOL;
		m.client_addr = "[1111:2222:3333:4444:5555:6666:7777:8888]";
		m.dest_host = host;
		tap_ok(tk_engine_tor_iso_key(&m, k1) <= TK_ISO_KEY_MAX,
		       "the largest key fits TK_ISO_KEY_MAX");
	}
}

int
main(void)
{
	test_times();
	test_ip_versions();
	test_iso_key();
	return tap_done();
}
