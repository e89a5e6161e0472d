// libFuzzer's entry point for a program with its own main (LLVM 11 and later). SwiftPM links an
// executable target's entry point as `main` on Linux, so libFuzzer's own main is not used: each
// target's main.swift hands its test function to this driver. (-sanitize=fuzzer still links the
// object of libFuzzer's main, which names LLVMFuzzerTestOneInput: each test function is exported
// under that name too.)
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*test)(const uint8_t *data, size_t size));
