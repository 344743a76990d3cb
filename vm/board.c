#include "board.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const char st_board_patch[] =
    "-- strata board DIR [BPM]: every audio file of DIR/loops (or DIR) as a loop\n"
    "local strata = require 'strata'\n"
    "local dir, bpm = arg[1], tonumber(arg[2])\n"
    "local folder, names = dir .. '/loops', strata.files(dir .. '/loops')\n"
    "if not names then\n"
    "  folder, names = dir, strata.files(dir)\n"
    "  if not names then error('strata board: cannot read the folder ' .. dir, 0) end\n"
    "end\n"
    "local bars = 0 -- from each loop's length at the tempo\n"
    "local f = io.open(dir .. '/layout.json')\n"
    "if f then -- strata unmix's: the tempo from its first slice, 4 beats a bar\n"
    "  local layout = strata.json_decode(f:read('a'))\n"
    "  f:close()\n"
    "  local slice = layout.bars and layout.bars[1]\n"
    "  if slice and not bpm then\n"
    "    bars = layout.bars_per_unit or 1\n"
    "    bpm = 60 * 4 * bars / (slice['end'] - slice.start)\n"
    "  end\n"
    "end\n"
    "if bpm then strata.transport { bpm = bpm, beats_per_bar = 4 } end\n"
    "board_names, audio, loops = {}, {}, {}\n"
    "for _, name in ipairs(names) do\n"
    "  local base = name:match('^(.*)%.[Ww][Aa][Vv]$') or name:match('^(.*)%.[Ff][Ll][Aa][Cc]$')\n"
    "    or name:match('^(.*)%.[Oo][Gg][Gg]$')\n"
    "  if base and #loops < 35 then\n"
    "    local i = #loops + 1\n"
    "    board_names[i] = base\n"
    "    audio[i] = strata.load(folder .. '/' .. name)\n"
    "    loops[i] = audio[i]:loop { bars = bars, playing = false }\n"
    "  end\n"
    "end\n"
    "if #loops == 0 then error('strata board: no .wav, .flac or .ogg file in ' .. folder, 0) end\n"
    "local mix = loops[1]\n"
    "for i = 2, #loops do mix = mix + loops[i] end\n"
    "out = mix\n"
    "out:jack_out()\n";

static const char keys[] = "123456789abcdefghijklmnopqrstuvwxyz";

int st_board_loop_of_key(int key)
{
    const char *at = key > 0 && key < 256 ? strchr(keys, key) : NULL;
    return at && *at ? (int)(at - keys) : -1;
}

int st_board_open(void)
{
    if (!initscr()) return -1;
    cbreak();
    noecho();
    nodelay(stdscr, TRUE);
    keypad(stdscr, TRUE);
    curs_set(0);
    return 0;
}

void st_board_close(void) { endwin(); }

int st_board_key(void)
{
    int key = getch();
    return key == ERR ? -1 : key;
}

void st_board_draw(const st_board_view *v)
{
    erase();
    int bpb = v->beats_per_bar > 0 ? v->beats_per_bar : 4;
    long bar = (long)floor(v->beat / bpb) + 1;
    int beat = (int)fmod(floor(v->beat), bpb) + 1;
    mvprintw(0, 0, "strata board  %s  bar %ld beat %d  %.1f bpm  %.1f s", v->client, bar, beat,
             v->bpm, v->seconds);
    if (v->xruns) printw("  xruns %d", v->xruns);
    if (v->recording)
        mvprintw(1, 0, "recording to %s%s", v->recording, v->dropped ? " (frames lost)" : "");
    int width = COLS > 40 ? COLS : 40;
    for (int i = 0; i < v->n_loops && i + 3 < LINES; i++) {
        /* the meter: 20 cells, -60 dB to 0 dB */
        double db = v->level[i] > 0 ? 20 * log10(v->level[i]) : -120;
        int cells = db <= -60 ? 0 : db >= 0 ? 20 : (int)((db + 60) / 3);
        char meter[21];
        memset(meter, ' ', 20);
        memset(meter, '#', (size_t)cells);
        meter[20] = 0;
        mvprintw(i + 3, 0, " %c  %-3s [%s]  %.*s", keys[i], v->playing[i] ? "on" : "off", meter,
                 width - 36, v->name[i]);
    }
    mvprintw(LINES - 1, 0, "keys toggle loops at the next bar; space stops all; q quits%s%s",
             v->message && *v->message ? "  | " : "", v->message ? v->message : "");
    refresh();
}
