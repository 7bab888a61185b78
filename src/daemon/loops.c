/* loops.c — see loops.h.
 *
 * The main thread talks to a worker only through its uv_async and the
 * lock below: a command word (reload, stop) set under the lock, then
 * the async woken. Reload is the one time threads wait on each other:
 * the workers read the main loop's listener list and the new
 * configuration while the main thread waits for all of them, then the
 * workers wait while the main thread swaps the configuration they all
 * point to. Both waits are short and neither side holds anything the
 * other needs meanwhile. */
#include "daemon/loops.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/admit.h"
#include "daemon/engine.h"
#include "daemon/log.h"
#include "daemon/relaybuf.h"

#define AUTO_MAX 16

enum { CMD_RELOAD = 1, CMD_STOP = 2 };
enum { P_START, P_LISTENING, P_RUNNING, P_DONE };

struct worker {
	pthread_t thread;
	struct tk_server srv;
	uv_loop_t loop;
	uv_async_t async;
	unsigned cmd;
	int phase;
	int rc;
	int go; /* 1 run, -1 abort (startup failed elsewhere) */
	int stopped;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static struct tk_server *main_srv;
static struct worker *workers;
static struct tk_server **all; /* every loop's, for admit.c */
static unsigned n_workers;
static const struct tk_config *next_cfg; /* during a reload */
static unsigned arrived;		 /* workers waiting in a reload */
static unsigned long reload_gen;	 /* bumped at each release */

unsigned
tk_loops_wanted(const struct tk_config *cfg)
{
	long online;
	unsigned n = cfg->num_cpus;

	if (cfg->engine == TK_ENGINE_TOR) {
		if (n > 1)
			tk_notice("NumCPUs %u ignored: the tor engine runs on "
				  "one loop.",
				  n);
		return 1;
	}
	if (n == 0) {
		online = sysconf(_SC_NPROCESSORS_ONLN);
		n = online < 1		? 1
		    : online > AUTO_MAX ? AUTO_MAX
					: (unsigned)online;
	}
	if (n > 1 && !tk_listeners_reuseport_works()) {
		tk_warn("NumCPUs %u: SO_REUSEPORT is not available here; "
			"running one loop.",
			n);
		n = 1;
	}
	return n;
}

static void
set_phase(struct worker *w, int phase, int rc)
{
	pthread_mutex_lock(&lock);
	w->phase = phase;
	if (rc < 0)
		w->rc = rc;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void
engine_closed(void *arg)
{
	struct worker *w = arg;

	w->srv.engine = NULL;
}

static void
worker_stop(struct worker *w)
{
	w->srv.stopping = 1;
	tk_listeners_close_all(&w->srv);
	tk_sessions_close_all(&w->srv);
	tk_pressure_stop(&w->srv);
	if (w->srv.engine != NULL)
		w->srv.engine->ops->close(w->srv.engine, engine_closed, w);
	/* No uv_async_send after this (send_cmd looks under the lock). */
	pthread_mutex_lock(&lock);
	w->stopped = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	uv_close((uv_handle_t *)&w->async, NULL);
}

static void
worker_reload(struct worker *w)
{
	unsigned long gen;

	/* The main thread waits in tk_loops_hold: its listener list and
	 * next_cfg hold still. */
	tk_listeners_mirror(&w->srv, main_srv);
	if (w->srv.engine != NULL)
		w->srv.engine->ops->reload(w->srv.engine, next_cfg);
	pthread_mutex_lock(&lock);
	gen = reload_gen;
	arrived++;
	pthread_cond_broadcast(&cond);
	while (reload_gen == gen)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	tk_pressure_configure(&w->srv);
}

static void
async_cb(uv_async_t *a)
{
	struct worker *w = a->data;
	unsigned cmd;

	pthread_mutex_lock(&lock);
	cmd = w->cmd;
	w->cmd = 0;
	pthread_mutex_unlock(&lock);
	if (w->stopped)
		return;
	if (cmd & CMD_STOP)
		worker_stop(w);
	else if (cmd & CMD_RELOAD)
		worker_reload(w);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	int rc, go;

	rc = tk_listeners_mirror(&w->srv, main_srv);
	set_phase(w, P_LISTENING, rc);
	pthread_mutex_lock(&lock);
	while (w->go == 0)
		pthread_cond_wait(&cond, &lock);
	go = w->go;
	pthread_mutex_unlock(&lock);
	if (go > 0) {
		rc = tk_engine_direct_new(&w->loop, w->srv.cfg, &w->srv.engine);
		if (rc == 0)
			tk_pressure_start(&w->srv);
		set_phase(w, P_RUNNING, rc);
	} else {
		worker_stop(w);
	}
	uv_run(&w->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&w->loop) != 0)
		tk_warn("Loop %u closed with handles still open",
			w->srv.loop_id);
	tk_relaybuf_free_all();
	set_phase(w, P_DONE, 0);
	return NULL;
}

static void
wait_phase(int phase)
{
	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < n_workers; i++)
		while (workers[i].phase < phase)
			pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
}

static int
any_failed(void)
{
	int rc = 0;

	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < n_workers; i++)
		if (workers[i].rc < 0)
			rc = -1;
	pthread_mutex_unlock(&lock);
	return rc;
}

static void
set_go(int go)
{
	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < n_workers; i++)
		workers[i].go = go;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

int
tk_loops_start(struct tk_server *main, unsigned n)
{
	unsigned started = 0;

	main_srv = main;
	if (n <= 1)
		return 0;
	workers = calloc(n - 1, sizeof(*workers));
	all = calloc(n, sizeof(*all));
	if (workers == NULL || all == NULL) {
		free(workers);
		free(all);
		workers = NULL;
		all = NULL;
		return -1;
	}
	all[0] = main;
	for (unsigned i = 0; i < n - 1; i++)
		all[i + 1] = &workers[i].srv;
	main->all = all;
	tk_admit_loop_open(main);
	for (unsigned i = 0; i < n - 1; i++) {
		struct worker *w = &workers[i];

		w->srv.loop_id = i + 1;
		w->srv.n_loops = n;
		w->srv.cfg = main->cfg;
		w->srv.clients_all = main->clients_all;
		w->srv.mem_grew = tk_mem_check;
		w->srv.loop = &w->loop;
		w->srv.all = all;
		tk_pressure_configure(&w->srv);
		if (uv_loop_init(&w->loop) < 0)
			break;
		uv_async_init(&w->loop, &w->async, async_cb);
		w->async.data = w;
		tk_admit_loop_open(&w->srv);
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			uv_close((uv_handle_t *)&w->async, NULL);
			tk_admit_loop_close(&w->srv);
			uv_run(&w->loop, UV_RUN_DEFAULT);
			uv_loop_close(&w->loop);
			break;
		}
		started++;
	}
	n_workers = started;
	wait_phase(P_LISTENING);
	if (started < n - 1 || any_failed() < 0) {
		tk_err("Could not start %u event loops (NumCPUs).", n);
		set_go(-1);
		tk_loops_join();
		return -1;
	}
	tk_notice("Running %u event loops (NumCPUs), one per thread.", n);
	return 0;
}

int
tk_loops_run(void)
{
	set_go(1);
	wait_phase(P_RUNNING);
	return any_failed();
}

static void
send_cmd(unsigned cmd)
{
	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < n_workers; i++) {
		struct worker *w = &workers[i];

		if (w->go == 0) /* still waiting to run: abort instead */
			w->go = -1;
		else if (!w->stopped) {
			w->cmd |= cmd;
			uv_async_send(&w->async);
		}
	}
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

void
tk_loops_hold(const struct tk_config *next)
{
	unsigned live = 0;

	if (n_workers == 0)
		return;
	pthread_mutex_lock(&lock);
	next_cfg = next;
	arrived = 0;
	for (unsigned i = 0; i < n_workers; i++)
		live += !workers[i].stopped;
	pthread_mutex_unlock(&lock);
	send_cmd(CMD_RELOAD);
	pthread_mutex_lock(&lock);
	while (arrived < live)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
}

void
tk_loops_release(void)
{
	if (n_workers == 0)
		return;
	pthread_mutex_lock(&lock);
	next_cfg = NULL;
	reload_gen++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

void
tk_loops_stop(void)
{
	send_cmd(CMD_STOP);
}

void
tk_loops_join(void)
{
	for (unsigned i = 0; i < n_workers; i++)
		pthread_join(workers[i].thread, NULL);
	free(workers);
	workers = NULL;
	n_workers = 0;
	/* all stays: the main loop's server points to it till exit. */
}

static void
add(char *out, size_t cap, unsigned id, unsigned clients,
    unsigned long long accepted)
{
	size_t used = strlen(out);

	if (used < cap)
		snprintf(out + used, cap - used,
			 "%s%u:clients=%u,accepted=%llu", used > 0 ? " " : "",
			 id, clients, accepted);
}

int
tk_loops_getinfo(const char *key, char *out, size_t cap)
{
	const struct tk_server *s;

	out[0] = '\0';
	if (strcmp(key, "torkit/clients") == 0) {
		snprintf(out, cap, "%u", atomic_load(main_srv->clients_all));
		return 0;
	}
	if (strcmp(key, "torkit/loops") != 0)
		return -1;
	for (unsigned i = 0; i <= n_workers; i++) {
		s = i == 0 ? main_srv : &workers[i - 1].srv;
		add(out, cap, s->loop_id,
		    atomic_load_explicit(&s->clients_own, memory_order_relaxed),
		    atomic_load_explicit(&s->accepted, memory_order_relaxed));
	}
	return 0;
}
