/* Analysis windows, periodic (scipy's fftbins=True), as librosa uses them. */
#ifndef ST_WINDOW_H
#define ST_WINDOW_H

#include "../../vm/value.h"

void st_window_fill(st_window w, int n, float *out);

#endif
