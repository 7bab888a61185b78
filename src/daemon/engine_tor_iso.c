/* engine_tor_iso.c — the isolation key the tor engine hands the onion
 * library with each request, built from struct tk_isolation. */
#include "daemon/engine.h"

#include <string.h>

/* The isolation key: the session group (each SocksPort is its own),
 * the SOCKS credentials, and whatever else the port's Isolate* rules
 * name (engine.h). Every field is tagged and carries its whole length
 * (two bytes), so ("ab","c") and ("a","bc") differ, no field can pass
 * for another, and two SOCKS4 userids of 512 bytes differ wherever
 * their bytes do. */
static size_t
iso_put(uint8_t *key, size_t n, uint8_t tag, const void *p, size_t len)
{
	if (len > TK_ISO_FIELD_MAX)
		len = TK_ISO_FIELD_MAX; /* no field is longer (engine.h) */
	key[n++] = tag;
	key[n++] = (uint8_t)(len >> 8);
	key[n++] = (uint8_t)len;
	if (len > 0)
		memcpy(key + n, p, len);
	return n + len;
}

static size_t
iso_put_str(uint8_t *key, size_t n, uint8_t tag, const char *s)
{
	return iso_put(key, n, tag, s, s != NULL ? strlen(s) : 0);
}

size_t
tk_engine_tor_iso_key(const struct tk_isolation *iso,
		      uint8_t key[TK_ISO_KEY_MAX])
{
	size_t n = 0;

	key[n++] = (uint8_t)(iso->listener_id >> 24);
	key[n++] = (uint8_t)(iso->listener_id >> 16);
	key[n++] = (uint8_t)(iso->listener_id >> 8);
	key[n++] = (uint8_t)iso->listener_id;
	if (iso->has_auth) {
		/* a SOCKS4 userid and a SOCKS5 username differ by tag */
		n = iso_put(key, n, iso->has_password ? 'P' : 'U',
			    iso->username, iso->username_len);
		if (iso->has_password)
			n = iso_put(key, n, 'W', iso->password,
				    iso->password_len);
	}
	if (iso->rules & TK_ISO_CLIENT_PROTOCOL) {
		key[n++] = 'V';
		key[n++] = iso->socks_version;
	}
	if (iso->rules & TK_ISO_CLIENT_ADDR)
		n = iso_put_str(key, n, 'C', iso->client_addr);
	if (iso->rules & TK_ISO_DEST_ADDR)
		n = iso_put_str(key, n, 'D', iso->dest_host);
	if (iso->rules & TK_ISO_DEST_PORT) {
		key[n++] = 'O';
		key[n++] = (uint8_t)(iso->dest_port >> 8);
		key[n++] = (uint8_t)iso->dest_port;
	}
	return n;
}
