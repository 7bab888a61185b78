/* relaybuf.h — the buffers every session relays through: one size,
 * pooled while traffic flows, handed back once torkitd sits idle. */
#ifndef TK_DAEMON_RELAYBUF_H
#define TK_DAEMON_RELAYBUF_H

#include <stdint.h>

struct tk_server;

#define TK_RELAY_BUF (64 * 1024)

/* A TK_RELAY_BUF-byte buffer, or NULL when out of memory. */
uint8_t *tk_relaybuf_get(void);
/* Gives a buffer back (NULL is fine). */
void tk_relaybuf_put(uint8_t *b);
/* The last client is gone: if none comes within a short while, free the
 * pool and let the C library return free heap pages to the system. */
void tk_relaybuf_idle(struct tk_server *srv);
/* What else to free at that moment (spare splice pipes). */
void tk_relaybuf_on_idle(void (*fn)(void));
/* Shutdown, while the loop still runs: no more idle timer. */
void tk_relaybuf_idle_stop(void);
/* At exit, after the loop: free the spare buffers. */
void tk_relaybuf_free_all(void);

#endif
