# strata: build, test, bench, demo, docs, install.
#   make                 ./strata and ./strata.so
#   make demo            installs missing Debian packages (as root), builds, runs the main job
#   make test            every test; ends with "N passed, N failed"
#   make test SANITIZE=1 the same, built with AddressSanitizer and UBSan
#   make check-fresh     the README's two commands on a fresh Debian 12 root (slow; tests/fresh/)
VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
# The libraries, as pkg-config names them, and the Debian packages that give
# them and everything else the build and the tests run (add to both lists).
# A target that needs more (training: python3, fluidsynth) never adds them
# here: its recipe starts with `@sh tools/deps.sh $(ITS_DEB_PKGS)`, which
# installs them as root and names what is missing otherwise.
PKGS      := lua5.4 sndfile fftw3f fftw3 openblas jack samplerate libpng readline ncursesw
DEB_PKGS  := build-essential pkg-config lua5.4 liblua5.4-dev libsndfile1-dev libfftw3-dev \
             libopenblas-dev libjack-jackd2-dev jackd2 libsamplerate0-dev libpng-dev \
             libreadline-dev libncurses-dev tmux

# pkg-config runs when a recipe first needs its answer, not when make reads
# this file: on a fresh machine the libraries are installed by then (every
# compile waits for `deps`). `lazy` keeps the first answer.
lazy      = $(eval $1 := $$(shell $2))$($1)
PKG_CFLAGS = $(call lazy,PKG_CFLAGS,pkg-config --cflags $(PKGS))
PKG_LIBS   = $(call lazy,PKG_LIBS,pkg-config --libs $(PKGS))
# strata.so takes Lua's symbols from the interpreter that loads it
PKG_SO_LIBS = $(call lazy,PKG_SO_LIBS,pkg-config --libs $(filter-out lua5.4,$(PKGS)))

CC        ?= cc
CFLAGS    ?= -O2
CFLAGS    += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wvla -Werror -fPIC -pthread \
             -DSTRATA_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
LIBS       = $(PKG_LIBS) -lm -pthread
SO_LIBS    = $(PKG_SO_LIBS) -lm -pthread

ifeq ($(SANITIZE),1)
BUILD     := build-san
CFLAGS    += -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LIBS      += -fsanitize=address,undefined
BIN       := $(BUILD)/strata
else
BUILD     := build
BIN       := strata
endif

# make fuzz: the libFuzzer harnesses of tests/fuzz/ (clang, ASan + UBSan), built in build-fuzz/
ifeq ($(FUZZ),1)
BUILD     := build-fuzz
CC        := clang
CFLAGS    += -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
             -fno-omit-frame-pointer -Wno-error -Wno-missing-field-initializers
LIBS      += -fsanitize=fuzzer,address,undefined
endif
FUZZ_SECONDS ?= 60
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)

LIB_SRC   := $(filter-out vm/main.c,$(wildcard vm/*.c)) $(wildcard nodes/*.c nodes/dsp/*.c) lua/binding.c lua/json.c
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/lua/library.o
UNIT_SRC  := $(wildcard tests/unit/*.c)
UNIT_BIN  := $(BUILD)/unit-tests
RT_BIN    := $(if $(filter 1,$(SANITIZE)),,$(BUILD)/rt-tests)
JACK_TOOL := $(BUILD)/jack-capture
# strata live's checks: the JACK callback's real-time counter and a raw control-socket client
LIVE_TOOLS := $(BUILD)/control-client $(if $(filter 1,$(SANITIZE)),,$(BUILD)/rt-preload.so)
BENCH_SRC := $(wildcard tests/bench/*.c)

.PHONY: all test bench demo docs install uninstall deps clean format check-fresh FORCE train-beats train-unet fuzz fuzz-build
all: $(BIN) $(if $(filter 1,$(SANITIZE)),,strata.so)

# The Debian packages: `make demo`, `make test` and `make deps` install what
# is missing when run as root; otherwise (and for every other goal) a missing
# package stops the build with one line naming it. Silent when all is there.
DEPS_INSTALL := $(if $(filter demo test deps,$(MAKECMDGOALS)),,--check)
deps:
	@sh tools/deps.sh $(DEPS_INSTALL) $(DEB_PKGS)

# The data folder is compiled into main.o: a new PREFIX rebuilds it.
$(BUILD)/prefix: FORCE
	@mkdir -p $(dir $@)
	@echo '$(PREFIX)' | cmp -s - $@ || echo '$(PREFIX)' > $@
$(BUILD)/vm/main.o: CFLAGS += -DSTRATA_DATADIR='"$(PREFIX)/share/strata"'
$(BUILD)/vm/main.o: $(BUILD)/prefix

# The on-disk cache's keys hold a digest of the code that computes results,
# so a strata built from changed code never reads what an older build cached
# (a node's .version need not be bumped by hand for that). Rewritten only when
# the digest changes, so only graph.o depends on it.
CODE_SRC  := $(LIB_SRC) $(wildcard vm/*.h nodes/*.h nodes/dsp/*.h)
$(BUILD)/code_digest.h: $(CODE_SRC) | deps
	@mkdir -p $(dir $@)
	@printf '#define ST_CODE_DIGEST 0x%sULL\n' "$$(cat $(CODE_SRC) | md5sum | cut -c1-16)" > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(BUILD)/vm/graph.o: $(BUILD)/code_digest.h
$(BUILD)/vm/graph.o: CFLAGS += -I$(BUILD)

$(BUILD)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	@echo "  CC   $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/lua/library.c: lua/strata.lua tools/embed.lua | deps
	@mkdir -p $(dir $@)
	lua5.4 tools/embed.lua st_lua_library $< > $@.tmp && mv $@.tmp $@

$(BUILD)/lua/library.o: $(BUILD)/lua/library.c
	$(CC) $(CFLAGS) -c $< -o $@

$(BIN): $(BUILD)/vm/main.o $(LIB_OBJ)
	$(CC) $^ -o $@ $(LIBS)

strata.so: $(LIB_OBJ)
	$(CC) -shared $^ -o $@ $(SO_LIBS)

$(UNIT_BIN): $(UNIT_SRC:%.c=$(BUILD)/%.o) $(LIB_OBJ)
	$(CC) $^ -o $@ $(LIBS)

$(BUILD)/rt-tests: $(BUILD)/tests/rt/test_stream.o $(LIB_OBJ)
	$(CC) $^ -o $@ $(LIBS) -ldl

$(JACK_TOOL): $(BUILD)/tests/jack/capture.o
	$(CC) $^ -o $@ $(LIBS)

$(BUILD)/control-client: $(BUILD)/tests/jack/control_client.o
	$(CC) $^ -o $@ $(LIBS)

$(BUILD)/rt-preload.so: $(BUILD)/tests/rt/rt_preload.o
	$(CC) -shared $^ -o $@ -ldl -pthread

test: $(BIN) $(UNIT_BIN) $(RT_BIN) $(JACK_TOOL) $(LIVE_TOOLS) $(if $(filter 1,$(SANITIZE)),,strata.so)
	@STRATA=$(abspath $(BIN)) UNIT=$(abspath $(UNIT_BIN)) RT=$(if $(RT_BIN),$(abspath $(RT_BIN))) \
	    JACK_CAPTURE=$(abspath $(JACK_TOOL)) LIVE_BUILD=$(abspath $(BUILD)) sh tests/run.sh

$(BUILD)/bench/%: tests/bench/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(LIBS)

bench: $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%) $(BIN)
	@mkdir -p $(BUILD)/bench-out
	@for b in $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%); do \
	    $$b $(BUILD)/bench-out || exit 1; done
	@if command -v jackd > /dev/null; then STRATA=$(abspath $(BIN)) sh tests/bench/live_reload.sh $(BUILD)/bench-out; \
	    else echo "skip live_reload: jackd is not installed"; fi

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/common.h $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(LIB_OBJ) -o $@ $(LIBS)

fuzz-build: $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

# each harness FUZZ_SECONDS seconds (niced), seeded from tests/fuzz/seeds/NAME
fuzz:
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-build
	@nice -n 10 sh tests/fuzz/run.sh $(FUZZ_SECONDS)

demo: all
	./$(BIN) demo demo-out

# The beat tracker's weights and test fixture (models/beats_tcn*.safetensors), remade from
# songs generated here (doc/beats.md): Debian's python3-torch, fluidsynth, fluid-soundfont-gm.
# The network starts from the previous model (the first session's, from git) and learns the
# bar-level cues of the new songs; BEATS_SONGS1/2 are the counts the committed model used.
BEATS_SONGS1 ?= 100
BEATS_SONGS2 ?= 100
BEATS_INIT_COMMIT := 35681b8
TRAIN_DEB_PKGS := python3-torch python3-numpy fluidsynth fluid-soundfont-gm
train-beats: $(BIN)
	@sh tools/deps.sh $(TRAIN_DEB_PKGS)
	@mkdir -p build/train-beats
	git show $(BEATS_INIT_COMMIT):models/beats_tcn.safetensors > build/train-beats/init.safetensors
	nice -n 10 /usr/bin/python3 tools/train/make_beats_data.py --out build/train-beats/data \
	    --songs $(BEATS_SONGS1) --testsongs 0 --seed 20261205 --strata ./$(BIN)
	nice -n 10 /usr/bin/python3 tools/train/make_beats_data.py --out build/train-beats/data2 \
	    --songs $(BEATS_SONGS2) --testsongs 0 --seed 20271205 --strata ./$(BIN)
	nice -n 10 /usr/bin/python3 tools/train/make_beats_data.py --out build/train-beats/data3 \
	    --songs 0 --testsongs 40 --seed 20281205 --strata ./$(BIN)
	nice -n 10 /usr/bin/python3 tools/train/train_beats.py --data build/train-beats/data \
	    build/train-beats/data2 build/train-beats/data3 --models models \
	    --init build/train-beats/init.safetensors --lr 1e-3 --epochs 18 --stop-after 13 --max-minutes 0 \
	    --threads 2 --log build/train-beats/train.json

# The U-Net's weights and fixtures (models/unet*.safetensors), remade from generated songs
# (doc/unet.md): FluidSynth + FluidR3 accompaniment, voice-like GM leads and strata's own
# sung-like voice, testsong songs; never the corpus. The data takes ~30 min, the training
# about as long on one quiet core (seeds fixed, one torch thread).
# The song generator changed after the first data folders were drawn: each folder is drawn
# with the beats_songs.py it was made with (git show), so the run is the shipped one.
UNET_SONGS_V1 := 21069b6
train-unet: $(BIN)
	@sh tools/deps.sh $(TRAIN_DEB_PKGS)
	@mkdir -p build/train-unet
	git show $(UNET_SONGS_V1):tools/train/beats_songs.py > build/train-unet/songs_v1.py
	nice -n 10 /usr/bin/python3 tools/train/make_unet_data.py --out build/train-unet/data1 \
	    --songs 21 --testsongs 0 --seed 20261206 --strata ./$(BIN) --song-generator build/train-unet/songs_v1.py
	nice -n 10 /usr/bin/python3 tools/train/make_unet_data.py --out build/train-unet/data2 \
	    --songs 25 --testsongs 0 --seed 40261206 --strata ./$(BIN) --song-generator build/train-unet/songs_v1.py
	nice -n 10 /usr/bin/python3 tools/train/make_unet_data.py --out build/train-unet/data3 \
	    --songs 0 --testsongs 24 --seed 50261206 --strata ./$(BIN)
	nice -n 10 /usr/bin/python3 tools/train/make_unet_data.py --out build/train-unet/val \
	    --songs 10 --testsongs 2 --seed 30261206 --strata ./$(BIN) --wav --song-generator build/train-unet/songs_v1.py
	nice -n 10 /usr/bin/python3 tools/train/unet.py --data build/train-unet/data1 \
	    build/train-unet/data2 build/train-unet/data3 --val build/train-unet/val --val-songs 6 \
	    --models models --widths 4,8,16,32,64,128 --frames 64 --batch 4 --lr 2e-3 \
	    --dropout 0.1 --steps-per-epoch 100 --epochs 68 --max-minutes 240 --threads 1 \
	    --log build/train-unet/train.json

docs: $(BIN)
	./$(BIN) nodes --markdown > doc/nodes.md.tmp && mv doc/nodes.md.tmp doc/nodes.md
	./$(BIN) nodes --streaming-table | lua5.4 tools/splice.lua doc/streaming.md "streaming table"

# Everything the commands read at run time: the binary, the ready patches and
# their methods, the man page, the docs it names, and strata.so for lua5.4.
DOCDIR    := $(PREFIX)/share/doc/strata
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/strata/patches/methods \
	    $(DESTDIR)$(PREFIX)/share/strata/models $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/lib/lua/5.4 $(DESTDIR)$(DOCDIR)
	install -m 755 strata $(DESTDIR)$(PREFIX)/bin/strata
	install -m 644 patches/*.lua $(DESTDIR)$(PREFIX)/share/strata/patches/
	install -m 644 patches/methods/*.lua $(DESTDIR)$(PREFIX)/share/strata/patches/methods/
	install -m 644 models/*.safetensors $(DESTDIR)$(PREFIX)/share/strata/models/
	sed 's|@DOCDIR@|$(DOCDIR)|g' doc/strata.1 > $(DESTDIR)$(PREFIX)/share/man/man1/strata.1
	chmod 644 $(DESTDIR)$(PREFIX)/share/man/man1/strata.1
	install -m 644 README.md doc/*.md $(DESTDIR)$(DOCDIR)/
	install -m 755 strata.so $(DESTDIR)$(PREFIX)/lib/lua/5.4/strata.so

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/strata $(DESTDIR)$(PREFIX)/share/man/man1/strata.1 \
	    $(DESTDIR)$(PREFIX)/lib/lua/5.4/strata.so
	rm -rf $(DESTDIR)$(PREFIX)/share/strata $(DESTDIR)$(DOCDIR)

# The README's two commands on a fresh minimal Debian 12 root, as root and as
# a user (slow: builds the root with mmdebstrap; not part of `make test`).
check-fresh:
	sh tests/fresh/run.sh

format:
	clang-format -i $(LIB_SRC) vm/main.c $(UNIT_SRC) $(BENCH_SRC) vm/*.h nodes/dsp/*.h lua/*.h

clean:
	rm -rf build build-san build-fuzz strata strata.so demo-out tests/out

-include $(shell find build build-san build-fuzz -name '*.d' 2>/dev/null)
