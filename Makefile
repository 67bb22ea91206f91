# synclua: one Makefile for the C core, the Lua binding, the host program,
# the C test driver and the benchmarks. Every dependency is found with
# pkg-config. `make SANITIZE=address,undefined test` builds and tests an
# instrumented copy under build/san/.

PREFIX     ?= /usr/local
PKG_CONFIG ?= pkg-config
LUA_PKG    ?= lua5.4
EDIT_PKG   ?= libedit
DEPS        = $(LUA_PKG) sqlite3 uuid libsodium libpq

ifneq ($(SANITIZE),)
# ThreadSanitizer builds apart: its runtime cannot share a build with
# AddressSanitizer's.
BUILD      ?= build/$(if $(filter thread,$(SANITIZE)),tsan,san)
SANFLAGS    = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT        ?= -O1 -g
else
BUILD      ?= build
SANFLAGS    =
OPT        ?= -O2 -g
endif

WARN    = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
          -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wwrite-strings \
          -Wformat=2 -Wundef -Wvla
CFLAGS ?= $(OPT)
# The core (and the C tests and benchmarks over it) is compiled without
# Lua's include path or -Ilua: the build itself keeps it from reaching up.
CORE_DEPS   = sqlite3 uuid libsodium libpq
CORE_CFLAGS = -std=c99 -D_POSIX_C_SOURCE=200809L -fPIC -Iinclude -Icore \
              $(WARN) $(SANFLAGS) -MMD -MP \
              $(shell $(PKG_CONFIG) --cflags $(CORE_DEPS)) $(CFLAGS)
ALL_CFLAGS  = $(CORE_CFLAGS) -Ilua $(shell $(PKG_CONFIG) --cflags $(LUA_PKG))
LDLIBS  = $(shell $(PKG_CONFIG) --libs $(CORE_DEPS)) -lpthread -lm
LUALIBS = $(shell $(PKG_CONFIG) --libs $(LUA_PKG))
EDITLIBS = $(shell $(PKG_CONFIG) --libs $(EDIT_PKG))
LDFLAGS += $(SANFLAGS)

CORE_SRC  = $(wildcard core/*.c)
BIND_SRC  = $(wildcard lua/lsl_*.c)
HOST_SRC  = lua/synclua.c
CTEST_SRC = $(wildcard spec/c/test_*.c)
BENCH_SRC = $(wildcard bench/*.c)

CORE_OBJ  = $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
BIND_OBJ  = $(BIND_SRC:%.c=$(BUILD)/obj/%.o)
HOST_OBJ  = $(HOST_SRC:%.c=$(BUILD)/obj/%.o)
CTESTS    = $(CTEST_SRC:spec/c/%.c=$(BUILD)/%)
BENCHES   = $(BENCH_SRC:bench/%.c=$(BUILD)/bench_%)

VERSION = $(shell sed -n 's/^\#define SL_VERSION "\(.*\)"/\1/p' include/synclua/synclua.h)

LIB    = $(BUILD)/libsynclua.a
# The shared library: libsynclua.so.MAJOR is its soname, and only the
# public sl_* functions are exported (core/libsynclua.map).
SOMAJOR = $(firstword $(subst ., ,$(VERSION)))
SHLIB  = $(BUILD)/libsynclua.so.$(VERSION)
SONAME = libsynclua.so.$(SOMAJOR)
HEADERS = $(wildcard include/synclua/*.h)
MODULE = $(BUILD)/lua/synclua/core.so
HOST   = $(BUILD)/synclua
# The man page and the bash completion, generated from the commands'
# declarations by the built host (lua/synclua/docgen.lua).
DOCS   = $(BUILD)/synclua.1 $(BUILD)/synclua.bash
DOCGEN = lua/synclua/docgen.lua

# Keep the test and bench objects make would otherwise delete as
# intermediates.
.SECONDARY:

.PHONY: all test check deps bench install uninstall clean fuzz fuzz-deps
all: $(LIB) $(SHLIB) $(MODULE) $(HOST) $(BUILD)/synclua.pc $(DOCS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# Everything but the binding and the host sees the core's flags alone.
$(BUILD)/obj/core/%.o $(BUILD)/obj/spec/c/%.o $(BUILD)/obj/bench/%.o: \
  ALL_CFLAGS = $(CORE_CFLAGS)

# The host looks for installed scripts and modules where `install` puts them.
$(HOST_OBJ): ALL_CFLAGS += -DSYNCLUA_DATADIR='"$(DATADIR)"' -DSYNCLUA_LUADIR='"$(LUADIR)"'
# Only the host links libedit (line editing and history in the REPL).
$(HOST_OBJ): ALL_CFLAGS += $(shell $(PKG_CONFIG) --cflags $(EDIT_PKG))

$(LIB): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(SHLIB): $(CORE_OBJ) core/libsynclua.map
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -Wl,-soname,$(SONAME) \
	  -Wl,--version-script,core/libsynclua.map -o $@ $(CORE_OBJ) $(LDLIBS)
	ln -sf $(notdir $@) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $(BUILD)/libsynclua.so

$(MODULE): $(BIND_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $(BIND_OBJ) $(LIB) $(LDLIBS)

$(HOST): $(HOST_OBJ) $(BIND_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -Wl,-E -o $@ $(HOST_OBJ) $(BIND_OBJ) $(LIB) $(LUALIBS) $(EDITLIBS) $(LDLIBS) -ldl

$(BUILD)/test_%: $(BUILD)/obj/spec/c/test_%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/bench_%: $(BUILD)/obj/bench/%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/synclua.pc: synclua.pc.in
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@

# Every script is loaded (not run) to read its declaration, so the pages
# follow the scripts and the modules they require. -E: LUA_INIT and
# LUA_PATH cannot change them. A script that cannot be described is left
# out with a note on stderr; a failure leaves no partial file.
$(BUILD)/synclua.1: $(HOST) $(DOCGEN) $(wildcard scripts/*.lua lua/synclua/*.lua)
	$(HOST) -E $(DOCGEN) man scripts > $@.tmp && mv $@.tmp $@

$(BUILD)/synclua.bash: $(HOST) $(DOCGEN) $(wildcard scripts/*.lua lua/synclua/*.lua)
	$(HOST) -E $(DOCGEN) bash scripts > $@.tmp && mv $@.tmp $@

# The whole suite: the C driver, then every busted spec under the sanitized
# or plain host; spec/run prints the closing "N passed, N failed" line.
# `make SANITIZE=thread test` runs the C driver alone under ThreadSanitizer
# (the threaded code is the core's; the specs would only run it slower).
# Everything `all` builds is there first: the specs read the generated
# pages and install the build.
test: all $(CTESTS)
	@$(if $(filter thread,$(SANITIZE)),SPEC_C_ONLY=1 )sh spec/run $(BUILD)

# Plain and sanitized, summed: what CI runs.
check:
	@sh spec/check

# Debian packages for building and testing (run as root). On a fresh
# machine, with no package lists yet, `apt-get update` runs first; it runs
# again (once) when an install fails for want of current lists.
# zlib1g-dev: sqlite3's static link needs -lz (pkg-config --static).
# libpq-dev: the PostgreSQL store; postgresql: the server the specs and
# benchmarks start a throwaway cluster of (spec/pg_cluster).
DEBIAN_PACKAGES = build-essential pkg-config lua5.4 liblua5.4-dev \
  libsqlite3-dev sqlite3 lua-cjson lua-filesystem uuid-dev lua-busted \
  libedit-dev libsodium-dev groff-base zlib1g-dev libpq-dev postgresql
APT_INSTALL = DEBIAN_FRONTEND=noninteractive apt-get install -y \
  --no-install-recommends
APT_LISTS  ?= /var/lib/apt/lists
# $(call apt_install,PACKAGES)
apt_install = if ! ls $(APT_LISTS)/*_Packages* >/dev/null 2>&1; then \
  apt-get update -qq; fi; \
  $(APT_INSTALL) $(1) || { apt-get update -qq && $(APT_INSTALL) $(1); }
# The browser suite (spec/browser/) runs Debian's Chromium and Node.js (a
# Node.js of NodeSource's, which carries its own npm, stays: Debian's npm
# would conflict with it), then the npm modules exactly as its
# package-lock.json pins them (playwright-core, @paulirish/trace_engine).
BROWSER_PACKAGES = chromium nodejs
deps:
	$(call apt_install,$(DEBIAN_PACKAGES) $(BROWSER_PACKAGES))
	command -v npm >/dev/null 2>&1 || { $(call apt_install,npm); }
	cd spec/browser && npm ci --no-audit --no-fund

bench: all $(BENCHES)
	@sh bench/run $(BUILD)

# `make fuzz`, a developer target (not part of `make test`, `make check` or
# CI): the protocol's decoding surface (fuzz/fuzz_protocol.c) under
# libFuzzer, ASan and UBSan for FUZZ_TIME seconds (`make fuzz
# FUZZ_TIME=300`; FUZZ_ARGS adds libFuzzer flags, e.g. -jobs=4). The target
# and the core are built with clang into build/fuzz/. fuzz/corpus/ and
# fuzz/crashes/ are only read; new inputs go to build/fuzz/corpus/ and crash
# artifacts to build/fuzz/. It needs clang and libFuzzer's runtime, which
# `make fuzz-deps` installs (run as root): FUZZ_PACKAGES.
FUZZ_PACKAGES = clang libclang-rt-14-dev
FUZZ_CC    ?= clang
FUZZ_TIME  ?= 60
FUZZ_ARGS  ?=
FUZZ_BUILD  = build/fuzz
FUZZ_SAN    = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c99 -D_POSIX_C_SOURCE=200809L -Iinclude -Icore $(WARN) $(FUZZ_SAN) \
              -O1 -g -MMD -MP $(shell $(PKG_CONFIG) --cflags $(CORE_DEPS))
FUZZ_OBJ    = $(CORE_SRC:%.c=$(FUZZ_BUILD)/obj/%.o) \
              $(FUZZ_BUILD)/obj/fuzz/fuzz_protocol.o \
              $(FUZZ_BUILD)/obj/fuzz/protocol_check.o

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/fuzz_protocol: $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_SAN) -o $@ $(FUZZ_OBJ) $(LDLIBS)

fuzz: $(FUZZ_BUILD)/fuzz_protocol
	@mkdir -p $(FUZZ_BUILD)/corpus
	$(FUZZ_BUILD)/fuzz_protocol -max_total_time=$(FUZZ_TIME) \
	  -print_final_stats=1 -dict=fuzz/protocol.dict \
	  -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_ARGS) \
	  $(FUZZ_BUILD)/corpus fuzz/corpus fuzz/crashes

fuzz-deps:
	$(call apt_install,$(FUZZ_PACKAGES))

# Lua's own directories under PREFIX: stock lua5.4 finds the modules there
# (`require "synclua"`, "synclua.core", "synclua.export.json", ...) with
# the default paths when PREFIX is /usr/local, else with LUA_PATH and
# LUA_CPATH pointing at them.
LUADIR   = $(PREFIX)/share/lua/5.4
LUACDIR  = $(PREFIX)/lib/lua/5.4
DATADIR  = $(PREFIX)/share/synclua
MANDIR   = $(PREFIX)/share/man
BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions

# The exporters are the modules synclua.export.* (in the tree through the
# symbolic link lua/synclua/export -> ../../exporters).
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LUADIR)/synclua/export \
	  $(DESTDIR)$(LUACDIR)/synclua $(DESTDIR)$(DATADIR)/scripts \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/synclua \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR)
	install -m 755 $(HOST) $(DESTDIR)$(PREFIX)/bin/synclua
	install -m 644 $(MODULE) $(DESTDIR)$(LUACDIR)/synclua/core.so
	install -m 644 lua/synclua/*.lua $(DESTDIR)$(LUADIR)/synclua/
	install -m 644 exporters/*.lua $(DESTDIR)$(LUADIR)/synclua/export/
	install -m 644 scripts/*.lua $(DESTDIR)$(DATADIR)/scripts/
	install -m 644 $(BUILD)/synclua.1 $(DESTDIR)$(MANDIR)/man1/synclua.1
	install -m 644 $(BUILD)/synclua.bash $(DESTDIR)$(BASHCOMPDIR)/synclua
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libsynclua.a
	install -m 755 $(SHLIB) $(DESTDIR)$(PREFIX)/lib/
	ln -sf $(notdir $(SHLIB)) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libsynclua.so
	install -m 644 $(HEADERS) $(DESTDIR)$(PREFIX)/include/synclua/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' synclua.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/synclua.pc

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/bin/synclua $(DESTDIR)$(LUADIR)/synclua \
	  $(DESTDIR)$(LUACDIR)/synclua $(DESTDIR)$(DATADIR) \
	  $(DESTDIR)$(PREFIX)/lib/libsynclua.a $(DESTDIR)$(PREFIX)/lib/libsynclua.so* \
	  $(DESTDIR)$(PREFIX)/include/synclua \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/synclua.pc \
	  $(DESTDIR)$(MANDIR)/man1/synclua.1 $(DESTDIR)$(BASHCOMPDIR)/synclua

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
