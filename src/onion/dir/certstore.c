/* certstore.h: authority key certificates, kept for the configured
 * authorities only. */
#include "onion/dir/certstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/logf.h"
#include "onion/netdoc/netdoc.h"

/* A line to the store's log (logf.h). */
#define cs_log(cs, level, ...) \
	tk_logf((cs)->log, (cs)->log_arg, (level), __VA_ARGS__)

int
tk_certstore_init(struct tk_certstore *cs, const uint8_t (*v3ids)[20],
		  size_t n_auths, tk_log_fn log, void *log_arg)
{
	memset(cs, 0, sizeof *cs);
	cs->v3ids = v3ids;
	cs->n_auths = n_auths;
	cs->log = log;
	cs->log_arg = log_arg;
	cs->certs = calloc(TK_CERTSTORE_MAX, sizeof *cs->certs);
	cs->text = calloc(TK_CERTSTORE_MAX, sizeof *cs->text);
	cs->len = calloc(TK_CERTSTORE_MAX, sizeof *cs->len);
	if (!cs->certs || !cs->text || !cs->len) {
		tk_certstore_free(cs);
		return -1;
	}
	return 0;
}

void
tk_certstore_free(struct tk_certstore *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		tk_authcert_free(&cs->certs[i]);
		free(cs->text[i]);
	}
	free(cs->certs);
	free(cs->text);
	free(cs->len);
	memset(cs, 0, sizeof *cs);
}

static int
known(const struct tk_certstore *cs, const struct tk_authcert *c)
{
	for (size_t i = 0; i < cs->n; i++)
		if (memcmp(cs->certs[i].fingerprint, c->fingerprint, 20) == 0 &&
		    memcmp(cs->certs[i].signing_digest, c->signing_digest,
			   20) == 0)
			return 1;
	return 0;
}

static int
configured(const struct tk_certstore *cs, const uint8_t v3[20])
{
	for (size_t i = 0; i < cs->n_auths; i++)
		if (memcmp(cs->v3ids[i], v3, 20) == 0)
			return 1;
	return 0;
}

size_t
tk_certstore_add(struct tk_certstore *cs, const char *text, size_t len,
		 int64_t now, const char *origin, unsigned *refused)
{
	size_t pos = 0, added = 0;
	unsigned bad = 0;
	while (pos < len) {
		struct tk_authcert c;
		size_t used = 0;
		char err[TK_NETDOC_ERRLEN], hex[41];
		int rc;
		/* skip blank lines between certificates */
		if (text[pos] == '\n') {
			pos++;
			continue;
		}
		tk_authcert_init(&c);
		rc = tk_authcert_parse(text + pos, len - pos, &used, &c, err,
				       sizeof err);
		if (rc != 0) {
			cs_log(cs, TK_LOG_WARN,
			       "refused an authority "
			       "certificate from %s: %s",
			       origin, err);
			bad++;
			tk_authcert_free(&c);
			if (used == 0)
				break;
			pos += used;
			continue;
		}
		tk_netdoc_hex(c.fingerprint, 20, hex);
		if (!configured(cs, c.fingerprint)) {
			cs_log(cs, TK_LOG_INFO,
			       "ignored certificate of %s "
			       "from %s: not a configured authority",
			       hex, origin);
		} else if (!tk_authcert_current(&c, now)) {
			cs_log(cs, TK_LOG_WARN,
			       "refused certificate of %s "
			       "from %s: not current (expired or published "
			       "in the future)",
			       hex, origin);
			bad++;
		} else if (!known(cs, &c) && cs->n < TK_CERTSTORE_MAX) {
			char *t = malloc(used);
			if (t) {
				memcpy(t, text + pos, used);
				cs->certs[cs->n] = c;
				cs->text[cs->n] = t;
				cs->len[cs->n] = used;
				cs->n++;
				added++;
				pos += used;
				continue; /* c now owned by the store */
			}
		}
		tk_authcert_free(&c);
		pos += used;
	}
	if (refused)
		*refused += bad;
	return added;
}
