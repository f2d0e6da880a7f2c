/*
 * cmd_mock: `novabatch mock`, the local endpoint that tests, demos and
 * benchmarks run against. Reads the options and the key pair, starts the
 * server (mock.c), says where it listens and serves until SIGINT or SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "err.h"
#include "mock.h"
#include "msg.h"

#define CMD_MOCK_DEFAULT_PORT 8080
#define CMD_MOCK_MAX_LATENCY_MS 600000 /* ten minutes */

static const char cmd_mock_usage[] =
	"usage: novabatch mock [--port N] [--latency-ms N] [--log FILE]\n"
	"\n"
	"Serves a local Bedrock-compatible endpoint on 127.0.0.1 for tests, demos and\n"
	"benchmarks. POST /model/{modelId}/converse answers with a deterministic\n"
	"Converse response (see runner/mock_reply.h for its token rule). Every request\n"
	"must be SigV4-signed (signing name \"bedrock\", any region) with the key pair\n"
	"in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and carry AWS_SESSION_TOKEN\n"
	"as X-Amz-Security-Token when that is set; any test values will do.\n"
	"\n"
	"Prints \"LISTENING <port>\" on stdout once it accepts connections, then\n"
	"serves until SIGINT or SIGTERM. Point `novabatch run` at it with\n"
	"--endpoint-url http://127.0.0.1:<port>.\n"
	"\n"
	"options:\n"
	"  --port N         TCP port on 127.0.0.1 (default 8080; 0 picks a free one)\n"
	"  --latency-ms N   wait N milliseconds before each answer (default 0)\n"
	"  --log FILE       append one JSON line per answer to FILE: request_id,\n"
	"                   status, error_type, model_id, input_tokens, output_tokens\n"
	"  --help           show this help\n";

int cmd_mock(int argc, char **argv)
{
	static const struct option options[] = {
		{"port", required_argument, NULL, 'p'},
		{"latency-ms", required_argument, NULL, 'l'},
		{"log", required_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct mock_config cfg = {0};
	long port = CMD_MOCK_DEFAULT_PORT;
	struct nb_err err;
	struct mock *m;
	const char *log_path = NULL;
	sigset_t stop;
	int opt, sig;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (cli_whole_number("port", optarg, 0, 65535, &port) < 0)
				return NB_EXIT_USAGE;
			break;
		case 'l':
			if (cli_whole_number("latency-ms", optarg, 0, CMD_MOCK_MAX_LATENCY_MS,
					     &cfg.latency_ms) < 0)
				return NB_EXIT_USAGE;
			break;
		case 'L':
			log_path = optarg;
			break;
		case 'h':
			fputs(cmd_mock_usage, stdout);
			return NB_EXIT_OK;
		default:
			cli_option_error("mock", argv);
			return NB_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_extra_argument("mock", argv[optind], NULL);
		return NB_EXIT_USAGE;
	}

	cfg.port = (unsigned)port;
	cfg.access_key_id = getenv("AWS_ACCESS_KEY_ID");
	cfg.secret_access_key = getenv("AWS_SECRET_ACCESS_KEY");
	cfg.session_token = getenv("AWS_SESSION_TOKEN");
	if (!cfg.access_key_id || !*cfg.access_key_id || !cfg.secret_access_key ||
	    !*cfg.secret_access_key) {
		msg_error("mock: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: the mock accepts "
			  "only requests signed with them (any test values will do)");
		return NB_EXIT_USAGE;
	}
	if (cfg.session_token && !*cfg.session_token)
		cfg.session_token = NULL;
	msg_add_secret(cfg.secret_access_key);
	msg_add_secret(cfg.session_token);
	if (log_path) {
		cfg.log = fopen(log_path, "a");
		if (!cfg.log) {
			msg_error("mock: --log: cannot open %s: %s", log_path, strerror(errno));
			msg_forget_secrets();
			return NB_EXIT_USAGE;
		}
	}

	/* Blocked before the server's threads start, so that they inherit the
	 * mask and the signals reach sigwait below. Never unblocked: a second
	 * signal during shutdown must not kill the process half-way. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	m = mock_new(&cfg, &err);
	if (!m) {
		msg_error("mock: %s", err.msg);
		if (cfg.log)
			fclose(cfg.log);
		msg_forget_secrets();
		return NB_EXIT_USAGE;
	}
	printf("LISTENING %u\n", mock_port(m));
	fflush(stdout);
	msg_info("mock: serving on http://127.0.0.1:%u until interrupted", mock_port(m));
	sigwait(&stop, &sig);
	mock_free(m);
	if (cfg.log && fclose(cfg.log) != 0) {
		msg_error("mock: --log: cannot write %s: %s", log_path, strerror(errno));
		msg_forget_secrets();
		return NB_EXIT_USAGE;
	}
	msg_forget_secrets();
	return NB_EXIT_OK;
}
