#!/usr/bin/env bash
# The signer agrees with an independent implementation: botocore's SigV4Auth
# (Debian's python3-botocore) on Bedrock paths with ':' and ARNs, with and
# without a session token. See sigv4_botocore.py for the cases.
set -euo pipefail

: "${NB_SIGV4_TOOL:?NB_SIGV4_TOOL must name the sigv4_sign_tool binary}"
: "${NB_SOURCE_DIR:?NB_SOURCE_DIR must name the source tree}"
: "${NB_TESTDATA:?NB_TESTDATA must name ../shared/testdata}"

# Debian's interpreter on purpose: a pyenv python earlier on PATH may lack
# botocore.
python=/usr/bin/python3
if ! "$python" -c 'import botocore' 2>/dev/null; then
	echo "test_sigv4_botocore: $python cannot import botocore;" \
		"install python3-botocore" >&2
	exit 1
fi
if [[ ! -x $NB_SIGV4_TOOL ]]; then
	echo "test_sigv4_botocore: $NB_SIGV4_TOOL is not an executable" >&2
	exit 1
fi

exec "$python" "$NB_SOURCE_DIR/tests/integration/sigv4_botocore.py" \
	"$NB_SIGV4_TOOL" "$NB_TESTDATA"
