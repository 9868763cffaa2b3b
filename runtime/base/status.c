#include "status.h"

#include <stdio.h>
#include <string.h>

vkt_status vkt_failv(vkt_error *err, vkt_status status, const char *fmt, va_list ap) {
    if (err) {
        err->status = status;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return status;
}

vkt_status vkt_fail(vkt_error *err, vkt_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vkt_failv(err, status, fmt, ap);
    va_end(ap);
    return status;
}

vkt_status vkt_fail_wrap(vkt_error *err, const char *fmt, ...) {
    if (!err) return VKT_ERR_ARG;
    char prefix[VKT_ERROR_MAX], old[VKT_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
    return err->status;
}

void vkt_error_clear(vkt_error *err) {
    if (err) {
        err->status = VKT_OK;
        err->msg[0] = 0;
    }
}

const char *vkt_status_name(vkt_status s) {
    switch (s) {
    case VKT_OK: return "ok";
    case VKT_ERR_ARG: return "bad argument";
    case VKT_ERR_VULKAN: return "vulkan error";
    case VKT_ERR_NOMEM: return "out of memory";
    case VKT_ERR_IO: return "i/o error";
    case VKT_ERR_FORMAT: return "malformed input";
    case VKT_ERR_UNSUPPORTED: return "unsupported";
    case VKT_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown status";
}
