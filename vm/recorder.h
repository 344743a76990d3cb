/* Recording a live session's output (strata board --record): the audio
 * thread pushes each period into a lock-free ring; the session's thread
 * writes what is waiting to the file. The file is written under a temporary
 * name beside OUT and renamed into place when the recording ends. */
#ifndef ST_RECORDER_H
#define ST_RECORDER_H

#include <stddef.h>

typedef struct st_recorder st_recorder;

/* A 32-bit float WAV file at path (its extension must be .wav). NULL with
 * the reason in error. */
st_recorder *st_recorder_open(const char *path, int n_channels, double rate_hz, char *error,
                              size_t error_size);
/* The audio thread: real-time safe. Frames that do not fit are counted, not
 * waited for. */
void st_recorder_push(st_recorder *r, float *const *channel, int n_frames);
/* The session's thread: writes what is waiting. */
void st_recorder_drain(st_recorder *r);
/* Frames lost because the ring was full (the writer fell behind). */
long st_recorder_dropped(const st_recorder *r);
/* Writes the rest, closes and renames into place; frees r. ST_ERR with the
 * reason in error. */
int st_recorder_close(st_recorder *r, char *error, size_t error_size);

#endif
