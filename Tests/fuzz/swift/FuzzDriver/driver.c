/* See include/FuzzDriver.h.  LLVMFuzzerRunDriver is libFuzzer's documented
 * entry for programs that keep their own main (-fsanitize=fuzzer). */
#include "FuzzDriver.h"

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*cb)(const uint8_t *data, size_t size));

int fuzz_driver_run(int argc, char **argv, fuzz_driver_callback cb) {
    return LLVMFuzzerRunDriver(&argc, &argv, cb);
}
