# pushpull -- build, test, install.
#
#   make            build/libpushpull.a, build/libpushpull.so and build/pushpull
#   make run        install missing Debian packages, build, start the chat
#   make test       install missing packages, build, run every test
#   make test SAN=1 the same under AddressSanitizer + UBSan (build/san/)
#   make bench      the speed benchmark (bench/results.json)
#   make install    PREFIX=/usr/local DESTDIR=: the program, its man page
#                   and docs (install-bin), the library (install-lib:
#                   header, .a, .so, pushpull.pc), the rules and responses
#                   (install-data), shell completion and the systemd units
#                   (install-units); after a build it compiles nothing
#   make uninstall  the same PREFIX DESTDIR: removes all of that
#   make WERROR=1   warnings are errors (CI); CPPFLAGS CFLAGS LDFLAGS LDLIBS
#                   are the caller's (e.g. from dpkg-buildflags)
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
# what the library needs; the program adds libcurl and libolm (bots) and
# readline (chat)
LIB_PKGS = libpcre2-8 jansson sqlite3 hunspell libutf8proc
PKGS     = $(LIB_PKGS) libcurl readline olm
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
DEB_olm        = libolm-dev
# the language layer: the Snowball stemmer (no .pc file) and the data it
# reads at run time, hunspell's en_US dictionary and WordNet's exceptions
LANGDEBS = libstemmer-dev hunspell-en-us wordnet-base
DEBS = pkg-config gcc make python3 $(foreach p,$(PKGS) $(TESTPKGS),$(DEB_$(p))) $(LANGDEBS)
# for make test only: the fuzz smoke (clang + libFuzzer), the leak check,
# dpkg-buildflags (tests/install.sh builds as a Debian package does),
# and the shells whose completions tests/cli_completion.sh runs
TESTDEBS = clang libclang-rt-14-dev valgrind zsh fish dpkg-dev python3-olm

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

# The caller's flags, as Debian passes them (dpkg-buildflags: CPPFLAGS has
# -D_FORTIFY_SOURCE=2, CFLAGS -O2 -fstack-protector-strong, LDFLAGS -z relro),
# from the environment or the command line: CPPFLAGS, CFLAGS (default
# $(OPT)), LDFLAGS, LDLIBS.  They come after ours, so they win.  Ours live in
# PP_CPPFLAGS, PP_CFLAGS, PP_LDFLAGS and PP_LDLIBS, which nobody needs to set.
# The feature macros are ours and complete (POSIX 2008, X/Open 7 for
# wcwidth, the BSD/SVID names): no source relies on a dependency's pkg-config
# or headers to define them, so readline's -D_XOPEN_SOURCE=600 is dropped.
# -Werror only when asked for: `make WERROR=1` (CI does).
CFLAGS   ?= $(OPT)
PP_CPPFLAGS = -D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700 -D_DEFAULT_SOURCE
PP_CFLAGS   = -std=c11 -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) $(SANFLAGS) -MMD -MP
PP_LDFLAGS  = $(SANFLAGS)
FEATURE_MACROS = -D_POSIX_C_SOURCE% -D_XOPEN_SOURCE% -D_DEFAULT_SOURCE -D_GNU_SOURCE -D_BSD_SOURCE
# the engine sees its own headers and its own dependencies only
LIB_CFLAGS = $(PP_CPPFLAGS) -Iengine $(filter-out $(FEATURE_MACROS),$(LIB_PKG_CFLAGS)) $(CPPFLAGS) \
             $(PP_CFLAGS) $(CFLAGS)
APP_CFLAGS = $(PP_CPPFLAGS) -Iengine -Iapp -Ibots $(filter-out $(FEATURE_MACROS),$(PKG_CFLAGS)) \
             -DPP_SHAREDIR='"$(SHAREDIR)"' $(CPPFLAGS) $(PP_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(PP_LDFLAGS) $(LDFLAGS)
# libstemmer has no .pc file
NOPC_LIBS = -lstemmer
LIB_LIBS = $(LIB_PKG_LIBS) $(NOPC_LIBS) -lpthread -lm
PP_LDLIBS = $(PKG_LIBS) $(NOPC_LIBS) -lutil -lpthread -lm
ALL_LDLIBS = $(PP_LDLIBS) $(LDLIBS)

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

.PHONY: all check-deps deps test-deps run test tests bench install install-bin install-lib \
        install-data install-completions install-units uninstall clean fuzz
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
	$(CC) -shared $(ALL_LDFLAGS) -Wl,-soname,$(SONAME) -Wl,--version-script=$(B)/libpushpull.map \
	    -Wl,--no-undefined -Wl,--as-needed -o $@ $(PIC_OBJ) $(LIB_LIBS)

$(B)/libpushpull.so: $(B)/$(SO_FILE)
	ln -sf $(SO_FILE) $(B)/$(SONAME)
	ln -sf $(SONAME) $@

# the front ends' shared part and the bots, for the program and the tests
$(B)/libppapp.a: $(APP_OBJ) Makefile
	@rm -f $@
	$(AR) rcs $@ $(APP_OBJ)

$(B)/pushpull: $(CLI_OBJ) $(APP_OBJ) $(B)/libpushpull.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(APP_OBJ) $(B)/libpushpull.a $(ALL_LDLIBS)

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
	$(CC) $(APP_CFLAGS) $(CMOCKA_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(TEST_LIBS) $(CMOCKA_LIBS) $(ALL_LDLIBS)

$(B)/tests/%: tests/tools/%.c $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(APP_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(TEST_LIBS) $(ALL_LDLIBS)

$(B)/bench/%: bench/%.c $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(APP_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(TEST_LIBS) $(ALL_LDLIBS)

tests: all $(UNIT_BIN) $(TOOL_BIN) $(BENCH_BIN)

test: test-deps
	@$(MAKE) --no-print-directory tests
	@B=$(B) SAN=$(SAN) bash tests/run.sh

bench: all $(BENCH_BIN)
	@B=$(B) bash bench/run.sh

# `make && sudo make install`: install needs the built files, not `all`, and
# when they are up to date (built with the same PREFIX: the share dir is
# compiled in) it compiles nothing and writes nothing in the source tree, so
# root leaves no files of its own in build/.  The man page, the units and the
# pc file are made with the real paths as they are copied (sed into DESTDIR).
DOCDIR  ?= $(PREFIX)/share/doc/pushpull
SYSCONFDIR ?= /etc
# where systemd looks for units of this prefix (/usr/lib/systemd/system,
# /usr/local/lib/systemd/system)
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
UNITS    = pushpull-telegram.service pushpull-matrix.service
ENVFILES = pushpull-telegram.env pushpull-matrix.env
DOCS     = README.md $(wildcard docs/*.md)
RULE_FILES     = $(wildcard rules/*.rules rules/*.lexicon rules/*.catalog)
RESPONSE_FILES = $(wildcard responses/*.responses responses/*.tsv responses/*.words)
PROGRAM_FILES  = $(wildcard programs/*.program)
SUBST    = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
               -e 's|@SHAREDIR@|$(SHAREDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
               -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@VERSION@|$(VERSION)|g'

install: install-bin install-lib install-data install-completions install-units

install-bin: $(B)/pushpull
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR)
	install -m 0755 $(B)/pushpull $(DESTDIR)$(BINDIR)/pushpull
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	$(SUBST) docs/pushpull.1 > $(DESTDIR)$(MANDIR)/man1/pushpull.1
	chmod 0644 $(DESTDIR)$(MANDIR)/man1/pushpull.1

# The systemd units (contrib/*.service, @BINDIR@ and the rest substituted)
# and, as examples beside the docs, the environment files they read from
# $(SYSCONFDIR)/pushpull/ (never installed into /etc: that is the operator's).
install-units:
	install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(DOCDIR)/examples
	for u in $(UNITS); do $(SUBST) contrib/$$u > $(DESTDIR)$(SYSTEMDUNITDIR)/$$u && \
	    chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; done
	for e in $(ENVFILES); do $(SUBST) contrib/$$e > $(DESTDIR)$(DOCDIR)/examples/$$e && \
	    chmod 0644 $(DESTDIR)$(DOCDIR)/examples/$$e || exit 1; done

# Removes what install put there, file by file (and the directories of ours
# it leaves empty): a rule file an operator added to the share dir, the
# files in $(SYSCONFDIR)/pushpull and the bots' state are not ours.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/pushpull $(DESTDIR)$(MANDIR)/man1/pushpull.1
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS))) \
	      $(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(ENVFILES)) \
	      $(addprefix $(DESTDIR)$(SYSTEMDUNITDIR)/,$(UNITS))
	rm -f $(DESTDIR)$(INCLUDEDIR)/pushpull.h $(DESTDIR)$(LIBDIR)/libpushpull.a \
	      $(DESTDIR)$(LIBDIR)/libpushpull.so $(DESTDIR)$(LIBDIR)/$(SONAME) \
	      $(DESTDIR)$(LIBDIR)/libpushpull.so.* $(DESTDIR)$(PKGCONFIGDIR)/pushpull.pc
	rm -f $(addprefix $(DESTDIR)$(SHAREDIR)/,$(RULE_FILES) $(RESPONSE_FILES) $(PROGRAM_FILES))
	rmdir $(DESTDIR)$(SHAREDIR)/rules $(DESTDIR)$(SHAREDIR)/responses \
	      $(DESTDIR)$(SHAREDIR)/programs 2>/dev/null || true
	rm -f $(DESTDIR)$(BASHCOMPDIR)/pushpull $(DESTDIR)$(ZSHCOMPDIR)/_pushpull \
	      $(DESTDIR)$(FISHCOMPDIR)/pushpull.fish
	rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SHAREDIR) 2>/dev/null || true

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

# The rules, responses and programs the program and an embedding program load.
install-data:
	install -d $(DESTDIR)$(SHAREDIR)/rules $(DESTDIR)$(SHAREDIR)/responses $(DESTDIR)$(SHAREDIR)/programs
	install -m 0644 $(RULE_FILES) $(DESTDIR)$(SHAREDIR)/rules/
	install -m 0644 $(RESPONSE_FILES) $(DESTDIR)$(SHAREDIR)/responses/
	install -m 0644 $(PROGRAM_FILES) $(DESTDIR)$(SHAREDIR)/programs/

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
