/* The directory requests in flight, and the schedules that launch them:
 * what to fetch, from which source, and when.
 *
 * Consensus, bootstrapping (no reasonably live consensus), as tor 0.4.9:
 * two attempt schedules run side by side, the fallbacks' (first attempt
 * at once) and the authorities' (first attempt after 6 s, or at once when
 * there are no fallbacks); each launches an attempt when it is due and
 * then waits a growing random delay (dlsched.h). At most 3 attempts are in
 * flight, and none is added once one is receiving a document. A failure
 * only frees a slot; a 503 ("busy") makes the next attempt due at once.
 * The first consensus that verifies ends the others. With a consensus
 * held, one refresh at a time at the refetch time, to a directory guard
 * or a cache, asking for a diff; after a failure it waits per tor's retry
 * schedule.
 *
 * Microdescriptors, as tor's launch_descriptor_downloads(): what is
 * missing is split into requests of a third each, 32 to 500 digests (over
 * BEGIN_DIR), spread over different caches; a cache that lacked a digest
 * is not asked for it again. Once usable, fewer than 16 missing wait up
 * to md_delay_ms to be asked for together.
 *
 * A request without a byte for stall_ms is given up and counted as a
 * failure of its source.
 *
 * It holds no document: each launch is given a view of what the owner
 * holds (tk_dirreqs_view), and what the owner must act on comes back as
 * events (tk_dirreqs_events). */
#ifndef TK_ONION_DIR_DIRREQS_H
#define TK_ONION_DIR_DIRREQS_H

#include <stddef.h>
#include <stdint.h>

#include "common/log_level.h"
#include "onion/dir/dirsrc.h"
#include "onion/dir/dlsched.h"
#include "onion/dir/mdstore.h"
#include "onion/netdir/nodes.h"
#include "onion/netdoc/consensus.h"

#define TK_DIRREQS_MAX 64

struct tk_dirreq {
	uint64_t id;
	enum tk_dirdoc doc;
	struct tk_dirsource src;
	uint32_t *slots; /* mds: router indexes asked for */
	size_t n_slots;
	const struct tk_consensus *cons; /* mds: table the slots refer to */
	int64_t started_ms, progress_ms; /* for the stall time */
	size_t bytes;			 /* of the answer, so far */
	int boot;			 /* a bootstrap-schedule attempt */
	int asked_diff;			 /* sent X-Or-Diff-From-Consensus */
};

struct tk_dirreqs_config {
	const uint8_t (*v3ids)[20]; /* the authorities'; outlive reqs */
	size_t n_auths, n_fallbacks;
	unsigned md_batch_max, md_batch_min, md_max_parallel;
	int64_t boot_fallback_delay_ms, boot_authority_delay_ms;
	int64_t boot_authority_only_delay_ms, boot_max_delay_ms;
	unsigned boot_max_in_progress;
	int64_t stall_ms, md_delay_ms;
};

/* All called with arg. */
struct tk_dirreqs_events {
	int64_t (*now_ms)(void *arg);
	uint64_t (*random)(void *arg);
	/* GET path from src; the answer comes later, never from inside
	 * the call. < 0: could not start. */
	int (*fetch)(void *arg, uint64_t id, const struct tk_dirsource *src,
		     const char *path, const char *headers);
	void (*cancel)(void *arg, uint64_t id);
	/* a directory guard, once usable; 0 with *out, -1 if none. May be
	 * NULL. */
	int (*dir_guard)(void *arg, const struct tk_nodes *nodes,
			 struct tk_dirsource *out);
	tk_log_fn log;
	void (*progress)(void *arg, int pct, const char *tag,
			 const char *summary);
	/* r was given up for silence: it is out of the table and counted
	 * as a failure of its source; what it asked for is free again. */
	void (*stalled)(void *arg, const struct tk_dirreq *r);
	/* bootstrap attempts keep failing (fails of them, so many made to
	 * fallbacks and to authorities; last: the last failure). */
	void (*stuck)(void *arg, unsigned fails, unsigned tried_fb,
		      unsigned tried_auth, const char *last);
	void *arg;
};

/* What the owner holds, for one launch. */
struct tk_dirreqs_view {
	const struct tk_consensus *cons; /* verified, or NULL */
	struct tk_nodes *nodes;		 /* its table (NULL without) */
	struct tk_mdstore *mds;		 /* its microdescriptors */
	int bootstrapping;		 /* no reasonably live consensus */
	int usable;
	int64_t refetch_at_ms;
	/* a consensus waits for certificates: where it came from (NULL:
	 * the cache), how many answers with certificates came since */
	int pending;
	const struct tk_dirsource *pend_src;
	unsigned cert_tries;
	/* the path asking for the certificates it lacks; the diff header
	 * line (or "") for a consensus request */
	void (*certs_path)(void *arg, char *out, size_t cap);
	void (*diff_header)(void *arg, int64_t now_ms, char *out, size_t cap);
	void *arg;
};

struct tk_dirreqs {
	struct tk_dirreqs_config cfg;
	struct tk_dirreqs_events ev;
	tk_dirsources *srcs; /* borrowed */
	struct tk_dirreq reqs[TK_DIRREQS_MAX];
	size_t n;
	uint64_t next_id;
	int ever_usable; /* set by the owner: failures get quieter */

	/* tor's schedules: the two bootstrap ones (attempt-based), and the
	 * consensus retry once one is held (failure-based) */
	struct tk_dlsched boot_fb, boot_auth, cons_dl;
	int booting; /* the bootstrap schedules are running */
	int64_t last_md_req_ms;

	/* bootstrap failures since the last success, for the report when
	 * no source can be reached */
	unsigned boot_fails, boot_fail_report;
	unsigned tried_fb, tried_auth;
	char last_fail[256];

	unsigned fetches, failures, stalls;
};

void tk_dirreqs_init(struct tk_dirreqs *q, const struct tk_dirreqs_config *cfg,
		     const struct tk_dirreqs_events *ev, tk_dirsources *srcs);
/* Cancels every request in flight. */
void tk_dirreqs_free(struct tk_dirreqs *q);
/* The schedules start now. */
void tk_dirreqs_start(struct tk_dirreqs *q);

struct tk_dirreq *tk_dirreqs_find(struct tk_dirreqs *q, uint64_t id);
/* Takes request id out of the table into *out (its slots become the
 * caller's). 0, or -1 if there is none. */
int tk_dirreqs_take(struct tk_dirreqs *q, uint64_t id, struct tk_dirreq *out);
size_t tk_dirreqs_count(const struct tk_dirreqs *q, enum tk_dirdoc doc);

/* Launches what is missing and due; *wake is lowered to when to look
 * again. */
void tk_dirreqs_check_stalls(struct tk_dirreqs *q, int64_t now, int64_t *wake);
void tk_dirreqs_launch_consensus(struct tk_dirreqs *q,
				 const struct tk_dirreqs_view *v, int64_t now,
				 int64_t *wake);
void tk_dirreqs_launch_certs(struct tk_dirreqs *q,
			     const struct tk_dirreqs_view *v, int64_t now,
			     int64_t *wake);
void tk_dirreqs_launch_mds(struct tk_dirreqs *q,
			   const struct tk_dirreqs_view *v, int64_t now,
			   int64_t *wake);

/* A request for doc to src failed (transport, HTTP status, stall, a
 * refused document): the source and the schedules are told; why is for
 * the log. http_status 0: no answer. */
void tk_dirreqs_failed(struct tk_dirreqs *q, enum tk_dirdoc doc,
		       const struct tk_dirsource *src, int http_status,
		       const char *why);
/* A consensus was adopted: other consensus requests end (tor closes
 * them), requests for microdescriptors no longer refer to the old
 * table, the schedules start over. */
void tk_dirreqs_adopted(struct tk_dirreqs *q);
/* A diff did not check out: the whole consensus is asked for at once. */
void tk_dirreqs_ask_whole(struct tk_dirreqs *q);

#endif
