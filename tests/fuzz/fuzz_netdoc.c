/* libFuzzer harness: the netdoc meta-format tokenizer and the scalar
 * parsers every document parser builds on (time, integers, base64, hex,
 * policy summaries), applied to whatever items the input holds. */
#include <stddef.h>
#include <stdint.h>

#include "onion/netdoc/netdoc.h"
#include "onion/netdoc/policy_summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_netdoc_reader rd;
	struct tk_netdoc_item it;
	char err[TK_NETDOC_ERRLEN];
	uint8_t buf[4096];
	int r;

	tk_netdoc_reader_init(&rd, (const char *)data, size);
	while ((r = tk_netdoc_next(&rd, &it, err, sizeof err)) == 1) {
		size_t cur = 0, n = 0;
		struct tk_netdoc_span a, kw;
		while (tk_netdoc_arg_next(&it, &cur, &a))
			n++;
		if (n != it.argc)
			__builtin_trap();	/* argc must count every arg */
		if (it.end <= it.start || it.end > size)
			__builtin_trap();
		if (it.has_obj)
			tk_netdoc_obj_decode(&it, buf, sizeof buf);
		if (it.argc >= 2) {
			int64_t t;
			char out[32];
			if (tk_netdoc_time(it.argv[0], it.argv[1], &t) == 0)
				tk_netdoc_time_fmt(t, out, sizeof out);
			struct tk_policy_summary p;
			tk_policy_summary_init(&p);
			if (tk_policy_summary_parse(&p, it.argv[0].p,
						    it.argv[0].len,
						    it.argv[1].p,
						    it.argv[1].len, err,
						    sizeof err) == 0) {
				tk_policy_summary_allows(&p, 80);
				tk_policy_summary_allows(&p, 65535);
				tk_policy_summary_rejects_all(&p);
			}
			tk_policy_summary_free(&p);
		}
		if (it.argc >= 1) {
			long long v;
			tk_netdoc_int(it.argv[0], INT32_MIN, INT32_MAX, &v);
			tk_netdoc_b64_exact(it.argv[0], buf, 32);
			tk_netdoc_hex_exact(it.argv[0], buf, 20);
		}
		tk_netdoc_peek_kw(&rd, &kw);
	}
	return 0;
}
