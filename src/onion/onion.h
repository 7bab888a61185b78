/* The onion engine: a Tor client, as the daemon sees it.
 *
 *   struct tk_onion_config cfg;
 *   tk_onion_config_init(&cfg);
 *   tk_onion_config_add_authority(&cfg, "DirAuthority tnauth0 orport=...
 *       v3ident=... 127.0.0.1:25150 1E0D...", err, sizeof err);
 *   cfg.data_dir = "/var/lib/torkit"; cfg.log = my_log; ...
 *   tk_onion_new(loop, &cfg, &o, err, sizeof err);
 *   tk_onion_start(o);            // bootstrap: "Bootstrapped N%" ...
 *   ... uv_run(loop) ...
 *   tk_onion_free(o);             // then let the loop run to close
 *
 * Today the engine bootstraps its directory (dirmgr.h); circuits and
 * streams come next and will be added here. Nothing in this header knows
 * about SOCKS. */
#ifndef TK_ONION_ONION_H
#define TK_ONION_ONION_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "onion/netdoc/dirauth.h"

#define TK_ONION_MAX_AUTHORITIES 16

/* Log levels (tor's names). */
enum tk_onion_log_level {
	TK_ONION_LOG_DEBUG,
	TK_ONION_LOG_INFO,
	TK_ONION_LOG_NOTICE,
	TK_ONION_LOG_WARN,
	TK_ONION_LOG_ERR,
};

/* msg is one line without a newline. */
typedef void (*tk_onion_log_cb)(void *arg, int level, const char *msg);
/* tor's bootstrap phases: percent 0..100, tag ("loading_keys"), summary
 * ("Loading authority key certs"); reported once each, increasing. */
typedef void (*tk_onion_progress_cb)(void *arg, int percent, const char *tag,
				     const char *summary);

struct tk_onion_config {
	tk_dirauth authorities[TK_ONION_MAX_AUTHORITIES];
	size_t n_authorities;
	const char *data_dir;		/* NULL: no cache (nothing on disk) */
	int enforce_distinct_subnets;	/* EnforceDistinctSubnets, default 1 */
	unsigned dir_timeout_ms;	/* per directory connection/request */
	tk_onion_log_cb log;		/* NULL: silent */
	void *log_arg;
	tk_onion_progress_cb progress;	/* may be NULL (the log has it too) */
	void *progress_arg;
	/* 0: a usable directory is "Bootstrapped 100% (done)". 1: stop at
	 * 75% (enough_dirinfo); the circuit layer reports the rest with
	 * tk_onion_report_progress() (tor: 90 circuit_create, 100 done). */
	int circuits_report_done;
};

/* Defaults: no authorities, no DataDirectory, subnets enforced. */
void tk_onion_config_init(struct tk_onion_config *cfg);

/* Parses a torrc DirAuthority line (the keyword is optional):
 *   [DirAuthority] NICK orport=PORT v3ident=HEX40 IPv4:DIRPORT FINGERPRINT
 * and appends it. 0, or -1 with err saying what is wrong. */
int tk_onion_config_add_authority(struct tk_onion_config *cfg,
				  const char *line, char *err, size_t errlen);

typedef struct tk_onion tk_onion;

/* Checks and copies cfg. 0, or -1 with err. */
int tk_onion_new(uv_loop_t *loop, const struct tk_onion_config *cfg,
		 tk_onion **out, char *err, size_t errlen);

/* Starts bootstrapping (cache first, then the network). */
int tk_onion_start(tk_onion *o);

struct tk_onion_status {
	int percent;			/* last "Bootstrapped" percentage */
	const char *tag, *summary;
	int dir_usable;			/* enough directory to build circuits */
	size_t n_relays;		/* in the consensus */
	size_t n_usable;		/* Running, Valid, with a microdesc */
	size_t n_guards, n_exits;	/* of those, usable in that position */
	int64_t valid_after, valid_until; /* of the consensus, 0 if none */
	int from_cache;			/* that consensus came from disk */
	unsigned fetches;		/* directory requests so far */
	unsigned fetches_before_usable;
};
void tk_onion_get_status(const tk_onion *o, struct tk_onion_status *st);

/* Stops everything. Memory is released while the loop closes the
 * handles: run the loop (uv_run) afterwards. No callback runs once this
 * returns. Not from inside one of o's own callbacks (log, progress):
 * defer it to the loop. */
void tk_onion_free(tk_onion *o);

/* For the engine's own layers (circuits, path selection): the directory
 * manager. */
struct tk_dirmgr *tk_onion_dirmgr(tk_onion *o);

/* For the engine's own layers: a later bootstrap step, logged and passed
 * to the progress callback like the directory's; ignored unless above
 * the last percentage reported. tag and summary must be static. */
void tk_onion_report_progress(tk_onion *o, int percent, const char *tag,
			      const char *summary);

#endif
