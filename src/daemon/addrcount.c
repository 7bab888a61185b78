/* addrcount.c — see addrcount.h.
 *
 * A chained hash table under one mutex: taken once when a client is
 * admitted and once when it closes, never on the data path. An entry
 * lives while its address has clients, so the table holds at most
 * MaxClients entries. */
#include "daemon/addrcount.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BUCKETS 1024

struct entry {
	struct entry *next;
	int family;
	uint8_t addr[16];
	unsigned n;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *table[BUCKETS];

static size_t
alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

static struct entry **
slot(int family, const uint8_t *addr)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	struct entry **pp;

	for (size_t i = 0; i < alen(family); i++)
		h = (h ^ addr[i]) * 16777619u;
	pp = &table[h % BUCKETS];
	while (*pp != NULL && ((*pp)->family != family ||
			       memcmp((*pp)->addr, addr, alen(family)) != 0))
		pp = &(*pp)->next;
	return pp;
}

int
tk_addrcount_take(int family, const uint8_t addr[16], unsigned limit)
{
	struct entry **pp, *e;
	int rc = 1;

	if (family != AF_INET && family != AF_INET6)
		return 1;
	pthread_mutex_lock(&lock);
	pp = slot(family, addr);
	e = *pp;
	if (e == NULL) {
		e = calloc(1, sizeof(*e));
		if (e == NULL) {
			rc = -1;
		} else {
			e->family = family;
			memcpy(e->addr, addr, alen(family));
			*pp = e;
		}
	}
	if (e != NULL && limit > 0 && e->n >= limit)
		rc = 0;
	else if (e != NULL)
		e->n++;
	pthread_mutex_unlock(&lock);
	return rc;
}

void
tk_addrcount_drop(int family, const uint8_t addr[16])
{
	struct entry **pp, *e;

	if (family != AF_INET && family != AF_INET6)
		return;
	pthread_mutex_lock(&lock);
	pp = slot(family, addr);
	e = *pp;
	if (e != NULL && --e->n == 0) {
		*pp = e->next;
		free(e);
	}
	pthread_mutex_unlock(&lock);
}
