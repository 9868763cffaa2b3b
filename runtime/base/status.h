// status.h: errors as values. Every library function returns a vkt_status and, on failure,
// leaves a message naming the input at fault in one place, its error channel:
// - a function of an object bound to a device context (the context itself, a model, an
//   adapter, a generator, a self-play run, a steering capture, a training run) reports into
//   that context: read vkt_ctx_message(ctx) / vkt_ctx_err(ctx), as sqlite3_errmsg(db);
// - a pure module (base, formats, text, games' rules, the CPU references) takes a
//   caller-owned vkt_error *. A context-bound function passes vkt_ctx_err(ctx) to the pure
//   functions it calls, so their message lands in the same channel, never copied across.
// Nothing in the library prints or exits; tools/ decides what to do with the message.
#ifndef VKT_STATUS_H
#define VKT_STATUS_H

#include <stdarg.h>
#include <stddef.h>

typedef enum vkt_status {
    VKT_OK = 0,
    VKT_ERR_ARG,         // bad argument: shape, flag, size, option
    VKT_ERR_VULKAN,      // a Vulkan call failed (message has the VkResult as text)
    VKT_ERR_NOMEM,       // host or device allocation failed
    VKT_ERR_IO,          // file could not be read or written
    VKT_ERR_FORMAT,      // a file or string is malformed
    VKT_ERR_UNSUPPORTED, // the device or build lacks what was asked for
    VKT_ERR_INTERRUPTED, // stopped by the user (SIGINT)
} vkt_status;

#define VKT_ERROR_MAX 1024

typedef struct vkt_error {
    vkt_status status;
    char msg[VKT_ERROR_MAX];
} vkt_error;

// Records status and a printf-style message in err (err may be NULL) and returns status,
// so a failure path reads: return vkt_fail(err, VKT_ERR_ARG, "matmul: M=%d must be > 0", m);
vkt_status vkt_fail(vkt_error *err, vkt_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
vkt_status vkt_failv(vkt_error *err, vkt_status status, const char *fmt, va_list ap);

// Prepends context to an existing message: "loading x.safetensors: <old message>".
vkt_status vkt_fail_wrap(vkt_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void vkt_error_clear(vkt_error *err);
const char *vkt_status_name(vkt_status s);

#define VKT_TRY(expr)                                                                              \
    do {                                                                                           \
        vkt_status vkt_try_s_ = (expr);                                                            \
        if (vkt_try_s_ != VKT_OK) return vkt_try_s_;                                               \
    } while (0)

#endif
