/* loops.h — NumCPUs: worker threads, one libuv loop each, beside the
 * main loop.
 *
 * Each worker has its own struct tk_server: its own SO_REUSEPORT
 * listeners beside the main loop's TCP SocksPorts, its own sessions,
 * relay buffers, splice pipes and direct engine (with its own c-ares
 * channel). Nothing on the data path is shared; the configuration is
 * (read-only, replaced at reload while every worker waits), and so are
 * the MaxClients count and the per-address counts (addrcount.h). The
 * main loop owns signals, the ControlPort and the tor engine. */
#ifndef TK_DAEMON_LOOPS_H
#define TK_DAEMON_LOOPS_H

#include <stddef.h>

#include "daemon/server.h"

/* How many loops to run for cfg: 1 with the tor engine or where
 * SO_REUSEPORT cannot be set (with a log line), else NumCPUs (0: the
 * online cores, at most 16). */
unsigned tk_loops_wanted(const struct tk_config *cfg);
/* Start n - 1 workers beside main (whose listeners are open, with
 * n_loops set) and wait until each listens: 0, or -1 (logged; the
 * workers are gone again). */
int tk_loops_start(struct tk_server *main, unsigned n);
/* Each worker makes its engine and runs: 0, or -1 if one could not
 * (then tk_loops_stop and tk_loops_join). */
int tk_loops_run(void);
/* Reload: every worker mirrors the main loop's listeners (already
 * applied), reloads its engine with next and waits; while they wait
 * the main loop replaces the configuration, then tk_loops_release. */
void tk_loops_hold(const struct tk_config *next);
void tk_loops_release(void);
/* SIGTERM: each worker closes everything and its loop ends. */
void tk_loops_stop(void);
/* After the main loop ended: wait for the workers' threads. */
void tk_loops_join(void);
/* GETINFO: "torkit/loops" (per loop: ID:clients=N,accepted=N) or
 * "torkit/clients" (every loop's live clients). 0, or -1 unknown. */
int tk_loops_getinfo(const char *key, char *out, size_t cap);

#endif
