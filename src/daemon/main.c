/* main.c — torkitd: options, startup, signals, shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "daemon/conf.h"
#include "daemon/conf_doc.h"
#include "daemon/control.h"
#include "daemon/datadir.h"
#include "daemon/engine.h"
#include "daemon/log.h"
#include "daemon/loops.h"
#include "daemon/privs.h"
#include "daemon/relaybuf.h"
#include "daemon/sdnotify.h"
#include "daemon/server.h"
#include "daemon/splice.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

static struct tk_server srv;	/* the main loop's (loops.h) */
static atomic_uint clients_all; /* every loop's live clients */
static struct tk_config_source src;
static uv_signal_t sig_hup, sig_term, sig_int;
static uv_timer_t fatal_timer; /* runs the shutdown after an engine error */
static int daemon_pipe = -1;   /* RunAsDaemon: tells the parent we are up */
static int exit_status;	       /* 1 after a fatal engine error */
static char start_cwd[4096];   /* relative paths are relative to this */
static char *conf_path;	       /* -f FILE made absolute */

static void sd_say(const char *text);

/* Relative paths (-f, PidFile, DataDirectory, Log files) mean the
 * directory torkitd was started in, even after RunAsDaemon's chdir to
 * "/", at startup and at every reload. */
static int
absolutize(char **path)
{
	char *abs;

	if (*path == NULL || (*path)[0] == '/' || start_cwd[0] == '\0')
		return 0;
	if (asprintf(&abs, "%s/%s", start_cwd, *path) < 0)
		return -1;
	free(*path);
	*path = abs;
	return 0;
}

static int
absolutize_config(struct tk_config *cfg)
{
	int rc = absolutize(&cfg->pid_file) | absolutize(&cfg->data_dir) |
		 absolutize(&cfg->cookie_auth_file) |
		 absolutize(&cfg->client_onion_auth_dir);

	for (int i = 0; i < cfg->n_logs; i++)
		if (cfg->logs[i].path != NULL)
			rc |= absolutize(&cfg->logs[i].path);
	return rc;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: torkitd [-f FILE] [--verify-config] [--Option value ...]\n"
		"       torkitd -h | --help | --version | --list-torrc-options |\n"
		"               --sample-config\n"
		"Options are those of torkitd.conf(5), e.g. --SocksPort 9150 "
		"--Log \"info stderr\".\n");
}

static int
apply_logs(const struct tk_config *cfg, int detached)
{
	char err[256];

	if (tk_dlog_configure(cfg->logs, cfg->n_logs, cfg->safe_logging, err,
			      sizeof(err)) < 0) {
		tk_warn("%s", err);
		return -1;
	}
	if (detached)
		tk_dlog_detach_tty();
	return 0;
}

/* Written to a new file beside it and renamed over it: a symlink (or
 * anything else) planted at PidFile is replaced, never followed. */
static int
write_pid_file(const char *path)
{
	char buf[32], tmp[4200];
	int fd, n;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		tk_err("PidFile \"%s\": path too long", path);
		return -1;
	}
	(void)unlink(tmp); /* a stale one; unlink never follows a link */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0) {
		tk_err("Unable to open PidFile \"%s\" for writing: %s", tmp,
		       strerror(errno));
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n || close(fd) != 0 ||
	    rename(tmp, path) != 0) {
		tk_err("Unable to write PidFile \"%s\": %s", path,
		       strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void
engine_closed(void *arg)
{
	(void)arg;
	srv.engine = NULL;
}

static void
signals_close(void)
{
	uv_close((uv_handle_t *)&sig_hup, NULL);
	uv_close((uv_handle_t *)&sig_term, NULL);
	uv_close((uv_handle_t *)&sig_int, NULL);
}

static void
shut_down(void)
{
	sd_say("STOPPING=1");
	tk_control_close_all();
	tk_loops_stop();
	tk_listeners_close_all(&srv);
	tk_sessions_close_all(&srv);
	tk_pressure_stop(&srv);
	srv.engine->ops->close(srv.engine, engine_closed, NULL);
	signals_close();
	uv_close((uv_handle_t *)&fatal_timer, NULL);
}

static void
stop(const char *signame)
{
	if (srv.stopping)
		return;
	srv.stopping = 1;
	tk_notice("Catching signal %s, exiting cleanly.", signame);
	shut_down();
}

static void
on_fatal_timer(uv_timer_t *t)
{
	(void)t;
	shut_down();
}

/* The engine cannot go on (its message is in the log): close down as
 * after SIGTERM, and exit 1, as tor does. From the loop, not from inside
 * the engine's callback. */
static void
engine_fatal(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
	if (srv.stopping)
		return;
	srv.stopping = 1;
	exit_status = 1;
	tk_err("The engine cannot continue; exiting.");
	uv_timer_start(&fatal_timer, on_fatal_timer, 0, 0);
}

static void
reload(void)
{
	struct tk_config *next = calloc(1, sizeof(*next));

	tk_notice("Received reload signal (hup). Reloading config.");
	sd_say("RELOADING=1");
	if (next == NULL || tk_config_load(&src, next, 1) < 0 ||
	    absolutize_config(next) < 0) {
		tk_warn("Restart failed (config error?). Keeping the old "
			"configuration.");
		free(next);
		sd_say("READY=1");
		return;
	}
	tk_control_reload(next);
	if (next->engine != srv.cfg->engine)
		tk_warn("Engine cannot change while torkitd runs; restart it "
			"to switch engines.");
	if (next->num_cpus != srv.cfg->num_cpus)
		tk_warn("NumCPUs cannot change while torkitd runs; restart it "
			"to change the number of loops.");
	apply_logs(next, srv.cfg->run_as_daemon);
	tk_listeners_apply(&srv, next, 0);
	/* The other loops follow the listeners just applied, reload their
	 * engines, and wait while the configuration they share changes. */
	tk_loops_hold(next);
	srv.engine->ops->reload(srv.engine, next);
	/* Sessions copied what they need; the old config can go. The
	 * struct stays where it is, so pointers to it stay valid. */
	tk_config_free(srv.cfg);
	*srv.cfg = *next;
	free(next);
	tk_pressure_configure(&srv);
	tk_loops_release();
	sd_say("READY=1");
}

/* systemd (Type=notify) hears how we are; nothing without NOTIFY_SOCKET. */
static void
sd_say(const char *text)
{
	if (tk_sd_notify(text) < 0)
		tk_warn("Cannot notify systemd (%s): %s", text,
			strerror(errno));
}

static void
on_progress(void *arg, const struct tk_engine_status *st)
{
	char msg[256];

	(void)arg;
	tk_control_progress(st);
	snprintf(msg, sizeof(msg), "STATUS=Bootstrapped %d%% (%s): %s",
		 st->percent, st->tag, st->summary);
	sd_say(msg);
}

static void
control_shutdown(const char *why)
{
	stop(why);
}

static const struct tk_control_hooks control_hooks = {
	.reload = reload,
	.shutdown = control_shutdown,
};

static void
signal_cb(uv_signal_t *h, int signum)
{
	(void)h;
	if (signum == SIGHUP)
		reload();
	else
		stop(signum == SIGTERM ? "TERM" : "INT");
}

/* Fork; the parent waits until the child says it is listening, so
 * `torkitd --RunAsDaemon 1` exits 0 only for a working daemon. */
static int
daemonize(void)
{
	int fds[2];
	pid_t pid;

	if (pipe(fds) < 0) {
		tk_err("pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		tk_err("fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		char c;
		ssize_t n;

		close(fds[1]);
		do
			n = read(fds[0], &c, 1);
		while (n < 0 && errno == EINTR);
		_exit(n == 1 ? 0 : 1);
	}
	close(fds[0]);
	setsid();
	daemon_pipe = fds[1];
	return 0;
}

static void
daemon_ready(void)
{
	struct tk_engine_status st;
	char msg[300];
	int fd;

	/* The SocksPorts listen and the engine runs: systemd may start what
	 * comes After= us. MAINPID, for RunAsDaemon's child. */
	tk_engine_status(srv.engine, &st);
	snprintf(msg, sizeof(msg),
		 "READY=1\nMAINPID=%ld\nSTATUS=Bootstrapped %d%% (%s): %s",
		 (long)getpid(), st.percent, st.tag, st.summary);
	sd_say(msg);
	if (daemon_pipe < 0)
		return;
	if (chdir("/") < 0)
		tk_warn("chdir /: %s", strerror(errno));
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	tk_dlog_detach_tty();
	if (write(daemon_pipe, "", 1) < 0)
		tk_warn("cannot notify the parent process: %s",
			strerror(errno));
	close(daemon_pipe);
	daemon_pipe = -1;
}

/* Startup failures after the configuration is read: close what was
 * opened so the process exits as cleanly as after SIGTERM. */
static int
startup_failed(void)
{
	tk_control_close_all();
	tk_loops_stop();
	tk_loops_join();
	tk_listeners_close_all(&srv);
	if (srv.engine != NULL)
		srv.engine->ops->close(srv.engine, engine_closed, NULL);
	if (srv.loop != NULL) {
		signals_close();
		uv_close((uv_handle_t *)&fatal_timer, NULL);
		uv_run(srv.loop, UV_RUN_DEFAULT);
		uv_loop_close(srv.loop);
	}
	return 1;
}

static int
run(struct tk_config *cfg, int verify)
{
	uid_t uid;
	gid_t gid;
	int rc;

	if (tk_config_load(&src, cfg, 0) < 0 || absolutize_config(cfg) < 0)
		return 1;
	if (cfg->engine == TK_ENGINE_TOR) {
		char err[512];

		if (tk_engine_tor_check(cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "torkitd: %s\n", err);
			return 1;
		}
	}
	{
		char err[512];

		if (tk_control_check(cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "torkitd: %s\n", err);
			return 1;
		}
	}
	if (verify) {
		printf("Configuration was valid\n");
		return 0;
	}
	if (cfg->run_as_daemon && daemonize() < 0)
		return 1;
	if (apply_logs(cfg, 0) < 0)
		return 1;
	if (tk_sd_init() < 0)
		tk_warn("NOTIFY_SOCKET: %s; not notifying systemd",
			strerror(errno));
	tk_notice("torkitd %s starting (engine %s)", PACKAGE_VERSION,
		  cfg->engine == TK_ENGINE_DIRECT ? "direct" : "tor");
	if (tk_privs_lookup(cfg->user, &uid, &gid) < 0)
		return 1;
	if (cfg->data_dir != NULL &&
	    tk_datadir_open(cfg->data_dir, uid, gid) < 0)
		return 1;
	/* A client's socket, its target's (direct engine), the reserve. */
	tk_fd_limit_raise((unsigned long)cfg->max_clients *
					  (cfg->engine == TK_ENGINE_DIRECT
						   ? 2
						   : 1) +
				  64,
			  cfg->max_clients);
	/* Splicing takes two pipes more per client: had if the hard limit
	 * allows, else clients past it copy (session_relay.c). */
	if (cfg->engine == TK_ENGINE_DIRECT && cfg->relay_splice != 0)
		tk_fd_limit_want((unsigned long)cfg->max_clients * 6 + 64);
	/* Spare pipes hold descriptors: freed with the idle buffers. */
	tk_relaybuf_on_idle(tk_splice_pool_free);

	/* Writes to a closed client must fail with EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
#ifdef M_TRIM_THRESHOLD
	/* Sessions and relay buffers come and go by the thousand per
	 * second; glibc's default (trim the heap above 128 KiB free) would
	 * shrink and regrow it with brk() all the time. */
	mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
	/* The directory reads a consensus of megabytes into memory, parses
	 * it and frees it: from the heap, what comes next (the relay
	 * tables) reuses those pages; as a mapping of its own (glibc's
	 * fixed threshold is 128 KiB once the one above is set) each page
	 * is faulted in for it alone and handed back, a fifth of the time
	 * of loading a large directory. */
	mallopt(M_MMAP_THRESHOLD, 16 * 1024 * 1024);
#endif
	srv.loop = uv_default_loop();
	srv.cfg = cfg;
	srv.clients_all = &clients_all;
	srv.n_loops = tk_loops_wanted(cfg);
	uv_timer_init(srv.loop, &fatal_timer);
	srv.mem_grew = tk_mem_check;
	tk_pressure_configure(&srv);
	/* Before the ports open: a supervisor may send SIGHUP as soon as
	 * it sees us listen, and the default action would kill us. libuv
	 * holds the signals until the loop runs, when everything is set. */
	uv_signal_init(srv.loop, &sig_hup);
	uv_signal_init(srv.loop, &sig_term);
	uv_signal_init(srv.loop, &sig_int);
	uv_signal_start(&sig_hup, signal_cb, SIGHUP);
	uv_signal_start(&sig_term, signal_cb, SIGTERM);
	uv_signal_start(&sig_int, signal_cb, SIGINT);
	/* The ports first, then nothing more as root (User): the engine
	 * reaches the network as the user. */
	if (tk_listeners_apply(&srv, cfg, 1) < 0) {
		tk_err("Failed to open a SocksPort. Exiting.");
		return startup_failed();
	}
	/* Beside them, before privileges go (a port below 1024). */
	if (tk_loops_start(&srv, srv.n_loops) < 0)
		return startup_failed();
	if (cfg->pid_file != NULL && write_pid_file(cfg->pid_file) < 0)
		return startup_failed();
	if (tk_control_open(&srv, cfg, uid, gid, &control_hooks) < 0)
		return startup_failed();
	if (tk_privs_drop(cfg->user) < 0)
		return startup_failed();
	if ((cfg->engine == TK_ENGINE_TOR
		     ? tk_engine_tor_new(srv.loop, cfg, &srv.engine)
		     : tk_engine_direct_new(srv.loop, cfg, &srv.engine)) < 0)
		return startup_failed();
	srv.engine->fatal = engine_fatal;
	srv.engine->progress = on_progress;
	if (tk_loops_run() < 0) {
		tk_err("An event loop could not start its engine. Exiting.");
		return startup_failed();
	}
	tk_pressure_start(&srv);
	daemon_ready();

	uv_run(srv.loop, UV_RUN_DEFAULT);
	tk_loops_join();

	rc = uv_loop_close(srv.loop);
	if (rc != 0)
		tk_warn("event loop closed with handles still open: %s",
			uv_strerror(rc));
	if (srv.cfg->pid_file != NULL)
		unlink(srv.cfg->pid_file);
	tk_relaybuf_free_all();
	tk_sd_close();
	tk_notice("Clean shutdown finished. Exiting.");
	return exit_status;
}

int
main(int argc, char **argv)
{
	struct tk_config *cfg = NULL;
	int verify = 0, rc = 2;
	char **opts;
	int nopts = 0;

	opts = calloc((size_t)argc + 1, sizeof(*opts));
	if (opts == NULL)
		return 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			rc = 0;
			goto out;
		}
		if (strcmp(a, "--version") == 0) {
			printf("torkitd %s\n", PACKAGE_VERSION);
			rc = 0;
			goto out;
		}
		if (strcmp(a, "--list-torrc-options") == 0 ||
		    strcmp(a, "--sample-config") == 0) {
			if (a[2] == 'l')
				tk_config_print_options(stdout);
			else
				tk_config_print_sample(stdout);
			rc = 0;
			goto out;
		}
		if (strcmp(a, "--verify-config") == 0) {
			verify = 1;
			continue;
		}
		if (strcmp(a, "-f") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "torkitd: -f needs a file\n");
				usage(stderr);
				goto out;
			}
			src.file = argv[++i];
			src.file_given = 1;
			if (src.file[0] != '/' &&
			    getcwd(start_cwd, sizeof(start_cwd)) != NULL &&
			    asprintf(&conf_path, "%s/%s", start_cwd,
				     src.file) >= 0)
				src.file = conf_path;
			continue;
		}
		if (strncmp(a, "--", 2) == 0 && a[2] != '\0') {
			opts[nopts++] = argv[i];
			if (i + 1 < argc)
				opts[nopts++] = argv[++i];
			continue;
		}
		fprintf(stderr, "torkitd: unexpected argument \"%s\"\n", a);
		usage(stderr);
		goto out;
	}
	src.argc = nopts;
	src.argv = opts;
	if (start_cwd[0] == '\0' &&
	    getcwd(start_cwd, sizeof(start_cwd)) == NULL)
		start_cwd[0] = '\0';

	cfg = calloc(1, sizeof(*cfg));
	rc = cfg == NULL ? 1 : run(cfg, verify);
	if (cfg != NULL)
		tk_config_free(cfg);
	free(cfg);
	tk_dlog_shutdown();
out:
	free(opts);
	free(conf_path);
	return rc;
}
