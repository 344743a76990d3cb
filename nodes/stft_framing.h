/* The framing check the nodes that take STFT parameters share (stft,
 * repet_audio): one rule, one message. */
#ifndef ST_STFT_FRAMING_H
#define ST_STFT_FRAMING_H

#include "../vm/node.h"

/* Fails the node when hop is above n_fft, or when frames do not overlap
 * (hop = n_fft) with a window that is zero at their edges (hann, sqrt_hann:
 * the inverse cannot be exact there). The node's parameters must include
 * n_fft, hop and window, its choices "hann|sqrt_hann|hamming". */
int st_stft_check_framing(st_ctx *ctx, const st_params *p);

/* The hop such a node uses: its hop parameter, or n_fft / 4 when that is 0.
 * A patch reads it from the spectrum's facts (hop), not from a copy of the
 * rule. */
int st_stft_hop(const st_params *p);

#endif
