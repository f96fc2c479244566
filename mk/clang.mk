# Build the library and the test binary with clang too (the warning set is
# -Werror on both compilers). Skipped with a note when clang is absent.
PHONY_EXTRA += test-clang
TEST_EXTRA += test-clang
test-clang:
	@if command -v clang >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory CC=clang BUILD=$(BUILD)/clang lib $(BUILD)/clang/check_purenet; \
	else echo "test-clang: clang not installed, skipped"; fi
