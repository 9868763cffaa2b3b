// cli_memory.c: see cli_memory.h.
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_memory.h"

bool cli_parse_size(const char *s, uint64_t *out) {
    errno = 0;
    char *end;
    double x = strtod(s, &end);
    if (end == s || errno || !isfinite(x) || x <= 0) return false;
    const char *units = "KMGT";
    double scale = 1;
    const char *u = *end ? strchr(units, *end == 'k' ? 'K' : *end) : NULL;
    if (u) {
        scale = ldexp(1.0, 10 * (int)(u - units + 1));
        end++;
        if (!strcmp(end, "iB") || !strcmp(end, "B")) end += strlen(end);
    } else if (!strcmp(end, "B"))
        end++;
    if (*end || x * scale < 1 || x * scale > 1e18) return false;
    *out = (uint64_t)(x * scale);
    return true;
}

int cli_device_memory(const char *cmd, const char *v, uint64_t *out) {
    *out = 0;
    const char *env = getenv("VKT_DEVICE_MEMORY");
    const char *src = v ? "--device-memory" : "VKT_DEVICE_MEMORY";
    if (!v) v = env && *env ? env : NULL;
    if (!v) return CLI_OK;
    if (!cli_parse_size(v, out))
        return cli_usage_error(
            cmd, "%s: '%s' is not a size (bytes, or a number with K, M, G or T: 4G, 3.5GiB, 512M)",
            src, v);
    return CLI_OK;
}
