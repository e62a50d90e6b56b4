# ferry: top-level build.
#
#   make            build ferry.ko and the ferry agent
#   make check      every test tier; ends with "N passed, N failed"
#   make demo       the whole flow in the VM lab
#   make vm-test T=name   one VM scenario
#   make lint       checkpatch --strict, sparse, W=1, clang-format
#   make bench      benchmarks in the VM lab (ratios)

# Newest installed Debian amd64 headers unless KDIR is given, else the
# running kernel's. Looked up when a recipe uses it, not when make starts:
# on a fresh machine `make check` and `make demo` install the headers first,
# and a value fixed before that (and exported) sent every build to the
# running kernel's missing build directory.
KDIR ?= $(or $(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | \
	sort -V | tail -n 1),/lib/modules/$(shell uname -r)/build)

.PHONY: all kmod agent unit kunit vm vm-test check demo lint bench fuzz \
	install-deps clean

all: kmod agent

kmod:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

agent:
	$(MAKE) -C agent

unit: agent
	$(MAKE) -C tests/unit run

kunit:
	scripts/kunit.sh

vm: kmod agent
	tests/vm/run.sh

vm-test: kmod agent
	tests/vm/run.sh $(T)

check:
	scripts/check.sh

demo: install-deps
	$(MAKE) kmod agent
	tests/vm/demo.sh

lint: install-deps
	scripts/lint.sh

bench: install-deps
	$(MAKE) kmod agent
	tests/bench/run.sh

# libFuzzer (clang): each harness for FUZZ_SECONDS (default 20).
fuzz:
	$(MAKE) -C tests/fuzz run

install-deps:
	@scripts/install-deps.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C agent clean
	$(MAKE) -C tests/unit clean
	rm -rf build
