/* Sample-rate conversion of planar audio with libsamplerate. */
#ifndef ST_RESAMPLE_H
#define ST_RESAMPLE_H

#include "../../vm/value.h"

/* A new audio value at rate_hz, or NULL with a reason in error. quality is
 * 0 (best sinc), 1 (medium sinc) or 2 (fastest sinc). */
st_value *st_resample(const st_audio *a, double rate_hz, int quality, int n_threads, char *error,
                      size_t error_size);

#endif
