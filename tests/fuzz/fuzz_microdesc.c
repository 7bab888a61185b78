/* libFuzzer harness: a body of microdescriptors (annotations, many
 * documents), each parsed, its summaries queried, families compared. */
#include <stddef.h>
#include <stdint.h>

#include "onion/base/crypto.h"
#include "onion/netdoc/microdesc.h"
#include "onion/netdoc/netdoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t id_a[20] = {1}, id_b[20] = {2};
	struct tk_microdesc md, prev;
	char err[TK_NETDOC_ERRLEN];
	const char *text;
	size_t textlen, pos = 0, last = 0;
	int r, have_prev = 0;

	tk_microdesc_init(&md);
	tk_microdesc_init(&prev);
	while ((r = tk_microdesc_next((const char *)data, size, &pos, &md,
				      &text, &textlen, err, sizeof err)) != 0) {
		if (pos <= last && textlen > 0)
			__builtin_trap();	/* must make progress */
		last = pos;
		if (r < 0)
			continue;
		tk_policy_summary_allows(&md.p, 443);
		tk_policy_summary_allows(&md.p6, 1);
		tk_policy_summary_rejects_all(&md.p);
		/* "a": an address is kept only with its port. */
		if (md.ipv6_port == 0)
			for (int i = 0; i < 16; i++)
				if (md.ipv6[i])
					__builtin_trap();
		if (have_prev)
			tk_microdesc_same_family(&md, id_a, &prev, id_b);
		tk_microdesc_free(&prev);
		prev = md;	/* hand over ownership */
		tk_microdesc_init(&md);
		have_prev = 1;
	}
	tk_microdesc_free(&md);
	tk_microdesc_free(&prev);
	return 0;
}
