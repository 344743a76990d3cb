/* jack_out: one of the stream program's outputs. */
#include "../vm/node.h"

static const st_param params[] = {
    {"channels", ST_P_INT, .def = 0, .min = 0, .max = 64,
     .doc = "number of output ports; 0 takes the input's channel count"},
    {"name", ST_P_STRING, .def_str = "out",
     .doc = "port name prefix: ports are NAME_1, NAME_2, ..."},
    {NULL}};

static void jack_out_end(const st_params *p, st_stream_end *end)
{
    end->n_channels = st_int(p, "channels");
    end->port_prefix = st_str(p, "name");
}

const st_node_type st_node_jack_out = {
    .name = "jack_out",
    .doc = "Live audio output: JACK output ports under `strata live` (connected to the system "
           "playback ports unless --no-connect), the channels of the file `strata render` "
           "writes. Every jack_out of a patch is equally late.",
    .inputs = (const st_port[]){{"in", ST_AUDIO}, {NULL}},
    .outputs = (const st_port[]){{NULL}},
    .params = params,
    .stream_end = jack_out_end,
    .stream_role = ST_STREAM_OUTPUT,
    .stream_latency = "0",
    .stream_notes =
        "`channels`, `name` (ports `NAME_1`, `NAME_2`, ...); every output is as late as the latest",
};
