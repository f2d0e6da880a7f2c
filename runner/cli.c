#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "msg.h"

int cli_option_error(const char *cmd, char **argv)
{
	if (optopt)
		msg_error("%s: option needs a value or is unknown: %s", cmd, argv[optind - 1]);
	else
		msg_error("%s: unknown option %s", cmd, argv[optind - 1]);
	fprintf(stderr, "Try `novabatch %s --help`.\n", cmd);
	return -1;
}

int cli_extra_argument(const char *cmd, const char *argument, const char *hint)
{
	msg_error("%s: unexpected argument '%s'%s", cmd, argument, hint ? hint : "");
	fprintf(stderr, "Try `novabatch %s --help`.\n", cmd);
	return -1;
}

int cli_whole_number(const char *option, const char *text, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max) {
		msg_error("--%s: '%s' is not a whole number from %ld to %ld", option, text, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_probability(const char *option, const char *text, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	/* Written so that NaN fails too. */
	if (errno || end == text || *end || !(v >= 0 && v <= 1)) {
		msg_error("--%s: '%s' is not a probability from 0 to 1 (like 0.3)", option, text);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_percent(const char *option, const char *text, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (end > text && *end == '%')
		end++;
	/* Written so that NaN fails too. */
	if (errno || end == text || *end || !(v >= 0 && v <= 1e6)) {
		msg_error("--%s: '%s' is not a percentage from 0 (like 10 or 2.5)", option, text);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_write_output(const char *cmd, const char *path, cli_writer write, const void *ctx)
{
	const char *where = path ? path : "standard output";
	FILE *out = path ? fopen(path, "w") : stdout;
	if (!out) {
		msg_error("%s: cannot write %s: %s", cmd, where, strerror(errno));
		return NB_EXIT_USAGE;
	}
	struct nb_err err;
	int rc = write(ctx, out, &err);
	if (rc == CLI_WRITE_ERROR)
		msg_error("%s: cannot write %s: %s", cmd, where, err.msg);
	else if (rc < 0)
		msg_error("%s", err.msg);
	if (path && fclose(out) != 0 && rc == 0) {
		msg_error("%s: cannot write %s: %s", cmd, where, strerror(errno));
		rc = CLI_WRITE_ERROR;
	}
	return rc < 0 ? NB_EXIT_USAGE : NB_EXIT_OK;
}
