/*
 * FuzzDriver: hands a Swift harness's entry point to libFuzzer.
 *
 * SwiftPM links every executable with `--defsym main=<module>_main` (so tests
 * can link executables), which leaves libFuzzer's own main unused.  Each
 * harness therefore has an ordinary @main that calls fuzz_driver_run, and
 * libFuzzer's LLVMFuzzerRunDriver does what its main would have done.
 */
#ifndef FUZZ_DRIVER_H
#define FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

typedef int (*fuzz_driver_callback)(const uint8_t *data, size_t size);

/* Runs libFuzzer with the process's arguments; returns its exit code. */
int fuzz_driver_run(int argc, char **argv, fuzz_driver_callback cb);

#endif
