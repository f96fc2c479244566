# mk/cross.mk -- embedded reality: the freestanding Cortex-M build with its
# size table, the big-endian run of the whole Check suite, and the purity
# check of the host library. Packages: tools/cross-deps.sh (Debian).
#
#   make cross-cortex-m   lib/ for Cortex-M4 (arm-none-eabi-gcc -Os -mthumb
#                         -ffreestanding -Werror) into
#                         build/cortex-m/libpurenet.a (full) and
#                         build/cortex-m-min/libpurenet.a (PN_MIN_FEATURES);
#                         fails if an object needs a symbol outside mem*,
#                         str* and libgcc's integer helpers, or holds
#                         mutable static data; prints the size table and
#                         pn_arena_size() of the smallest useful config,
#                         measured on the target ISA under qemu-arm.
#   make size-report      the same (an alias)
#   make test-be          the library and the whole Check suite for s390x
#                         (big-endian), static, run under qemu-s390x
#   make check-purity     host build/libpurenet.a needs only mem*/str* and
#                         compiler helpers (part of `make test`)
#
# Feature switches (lib/pn_features.h): PN_FEATURES="-DPN_CONFIG_NO_FRAG ..."
# selects those of build/cortex-m; PN_MIN_FEATURES those of the minimal
# build. The files of a left-out feature are dropped here (PN_FEATURE_FILES_*)
# and lib/min_stubs.c stands in for their entry points.

NM ?= nm

# ---- feature switches -------------------------------------------------------

PN_FEATURES ?=
PN_MIN_FEATURES ?= -DPN_CONFIG_NO_FRAG -DPN_CONFIG_NO_SACK -DPN_CONFIG_NO_CUBIC
# A third build for the table's last line: a UDP-only node (no TCP, no
# fragmentation), the other common firmware shape.
PN_UDP_FEATURES ?= -DPN_CONFIG_NO_TCP -DPN_CONFIG_NO_FRAG

# Files each switch leaves out (patterns allowed). stub_*.c are the
# placeholders of modules not written yet; they go with their module.
# SACK and CUBIC share files with the rest of TCP (tcp_sack.c also keeps
# the out-of-order ranges; CUBIC is in tcp_cc.c): they are left out by
# PN_HAVE_SACK / PN_HAVE_CUBIC guards inside those files, not here.
PN_FEATURE_FILES_TCP   := lib/tcp.c lib/tcp_%.c lib/wire_tcp.c lib/stub_tcp.c
PN_FEATURE_FILES_UDP   := lib/udp.c
PN_FEATURE_FILES_FRAG  := lib/frag.c lib/reass.c lib/stub_frag.c
PN_FEATURE_FILES_SACK  :=
PN_FEATURE_FILES_CUBIC :=
PN_FEATURE_NAMES := TCP UDP FRAG SACK CUBIC

# $(call pn_feature_src,FLAGS): lib/*.c less the files FLAGS leave out.
pn_feature_src = $(filter-out $(foreach f,$(PN_FEATURE_NAMES),$(if $(filter -DPN_CONFIG_NO_$(f),$(1)),$(PN_FEATURE_FILES_$(f)))),$(LIB_SRC))

# ---- Cortex-M4 --------------------------------------------------------------

ARM_PREFIX ?= arm-none-eabi-
ARM_CC   := $(ARM_PREFIX)gcc
ARM_AR   := $(ARM_PREFIX)ar
ARM_NM   := $(ARM_PREFIX)nm
ARM_SIZE := $(ARM_PREFIX)size
ARM_QEMU ?= qemu-arm
ARM_ARCH := -mcpu=cortex-m4 -mthumb
# The Makefile's warning set; the fw-include string.h declares only mem*
# and str* (no C library headers on this target).
ARM_CFLAGS := -std=c11 -Os $(ARM_ARCH) -ffreestanding -ffunction-sections -fdata-sections \
              -Itools/fw-include -Iinclude -Ilib $(WARN)
# tools/arena-size.c + tools/fw_rt.c linked as a Linux-EABI program so that
# qemu-arm (user mode) runs it: the arena figure comes from the target ISA,
# where pointers are 4 bytes.
ARM_TOOL_CFLAGS := $(ARM_CFLAGS) -fno-builtin -fno-tree-loop-distribute-patterns
ARM_TOOL_LDFLAGS := -nostdlib -static -Wl,--gc-sections -Wl,-e,_start

ARM_DIRS :=

# $(call pn_arm_variant,NAME,FLAGS): $(BUILD)/NAME/libpurenet.a built with
# FLAGS, and $(BUILD)/NAME/arena-size.elf linked against it.
define pn_arm_variant
ARM_DIRS += $(BUILD)/$(1)
$(1)_SRC = $$(call pn_feature_src,$(2))
$(1)_OBJ = $$(patsubst lib/%.c,$(BUILD)/$(1)/lib/%.o,$$($(1)_SRC))

# Rewritten only when the flags or the file list change, so a switch or a
# removed file rebuilds what it must.
$(BUILD)/$(1)/flags: pn-cross-force
	@mkdir -p $$(dir $$@)
	@echo '$(2) $$($(1)_SRC)' > $$@.tmp; cmp -s $$@.tmp $$@ || mv $$@.tmp $$@; rm -f $$@.tmp

$(BUILD)/$(1)/lib/%.o: lib/%.c $$(wildcard lib/*.h) include/purenet.h $$(wildcard tools/fw-include/*.h) $(BUILD)/$(1)/flags
	@mkdir -p $$(dir $$@)
	$$(ARM_CC) $$(ARM_CFLAGS) $(2) -c $$< -o $$@

$(BUILD)/$(1)/libpurenet.a: $$($(1)_OBJ) $(BUILD)/$(1)/flags
	rm -f $$@
	$$(ARM_AR) rcs $$@ $$($(1)_OBJ)

$(BUILD)/$(1)/arena-size.elf: tools/arena-size.c tools/fw_rt.c $(BUILD)/$(1)/libpurenet.a
	$$(ARM_CC) $$(ARM_TOOL_CFLAGS) $(2) $$(ARM_TOOL_LDFLAGS) -o $$@ tools/arena-size.c tools/fw_rt.c \
	  $(BUILD)/$(1)/libpurenet.a -lgcc
endef

$(eval $(call pn_arm_variant,cortex-m,$(PN_FEATURES)))
$(eval $(call pn_arm_variant,cortex-m-min,$(PN_MIN_FEATURES)))
$(eval $(call pn_arm_variant,cortex-m-udp,$(PN_UDP_FEATURES)))

ARM_FULL := $(BUILD)/cortex-m
ARM_MIN  := $(BUILD)/cortex-m-min
ARM_UDP  := $(BUILD)/cortex-m-udp

cross-arm-deps:
	@command -v $(ARM_CC) >/dev/null 2>&1 && command -v $(ARM_QEMU) >/dev/null 2>&1 || { \
	  echo "error: $(ARM_CC) or $(ARM_QEMU) missing: run tools/cross-deps.sh arm"; exit 1; }

# The host figure beside the target one.
$(BUILD)/arena-size: tools/arena-size.c $(LIB_A)
	$(CC) $(CFLAGS_BASE) $(WARN) -o $@ tools/arena-size.c $(LIB_A)

cross-cortex-m: cross-arm-deps
	$(MAKE) --no-print-directory $(foreach d,$(ARM_DIRS),$(d)/libpurenet.a $(d)/arena-size.elf) $(BUILD)/arena-size
	@for d in $(ARM_DIRS); do tools/symcheck.sh $(ARM_NM) $$d/libpurenet.a --no-static-data || exit 1; done
	@for d in $(ARM_DIRS); do \
	  $(ARM_QEMU) $$d/arena-size.elf > $$d/arena.txt || { cat $$d/arena.txt; echo "error: $$d/arena-size.elf failed"; exit 1; }; \
	done
	@$(BUILD)/arena-size > $(BUILD)/arena-size.txt
	@tools/size-table.sh $(ARM_SIZE) --full $(ARM_FULL)/libpurenet.a '$(PN_FEATURES)' \
	  --min $(ARM_MIN)/libpurenet.a '$(PN_MIN_FEATURES)' --udp $(ARM_UDP)/libpurenet.a '$(PN_UDP_FEATURES)' \
	  --arena $(ARM_MIN)/arena.txt --arena-full $(ARM_FULL)/arena.txt --arena-host $(BUILD)/arena-size.txt \
	  --image "full, whole public API reachable (--gc-sections; bss = the tool's 64 KiB test arena)" $(ARM_FULL)/arena-size.elf \
	  --image "minimal, same" $(ARM_MIN)/arena-size.elf \
	  | tee $(ARM_FULL)/size-table.txt

size-report: cross-cortex-m

# ---- big-endian: s390x under qemu-user -------------------------------------

BE_PREFIX ?= s390x-linux-gnu-
BE_QEMU   ?= qemu-s390x
BE_BUILD  := $(BUILD)/s390x
BE_PKGENV := PKG_CONFIG_LIBDIR=/usr/lib/s390x-linux-gnu/pkgconfig:/usr/share/pkgconfig PKG_CONFIG_PATH=
# Every suite runs at full size (the 64 MiB bulk transfers included: a few
# seconds each under qemu); Check's per-test timeout is stretched for the
# emulator. Each test forks (Check's default): a crash is reported as that
# test's error, not the end of the run. Override to trade, e.g.
#   make test-be BE_TEST_ENV="CK_FORK=no PN_TCP_BULK_MB=8"
BE_TEST_ENV ?= CK_TIMEOUT_MULTIPLIER=10

test-be:
	@command -v $(BE_PREFIX)gcc >/dev/null 2>&1 && command -v $(BE_QEMU) >/dev/null 2>&1 && \
	  $(BE_PKGENV) $(PKG_CONFIG) --exists check || { \
	  echo "error: $(BE_PREFIX)gcc, $(BE_QEMU) or check:s390x missing: run tools/cross-deps.sh be"; exit 1; }
	$(BE_PKGENV) $(MAKE) --no-print-directory BUILD=$(BE_BUILD) CC=$(BE_PREFIX)gcc AR=$(BE_PREFIX)ar \
	  CHECK_LIBS="-static $$($(BE_PKGENV) $(PKG_CONFIG) --static --libs check)" $(BE_BUILD)/check_purenet
	@$(BE_PREFIX)readelf -h $(BE_BUILD)/check_purenet | grep -q 'big endian' || { \
	  echo "error: $(BE_BUILD)/check_purenet is not big-endian"; exit 1; }
	cd $(CURDIR) && $(BE_TEST_ENV) $(BE_QEMU) $(BE_BUILD)/check_purenet

# ---- host purity --------------------------------------------------------------

# Only symbols here: with -fPIC, const pointer tables land in .data.rel.ro,
# so the no-static-data rule is enforced on the Cortex-M build instead.
check-purity: $(LIB_A)
	@tools/symcheck.sh $(NM) $(LIB_A)

TEST_EXTRA += check-purity
PHONY_EXTRA += cross-cortex-m size-report test-be check-purity cross-arm-deps pn-cross-force
