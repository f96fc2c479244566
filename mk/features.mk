# mk/features.mk -- the compile-time feature switches (lib/pn_features.h) on
# the host, through the public API.
#
#   make test-features   for each configuration below: every lib/*.c is
#                        compiled with the switches (nothing dropped by the
#                        build: a left-out file must compile to nothing by
#                        itself, so an embedder's own build can just compile
#                        lib/*.c), with gcc and with clang, linked with
#                        tests/feature_probe.c and run. The probe checks
#                        both sides of each switch (part of make test).

FEATURE_CONFIGS := full NO_FRAG NO_TCP NO_UDP NO_SACK+NO_CUBIC NO_TCP+NO_FRAG \
                   NO_FRAG+NO_SACK+NO_CUBIC
FEATURE_DIR := $(BUILD)/features
feature_defs = $(if $(filter full,$(1)),,$(foreach f,$(subst +, ,$(1)),-DPN_CONFIG_$(f)))

PHONY_EXTRA += test-features
TEST_EXTRA += test-features

test-features: $(LIB_SRC) $(wildcard lib/*.h) include/purenet.h tests/feature_probe.c tests/helper_frames.c
	@set -e; for cc in $(CC) clang; do \
	  command -v $$cc >/dev/null || { echo "test-features: $$cc missing, skipped"; continue; }; \
	  for c in $(FEATURE_CONFIGS); do \
	    d=$(FEATURE_DIR)/$$cc-$$c; mkdir -p $$d; \
	    defs=$$(echo $$c | sed 's/^full$$//; s/\([A-Z_]*\)/-DPN_CONFIG_\1/g; s/+/ /g'); \
	    for f in $(LIB_SRC); do \
	      $$cc -std=c11 -O1 -Iinclude -Ilib $(WARN) $$defs -c $$f -o $$d/$$(basename $$f .c).o || exit 1; \
	    done; \
	    $$cc -std=c11 -O1 -D_DEFAULT_SOURCE -Iinclude -Wall -Wextra -Werror $$defs \
	      -o $$d/feature_probe tests/feature_probe.c tests/helper_frames.c $$d/*.o || exit 1; \
	    printf '%-6s %-26s ' $$cc "$$c:"; $$d/feature_probe || exit 1; \
	  done; \
	done
