/* Flow control: circuit and stream windows over long runs, the SENDME v1
 * tag FIFO (the 100th, 200th, ... cell), protocol violations, and the
 * half-closed stream allowance. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "onion/circ/flowctl.h"
#include "onion/cell/relay_msg.h"
#include "../unit/tap.h"

/* A distinct stand-in for the relay digest of the n-th cell. */
static void tag_of(unsigned n, uint8_t tag[20])
{
	for (int i = 0; i < 20; i++)
		tag[i] = (uint8_t)(n * 31u + (unsigned)i * 7u + (n >> 8));
}

static size_t sendme_v1(unsigned n, uint8_t body[23])
{
	uint8_t tag[20];
	tag_of(n, tag);
	return (size_t)tk_relay_sendme_encode(1, tag, body, 23);
}

static void test_circ_package(void)
{
	tk_circ_flow f;
	uint8_t tag[20], body[23];
	int bad = 0;

	tk_circ_flow_init(&f);
	tap_ok(f.package_window == 1000 && f.deliver_window == 1000 &&
		       f.ack_count == 0,
	       "circuit windows start at 1000");

	/* Exactly cells 100, 200, ..., 1000 need their digest kept. */
	unsigned needs = 0, wrong_pos = 0;
	for (unsigned n = 1; n <= 1000; n++) {
		int need = tk_circ_flow_next_needs_tag(&f);
		if (need) {
			needs++;
			if (n % 100 != 0)
				wrong_pos++;
		}
		tag_of(n, tag);
		if (tk_circ_flow_data_sent(&f, tag, 0) != 0)
			bad++;
	}
	tap_ok(bad == 0, "1000 DATA cells sent");
	tap_eq_long(needs, 10, "10 cells need a tag");
	tap_eq_long(wrong_pos, 0, "and they are the 100th, 200th, ...");
	tap_eq_long(f.ack_count, 10, "10 tags queued");
	tap_eq_long(f.package_window, 0, "package window empty");
	tap_ok(!tk_circ_flow_can_package(&f), "cannot package");
	tap_eq_long(tk_circ_flow_data_sent(&f, tag, 0), TK_FLOW_EWINDOW,
		    "1001st cell refused");

	/* SENDMEs must come in order. */
	tap_eq_long(tk_circ_flow_sendme_received(&f, body, sendme_v1(200, body), 0, 0),
		    TK_FLOW_EBADTAG, "200th tag first: mismatch");
	tk_circ_flow_init(&f);
	for (unsigned n = 1; n <= 1000; n++) {
		tag_of(n, tag);
		tk_circ_flow_data_sent(&f, tag, 0);
	}
	bad = 0;
	for (unsigned k = 1; k <= 10; k++) {
		if (tk_circ_flow_sendme_received(&f, body,
						 sendme_v1(100 * k, body), 0, 0) != 0)
			bad++;
		if (f.package_window != (int)(100 * k))
			bad++;
	}
	tap_ok(bad == 0, "10 SENDMEs with tags of cells 100..1000 accepted");
	tap_eq_long(f.package_window, 1000, "window back to 1000");
	tap_eq_long(tk_circ_flow_sendme_received(&f, body, sendme_v1(1100, body), 0, 0),
		    TK_FLOW_ENOTAG, "11th SENDME: nothing to acknowledge");
	tap_eq_long(tk_circ_flow_sendme_received(&f, NULL, 0, 0, 0), TK_FLOW_ENOTAG,
		    "v0 SENDME at a full window: nothing to acknowledge");

	/* A SENDME before the 100th cell has no tag to match. */
	tk_circ_flow_init(&f);
	for (unsigned n = 1; n <= 99; n++)
		tk_circ_flow_data_sent(&f, NULL, 0);
	tap_eq_long(f.ack_count, 0, "99 cells: no tag");
	tap_eq_long(tk_circ_flow_sendme_received(&f, body, sendme_v1(99, body), 0, 0),
		    TK_FLOW_ENOTAG, "early SENDME refused");
	tap_eq_long(tk_circ_flow_data_sent(&f, NULL, 0), TK_FLOW_EWINDOW,
		    "100th cell without its digest is a caller error");
}

static void test_circ_versions(void)
{
	tk_circ_flow f;
	uint8_t tag[20], body[32];

	tk_circ_flow_init(&f);
	for (unsigned n = 1; n <= 200; n++) {
		tag_of(n, tag);
		tk_circ_flow_data_sent(&f, tag, 0);
	}
	tap_eq_long(tk_circ_flow_sendme_received(&f, NULL, 0, 0, 0), 0,
		    "v0 accepted when the minimum is 0");
	tap_eq_long(f.ack_count, 1, "v0 still pops a tag");
	tap_eq_long(f.package_window, 900, "and opens the window");
	f.accept_min_version = 1;
	tap_eq_long(tk_circ_flow_sendme_received(&f, NULL, 0, 0, 0),
		    TK_FLOW_EVERSION,
		    "v0 refused under sendme_accept_min_version=1");
	size_t n = tap_unhex("02 0000", body, sizeof body);
	tap_eq_long(tk_circ_flow_sendme_received(&f, body, n, 0, 0),
		    TK_FLOW_EVERSION, "v2 refused");
	n = tap_unhex("01 0014 0000", body, sizeof body);
	tap_eq_long(tk_circ_flow_sendme_received(&f, body, n, 0, 0),
		    TK_FLOW_EMALFORMED, "truncated v1 refused");
	tap_eq_long(tk_circ_flow_sendme_received(&f, body, sendme_v1(200, body), 0, 0),
		    0, "the right v1 still accepted afterwards");

	/* One flipped bit in the tag. */
	tk_circ_flow_init(&f);
	for (unsigned i = 1; i <= 100; i++) {
		tag_of(i, tag);
		tk_circ_flow_data_sent(&f, tag, 0);
	}
	sendme_v1(100, body);
	body[3 + 19] ^= 1;
	tap_eq_long(tk_circ_flow_sendme_received(&f, body, 23, 0, 0),
		    TK_FLOW_EBADTAG, "one bit off in the last tag byte");
}

/* Two ends over a long run: our package side against a simulated exit
 * that answers every 100th cell with that cell's digest, and our deliver
 * side receiving from the exit. */
static void test_circ_long_run(void)
{
	tk_circ_flow f;
	uint8_t tag[20], body[23], sb[23];
	size_t sl;
	static const unsigned bursts[] = { 1, 3, 10 };
	for (size_t b = 0; b < 3; b++) {
		unsigned burst = bursts[b], sent = 0, bad = 0, q[16], qn = 0;
		unsigned min_w = 1000, max_w = 0;

		tk_circ_flow_init(&f);
		f.accept_min_version = 1;
		/* The exit's SENDMEs lag: they arrive after `burst` of them
		 * are owed (10: only when our window is shut). */
		while (sent < 20000) {
			while (tk_circ_flow_can_package(&f) && sent < 20000 &&
			       qn < burst) {
				sent++;
				tag_of(sent, tag);
				if (tk_circ_flow_data_sent(&f, tag, 0) != 0)
					bad++;
				if (sent % 100 == 0)
					q[qn++] = sent; /* the exit owes one */
				if ((unsigned)f.package_window < min_w)
					min_w = (unsigned)f.package_window;
			}
			for (unsigned i = 0; i < qn; i++) {
				if (tk_circ_flow_sendme_received(
					    &f, body, sendme_v1(q[i], body), 0, 0) != 0)
					bad++;
				if ((unsigned)f.package_window > max_w)
					max_w = (unsigned)f.package_window;
			}
			qn = 0;
		}
		tap_eq_long(bad, 0,
			    "burst %u: 20000 cells out, 200 SENDME v1 in, "
			    "all valid",
			    burst);
		tap_eq_long((long)f.sendmes_received, 200,
			    "200 SENDMEs counted");
		tap_ok(max_w == 1000 && min_w == 1000 - 100 * burst,
		       "window moves within %u..1000", 1000 - 100 * burst);
		tap_eq_long(f.ack_count, 0, "no tags left over");
	}

	unsigned bad = 0;

	/* Deliver side: 20000 cells from the exit. */
	tk_circ_flow_init(&f);
	unsigned sendmes = 0, wrong = 0;
	for (unsigned n = 1; n <= 20000; n++) {
		tag_of(n, tag);
		if (tk_circ_flow_data_received(&f, tag, sb, &sl) != 0)
			bad++;
		if (sl) {
			sendmes++;
			uint8_t want[23];
			sendme_v1(n, want);
			if (n % 100 != 0 || sl != 23 || memcmp(sb, want, 23) != 0)
				wrong++;
		}
		if (f.deliver_window < 900 || f.deliver_window > 1000)
			bad++;
	}
	tap_eq_long(bad, 0, "20000 cells in, deliver window in 900..1000");
	tap_eq_long(sendmes, 200, "a SENDME for every 100 cells");
	tap_eq_long(wrong, 0, "each carries the digest of the 100th cell");
	tap_eq_long((long)f.sendmes_sent, 200, "sendmes_sent counter");

	tk_circ_flow_init(&f);
	f.deliver_window = 0;
	tap_eq_long(tk_circ_flow_data_received(&f, tag, sb, &sl),
		    TK_FLOW_EDELIVER, "DATA past the deliver window");
	tk_circ_flow_init(&f);
	for (int i = 0; i < 99; i++)
		tk_circ_flow_data_received(&f, NULL, sb, &sl);
	tap_eq_long(tk_circ_flow_data_received(&f, NULL, sb, &sl),
		    TK_FLOW_EMALFORMED, "100th received cell needs its digest");
}

static void test_stream(void)
{
	tk_stream_flow s;
	int bad = 0;

	tk_stream_flow_init(&s);
	tap_ok(s.package_window == 500 && s.deliver_window == 500,
	       "stream windows start at 500");
	for (int i = 0; i < 500; i++)
		if (tk_stream_flow_data_sent(&s) != 0)
			bad++;
	tap_ok(bad == 0 && !tk_stream_flow_can_package(&s),
	       "500 cells, then closed");
	tap_eq_long(tk_stream_flow_data_sent(&s), TK_FLOW_EWINDOW,
		    "501st refused");
	for (int i = 0; i < 10; i++)
		if (tk_stream_flow_sendme_received(&s) != 0)
			bad++;
	tap_ok(bad == 0 && s.package_window == 500, "10 SENDMEs: 500 again");
	tap_eq_long(tk_stream_flow_sendme_received(&s), TK_FLOW_ESENDME,
		    "SENDME past 500 refused");

	/* Deliver: one SENDME per 50 cells while the reader keeps up. */
	tk_stream_flow_init(&s);
	int due = 0, at_wrong = 0;
	bad = 0;
	for (int n = 1; n <= 5000; n++) {
		if (tk_stream_flow_data_received(&s) != 0)
			bad++;
		int d = tk_stream_flow_sendmes_due(&s, 0);
		if (d && n % 50 != 0)
			at_wrong++;
		due += d;
	}
	tap_ok(bad == 0 && due == 100 && at_wrong == 0,
	       "5000 cells: 100 stream SENDMEs at every 50th");
	tap_eq_long(s.deliver_window, 500, "deliver window back at 500");

	/* Backed up: no SENDMEs, the exit runs out of window, then a burst
	 * when the reader drains. */
	tk_stream_flow_init(&s);
	due = 0;
	bad = 0;
	for (int n = 1; n <= 500; n++) {
		if (tk_stream_flow_data_received(&s) != 0)
			bad++;
		due += tk_stream_flow_sendmes_due(&s, 1);
	}
	tap_ok(bad == 0 && due == 0 && s.deliver_window == 0,
	       "backed up: 500 cells, no SENDME");
	tap_eq_long(tk_stream_flow_data_received(&s), TK_FLOW_EDELIVER,
		    "exit overruns the stream window");
	tap_eq_long(tk_stream_flow_sendmes_due(&s, 0), 10,
		    "drained: 10 SENDMEs at once");
	tap_eq_long(tk_stream_flow_sendmes_due(&s, 0), 0, "and no more");
}

static void test_half_closed(void)
{
	tk_stream_flow s;
	tk_half_stream h;

	tk_stream_flow_init(&s);
	for (int i = 0; i < 120; i++)
		tk_stream_flow_data_sent(&s); /* 2 SENDMEs outstanding */
	for (int i = 0; i < 30; i++)
		tk_stream_flow_data_received(&s); /* 470 more may come */
	tk_half_stream_init(&h, 0x1234, &s, 1);
	tap_ok(h.stream_id == 0x1234 && h.data_pending == 470 &&
		       h.sendmes_pending == 2 && h.connected_pending == 1,
	       "half-closed allowance from the windows");
	int ok = 1;
	for (int i = 0; i < 470; i++)
		ok &= tk_half_stream_on_msg(&h, TK_RELAY_DATA) == TK_HALF_ACCEPT;
	tap_ok(ok, "470 DATA cells absorbed");
	tap_eq_long(tk_half_stream_on_msg(&h, TK_RELAY_DATA),
		    TK_HALF_UNEXPECTED, "471st is unexpected");
	tap_eq_long(tk_half_stream_on_msg(&h, TK_RELAY_SENDME), TK_HALF_ACCEPT,
		    "SENDME 1");
	tap_eq_long(tk_half_stream_on_msg(&h, TK_RELAY_SENDME), TK_HALF_ACCEPT,
		    "SENDME 2");
	tap_eq_long(tk_half_stream_on_msg(&h, TK_RELAY_SENDME),
		    TK_HALF_UNEXPECTED, "SENDME 3 unexpected");
	tap_eq_long(tk_half_stream_on_msg(&h, TK_RELAY_CONNECTED),
		    TK_HALF_ACCEPT, "late CONNECTED once");
	tap_eq_long(tk_half_stream_on_msg(&h, TK_RELAY_CONNECTED),
		    TK_HALF_UNEXPECTED, "second CONNECTED unexpected");
	tap_eq_long(tk_half_stream_on_msg(&h, TK_RELAY_BEGIN),
		    TK_HALF_UNEXPECTED, "BEGIN unexpected");
	tap_eq_long(tk_half_stream_on_msg(&h, TK_RELAY_END), TK_HALF_DONE,
		    "END finishes it");
	tk_half_stream_init(&h, 7, NULL, 0);
	tap_ok(h.data_pending == 500 && h.sendmes_pending == 0 &&
		       !h.connected_pending,
	       "fresh windows when none given");
	tap_eq_long(tk_half_stream_on_msg(&h, TK_RELAY_RESOLVED), TK_HALF_DONE,
		    "RESOLVED finishes a lookup");
	tap_ok(strlen(tk_flow_strerror(TK_FLOW_EBADTAG)) > 10,
	       "error strings");
}

/* The exit's advised rate, on a fake clock: a sender with endless data
 * that sends whatever the bucket allows, then sleeps as long as the
 * bucket says, delivers the one-second burst plus rate * t, and is never
 * idle longer than it takes the rate to earn a cell (or the minimum
 * wait): no pause until some coarse tick. */
static void run_bucket(uint32_t rate, uint64_t min_wait, uint64_t secs,
		       uint64_t *sent_out, uint64_t *max_gap_out)
{
	tk_send_bucket b;
	uint64_t now = 1000, sent = 0, last = now, max_gap = 0;
	memset(&b, 0, sizeof b);
	while (now <= 1000 + secs * 1000000) {
		size_t allow = tk_send_bucket_allow(&b, rate, now);
		if (allow >= TK_RELAY_DATA_MAX) {
			if (now - last > max_gap)
				max_gap = now - last;
			last = now;
			sent += allow;
			tk_send_bucket_spend(&b, allow);
			continue;
		}
		now += tk_send_bucket_wait_usec(&b, min_wait);
	}
	*sent_out = sent;
	*max_gap_out = max_gap;
}

static void test_send_bucket(void)
{
	tk_send_bucket b;
	uint64_t sent, gap;

	memset(&b, 0, sizeof b);
	tap_eq_long((long)(tk_send_bucket_allow(&b, 0, 5) == SIZE_MAX), 1,
		    "no advice: no limit");
	tap_eq_long((long)tk_send_bucket_allow(&b, 100000, 5), 100000,
		    "a fresh bucket holds one second's worth");
	tk_send_bucket_spend(&b, 100000);
	tap_eq_long((long)tk_send_bucket_wait_usec(&b, 0), 4980,
		    "empty at 100 KB/s: a cell's worth in 4.98 ms");
	tap_eq_long((long)tk_send_bucket_wait_usec(&b, 10000), 10000,
		    "but not sooner than the minimum wait");
	tap_eq_long((long)tk_send_bucket_allow(&b, 100000, 5 + 4980), 498,
		    "and then it holds that cell");
	tap_eq_long((long)tk_send_bucket_allow(&b, 100000, 5 + 5000000),
		    100000, "never more than a second's worth");
	tap_eq_long((long)tk_send_bucket_allow(&b, 20000, 5 + 5000000), 20000,
		    "a lower rate caps what it holds");

	/* many small steps lose no fraction of a byte: the last step, at
	 * 499996 us, has earned 1499.988 bytes */
	(void)tk_send_bucket_allow(&b, 3000, 10000000);
	tk_send_bucket_spend(&b, 3000);
	for (uint64_t t = 10000000; t <= 10500000; t += 7)
		(void)tk_send_bucket_allow(&b, 3000, t);
	tap_eq_long((long)b.tokens, 1499,
		    "7 us steps for 0.5 s at 3000 B/s: every byte earned");
	tk_send_bucket_spend(&b, 1499);
	tap_eq_long((long)tk_send_bucket_wait_usec(&b, 0), 165671,
		    "and the 0.988 byte counts toward the next cell");

	run_bucket(100000, 10000, 5, &sent, &gap);
	tap_ok(sent >= 600000 - TK_RELAY_DATA_MAX - 1000 && sent <= 600000,
	       "100 KB/s for 5 s: the burst and 5 s' worth (%llu)",
	       (unsigned long long)sent);
	tap_eq_long((long)gap, 10000, "never idle more than 10 ms");
	run_bucket(1000, 10000, 10, &sent, &gap);
	tap_ok(sent >= 11000 - TK_RELAY_DATA_MAX && sent <= 11000,
	       "1 KB/s for 10 s: %llu bytes", (unsigned long long)sent);
	tap_ok(gap <= 498000, "idle at most the 498 ms a cell takes (%llu)",
	       (unsigned long long)gap);
	run_bucket(10000000, 10000, 2, &sent, &gap);
	tap_ok(sent >= 30000000 - 100000 && sent <= 30000000,
	       "10 MB/s for 2 s: %llu bytes", (unsigned long long)sent);
}

int main(void)
{
	test_circ_package();
	test_circ_versions();
	test_circ_long_run();
	test_stream();
	test_half_closed();
	test_send_bucket();
	return tap_done();
}
