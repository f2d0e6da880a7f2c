#include "jsonout.h"

#include <errno.h>
#include <string.h>

#include "jtext.h"

json_t *jsonout_str(const char *s)
{
	return s ? jtext_new(s, strlen(s)) : json_null();
}

void jsonout_cost(json_t *o, bool known, int64_t pusd)
{
	json_object_set_new(o, "cost_usd", known ? json_real((double)pusd / 1e12) : json_null());
	json_object_set_new(o, "cost_pusd", known ? json_integer(pusd) : json_null());
}

int jsonout_write(json_t *doc, FILE *out, struct nb_err *err)
{
	errno = 0;
	int rc = json_dumpf(doc, out, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
	json_decref(doc);
	if (rc < 0 || fputc('\n', out) == EOF || fflush(out) != 0 || ferror(out))
		return err_set(err, "%s", strerror(errno ? errno : EIO));
	return 0;
}
