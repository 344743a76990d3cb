/* jack_in: the stream program's live input (JACK capture, or silence in a render). */
#include "../vm/node.h"

static const st_param params[] = {
    {"channels", ST_P_INT, .def = 2, .min = 1, .max = 64, .doc = "number of input ports"},
    {"name", ST_P_STRING, .def_str = "in",
     .doc = "port name prefix: ports are NAME_1, NAME_2, ..."},
    {NULL}};

static void jack_in_end(const st_params *p, st_stream_end *end)
{
    end->n_channels = st_int(p, "channels");
    end->port_prefix = st_str(p, "name");
}

const st_node_type st_node_jack_in = {
    .name = "jack_in",
    .doc = "Live audio input: JACK input ports under `strata live` (connected to the system "
           "capture ports unless --no-connect), silence under `strata render`.",
    .inputs = (const st_port[]){{NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = params,
    .stream_end = jack_in_end,
    .stream_role = ST_STREAM_INPUT,
    .stream_latency = "0",
    .stream_notes = "`channels`, `name` (ports `NAME_1`, `NAME_2`, ...)",
};
