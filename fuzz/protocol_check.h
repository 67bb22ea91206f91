/*
** protocol_check.h -- fuzz/ layer: the invariants of the protocol's
** decoding surface, checked on one arbitrary input. Shared by the libFuzzer
** target (fuzz/fuzz_protocol.c) and the C test driver's replay of the
** corpus and of saved crashes (spec/c/test_fuzz_cases.c).
*/
#ifndef PROTOCOL_CHECK_H
#define PROTOCOL_CHECK_H

#include <stddef.h>

/*
** Run every check on data[0..size): byte 0 chooses the piece sizes the rest
** is cut into, byte 1 the framer's max_frame, bytes 2.. are the byte stream
** fed to an sl_framer; each frame it completes is parsed with
** sl_message_parse (and a response's events read with sl_response_events),
** and the whole input is also parsed as one message.
**
** Returns 0 when every invariant held, or 1 with what was violated written
** into why (NUL-terminated, truncated to whysz). Everything it allocates is
** freed before it returns; it keeps no state between calls.
*/
int protocol_check(const unsigned char *data, size_t size,
                   char *why, size_t whysz);

#endif /* PROTOCOL_CHECK_H */
