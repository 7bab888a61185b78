/* Exit policy summaries as microdescriptors carry them (dir-spec §3.3,
 * "p" and "p6" lines): "accept 80,443,1000-2000" or "reject 1-1024".
 * A missing line means "reject everything". */
#ifndef TK_ONION_NETDOC_POLICY_SUMMARY_H
#define TK_ONION_NETDOC_POLICY_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

struct tk_port_range {
	uint16_t lo, hi;
};

struct tk_policy_summary {
	/* Counted reference to the ranges (NULL when n is 0): summaries
	 * that say the same share one array (tk_policy_summary_share), as
	 * most exits of a network publish one of a few policies. */
	struct tk_port_range *r;
	uint32_t n; /* sorted, merged, non-overlapping */
	int accept; /* 1: listed ports are the allowed ones */
};

/* Sets p to "reject everything" (what a missing line means). */
void tk_policy_summary_init(struct tk_policy_summary *p);
/* Drops p's reference and sets it to "reject everything". */
void tk_policy_summary_free(struct tk_policy_summary *p);

/* Makes dst (freed first) say what src says, sharing its ranges. */
void tk_policy_summary_share(struct tk_policy_summary *dst,
			     const struct tk_policy_summary *src);

/* 1 if a and b allow the same ports. */
int tk_policy_summary_equal(const struct tk_policy_summary *a,
			    const struct tk_policy_summary *b);

/* Parses the two arguments of a p/p6 line ("accept", "22,80-81").
 * Ports are 1..65535, ranges lo <= hi; overlapping or unordered ranges are
 * merged. On error p is left as "reject everything". 0 or -1 (err set). */
int tk_policy_summary_parse(struct tk_policy_summary *p, const char *verb,
			    size_t verblen, const char *list, size_t listlen,
			    char *err, size_t errlen);

/* 1 if a connection to port is allowed by the summary. Port 0 never is. */
int tk_policy_summary_allows(const struct tk_policy_summary *p, uint16_t port);

/* 1 if no port at all is allowed. */
int tk_policy_summary_rejects_all(const struct tk_policy_summary *p);

#endif
