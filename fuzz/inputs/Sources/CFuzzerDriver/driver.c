// LLVMFuzzerRunDriver is libFuzzer's (linked by -sanitize=fuzzer); this module only declares it.
#include "fuzzer_driver.h"
