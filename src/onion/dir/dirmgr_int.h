/* The directory manager's insides, shared by its files:
 *   dirmgr.c        life cycle, the request table, answers, step()
 *   dirmgr_cons.c   consensus acceptance: parse, diffs, certificates,
 *                   signatures, protocols, adoption, usability; answers
 *                   with microdescriptors
 *   dirmgr_fetch.c  what to fetch and from where, and when: tor's
 *                   bootstrap schedules, batching, sources, stalls
 *   dirmgr_cache.c  the DataDirectory files
 * Private to dirmgr*.c. */
#ifndef TK_ONION_DIR_DIRMGR_INT_H
#define TK_ONION_DIR_DIRMGR_INT_H

#include "onion/dir/certstore.h"
#include "onion/dir/dirmgr.h"
#include "onion/dir/dirsrc.h"
#include "onion/dir/dlsched.h"
#include "onion/dir/mdstore.h"

#define TK__MAX_REQS 64

enum tk__req_kind { TK__REQ_CONSENSUS, TK__REQ_CERTS, TK__REQ_MDS };

struct tk__req {
	uint64_t id;
	enum tk__req_kind kind;
	struct tk_dirsource src;
	uint32_t *slots; /* mds: router indexes asked for */
	size_t n_slots;
	const struct tk_consensus *cons; /* mds: table the slots refer to */
	int64_t started_ms, progress_ms; /* for the stall time */
	size_t bytes;			 /* of the answer, so far */
	int boot;			 /* a bootstrap-schedule attempt */
	int asked_diff;			 /* sent X-Or-Diff-From-Consensus */
};

struct tk_dirmgr {
	struct tk_dirmgr_config cfg;
	struct tk_dirmgr_env env;
	tk_dirauth *auths;
	tk_dirfallback *fallbacks;
	char (*fallback_names)[20];
	uint8_t (*v3ids)[20];
	char *data_dir; /* NULL: no cache */
	int started, stopped;
	tk_dirsources *srcs;

	/* the verified consensus and its node table; its text only while
	 * the cache file does not hold it (or there is no cache) */
	struct tk_consensus *cons;
	char *cons_text;
	size_t cons_len;
	int cons_in_file;
	char cons_sha3[65]; /* of its signed part, for diffs; "" unknown */
	struct tk_nodes nodes;
	struct tk_mdstore mds; /* slot by slot of nodes */
	int has_nodes;
	int live, usable, ever_usable, from_cache, mds_dirty, cons_dirty;
	int64_t refetch_at_ms;

	/* Without a consensus: an older one (from the cache, too old to
	 * use) that a diff may still start from. */
	char *base_text;
	size_t base_len, base_signed;
	int64_t base_va;
	char base_sha3[65];
	int diff_failed; /* the last diff did not check out: ask whole */

	/* a fetched consensus waiting for certificates */
	struct tk_consensus *pend;
	char *pend_text;
	size_t pend_len;
	int pend_from_cache;
	unsigned pend_cert_tries;
	struct tk_dirsource pend_src;

	struct tk_certstore certs;

	/* the cache file's microdescriptors were offered to a table */
	int md_file_loaded;

	struct tk__req reqs[TK__MAX_REQS];
	size_t n_reqs;
	uint64_t next_id;

	/* tor's schedules: the two bootstrap ones (attempt-based), and the
	 * consensus retry once one is held (failure-based) */
	struct tk_dlsched boot_fb, boot_auth, cons_dl;
	int booting; /* the bootstrap schedules are running */
	int64_t last_md_req_ms;

	/* bootstrap failures since the last success, for the report when
	 * no source can be reached */
	unsigned boot_fails, boot_fail_report;
	unsigned tried_fb, tried_auth, tried_other;
	char last_fail[256];
	char *warned_recommended; /* the list last warned about */

	int progress_pct; /* last reported, -1 before 0% */
	const char *progress_tag;
	int64_t wake_at;
	struct tk_dirmgr_stats stats;
};

/* dirmgr.c */
int64_t tk__now(tk_dirmgr *m);
uint64_t tk__rand(tk_dirmgr *m);
void tk__log(tk_dirmgr *m, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void tk__log_line(void *arg, int level, const char *msg);
void tk__progress(tk_dirmgr *m, int pct, const char *tag, const char *summary);
void tk__changed(tk_dirmgr *m);
int64_t tk__min_t(int64_t a, int64_t b);
size_t tk__req_count(const tk_dirmgr *m, enum tk__req_kind kind);
const char *tk__kind_name(enum tk__req_kind k);
/* Starts a request (slots owned by it on success); 0, -1 if it could not
 * start (the source is backed off, slots freed), -2 if the table is full
 * (slots freed). */
int tk__launch(tk_dirmgr *m, enum tk__req_kind kind,
	       const struct tk_dirsource *src, const char *path,
	       const char *headers, uint32_t *slots, size_t n_slots,
	       struct tk__req **out);
/* Cancels request r (through the environment) and drops it. */
void tk__req_cancel(tk_dirmgr *m, struct tk__req *r);

/* dirmgr_cons.c */
void tk__consensus_received(tk_dirmgr *m, char *text, size_t len,
			    const struct tk_dirsource *src, int from_cache);
void tk__consensus_answer(tk_dirmgr *m, const struct tk__req *r, int ok,
			  const uint8_t *body, size_t len);
void tk__certs_answer(tk_dirmgr *m, const struct tk__req *r, int ok,
		      const uint8_t *body, size_t len);
void tk__mds_answer(tk_dirmgr *m, const struct tk__req *r, int ok,
		    int http_status, const uint8_t *body, size_t len);
size_t tk__offer_mds(tk_dirmgr *m, const char *body, size_t len,
		     const char *origin, int from_net);
void tk__update_usable(tk_dirmgr *m, int64_t now);
/* 1 while there is no reasonably live verified consensus. */
int tk__bootstrapping(const tk_dirmgr *m, int64_t now);

/* dirmgr_fetch.c */
void tk__fetch_init(tk_dirmgr *m);
void tk__launch_consensus(tk_dirmgr *m, int64_t now, int64_t *wake);
void tk__launch_certs(tk_dirmgr *m, int64_t now, int64_t *wake);
void tk__launch_mds(tk_dirmgr *m, int64_t now, int64_t *wake);
void tk__check_stalls(tk_dirmgr *m, int64_t now, int64_t *wake);
/* A request of that kind to src failed (transport, HTTP status, stall,
 * a refused document): the source and the schedules are told; why is for
 * the log. http_status 0: no answer. */
void tk__fetch_failed(tk_dirmgr *m, enum tk__req_kind kind,
		      const struct tk_dirsource *src, int http_status,
		      const char *why);
/* The consensus answered by r was verified: other consensus requests end
 * (tor closes them), the schedules start over. */
void tk__consensus_done(tk_dirmgr *m);

/* dirmgr_cache.c */
void tk__load_cache(tk_dirmgr *m);
/* Offers the cache file's microdescriptors to the node table (read in
 * chunks; only their places in the file are kept). */
void tk__load_cached_mds(tk_dirmgr *m);
/* The consensus held as text: in memory or read back from the cache.
 * *owned: the caller frees it. -1 if there is none. */
int tk__consensus_text(tk_dirmgr *m, const char **text, size_t *len,
		       int *owned);
void tk__save_consensus_and_certs(tk_dirmgr *m);
void tk__save_mds(tk_dirmgr *m);

#endif
