// sanitize_keep_loaded.c: a dlclose that does nothing, preloaded (LD_PRELOAD) into the tests
// of a VKT_SANITIZE build. The Vulkan loader unloads the driver and the validation layer at
// vkDestroyInstance; LeakSanitizer reports at exit, when their leaks' stacks would then name
// "<unknown module>", which no suppression can match. Kept loaded, they match tests/lsan.supp.
// Built without sanitizers: it is also preloaded into programs the tests start (sh, python3).
int dlclose(void *handle) {
    (void)handle;
    return 0;
}
