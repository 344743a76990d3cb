# strata: build, test, bench, demo, docs, install.
#   make                 ./strata and ./strata.so
#   make test            every test; ends with "N passed, N failed"
#   make test SANITIZE=1 the same, built with AddressSanitizer and UBSan
VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
PKGS      := lua5.4 sndfile fftw3f fftw3 openblas jack samplerate
DEB_PKGS  := build-essential pkg-config lua5.4 liblua5.4-dev libsndfile1-dev libfftw3-dev \
             libopenblas-dev libjack-jackd2-dev jackd2 libsamplerate0-dev

CC        ?= cc
CFLAGS    ?= -O2
CFLAGS    += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -fPIC -pthread \
             -DSTRATA_VERSION='"$(VERSION)"' -DSTRATA_DATADIR='"$(PREFIX)/share/strata"' \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS      := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -pthread
# strata.so takes Lua's symbols from the interpreter that loads it
SO_LIBS   := $(shell pkg-config --libs $(filter-out lua5.4,$(PKGS)) 2>/dev/null) -lm -pthread

ifeq ($(SANITIZE),1)
BUILD     := build-san
CFLAGS    += -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LIBS      += -fsanitize=address,undefined
BIN       := $(BUILD)/strata
else
BUILD     := build
BIN       := strata
endif

LIB_SRC   := $(filter-out vm/main.c,$(wildcard vm/*.c)) $(wildcard nodes/*.c nodes/dsp/*.c) lua/binding.c
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/lua/library.o
UNIT_SRC  := $(wildcard tests/unit/*.c)
UNIT_BIN  := $(BUILD)/unit-tests
RT_BIN    := $(if $(filter 1,$(SANITIZE)),,$(BUILD)/rt-tests)
JACK_TOOL := $(BUILD)/jack-capture
BENCH_SRC := $(wildcard tests/bench/*.c)

.PHONY: all test bench demo docs install uninstall deps clean format check-docs
all: $(BIN) $(if $(filter 1,$(SANITIZE)),,strata.so)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC   $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/lua/library.c: lua/strata.lua tools/embed.lua
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

test: $(BIN) $(UNIT_BIN) $(RT_BIN) $(JACK_TOOL) $(if $(filter 1,$(SANITIZE)),,strata.so)
	@STRATA=$(abspath $(BIN)) UNIT=$(abspath $(UNIT_BIN)) RT=$(if $(RT_BIN),$(abspath $(RT_BIN))) \
	    JACK_CAPTURE=$(abspath $(JACK_TOOL)) sh tests/run.sh

$(BUILD)/bench/%: tests/bench/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(LIBS)

bench: $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%) $(BIN)
	@mkdir -p $(BUILD)/bench-out
	@for b in $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%); do \
	    $$b $(BUILD)/bench-out || exit 1; done

demo: deps all
	./$(BIN) demo demo-out

docs: $(BIN)
	./$(BIN) nodes --markdown > doc/nodes.md.tmp && mv doc/nodes.md.tmp doc/nodes.md

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/strata/patches \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/lib/lua/5.4
	install -m 755 strata $(DESTDIR)$(PREFIX)/bin/strata
	install -m 644 patches/*.lua $(DESTDIR)$(PREFIX)/share/strata/patches/
	install -m 644 doc/strata.1 $(DESTDIR)$(PREFIX)/share/man/man1/strata.1
	install -m 755 strata.so $(DESTDIR)$(PREFIX)/lib/lua/5.4/strata.so

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/strata $(DESTDIR)$(PREFIX)/share/man/man1/strata.1 \
	    $(DESTDIR)$(PREFIX)/lib/lua/5.4/strata.so
	rm -rf $(DESTDIR)$(PREFIX)/share/strata

deps:
	@if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEB_PKGS) \
	    || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEB_PKGS); }; \
	else echo "run as root, or: sudo apt-get install $(DEB_PKGS)"; \
	    for p in $(PKGS); do pkg-config --exists $$p || exit 1; done; fi

format:
	clang-format -i $(LIB_SRC) vm/main.c $(UNIT_SRC) $(BENCH_SRC) vm/*.h nodes/dsp/*.h lua/*.h

clean:
	rm -rf build build-san strata strata.so demo-out tests/out

-include $(shell find build build-san -name '*.d' 2>/dev/null)
