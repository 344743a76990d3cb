/* libFuzzer harness for the safetensors reader (nodes/dsp/safetensors.c):
 * any bytes must give either tensors or one message, never a crash, a leak
 * or a read outside the input. Build and run (clang, outside make test):
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_safetensors.c \
 *       nodes/dsp/safetensors.c -o build/fuzz_safetensors
 *   build/fuzz_safetensors -max_total_time=60 models/
 *
 * (the models/ folder makes a good seed corpus). */
#include "../../nodes/dsp/safetensors.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st_safetensors *s;
    char error[256];
    if (st_safetensors_parse(data, size, &s, error, sizeof error) == 0) {
        /* every tensor's values are readable and the lookups agree */
        for (int i = 0; i < s->n_tensors; i++) {
            const st_tensor *t = &s->tensor[i];
            volatile float sink = 0;
            for (int64_t k = 0; k < t->n_elems; k++)
                sink += t->data[k];
            (void)sink;
            if (st_safetensors_find(s, t->name) != t) __builtin_trap();
        }
        st_safetensors_free(s);
    } else if (!memchr(error, 0, sizeof error) || error[0] == 0) {
        __builtin_trap(); /* a failure always says why */
    }
    return 0;
}
