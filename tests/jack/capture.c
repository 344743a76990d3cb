/* jack-capture: a second JACK client for the tests. It connects the given
 * ports to its inputs, records N frames from the first cycle in which every
 * connection is in the graph that cycle runs, writes them to a float WAV and
 * prints the JACK frame time of that first cycle, so that the recording can
 * be aligned with a render.
 *
 * jack_connect returns before the server's process thread has switched to
 * the graph holding the new connection: on a loaded machine the first cycle
 * after the last jack_connect may still read a port unconnected (silence).
 * So the process callback itself waits until jack_port_connected says yes
 * for every port, which reads the graph that cycle runs.
 *
 *   jack-capture SERVER FRAMES OUT.wav PORT...
 */
#include <jack/jack.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PORTS 16

static jack_client_t *client;
static jack_port_t *port[MAX_PORTS];
static int n_ports;
static float *recording; /* planar, allocated before activation */
static long n_wanted, n_done;
static atomic_int armed, finished;
static atomic_ullong first_frame;

/* Real-time: copies into memory allocated before activation. */
static int on_process(jack_nframes_t n, void *arg)
{
    (void)arg;
    if (!atomic_load(&armed) || atomic_load(&finished)) return 0;
    if (n_done == 0) {
        for (int p = 0; p < n_ports; p++)
            if (!jack_port_connected(port[p])) return 0; /* not in this cycle's graph yet */
        atomic_store(&first_frame, jack_last_frame_time(client));
    }
    long take = n_wanted - n_done < (long)n ? n_wanted - n_done : (long)n;
    for (int p = 0; p < n_ports; p++) {
        const float *x = jack_port_get_buffer(port[p], n);
        memcpy(recording + (size_t)p * (size_t)n_wanted + n_done, x, (size_t)take * sizeof *x);
    }
    n_done += take;
    if (n_done == n_wanted) atomic_store(&finished, 1);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc - 4 > MAX_PORTS) {
        fprintf(stderr, "usage: jack-capture SERVER FRAMES OUT.wav PORT...\n");
        return 2;
    }
    n_wanted = atol(argv[2]);
    n_ports = argc - 4;
    recording = calloc((size_t)n_ports * (size_t)n_wanted, sizeof *recording);
    jack_status_t status;
    client = jack_client_open("capture", JackNoStartServer | JackServerName, &status, argv[1]);
    if (!client || !recording) {
        fprintf(stderr, "jack-capture: cannot open a client on '%s'\n", argv[1]);
        return 1;
    }
    for (int p = 0; p < n_ports; p++) {
        char name[32];
        snprintf(name, sizeof name, "in_%d", p + 1);
        port[p] = jack_port_register(client, name, JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    }
    jack_set_process_callback(client, on_process, NULL);
    if (jack_activate(client)) return 1;
    for (int p = 0; p < n_ports; p++)
        if (jack_connect(client, argv[4 + p], jack_port_name(port[p]))) {
            fprintf(stderr, "jack-capture: cannot connect %s\n", argv[4 + p]);
            return 1;
        }
    atomic_store(&armed, 1);
    struct timespec tick = {0, 10 * 1000 * 1000};
    for (int waited = 0; !atomic_load(&finished); waited++) {
        if (waited > 6000) {
            fprintf(stderr, "jack-capture: timed out\n");
            return 1;
        }
        nanosleep(&tick, NULL);
    }
    jack_deactivate(client);
    double rate = jack_get_sample_rate(client);
    jack_client_close(client);
    SF_INFO info = {
        .samplerate = (int)rate, .channels = n_ports, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    SNDFILE *f = sf_open(argv[3], SFM_WRITE, &info);
    float *frame = malloc((size_t)n_ports * sizeof *frame);
    for (long t = 0; f && t < n_wanted; t++) {
        for (int p = 0; p < n_ports; p++)
            frame[p] = recording[(size_t)p * (size_t)n_wanted + t];
        sf_writef_float(f, frame, 1);
    }
    if (f) sf_close(f);
    printf("first_frame %llu\n", (unsigned long long)atomic_load(&first_frame));
    free(frame);
    free(recording);
    return f ? 0 : 1;
}
