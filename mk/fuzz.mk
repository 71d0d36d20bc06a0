# mk/fuzz.mk -- `make fuzz`: the libFuzzer targets of tests/fuzz/ under
# ASan + UBSan (included by the root Makefile).
#
#   make fuzz                    build every target, run each FUZZ_SECONDS (60)
#   make fuzz FUZZ_SECONDS=600   the long run of issue 10
#   make fuzz FUZZ_TARGETS=reply only some targets
#   make fuzz-build              build only (build/fuzz/<target>)
#
# The engine, the bots and app/ (telegram.o needs its option helpers) are
# compiled again with clang into build/fuzz/obj/ (the gcc objects of
# build/libpushpull.a and libppapp.a cannot take -fsanitize=fuzzer), archived
# together as build/fuzz/libpushpull-fuzz.a (not the library), and linked
# with each tests/fuzz/<target>.c.  Each run reads the seeds in
# tests/fuzz/<target>/ (never written) and grows build/fuzz/corpus/<target>/;
# a crash, leak, UBSan report or slow input (-timeout) stops it with the
# input in build/fuzz/crashes/ and fails the make.  Copy such an input into
# tests/fuzz/regressions/<target>/ so tests/fuzz_regressions.sh replays it
# in the normal suite; then fix it.  The last lines of every run (exec/s,
# cov:, ft:) are in build/fuzz/<target>.log and summed up at the end.

FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 60
FUZZ_JOBS_ARGS?=
FUZZ_DIR       = build/fuzz
FUZZ_ALL       = $(sort $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/*.c)))
FUZZ_TARGETS  ?= $(FUZZ_ALL)
FUZZ_SAN       = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                 -fno-omit-frame-pointer
FUZZ_CFLAGS    = -O1 -g -std=c11 $(PP_CPPFLAGS) \
                 -Wall -Wextra -Iengine -Iapp -Ibots $(filter-out $(FEATURE_MACROS),$(PKG_CFLAGS)) $(FUZZ_SAN) \
                 -DPP_SHAREDIR='"$(SHAREDIR)"' -DPP_FUZZ_SRC='"$(CURDIR)"'
FUZZ_LIB_SRC   = $(sort $(wildcard engine/*.c app/*.c bots/*.c))
FUZZ_LIB_OBJ   = $(FUZZ_LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_BIN       = $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)
# bigger inputs only where they mean something (whole rule files)
FUZZ_MAXLEN_rules = 262144
FUZZ_MAXLEN_reply = 8192
FUZZ_MAXLEN_index = 131072
FUZZ_MAXLEN       = 16384

.PHONY: fuzz fuzz-build
fuzz-build: check-deps $(FUZZ_BIN)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/libpushpull-fuzz.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_DIR)/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_DIR)/libpushpull-fuzz.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP $(if $(filter 1,$(WERROR)),-Werror) -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_DIR)/libpushpull-fuzz.a $(PKG_LIBS) $(NOPC_LIBS) -lutil -lpthread -lm

# header changes (internal.h's structs) rebuild the clang objects too
-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_BIN:=.d)

fuzz: fuzz-build
	@mkdir -p $(FUZZ_DIR)/crashes; failed=""; \
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t; \
	  maxlen=$(FUZZ_MAXLEN); case $$t in rules) maxlen=$(FUZZ_MAXLEN_rules);; reply) maxlen=$(FUZZ_MAXLEN_reply);; index) maxlen=$(FUZZ_MAXLEN_index);; esac; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
	     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 PP_SRC=$(CURDIR) \
	     $(FUZZ_DIR)/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	        -max_len=$$maxlen -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/crashes/$$t- \
	        $(FUZZ_JOBS_ARGS) $(FUZZ_DIR)/corpus/$$t tests/fuzz/$$t > $(FUZZ_DIR)/$$t.log 2>&1; \
	  then :; else failed="$$failed $$t"; tail -n 60 $(FUZZ_DIR)/$$t.log; fi; \
	done; \
	echo "target     execs/s  cov     ft      corpus"; \
	for t in $(FUZZ_TARGETS); do \
	  last=$$(grep -E '^#[0-9]+' $(FUZZ_DIR)/$$t.log | tail -n 1); \
	  printf '%-10s %-8s %-7s %-7s %s\n' $$t \
	    "$$(echo "$$last" | grep -o 'exec/s: [0-9]*'  | cut -d' ' -f2)" \
	    "$$(echo "$$last" | grep -o 'cov: [0-9]*'  | cut -d' ' -f2)" \
	    "$$(echo "$$last" | grep -o 'ft: [0-9]*'  | cut -d' ' -f2)" \
	    "$$(echo "$$last" | grep -o 'corp: [0-9]*/[0-9a-zA-Z]*'  | cut -d' ' -f2)"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: FAILED:$$failed (inputs in $(FUZZ_DIR)/crashes/)"; exit 1; fi; \
	echo "fuzz: all targets clean"
