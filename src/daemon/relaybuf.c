/* relaybuf.c — see relaybuf.h.
 *
 * malloc and free of 64 KiB at the top of the heap would trim and regrow
 * it (and fault in fresh pages) on every read, so a few spare buffers are
 * kept, and main() raises glibc's trim threshold. The price of both is
 * memory that stays resident after a burst of traffic; the idle timer
 * gives it back once no client has been connected for IDLE_MS, and calls
 * the hook main.c sets (the spare splice pipes: splice.c sits above this
 * file, so it is not named here). */
#include <stdlib.h>
#ifdef __GLIBC__ /* defined by now: <stdlib.h> pulls in <features.h> */
#include <malloc.h>
#endif

#include <uv.h>

#include "daemon/relaybuf.h"
#include "daemon/server.h"

#define POOL_MAX 16
#define IDLE_MS 2000

static void (*idle_hook)(void);

void
tk_relaybuf_on_idle(void (*fn)(void))
{
	idle_hook = fn;
}

/* Per loop (NumCPUs): each loop's thread has its own spares and timer,
 * so the data path takes no lock. */
static _Thread_local uint8_t *pool[POOL_MAX];
static _Thread_local int n_pool;
static _Thread_local uv_timer_t idle_timer;
static _Thread_local int idle_timer_open;

uint8_t *
tk_relaybuf_get(void)
{
	return n_pool > 0 ? pool[--n_pool] : malloc(TK_RELAY_BUF);
}

void
tk_relaybuf_put(uint8_t *b)
{
	if (b == NULL)
		return;
	if (n_pool < POOL_MAX)
		pool[n_pool++] = b;
	else
		free(b);
}

void
tk_relaybuf_free_all(void)
{
	while (n_pool > 0)
		free(pool[--n_pool]);
}

static void
idle_cb(uv_timer_t *t)
{
	struct tk_server *srv = t->data;

	if (srv->n_clients > 0)
		return;
	tk_relaybuf_free_all();
	if (idle_hook != NULL)
		idle_hook();
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

void
tk_relaybuf_idle(struct tk_server *srv)
{
	if (srv->stopping)
		return;
	if (!idle_timer_open) {
		uv_timer_init(srv->loop, &idle_timer);
		uv_unref((uv_handle_t *)&idle_timer); /* never keeps us up */
		idle_timer.data = srv;
		idle_timer_open = 1;
	}
	uv_timer_start(&idle_timer, idle_cb, IDLE_MS, 0);
}

void
tk_relaybuf_idle_stop(void)
{
	if (idle_timer_open) {
		uv_close((uv_handle_t *)&idle_timer, NULL);
		idle_timer_open = 0;
	}
}
