/*
** fuzz_protocol.c -- fuzz/ layer: the libFuzzer target for the network
** protocol's decoding surface (sl_framer_*, sl_message_parse,
** sl_response_events in core/sl_proto.c, over sl_json_parse).
**
** fuzz/ is the top-level folder for fuzz targets, their seed corpus
** (fuzz/corpus/), their dictionary and the minimised crashes they found
** (fuzz/crashes/). `make fuzz` builds this file with clang and
** -fsanitize=fuzzer,address,undefined against the core compiled the same
** way, under build/fuzz/, and runs it for FUZZ_TIME seconds. The checks
** themselves live in protocol_check.c, which spec/c/test_fuzz_cases.c
** runs over the corpus and the crashes in every `make test`.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "protocol_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char why[512];
  if (protocol_check(data, size, why, sizeof why) != 0) {
    fprintf(stderr, "fuzz_protocol: invariant violated: %s\n", why);
    abort();
  }
  return 0;
}
