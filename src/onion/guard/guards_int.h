/* guards.h: the state shared by guards.c (choosing) and guards_state.c
 * (the state-file lines). */
#ifndef TK_ONION_GUARD_GUARDS_INT_H
#define TK_ONION_GUARD_GUARDS_INT_H

#include "onion/guard/guards.h"

#define TK__GUARD_EXTRA_MAX 256	 /* unknown K=V kept per member */
#define TK__GUARD_OTHER_LEN 1024 /* a foreign instance's line */

enum tk__reach { TK__REACH_MAYBE, TK__REACH_YES, TK__REACH_NO };

struct tk__guard {
	/* persistent (guard-spec A.5) */
	uint8_t rsa_id[20];
	char nickname[20];
	int64_t sampled_on;
	char sampled_by[32];
	int listed;
	int64_t unlisted_since; /* 0: listed */
	int64_t confirmed_on;	/* 0: not confirmed */
	long confirmed_idx;	/* -1: not confirmed */
	char extra[TK__GUARD_EXTRA_MAX];
	/* for this run only */
	enum tk__reach reach;
	int64_t failing_since; /* 0: not failing */
	int64_t last_tried;
	int pending;
	unsigned primary_rank; /* 0: not primary, else 1.. */
};

struct tk_guards {
	struct tk_guard_params p;
	struct tk__guard m[TK_GUARDS_MAX];
	size_t n;
	char *other[TK_GUARDS_MAX_OTHER];
	size_t n_other;
	int dirty;
	int64_t last_on_internet;
	/* the consensus last looked at, to update listed state once */
	int64_t seen_valid_after;
	const void *seen_cons;
	/* the generator of the last pick, for the randomised dates */
	struct tk_path_rng rng;
};

/* Uniform in [0, n). n 0 gives 0. */
uint64_t tk__guards_below(tk_guards *g, uint64_t n);

#endif
