/*
 * cmd_mock: `novabatch mock`, the local endpoint that tests, demos and
 * benchmarks run against. Reads the options (faults among them), the key
 * pair and the plan file, starts the server (mock.c), says where it listens
 * and serves until SIGINT or SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "err.h"
#include "mock.h"
#include "mock_fault.h"
#include "msg.h"

#define CMD_MOCK_DEFAULT_PORT 8080
#define CMD_MOCK_MAX_LATENCY_MS 600000 /* ten minutes */
#define CMD_MOCK_MAX_FAIL_FIRST 1000000
#define CMD_MOCK_MAX_CHUNKS 100000

static const char cmd_mock_usage[] =
	"usage: novabatch mock [--port N] [--latency-ms N] [--log FILE] [stream options]\n"
	"                      [fault options]\n"
	"\n"
	"Serves a local Bedrock-compatible endpoint on 127.0.0.1 for tests, demos and\n"
	"benchmarks. POST /model/{modelId}/converse answers with a deterministic\n"
	"Converse response (see runner/mock_reply.h for its token rule);\n"
	"POST /model/{modelId}/converse-stream answers the same request with the same\n"
	"text, stop reason and usage as a ConverseStream event stream (200,\n"
	"application/vnd.amazon.eventstream: messageStart, the text in contentBlockDelta\n"
	"events, contentBlockStop, messageStop, metadata). Every request must be\n"
	"SigV4-signed (signing name \"bedrock\", any region) with the key pair in\n"
	"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and carry the session token\n"
	"(--session-token, else AWS_SESSION_TOKEN) as X-Amz-Security-Token when one\n"
	"is set; any test values will do. With --bearer, \"Authorization: Bearer T\"\n"
	"is accepted too, unsigned, as Bedrock accepts an API key.\n"
	"\n"
	"Prints \"LISTENING <port>\" on stdout once it accepts connections, then\n"
	"serves until SIGINT or SIGTERM. Point `novabatch run` at it with\n"
	"--endpoint-url http://127.0.0.1:<port>.\n"
	"\n"
	"options:\n"
	"  --port N         TCP port on 127.0.0.1 (default 8080; 0 picks a free one)\n"
	"  --latency-ms N   wait N milliseconds before each answer (default 0), except\n"
	"                   a 429 for being over --rpm or --tpm, which comes at once\n"
	"  --log FILE       append one JSON line per answer to FILE: request_id,\n"
	"                   status, error_type, model_id, input_tokens, output_tokens,\n"
	"                   job_id (from X-Novabatch-Job), fault (the step that chose\n"
	"                   the answer: plan, fail-first, quota-rpm, quota-tpm or\n"
	"                   random), \"reset\": true for an answer cut short, \"stream\":\n"
	"                   true for a converse-stream request, and stream_fault\n"
	"                   (stream-error, stream-throttle, corrupt or cut) for a stream\n"
	"                   broken on purpose, with fault saying which step chose it\n"
	"  --help           show this help\n"
	"\n"
	"credential options:\n"
	"  --session-token T  the session token requests must carry (default:\n"
	"                   AWS_SESSION_TOKEN)\n"
	"  --bearer T       also accept \"Authorization: Bearer T\" (default:\n"
	"                   AWS_BEARER_TOKEN_BEDROCK when set)\n"
	"  --rotate-after N rotate the session token after every N requests that pass\n"
	"                   the credential check: generation g accepts T.gen<g> (T the\n"
	"                   session token; generation 0 accepts T itself) and answers\n"
	"                   403 ExpiredTokenException to the tokens of earlier\n"
	"                   generations. Needs a session token and --rotate-file\n"
	"  --rotate-file FILE  the token accepted now, one line, replaced whole at\n"
	"                   each rotation: what a test's credential_process reads\n"
	"\n"
	"stream options (converse-stream only):\n"
	"  --chunks N       send the text in N contentBlockDelta events (default 4;\n"
	"                   fewer when the text has fewer characters)\n"
	"  --chunk-delay-ms N\n"
	"                   pause N milliseconds before each frame after the first\n"
	"                   (default 0); --latency-ms comes before the first, so the\n"
	"                   first text arrives no sooner than that\n"
	"\n"
	"fault options (all off by default; P is a probability from 0 to 1):\n"
	"  --plan FILE      a JSON object mapping job ids to lists of answers, like\n"
	"                   {\"job-1\": [429, 429, 200], \"job-2\": [\"reset\", 503]}: the\n"
	"                   Nth request whose X-Novabatch-Job header (percent-encoded)\n"
	"                   names the job, whatever its model, gets the Nth answer;\n"
	"                   past the list the steps below decide. Answers: 200 (the\n"
	"                   normal one), 400 ValidationException, 403\n"
	"                   AccessDeniedException, 404 ResourceNotFoundException, 408\n"
	"                   ModelTimeoutException, 424 ModelErrorException, 429\n"
	"                   ThrottlingException, 500 InternalServerException, 503\n"
	"                   ServiceUnavailableException, \"reset\" (as --reset),\n"
	"                   \"429-not-ready\" (429 ModelNotReadyException),\n"
	"                   \"403-expired\" (403 ExpiredTokenException), and for\n"
	"                   converse-stream \"stream-error\" (as --stream-error),\n"
	"                   \"stream-throttle\" (a throttlingException frame where\n"
	"                   --stream-error puts its own), \"corrupt\" (as --corrupt)\n"
	"                   and \"cut\" (as --cut); to a plain converse request\n"
	"                   these four are the normal answer\n"
	"  --fail-first K   answer the first K attempts of each distinct request (same\n"
	"                   model id, same body bytes) with 429 ThrottlingException;\n"
	"                   1048576 distinct requests are counted, later ones pass\n"
	"  --rpm N          requests per minute for each model id: a bucket of --burst\n"
	"                   requests that refills N/60 a second\n"
	"  --burst N        the size of that bucket (default N/60 of --rpm, at least 1)\n"
	"  --tpm N          tokens per minute for each model id: a bucket of N tokens\n"
	"                   (a minute's worth) that refills N/60 a second. A request\n"
	"                   takes its input tokens plus its maxTokens (5000 if unset)\n"
	"                   and, once answered, gives back what its answer did not use\n"
	"                   (an error answer uses none). One larger than N passes when\n"
	"                   the bucket is full, and empties it. Over --rpm or --tpm:\n"
	"                   429 ThrottlingException at once, nothing charged.\n"
	"  --throttle P     answer 429 ThrottlingException\n"
	"  --error500 P     answer 500 InternalServerException\n"
	"  --error503 P     answer 503 ServiceUnavailableException\n"
	"  --timeout408 P   answer 408 ModelTimeoutException\n"
	"  --reset P        send a 200 and drop the connection after half its body\n"
	"                   (a stream: half its bytes, most often inside a frame)\n"
	"  --stream-error P after messageStart and half the text deltas, end the\n"
	"                   stream with a modelStreamErrorException exception frame\n"
	"  --corrupt P      flip a bit in the payload of the frame half-way through\n"
	"                   the stream, so that its CRC fails; the rest follows\n"
	"  --cut P          close the connection after half the frames, between two\n"
	"                   frames: no messageStop, no metadata\n"
	"  --seed S         names the random sequence (default 0): the Nth request to\n"
	"                   reach the draw gets its Nth value, so the same arrival\n"
	"                   order gets the same faults\n"
	"\n"
	"A request is answered by the first step that applies: its size, signature\n"
	"and route (400, 403, 404 as the service does), --plan, --fail-first, the\n"
	"request's own checks (400 ValidationException), --rpm and --tpm, then one\n"
	"uniform draw against --throttle, --error500, --error503, --timeout408,\n"
	"--reset, --stream-error, --corrupt and --cut in that order (their sum is at\n"
	"most 1), else the normal answer. The errors are plain HTTP answers for\n"
	"converse-stream too, as the service gives them before a stream starts;\n"
	"--reset, --stream-error, --corrupt and --cut break a 200 once it started. A\n"
	"plain converse request that draws --stream-error, --corrupt or --cut gets\n"
	"the normal answer (and its log line no fault).\n";

/* The long options that have no short form. */
enum {
	CMD_MOCK_PORT = 256,
	CMD_MOCK_LATENCY,
	CMD_MOCK_LOG,
	CMD_MOCK_PLAN,
	CMD_MOCK_FAIL_FIRST,
	CMD_MOCK_RPM,
	CMD_MOCK_TPM,
	CMD_MOCK_BURST,
	CMD_MOCK_THROTTLE,
	CMD_MOCK_ERROR500,
	CMD_MOCK_ERROR503,
	CMD_MOCK_TIMEOUT408,
	CMD_MOCK_RESET,
	CMD_MOCK_STREAM_ERROR,
	CMD_MOCK_CORRUPT,
	CMD_MOCK_CUT,
	CMD_MOCK_CHUNKS,
	CMD_MOCK_CHUNK_DELAY,
	CMD_MOCK_SEED,
	CMD_MOCK_SESSION_TOKEN,
	CMD_MOCK_BEARER,
	CMD_MOCK_ROTATE_AFTER,
	CMD_MOCK_ROTATE_FILE,
};

/* Reads the options into cfg, *port, *log_path and *plan_path. Returns 0,
 * 1 when --help was shown, or -1 after printing what is wrong. */
static int cmd_mock_options(int argc, char **argv, struct mock_config *cfg, long *port,
			    const char **log_path, const char **plan_path)
{
	static const struct option options[] = {
		{"port", required_argument, NULL, CMD_MOCK_PORT},
		{"latency-ms", required_argument, NULL, CMD_MOCK_LATENCY},
		{"log", required_argument, NULL, CMD_MOCK_LOG},
		{"plan", required_argument, NULL, CMD_MOCK_PLAN},
		{"fail-first", required_argument, NULL, CMD_MOCK_FAIL_FIRST},
		{"rpm", required_argument, NULL, CMD_MOCK_RPM},
		{"tpm", required_argument, NULL, CMD_MOCK_TPM},
		{"burst", required_argument, NULL, CMD_MOCK_BURST},
		{"throttle", required_argument, NULL, CMD_MOCK_THROTTLE},
		{"error500", required_argument, NULL, CMD_MOCK_ERROR500},
		{"error503", required_argument, NULL, CMD_MOCK_ERROR503},
		{"timeout408", required_argument, NULL, CMD_MOCK_TIMEOUT408},
		{"reset", required_argument, NULL, CMD_MOCK_RESET},
		{"stream-error", required_argument, NULL, CMD_MOCK_STREAM_ERROR},
		{"corrupt", required_argument, NULL, CMD_MOCK_CORRUPT},
		{"cut", required_argument, NULL, CMD_MOCK_CUT},
		{"chunks", required_argument, NULL, CMD_MOCK_CHUNKS},
		{"chunk-delay-ms", required_argument, NULL, CMD_MOCK_CHUNK_DELAY},
		{"seed", required_argument, NULL, CMD_MOCK_SEED},
		{"session-token", required_argument, NULL, CMD_MOCK_SESSION_TOKEN},
		{"bearer", required_argument, NULL, CMD_MOCK_BEARER},
		{"rotate-after", required_argument, NULL, CMD_MOCK_ROTATE_AFTER},
		{"rotate-file", required_argument, NULL, CMD_MOCK_ROTATE_FILE},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct mock_fault_config *f = &cfg->fault;
	struct mock_fault_odds *odds = &f->odds;
	long n;
	int opt, rc = 0;

	opterr = 0;
	while (rc == 0 && (opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case CMD_MOCK_PORT:
			rc = cli_whole_number("port", optarg, 0, 65535, port);
			break;
		case CMD_MOCK_LATENCY:
			rc = cli_whole_number("latency-ms", optarg, 0, CMD_MOCK_MAX_LATENCY_MS,
					      &cfg->latency_ms);
			break;
		case CMD_MOCK_LOG:
			*log_path = optarg;
			break;
		case CMD_MOCK_PLAN:
			*plan_path = optarg;
			break;
		case CMD_MOCK_FAIL_FIRST:
			rc = cli_whole_number("fail-first", optarg, 0, CMD_MOCK_MAX_FAIL_FIRST, &n);
			f->fail_first = (unsigned long)n;
			break;
		case CMD_MOCK_RPM:
			rc = cli_whole_number("rpm", optarg, 1, MOCK_FAULT_MAX_RATE, &f->rpm);
			break;
		case CMD_MOCK_TPM:
			rc = cli_whole_number("tpm", optarg, 1, MOCK_FAULT_MAX_RATE, &f->tpm);
			break;
		case CMD_MOCK_BURST:
			rc = cli_whole_number("burst", optarg, 1, MOCK_FAULT_MAX_RATE, &f->burst);
			break;
		case CMD_MOCK_THROTTLE:
			rc = cli_probability("throttle", optarg, &odds->throttle);
			break;
		case CMD_MOCK_ERROR500:
			rc = cli_probability("error500", optarg, &odds->error500);
			break;
		case CMD_MOCK_ERROR503:
			rc = cli_probability("error503", optarg, &odds->error503);
			break;
		case CMD_MOCK_TIMEOUT408:
			rc = cli_probability("timeout408", optarg, &odds->timeout408);
			break;
		case CMD_MOCK_RESET:
			rc = cli_probability("reset", optarg, &odds->reset);
			break;
		case CMD_MOCK_STREAM_ERROR:
			rc = cli_probability("stream-error", optarg, &odds->stream_error);
			break;
		case CMD_MOCK_CORRUPT:
			rc = cli_probability("corrupt", optarg, &odds->corrupt);
			break;
		case CMD_MOCK_CUT:
			rc = cli_probability("cut", optarg, &odds->cut);
			break;
		case CMD_MOCK_CHUNKS:
			rc = cli_whole_number("chunks", optarg, 1, CMD_MOCK_MAX_CHUNKS, &cfg->chunks);
			break;
		case CMD_MOCK_CHUNK_DELAY:
			rc = cli_whole_number("chunk-delay-ms", optarg, 0, CMD_MOCK_MAX_LATENCY_MS,
					      &cfg->chunk_delay_ms);
			break;
		case CMD_MOCK_SEED:
			rc = cli_whole_number("seed", optarg, 0, LONG_MAX, &n);
			f->seed = (uint64_t)n;
			break;
		case CMD_MOCK_SESSION_TOKEN:
			cfg->creds.session_token = optarg;
			break;
		case CMD_MOCK_BEARER:
			cfg->creds.bearer_token = optarg;
			break;
		case CMD_MOCK_ROTATE_AFTER:
			rc = cli_whole_number("rotate-after", optarg, 1, LONG_MAX, &n);
			cfg->creds.rotate_after = (unsigned long)n;
			break;
		case CMD_MOCK_ROTATE_FILE:
			cfg->creds.rotate_file = optarg;
			break;
		case 'h':
			fputs(cmd_mock_usage, stdout);
			return 1;
		default:
			return cli_option_error("mock", argv);
		}
	}
	if (rc < 0)
		return -1;
	if (optind < argc)
		return cli_extra_argument("mock", argv[optind], NULL);
	if (f->burst && !f->rpm) {
		msg_error("mock: --burst sizes the --rpm bucket: give --rpm too");
		return -1;
	}
	/* A little slack: 0.1 + 0.2 is a hair above 0.3 in binary. */
	double sum = odds->throttle + odds->error500 + odds->error503 + odds->timeout408 +
		     odds->reset + odds->stream_error + odds->corrupt + odds->cut;
	if (sum > 1 + 1e-9) {
		msg_error("mock: --throttle, --error500, --error503, --timeout408, --reset, "
			  "--stream-error, --corrupt and --cut add up to %g; their sum must be at "
			  "most 1", sum);
		return -1;
	}
	return 0;
}

int cmd_mock(int argc, char **argv)
{
	struct mock_config cfg = {0};
	long port = CMD_MOCK_DEFAULT_PORT;
	struct nb_err err;
	struct mock *m = NULL;
	const char *log_path = NULL, *plan_path = NULL;
	sigset_t stop;
	int sig, rc = NB_EXIT_USAGE;

	switch (cmd_mock_options(argc, argv, &cfg, &port, &log_path, &plan_path)) {
	case 0:
		break;
	case 1:
		return NB_EXIT_OK;
	default:
		return NB_EXIT_USAGE;
	}
	cfg.port = (unsigned)port;
	struct mock_creds_config *cc = &cfg.creds;
	cc->access_key_id = getenv("AWS_ACCESS_KEY_ID");
	cc->secret_access_key = getenv("AWS_SECRET_ACCESS_KEY");
	if (!cc->session_token)
		cc->session_token = getenv("AWS_SESSION_TOKEN");
	if (!cc->bearer_token)
		cc->bearer_token = getenv("AWS_BEARER_TOKEN_BEDROCK");
	msg_add_secret(cc->secret_access_key);
	msg_add_secret(cc->session_token);
	msg_add_secret(cc->bearer_token);
	if (!cc->access_key_id || !*cc->access_key_id || !cc->secret_access_key ||
	    !*cc->secret_access_key) {
		msg_error("mock: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: the mock accepts "
			  "only requests signed with them (any test values will do)");
		goto out;
	}
	if (cc->session_token && !*cc->session_token)
		cc->session_token = NULL;
	if (cc->bearer_token && !*cc->bearer_token)
		cc->bearer_token = NULL;
	if ((cc->rotate_after != 0) != (cc->rotate_file != NULL)) {
		msg_error("mock: --rotate-after and --rotate-file go together");
		goto out;
	}
	if (cc->rotate_after && !cc->session_token) {
		msg_error("mock: --rotate-after rotates the session token: give --session-token "
			  "or set AWS_SESSION_TOKEN");
		goto out;
	}
	if (plan_path && mock_fault_plan_load(plan_path, &cfg.fault.plan, &err) < 0) {
		msg_error("mock: --plan: %s", err.msg);
		goto out;
	}
	if (log_path) {
		cfg.log = fopen(log_path, "a");
		if (!cfg.log) {
			msg_error("mock: --log: cannot open %s: %s", log_path, strerror(errno));
			mock_fault_plan_free(cfg.fault.plan);
			goto out;
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
		goto out;
	}
	printf("LISTENING %u\n", mock_port(m));
	fflush(stdout);
	msg_info("mock: serving on http://127.0.0.1:%u until interrupted", mock_port(m));
	sigwait(&stop, &sig);
	mock_free(m);
	rc = NB_EXIT_OK;
out:
	if (cfg.log && fclose(cfg.log) != 0 && rc == NB_EXIT_OK) {
		msg_error("mock: --log: cannot write %s: %s", log_path, strerror(errno));
		rc = NB_EXIT_USAGE;
	}
	msg_forget_secrets();
	return rc;
}
