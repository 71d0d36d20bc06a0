# pushpull -- build, test, install.
#
#   make            build/libpushpull.a, build/libpushpull.so and build/pushpull
#   make run        install missing Debian packages, build, start the chat
#   make test       install missing packages, build, run every test
#   make test SAN=1 the same under AddressSanitizer + UBSan (build/san/)
#   make bench      the speed benchmark (bench/results.json)
#   make install    PREFIX=/usr/local DESTDIR=: the program, the library
#                   (install-lib: header, .a, .so, pushpull.pc) and the
#                   rules and responses (install-data)
#
# Three layers, found by wildcard (docs/architecture.md):
#   engine/*.c        libpushpull, the coach: PCRE2, jansson, SQLite,
#                     hunspell, utf8proc, libstemmer and nothing else; it
#                     never prints, exits or handles signals.  Built twice:
#                     $(B)/engine/ for libpushpull.a, $(B)/pic/engine/ (-fPIC)
#                     for libpushpull.so, which exports pushpull.h's names only.
#   app/*.c bots/*.c  the front ends' shared part and the bots (libcurl), in
#                     $(B)/libppapp.a, which is never installed
#   cli/*.c           the terminal subcommands and main() (readline)
# The program is cli + app + bots linked with libpushpull.a.  tests/unit/*.c
# are one cmocka binary each, tests/tools/*.c one helper program each (used
# by tests/*.sh), bench/*.c the benchmark; all link both archives.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
SHAREDIR?= $(PREFIX)/share/pushpull
MANDIR  ?= $(PREFIX)/share/man
# shell completion, where bash-completion, zsh and fish look (zsh: Debian's
# vendor dir for /usr, site-functions elsewhere)
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(if $(filter /usr,$(PREFIX)),$(PREFIX)/share/zsh/vendor-completions,$(PREFIX)/share/zsh/site-functions)
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
CC      ?= cc
# what the library needs; the program adds libcurl (bots) and readline (chat)
LIB_PKGS = libpcre2-8 jansson sqlite3 hunspell libutf8proc
PKGS     = $(LIB_PKGS) libcurl readline
TESTPKGS = cmocka
# pkg-config name -> Debian package
DEB_libpcre2-8 = libpcre2-dev
DEB_jansson    = libjansson-dev
DEB_libcurl    = libcurl4-openssl-dev
DEB_readline   = libreadline-dev
DEB_sqlite3    = libsqlite3-dev
DEB_hunspell   = libhunspell-dev
DEB_libutf8proc = libutf8proc-dev
DEB_cmocka     = libcmocka-dev
# the language layer: the Snowball stemmer (no .pc file) and the data it
# reads at run time, hunspell's en_US dictionary and WordNet's exceptions
LANGDEBS = libstemmer-dev hunspell-en-us wordnet-base
DEBS = pkg-config gcc make python3 $(foreach p,$(PKGS) $(TESTPKGS),$(DEB_$(p))) $(LANGDEBS)
# for make test only: the fuzz smoke (clang + libFuzzer), the leak check,
# and the shells whose completions tests/cli_completion.sh runs
TESTDEBS = clang libclang-rt-14-dev valgrind zsh fish

ifeq ($(SAN),1)
B        = build/san
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT      = -O1 -g
else
B        = build
SANFLAGS =
OPT      = -O2 -g
endif

HAVE_PKGS := $(shell pkg-config --exists $(PKGS) 2>/dev/null && echo yes)
ifeq ($(HAVE_PKGS),yes)
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
LIB_PKG_CFLAGS := $(shell pkg-config --cflags $(LIB_PKGS))
LIB_PKG_LIBS   := $(shell pkg-config --libs $(LIB_PKGS))
endif
CMOCKA_CFLAGS := $(shell pkg-config --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell pkg-config --libs cmocka 2>/dev/null)

# CFLAGS (default $(OPT)) and LDFLAGS are the caller's; the rest is ours.
CFLAGS  ?= $(OPT)
WFLAGS   = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror \
           $(SANFLAGS) -MMD -MP
# the engine sees its own headers and its own dependencies only
LIB_CFLAGS = $(CFLAGS) $(WFLAGS) -Iengine $(LIB_PKG_CFLAGS)
APP_CFLAGS = $(CFLAGS) $(WFLAGS) -Iengine -Iapp -Ibots $(PKG_CFLAGS) \
             -DPP_SHAREDIR='"$(SHAREDIR)"'
LDFLAGS += $(SANFLAGS)
# libstemmer has no .pc file
NOPC_LIBS = -lstemmer
LIB_LIBS = $(LIB_PKG_LIBS) $(NOPC_LIBS) -lpthread -lm
LDLIBS  += $(PKG_LIBS) $(NOPC_LIBS) -lutil -lpthread -lm

# The shared library: soname libpushpull.so.$(SO_MAJOR) (raise it when the
# ABI of pushpull.h breaks), file libpushpull.so.$(VERSION).
VERSION  := $(shell sed -n 's/^\#define PP_VERSION "\(.*\)"/\1/p' engine/pushpull.h)
SO_MAJOR  = 0
SONAME    = libpushpull.so.$(SO_MAJOR)
SO_FILE   = libpushpull.so.$(VERSION)

LIB_SRC   = $(sort $(wildcard engine/*.c))
APP_SRC   = $(sort $(wildcard app/*.c bots/*.c))
CLI_SRC   = $(sort $(wildcard cli/*.c))
UNIT_SRC  = $(sort $(wildcard tests/unit/*.c))
TOOL_SRC  = $(sort $(wildcard tests/tools/*.c))
BENCH_SRC = $(sort $(wildcard bench/*.c))
LIB_OBJ   = $(LIB_SRC:%.c=$(B)/%.o)
PIC_OBJ   = $(LIB_SRC:%.c=$(B)/pic/%.o)
APP_OBJ   = $(APP_SRC:%.c=$(B)/%.o)
CLI_OBJ   = $(CLI_SRC:%.c=$(B)/%.o)
UNIT_BIN  = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%)
TOOL_BIN  = $(TOOL_SRC:tests/tools/%.c=$(B)/tests/%)
BENCH_BIN = $(BENCH_SRC:bench/%.c=$(B)/bench/%)

.PHONY: all check-deps deps test-deps run test tests bench install install-lib install-data \
        install-completions clean fuzz
all: check-deps $(B)/pushpull $(B)/libpushpull.a $(B)/libpushpull.so

check-deps:
	@missing=""; for p in $(PKGS); do pkg-config --exists $$p 2>/dev/null || missing="$$missing $$p"; done; \
	echo '#include <libstemmer.h>' | $(CC) -E -x c - >/dev/null 2>&1 || missing="$$missing libstemmer"; \
	if [ -n "$$missing" ]; then \
	  echo "pushpull: missing libraries:$$missing" >&2; \
	  echo "  install them with: make deps   (runs: apt-get install $(DEBS))" >&2; exit 1; fi

# Install what is missing (Debian; as root, or with sudo when there is one).
# `make deps` installs what the program needs; `make test-deps` adds the tools
# the tests use.  Elsewhere than Debian it only says what to install.
deps: DEPS_WANT = $(DEBS)
test-deps: DEPS_WANT = $(DEBS) $(TESTDEBS)
deps test-deps:
	@if ! command -v dpkg >/dev/null 2>&1; then \
	  echo "deps: not a Debian system; install: $(DEPS_WANT)"; exit 0; fi; \
	need=""; for d in $(DEPS_WANT); do dpkg -s $$d >/dev/null 2>&1 || need="$$need $$d"; done; \
	if [ -z "$$need" ]; then echo "deps: all installed"; exit 0; fi; \
	sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	echo "deps: installing$$need"; \
	$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$need

run: deps
	@$(MAKE) --no-print-directory all
	$(B)/pushpull chat

$(B)/libpushpull.a: $(LIB_OBJ) Makefile
	@rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

# What the .so exports: every pp_ name of pushpull.h (comments stripped by
# the preprocessor); everything else, engine-internal, stays local.
$(B)/libpushpull.map: engine/pushpull.h
	@mkdir -p $(B)
	{ echo '{ global:'; $(CC) -E -P -x c engine/pushpull.h | grep -oE '\bpp_[A-Za-z0-9_]+' | \
	  sort -u | sed 's/.*/  &;/'; echo 'local: *; };'; } > $@.tmp && mv $@.tmp $@

$(B)/$(SO_FILE): $(PIC_OBJ) $(B)/libpushpull.map
	$(CC) -shared $(LDFLAGS) -Wl,-soname,$(SONAME) -Wl,--version-script=$(B)/libpushpull.map \
	    -Wl,--no-undefined -Wl,--as-needed -o $@ $(PIC_OBJ) $(LIB_LIBS)

$(B)/libpushpull.so: $(B)/$(SO_FILE)
	ln -sf $(SO_FILE) $(B)/$(SONAME)
	ln -sf $(SONAME) $@

# the front ends' shared part and the bots, for the program and the tests
$(B)/libppapp.a: $(APP_OBJ) Makefile
	@rm -f $@
	$(AR) rcs $@ $(APP_OBJ)

$(B)/pushpull: $(CLI_OBJ) $(APP_OBJ) $(B)/libpushpull.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(APP_OBJ) $(B)/libpushpull.a $(LDLIBS)

# The share dir is compiled in: rebuild common.o when it changes.
$(B)/sharedir.stamp: FORCE
	@mkdir -p $(B); echo '$(SHAREDIR)' | cmp -s - $@ || echo '$(SHAREDIR)' > $@
$(B)/app/common.o: $(B)/sharedir.stamp
FORCE:

$(B)/engine/%.o: engine/%.c
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -c -o $@ $<

$(B)/pic/engine/%.o: engine/%.c
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -fPIC -c -o $@ $<

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(APP_CFLAGS) -c -o $@ $<

TEST_LIBS = $(B)/libppapp.a $(B)/libpushpull.a

$(B)/tests/unit/%: tests/unit/%.c $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(APP_CFLAGS) $(CMOCKA_CFLAGS) $(LDFLAGS) -o $@ $< $(TEST_LIBS) $(CMOCKA_LIBS) $(LDLIBS)

$(B)/tests/%: tests/tools/%.c $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(APP_CFLAGS) $(LDFLAGS) -o $@ $< $(TEST_LIBS) $(LDLIBS)

$(B)/bench/%: bench/%.c $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(APP_CFLAGS) $(LDFLAGS) -o $@ $< $(TEST_LIBS) $(LDLIBS)

tests: all $(UNIT_BIN) $(TOOL_BIN) $(BENCH_BIN)

test: test-deps
	@$(MAKE) --no-print-directory tests
	@B=$(B) SAN=$(SAN) bash tests/run.sh

bench: all $(BENCH_BIN)
	@B=$(B) bash bench/run.sh

install: all install-lib install-data install-completions
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(B)/pushpull $(DESTDIR)$(BINDIR)/pushpull
	install -d $(DESTDIR)$(PREFIX)/share/doc/pushpull
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/pushpull/
	install -m 0644 docs/pushpull.1 $(DESTDIR)$(MANDIR)/man1/pushpull.1

# The library, for programs that embed the coach: pushpull.h, libpushpull.a,
# libpushpull.so with its soname link, and pushpull.pc (made here from
# engine/pushpull.pc.in, so that it names this PREFIX).  Builds nothing
# that depends on PREFIX, so it can install a built tree anywhere.
install-lib: $(B)/libpushpull.a $(B)/$(SO_FILE)
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 0644 engine/pushpull.h $(DESTDIR)$(INCLUDEDIR)/pushpull.h
	install -m 0644 $(B)/libpushpull.a $(DESTDIR)$(LIBDIR)/libpushpull.a
	install -m 0755 $(B)/$(SO_FILE) $(DESTDIR)$(LIBDIR)/$(SO_FILE)
	ln -sf $(SO_FILE) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libpushpull.so
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@SHAREDIR@|$(SHAREDIR)|g' \
	    -e 's|@VERSION@|$(VERSION)|g' -e 's|@LIB_PKGS@|$(LIB_PKGS)|g' \
	    -e 's|@LIBS_PRIVATE@|$(NOPC_LIBS) -lpthread -lm|g' \
	    engine/pushpull.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/pushpull.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/pushpull.pc

# The rules and responses the program and an embedding program load.
install-data:
	install -d $(DESTDIR)$(SHAREDIR)/rules $(DESTDIR)$(SHAREDIR)/responses
	install -m 0644 $(wildcard rules/*.rules rules/*.lexicon rules/*.catalog) $(DESTDIR)$(SHAREDIR)/rules/
	install -m 0644 responses/*.responses responses/*.tsv responses/*.words $(DESTDIR)$(SHAREDIR)/responses/

# Shell completion for bash, zsh and fish (completions/); builds nothing.
install-completions:
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0644 completions/pushpull.bash $(DESTDIR)$(BASHCOMPDIR)/pushpull
	install -m 0644 completions/_pushpull $(DESTDIR)$(ZSHCOMPDIR)/_pushpull
	install -m 0644 completions/pushpull.fish $(DESTDIR)$(FISHCOMPDIR)/pushpull.fish

clean:
	rm -rf build

-include $(wildcard mk/*.mk)
-include $(LIB_OBJ:.o=.d) $(PIC_OBJ:.o=.d) $(APP_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
# the programs built straight from one .c (tests, tools, bench) depend on
# what they include too: fuzzreplay includes every tests/fuzz/*.c
-include $(UNIT_BIN:=.d) $(TOOL_BIN:=.d) $(BENCH_BIN:=.d)
