/* The JACK client. The session's thread opens, offers programs and polls;
 * when the period or the rate changes, JACK's callback (for a period, on
 * JACK2's process thread with processing suspended) asks the session for a
 * new program, which the session makes at once or, when it is busy running
 * a patch, at its next poll (periods longer than the playing program's block
 * are silenced and counted meanwhile); the process callback only runs
 * programs.
 *
 * Programs travel in slots. A slot passes to the audio thread through `next`
 * (written by the session, taken by the callback) and comes back through
 * `retired` (written by the callback, freed by the session). On the audio
 * thread a slot is `pending` (waiting for its swap frame), `current`, or
 * `fading` (the old program during a crossfade). */
#include "live.h"

#include "parallel.h"

#include "recorder.h"

#include <jack/jack.h>
#include <jack/transport.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PORTS     256
#define N_RETIRED     4
#define MAX_OWNED     64 /* slots alive at once: far more than the exchange holds */
#define CLOSE_WAIT_MS 3000

struct st_live;
static struct st_live *abandoned; /* a client whose close did not come back: reachable */

/* Owns its program and scratch. */
typedef struct {
    st_program *program;
    st_transport transport;
    int fade_frames;
    long ticket;
    uint64_t swap_frame; /* the audio thread's, once pending */
    float *scratch;      /* n_out x max_block: the old program's output while fading */
    float *scratch_ch[MAX_PORTS];
} slot;

struct st_live {
    jack_client_t *client;
    st_live_options opt;
    /* written by JACK's notification thread, read by the audio and session threads */
    _Atomic double rate_hz;
    atomic_int block, latency;
    int n_in, n_out; /* ports */
    jack_port_t *in_port[MAX_PORTS], *out_port[MAX_PORTS];
    /* the callback's scratch: pointers only */
    const float *in_buf[MAX_PORTS], *in_seg[MAX_PORTS];
    float *out_buf[MAX_PORTS], *out_seg[MAX_PORTS], *fade_seg[MAX_PORTS];

    /* the exchange */
    _Atomic(slot *) next;
    _Atomic(slot *) retired[N_RETIRED];

    /* the audio thread's own */
    slot *current, *pending, *fading;
    int fade_pos;
    uint64_t frame;        /* frames since start */
    uint64_t origin_frame; /* the bar clock: beat origin_beat at origin_frame */
    double origin_beat, frames_per_beat;
    int beats_per_bar, follow_jack;

    /* published by the audio thread */
    atomic_long scheduled, swapped, dropped;
    atomic_uint_fast64_t scheduled_frame, frames, first_frame;
    _Atomic double scheduled_beat, beat, bpm;
    atomic_int beats_per_bar_now, xruns, oversized, started, shutdown, closed;
    atomic_int reshape_wanted; /* a period or rate change found the session busy */
    char shutdown_reason[256];

    st_recorder *recorder; /* set before the client starts; pushed to by the callback */

    /* the session's and JACK's other threads', under lock */
    pthread_mutex_t lock;
    atomic_int current_max_block; /* of the program last swapped in */
    _Atomic double current_rate;
    st_transport last_transport;
    long n_tickets;
    slot *owned[MAX_OWNED];
};

static void slot_free(slot *s)
{
    if (!s) return;
    st_program_free(s->program);
    free(s->scratch);
    free(s);
}

static slot *slot_new(st_live *l, st_program *p, const st_transport *t)
{
    slot *s = calloc(1, sizeof *s);
    int n_out = st_program_n_channels(p, 1), max_block = st_program_max_block(p);
    if (!s || !(s->scratch =
                    calloc((size_t)(n_out ? n_out : 1) * (size_t)max_block, sizeof *s->scratch))) {
        free(s);
        return NULL;
    }
    for (int c = 0; c < n_out && c < MAX_PORTS; c++)
        s->scratch_ch[c] = s->scratch + (size_t)c * (size_t)max_block;
    s->program = p;
    s->transport = *t;
    s->fade_frames = (int)lround(t->fade_ms * 1e-3 * l->rate_hz);
    return s;
}

/* ---- the audio thread: no allocation, lock, print, I/O or Lua ---- */

static int free_retired(st_live *l)
{
    int n = 0;
    for (int i = 0; i < N_RETIRED; i++)
        n += atomic_load_explicit(&l->retired[i], memory_order_acquire) == NULL;
    return n;
}

static int retire(st_live *l, slot *s)
{
    for (int i = 0; i < N_RETIRED; i++)
        if (atomic_load_explicit(&l->retired[i], memory_order_acquire) == NULL) {
            atomic_store_explicit(&l->retired[i], s, memory_order_release);
            return 1;
        }
    return 0;
}

static double beat_at(const st_live *l, uint64_t frame)
{
    return l->origin_beat + ((double)frame - (double)l->origin_frame) / l->frames_per_beat;
}

/* The first frame at or after `frame` where the slot's quantum starts. */
static uint64_t swap_frame_of(const st_live *l, const slot *s, uint64_t frame)
{
    if (s->transport.quantize == ST_QUANTIZE_NOW) return frame;
    double unit = s->transport.quantize == ST_QUANTIZE_BAR ? l->beats_per_bar : 1;
    double target = ceil(beat_at(l, frame) / unit - 1e-9) * unit;
    double at = (double)l->origin_frame + (target - l->origin_beat) * l->frames_per_beat;
    uint64_t f = (uint64_t)ceil(at - 1e-6);
    return f < frame ? frame : f;
}

static void set_tempo(st_live *l, uint64_t frame, double bpm, int beats_per_bar)
{
    l->origin_beat = beat_at(l, frame);
    l->origin_frame = frame;
    l->frames_per_beat = 60.0 * l->rate_hz / bpm;
    l->beats_per_bar = beats_per_bar;
}

/* JACK transport, when followed and rolling with a bar-beat-tick position,
 * sets the clock: its tempo, its meter and where in the bar we are. */
static void follow_jack(st_live *l)
{
    jack_position_t pos;
    if (jack_transport_query(l->client, &pos) != JackTransportRolling ||
        !(pos.valid & JackPositionBBT) || pos.beats_per_minute <= 0 || pos.beats_per_bar < 1 ||
        pos.bar < 1 || pos.beat < 1) /* BBT counts from 1; another program may say 0 */
        return;
    l->frames_per_beat = 60.0 * l->rate_hz / pos.beats_per_minute;
    l->beats_per_bar = (int)pos.beats_per_bar;
    l->origin_frame = l->frame;
    l->origin_beat = (pos.bar - 1) * (double)l->beats_per_bar + (pos.beat - 1) +
                     (pos.ticks_per_beat > 0 ? pos.tick / pos.ticks_per_beat : 0);
}

static void swap(st_live *l, uint64_t at)
{
    slot *s = l->pending;
    l->pending = NULL;
    if (l->current) st_program_carry(s->program, l->current->program);
    if (s->transport.bpm != 60.0 * l->rate_hz / l->frames_per_beat ||
        s->transport.beats_per_bar != l->beats_per_bar)
        set_tempo(l, at, s->transport.bpm, s->transport.beats_per_bar);
    l->follow_jack = s->transport.follow_jack;
    if (l->current && s->fade_frames > 0 && !l->fading) {
        l->fading = l->current;
        l->fade_pos = 0;
    } else if (l->current && !retire(l, l->current)) {
        l->fading = l->current; /* no room to hand it back: fade it out instead */
        l->fade_pos = 0;
    }
    l->current = s;
    atomic_store_explicit(&l->current_max_block, st_program_max_block(s->program),
                          memory_order_relaxed);
    atomic_store_explicit(&l->current_rate, st_program_rate(s->program), memory_order_relaxed);
    atomic_store_explicit(&l->swapped, s->ticket, memory_order_release);
}

/* n frames from offset through the current program, and through the fading
 * one mixed under it with equal power: sin^2 + cos^2 = 1. */
static void run_segment(st_live *l, int offset, int n)
{
    for (int i = 0; i < l->n_in; i++)
        l->in_seg[i] = l->in_buf[i] + offset;
    for (int i = 0; i < l->n_out; i++)
        l->out_seg[i] = l->out_buf[i] + offset;
    st_program *p = l->current ? l->current->program : NULL;
    double beat = beat_at(l, l->frame + (uint64_t)offset);
    if (p) st_program_set_clock(p, beat, l->frames_per_beat, l->beats_per_bar);
    if (l->fading)
        st_program_set_clock(l->fading->program, beat, l->frames_per_beat, l->beats_per_bar);
    if (!p || n > st_program_max_block(p)) {
        for (int i = 0; i < l->n_out; i++)
            memset(l->out_seg[i], 0, (size_t)n * sizeof(float));
        atomic_fetch_add_explicit(&l->oversized, 1, memory_order_relaxed);
    } else {
        st_program_process(p, l->in_seg, l->out_seg, n);
    }
    if (!l->fading) return;
    st_program *old = l->fading->program;
    int fade_frames = l->current->fade_frames > 0 ? l->current->fade_frames : 1;
    if (n <= st_program_max_block(old) && n <= st_program_max_block(p)) {
        for (int i = 0; i < l->n_out; i++)
            l->fade_seg[i] = l->current->scratch_ch[i];
        st_program_process(old, l->in_seg, l->fade_seg, n);
        for (int c = 0; c < l->n_out; c++)
            for (int i = 0; i < n; i++) {
                /* past the fade the new program is alone, exactly: the old
                 * one can outlast it while its slot waits to be retired, and
                 * cos(pi/2) in double is 6e-17, not 0 */
                if (l->fade_pos + i + 1 >= fade_frames) break;
                double t = (l->fade_pos + i + 1) * (M_PI / 2) / fade_frames;
                l->out_seg[c][i] = (float)(l->out_seg[c][i] * sin(t) + l->fade_seg[c][i] * cos(t));
            }
    }
    l->fade_pos += n;
    if (l->fade_pos >= fade_frames && retire(l, l->fading)) l->fading = NULL;
}

static int on_process(jack_nframes_t n_frames, void *arg)
{
    st_live *l = arg;
    int n = (int)n_frames;
    /* take an offered program when two slots can come back (a replaced
     * pending one and, at its swap, the current one) */
    if (free_retired(l) >= 2) {
        slot *s = atomic_exchange_explicit(&l->next, NULL, memory_order_acq_rel);
        if (s) {
            if (l->pending) {
                atomic_store_explicit(&l->dropped, l->pending->ticket, memory_order_release);
                retire(l, l->pending);
            }
            l->pending = s;
            s->swap_frame = swap_frame_of(l, s, l->frame);
            atomic_store_explicit(&l->scheduled_frame, s->swap_frame, memory_order_relaxed);
            atomic_store_explicit(&l->scheduled_beat, beat_at(l, s->swap_frame),
                                  memory_order_relaxed);
            atomic_store_explicit(&l->scheduled, s->ticket, memory_order_release);
        }
    }
    if (l->follow_jack) follow_jack(l);
    for (int i = 0; i < l->n_in; i++)
        l->in_buf[i] = jack_port_get_buffer(l->in_port[i], n_frames);
    for (int i = 0; i < l->n_out; i++)
        l->out_buf[i] = jack_port_get_buffer(l->out_port[i], n_frames);
    if (!atomic_load_explicit(&l->started, memory_order_relaxed)) {
        atomic_store_explicit(&l->first_frame, jack_last_frame_time(l->client),
                              memory_order_relaxed);
        atomic_store_explicit(&l->started, 1, memory_order_release);
    }
    for (int done = 0; done < n;) {
        uint64_t at = l->frame + (uint64_t)done;
        int len = n - done;
        if (l->pending && !l->fading) {
            if (l->pending->swap_frame <= at) {
                swap(l, at);
                continue;
            }
            if (l->pending->swap_frame - at < (uint64_t)len)
                len = (int)(l->pending->swap_frame - at);
        }
        if (l->fading) {
            int left = l->current->fade_frames - l->fade_pos;
            if (left > 0 && left < len) len = left;
        }
        run_segment(l, done, len);
        done += len;
    }
    if (l->recorder) st_recorder_push(l->recorder, l->out_buf, n);
    l->frame += (uint64_t)n;
    atomic_store_explicit(&l->beat, beat_at(l, l->frame), memory_order_relaxed);
    atomic_store_explicit(&l->bpm, 60.0 * l->rate_hz / l->frames_per_beat, memory_order_relaxed);
    atomic_store_explicit(&l->beats_per_bar_now, l->beats_per_bar, memory_order_relaxed);
    atomic_store_explicit(&l->frames, l->frame, memory_order_release);
    return 0;
}

/* ---- JACK's other threads ---- */

static int on_xrun(void *arg)
{
    st_live *l = arg;
    atomic_fetch_add_explicit(&l->xruns, 1, memory_order_relaxed);
    return 0;
}

static void on_shutdown(jack_status_t code, const char *reason, void *arg)
{
    (void)code;
    st_live *l = arg;
    snprintf(l->shutdown_reason, sizeof l->shutdown_reason, "%s", reason ? reason : "");
    atomic_store(&l->shutdown, 1);
}

/* A new shape: the session makes a program for it, swapped in at once; a
 * busy session is asked again at the next st_live_poll. */
static void reshape(st_live *l, int block, double rate)
{
    if (!l->opt.recompile) return;
    int busy = 0;
    st_program *p = l->opt.recompile(l->opt.data, block, rate, &busy);
    if (busy) atomic_store(&l->reshape_wanted, 1);
    if (!p) return;
    pthread_mutex_lock(&l->lock);
    st_transport t = l->last_transport;
    pthread_mutex_unlock(&l->lock);
    t.quantize = ST_QUANTIZE_NOW;
    t.fade_ms = 0;
    l->latency = st_program_latency(p);
    st_live_offer(l, p, &t);
}

static int on_buffer_size(jack_nframes_t n_frames, void *arg)
{
    st_live *l = arg;
    l->block = (int)n_frames;
    int max_block = atomic_load(&l->current_max_block);
    if (!l->opt.recompile || ((int)n_frames <= max_block && (int)n_frames * 2 > max_block))
        return 0;
    reshape(l, (int)n_frames, jack_get_sample_rate(l->client));
    return 0;
}

static int on_sample_rate(jack_nframes_t rate, void *arg)
{
    st_live *l = arg;
    l->rate_hz = rate;
    if (!l->opt.recompile || atomic_load(&l->current_rate) == rate) return 0;
    reshape(l, (int)jack_get_buffer_size(l->client), rate);
    return 0;
}

/* Our outputs are as late as our inputs plus the program; our inputs, as
 * seen from downstream, as late as our outputs plus the program. */
static void on_latency(jack_latency_callback_mode_t mode, void *arg)
{
    st_live *l = arg;
    jack_latency_range_t range = {0, 0}, r;
    jack_port_t **from = mode == JackCaptureLatency ? l->in_port : l->out_port;
    jack_port_t **to = mode == JackCaptureLatency ? l->out_port : l->in_port;
    int n_from = mode == JackCaptureLatency ? l->n_in : l->n_out;
    int n_to = mode == JackCaptureLatency ? l->n_out : l->n_in;
    for (int i = 0; i < n_from; i++) {
        jack_port_get_latency_range(from[i], mode, &r);
        if (i == 0 || r.min < range.min) range.min = r.min;
        if (r.max > range.max) range.max = r.max;
    }
    range.min += (jack_nframes_t)l->latency;
    range.max += (jack_nframes_t)l->latency;
    for (int i = 0; i < n_to; i++)
        jack_port_set_latency_range(to[i], mode, &range);
}

static void quiet_jack(const char *message) { (void)message; }

/* ---- the session's thread ---- */

static int register_ports(st_live *l, st_program *p, int outputs)
{
    int n = 0;
    for (int e = 0; e < st_program_n_ends(p, outputs); e++) {
        const char *prefix = st_program_end_prefix(p, outputs, e);
        for (int c = 0; c < st_program_end_channels(p, outputs, e); c++) {
            char name[256];
            snprintf(name, sizeof name, "%s_%d", prefix, c + 1);
            if (n == MAX_PORTS) {
                fprintf(stderr, "strata: more than %d JACK ports\n", MAX_PORTS);
                return -1;
            }
            jack_port_t *port = jack_port_register(l->client, name, JACK_DEFAULT_AUDIO_TYPE,
                                                   outputs ? JackPortIsOutput : JackPortIsInput, 0);
            if (!port) {
                fprintf(stderr,
                        "strata: cannot register the JACK port '%s' (is the name used twice?)\n",
                        name);
                return -1;
            }
            (outputs ? l->out_port : l->in_port)[n++] = port;
        }
    }
    return n;
}

static void connect_physical(st_live *l)
{
    const char **playback = jack_get_ports(l->client, NULL, JACK_DEFAULT_AUDIO_TYPE,
                                           JackPortIsPhysical | JackPortIsInput);
    const char **capture = jack_get_ports(l->client, NULL, JACK_DEFAULT_AUDIO_TYPE,
                                          JackPortIsPhysical | JackPortIsOutput);
    for (int i = 0; playback && i < l->n_out && playback[i]; i++)
        jack_connect(l->client, jack_port_name(l->out_port[i]), playback[i]);
    for (int i = 0; capture && i < l->n_in && capture[i]; i++)
        jack_connect(l->client, capture[i], jack_port_name(l->in_port[i]));
    jack_free(playback);
    jack_free(capture);
}

static void own(st_live *l, slot *s)
{
    for (int i = 0; i < MAX_OWNED; i++)
        if (!l->owned[i]) {
            l->owned[i] = s;
            return;
        }
}

static void disown_and_free(st_live *l, slot *s)
{
    for (int i = 0; i < MAX_OWNED; i++)
        if (l->owned[i] == s) l->owned[i] = NULL;
    slot_free(s);
}

st_live *st_live_connect(const st_live_options *opt)
{
    st_live *l = calloc(1, sizeof *l);
    if (!l) {
        fprintf(stderr, "strata: out of memory\n");
        return NULL;
    }
    l->opt = *opt;
    pthread_mutex_init(&l->lock, NULL);
    jack_set_error_function(quiet_jack); /* we say what went wrong, in one line */
    jack_set_info_function(quiet_jack);
    jack_status_t status;
    jack_options_t options = (opt->start_server ? JackNullOption : JackNoStartServer) |
                             (opt->server_name ? JackServerName : JackNullOption);
    l->client = jack_client_open(opt->client_name ? opt->client_name : "strata", options, &status,
                                 opt->server_name);
    if (!l->client) {
        fprintf(stderr,
                "strata: cannot connect to the JACK server%s%s%s (is it running? --start-server "
                "starts one)\n",
                opt->server_name ? " '" : "", opt->server_name ? opt->server_name : "",
                opt->server_name ? "'" : "");
        free(l);
        return NULL;
    }
    l->rate_hz = jack_get_sample_rate(l->client);
    l->block = (int)jack_get_buffer_size(l->client);
    return l;
}

int st_live_start(st_live *l, st_program *first, const st_transport *t)
{
    l->frames_per_beat = 60.0 * l->rate_hz / t->bpm;
    l->beats_per_bar = t->beats_per_bar;
    l->follow_jack = t->follow_jack;
    atomic_store(&l->bpm, t->bpm);
    atomic_store(&l->beats_per_bar_now, t->beats_per_bar);
    l->latency = st_program_latency(first);
    l->current = slot_new(l, first, t);
    if (!l->current) {
        fprintf(stderr, "strata: out of memory\n");
        st_program_free(first);
        return ST_ERR;
    }
    own(l, l->current);
    l->current->ticket = ++l->n_tickets;
    l->current_max_block = st_program_max_block(first);
    l->current_rate = st_program_rate(first);
    atomic_store(&l->swapped, l->current->ticket);
    if ((l->n_in = register_ports(l, first, 0)) < 0 || (l->n_out = register_ports(l, first, 1)) < 0)
        return ST_ERR;
    jack_set_process_callback(l->client, on_process, l);
    jack_set_xrun_callback(l->client, on_xrun, l);
    jack_set_buffer_size_callback(l->client, on_buffer_size, l);
    jack_set_sample_rate_callback(l->client, on_sample_rate, l);
    jack_set_latency_callback(l->client, on_latency, l);
    jack_on_info_shutdown(l->client, on_shutdown, l);
    if (jack_activate(l->client)) {
        fprintf(stderr, "strata: cannot activate the JACK client\n");
        return ST_ERR;
    }
    if (!l->opt.no_connect) connect_physical(l);
    return ST_OK;
}

double st_live_rate(const st_live *l) { return l->rate_hz; }
int st_live_block(const st_live *l) { return l->block; }

long st_live_offer(st_live *l, st_program *p, const st_transport *t)
{
    slot *s = slot_new(l, p, t);
    if (!s) {
        st_program_free(p);
        return 0;
    }
    pthread_mutex_lock(&l->lock);
    l->last_transport = *t;
    s->ticket = ++l->n_tickets;
    own(l, s);
    slot *untaken = atomic_exchange_explicit(&l->next, s, memory_order_acq_rel);
    if (untaken) { /* never reached the audio thread */
        atomic_store(&l->dropped, untaken->ticket);
        disown_and_free(l, untaken);
    }
    long ticket = s->ticket;
    pthread_mutex_unlock(&l->lock);
    return ticket;
}

void st_live_poll(st_live *l, st_live_status *st)
{
    pthread_mutex_lock(&l->lock);
    for (int i = 0; i < N_RETIRED; i++) {
        slot *s = atomic_exchange_explicit(&l->retired[i], NULL, memory_order_acq_rel);
        if (s) disown_and_free(l, s);
    }
    pthread_mutex_unlock(&l->lock);
    if (atomic_exchange(&l->reshape_wanted, 0))
        reshape(l, (int)jack_get_buffer_size(l->client), jack_get_sample_rate(l->client));
    if (l->recorder) st_recorder_drain(l->recorder);
    st->scheduled = atomic_load_explicit(&l->scheduled, memory_order_acquire);
    st->scheduled_frame = atomic_load(&l->scheduled_frame);
    st->scheduled_beat = atomic_load(&l->scheduled_beat);
    st->swapped = atomic_load(&l->swapped);
    st->dropped = atomic_load(&l->dropped);
    st->frames = atomic_load_explicit(&l->frames, memory_order_acquire);
    st->beat = atomic_load(&l->beat);
    st->bpm = atomic_load(&l->bpm);
    st->beats_per_bar = atomic_load(&l->beats_per_bar_now);
    st->xruns = atomic_load(&l->xruns);
    st->oversized = atomic_load(&l->oversized);
    st->started = atomic_load_explicit(&l->started, memory_order_acquire);
    st->first_frame = atomic_load(&l->first_frame);
    st->latency = l->latency;
}

void st_live_record(st_live *l, st_recorder *r) { l->recorder = r; }

int st_live_get(st_live *l, const st_node *node, const char *name, double *value)
{
    int status = ST_ERR;
    long playing = atomic_load(&l->swapped);
    pthread_mutex_lock(&l->lock);
    for (int i = 0; i < MAX_OWNED && status != ST_OK; i++)
        if (l->owned[i] && l->owned[i]->ticket == playing)
            status = st_program_get(l->owned[i]->program, node, name, value);
    pthread_mutex_unlock(&l->lock);
    return status;
}

int st_live_server_gone(st_live *l, const char **reason)
{
    *reason = l->shutdown_reason;
    return atomic_load(&l->shutdown);
}

int st_live_set(st_live *l, const st_node *node, const char *name, double value)
{
    int status = ST_ERR;
    pthread_mutex_lock(&l->lock);
    for (int i = 0; i < MAX_OWNED; i++)
        if (l->owned[i] && st_program_set(l->owned[i]->program, node, name, value) == ST_OK)
            status = ST_OK;
    pthread_mutex_unlock(&l->lock);
    return status;
}

static void *close_client(void *arg)
{
    st_live *l = arg;
    jack_deactivate(l->client);
    jack_client_close(l->client);
    atomic_store(&l->closed, 1);
    return NULL;
}

static void free_all(st_live *l)
{
    if (!l) return;
    for (int i = 0; i < MAX_OWNED; i++)
        slot_free(l->owned[i]);
    free(l);
}

int st_live_close(st_live *l)
{
    if (atomic_load(&l->shutdown)) {
        /* the server is gone: closing the client could wait on it forever;
         * the client stays open, our programs are not in use any more */
        free_all(l);
        return 3;
    }
    /* deactivating and closing talk to the server: one killed meanwhile
     * (or hung) would keep us here forever, so a helper does it and we wait
     * a bounded time */
    pthread_t closer;
    if (st_thread_start(&closer, NULL, close_client, l) != 0) {
        jack_deactivate(l->client);
        jack_client_close(l->client);
        free_all(l);
        return 0;
    }
    struct timespec tick = {0, 20 * 1000 * 1000};
    for (int waited_ms = 0; !atomic_load(&l->closed) && waited_ms < CLOSE_WAIT_MS; waited_ms += 20)
        nanosleep(&tick, NULL);
    if (!atomic_load(&l->closed)) {
        fprintf(stderr,
                "strata: the JACK server did not answer within %d ms when leaving; "
                "stopping without it\n",
                CLOSE_WAIT_MS);
        abandoned = l; /* the helper may still use it */
        return 3;
    }
    pthread_join(closer, NULL);
    free_all(l);
    return 0;
}
