# pushpull -- build, test, install.
#
#   make            build build/libpushpull.a and build/pushpull
#   make run        install missing Debian packages, build, start the chat
#   make test       install missing packages, build, run every test
#   make test SAN=1 the same under AddressSanitizer + UBSan (build/san/)
#   make bench      the speed benchmark (bench/results.json)
#   make install    PREFIX=/usr/local DESTDIR=
#
# Sources are found by wildcard: engine/*.c, bots/*.c and cli/common.c make
# the library, the rest of cli/*.c the program, tests/unit/*.c one cmocka binary each, tests/tools/*.c
# one helper program each (used by tests/*.sh).

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
SHAREDIR?= $(PREFIX)/share/pushpull
MANDIR  ?= $(PREFIX)/share/man
CC      ?= cc
PKGS     = libpcre2-8 jansson libcurl readline sqlite3 hunspell libutf8proc
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
# for make test only: the fuzz smoke (clang + libFuzzer) and the leak check
TESTDEBS = clang libclang-rt-14-dev valgrind

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
endif
CMOCKA_CFLAGS := $(shell pkg-config --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell pkg-config --libs cmocka 2>/dev/null)

CFLAGS  ?= $(OPT)
CFLAGS  += -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror \
           -Iengine -Iapp -Ibots $(PKG_CFLAGS) $(SANFLAGS) \
           -DPP_SHAREDIR='"$(SHAREDIR)"' -MMD -MP
LDFLAGS += $(SANFLAGS)
# libstemmer has no .pc file
NOPC_LIBS = -lstemmer
LDLIBS  += $(PKG_LIBS) $(NOPC_LIBS) -lutil -lpthread -lm

# cli/common.c (the shared options) is in the library: the bots use it too.
LIB_SRC   = $(sort $(wildcard engine/*.c bots/*.c)) app/common.c
CLI_SRC   = $(sort $(wildcard cli/*.c))
UNIT_SRC  = $(sort $(wildcard tests/unit/*.c))
TOOL_SRC  = $(sort $(wildcard tests/tools/*.c))
BENCH_SRC = $(sort $(wildcard bench/*.c))
LIB_OBJ   = $(LIB_SRC:%.c=$(B)/%.o)
CLI_OBJ   = $(CLI_SRC:%.c=$(B)/%.o)
UNIT_BIN  = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%)
TOOL_BIN  = $(TOOL_SRC:tests/tools/%.c=$(B)/tests/%)
BENCH_BIN = $(BENCH_SRC:bench/%.c=$(B)/bench/%)

.PHONY: all check-deps deps test-deps run test tests bench install clean fuzz
all: check-deps $(B)/pushpull

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

$(B)/pushpull: $(CLI_OBJ) $(B)/libpushpull.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(B)/libpushpull.a $(LDLIBS)

# The share dir is compiled in: rebuild common.o when it changes.
$(B)/sharedir.stamp: FORCE
	@mkdir -p $(B); echo '$(SHAREDIR)' | cmp -s - $@ || echo '$(SHAREDIR)' > $@
$(B)/app/common.o: $(B)/sharedir.stamp
FORCE:

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/tests/unit/%: tests/unit/%.c $(B)/libpushpull.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CMOCKA_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libpushpull.a $(CMOCKA_LIBS) $(LDLIBS)

$(B)/tests/%: tests/tools/%.c $(B)/libpushpull.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libpushpull.a $(LDLIBS)

$(B)/bench/%: bench/%.c $(B)/libpushpull.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libpushpull.a $(LDLIBS)

tests: all $(UNIT_BIN) $(TOOL_BIN) $(BENCH_BIN)

test: test-deps
	@$(MAKE) --no-print-directory tests
	@B=$(B) SAN=$(SAN) bash tests/run.sh

bench: all $(BENCH_BIN)
	@B=$(B) bash bench/run.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR)/rules $(DESTDIR)$(SHAREDIR)/responses $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(B)/pushpull $(DESTDIR)$(BINDIR)/pushpull
	install -m 0644 rules/*.rules rules/*.lexicon $(DESTDIR)$(SHAREDIR)/rules/
	install -m 0644 responses/*.responses responses/*.tsv $(DESTDIR)$(SHAREDIR)/responses/
	install -d $(DESTDIR)$(PREFIX)/share/doc/pushpull
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/pushpull/
	install -m 0644 docs/pushpull.1 $(DESTDIR)$(MANDIR)/man1/pushpull.1

clean:
	rm -rf build

-include $(wildcard mk/*.mk)
-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
# the programs built straight from one .c (tests, tools, bench) depend on
# what they include too: fuzzreplay includes every tests/fuzz/*.c
-include $(UNIT_BIN:=.d) $(TOOL_BIN:=.d) $(BENCH_BIN:=.d)
