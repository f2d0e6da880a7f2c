/* libFuzzer target for the Converse answer and error parsers. */
#include <stdint.h>
#include <string.h>

#include "response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct response r;
	struct nb_err err;
	if (response_parse_converse((const char *)data, size, &r, &err) == 0)
		response_cleanup(&r);
	struct response_error e;
	response_parse_error(400, size > 2 ? "X:y" : NULL, (const char *)data, size, &e);
	if (!e.message || !e.type[0])
		__builtin_trap();
	response_error_cleanup(&e);
	return 0;
}
