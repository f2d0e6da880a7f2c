#include "progress.h"

#include <math.h>
#include <stdio.h>

#include "report.h"

void progress_count(double n, char out[PROGRESS_WORD_LEN])
{
	if (n < 1000)
		snprintf(out, PROGRESS_WORD_LEN, "%.0f", n);
	else if (n < 1e6)
		snprintf(out, PROGRESS_WORD_LEN, "%.1fk", n / 1e3);
	else if (n < 1e9)
		snprintf(out, PROGRESS_WORD_LEN, "%.2fM", n / 1e6);
	else
		snprintf(out, PROGRESS_WORD_LEN, "%.2fG", n / 1e9);
}

void progress_duration(double seconds, char out[PROGRESS_WORD_LEN])
{
	long s = seconds > 0 && seconds < 1e9 ? (long)ceil(seconds) : 0;
	if (s < 60)
		snprintf(out, PROGRESS_WORD_LEN, "%lds", s);
	else if (s < 3600)
		snprintf(out, PROGRESS_WORD_LEN, "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(out, PROGRESS_WORD_LEN, "%ldh%02ldm", s / 3600, s % 3600 / 60);
}

void progress_line(const struct sched_totals *t, long total, double elapsed_s,
		   char out[PROGRESS_LINE_LEN])
{
	long done = t->ok + t->failed + t->invalid;
	/* Rates are this session's: skipped jobs took no time. */
	long done_now = done - t->skipped;
	double req_rate = elapsed_s > 0 ? (double)t->attempts / elapsed_s : 0;
	double job_rate = elapsed_s > 0 ? (double)done_now / elapsed_s : 0;

	char of[64] = "", eta[64] = "";
	if (total >= 0) {
		long shown = done > total ? done : total;
		snprintf(of, sizeof of, "/%ld (%.1f%%)", shown,
			 shown ? 100.0 * (double)done / (double)shown : 100.0);
		char left[PROGRESS_WORD_LEN];
		if (job_rate > 0 && shown > done) {
			progress_duration((double)(shown - done) / job_rate, left);
			snprintf(eta, sizeof eta, ", ETA %s", left);
		}
	}
	char in[PROGRESS_WORD_LEN], outk[PROGRESS_WORD_LEN], usd[REPORT_USD_LEN];
	progress_count((double)t->input_tokens, in);
	progress_count((double)t->output_tokens, outk);
	report_usd_text(t->cost_pusd, usd);
	snprintf(out, PROGRESS_LINE_LEN,
		 "%ld%s done, %zu in flight, %.1f req/s | ok %ld, failed %ld, invalid %ld | "
		 "%ld retries, %ld throttled | tokens %s in, %s out | $%s%s%s",
		 done, of, t->in_flight, req_rate, t->ok, t->failed, t->invalid, t->retries,
		 t->throttled, in, outk, usd, t->cost_known ? "" : " (some unpriced)", eta);
}
