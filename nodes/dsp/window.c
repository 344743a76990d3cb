#include "window.h"

#include <math.h>

void st_window_fill(st_window w, int n, float *out)
{
    for (int i = 0; i < n; i++) {
        double phase = 2.0 * M_PI * i / n;
        double hann = 0.5 - 0.5 * cos(phase);
        switch (w) {
        case ST_WINDOW_SQRT_HANN:
            out[i] = (float)sqrt(hann);
            break;
        case ST_WINDOW_HAMMING:
            out[i] = (float)(0.54 - 0.46 * cos(phase));
            break;
        default:
            out[i] = (float)hann;
            break;
        }
    }
}
