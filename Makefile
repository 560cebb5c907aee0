# kubit: one static executable that is a whole Kubernetes node.
#
#   make                 build/kubit (static, stripped)
#   make test            unit tests (doctest) and the e2e suite
#   make bench-store     store benchmark against raw SQLite
#   make bench-api       API server benchmark (the real binary) against the store
#   make bench-runtime   container start against runc and a bare unshare; pull against skopeo
#   make bench-idle      an idle node's disk writes and CPU against durable heartbeats
#   make bench-sched     1,000 pods scheduled onto 100 simulated nodes against direct binding
#   make bench-net       HTTP through a Service's ClusterIP against the pod's address directly;
#                        cluster DNS queries/s against dnsmasq (dnsperf)
#   make bench-pods      pod create -> Ready latency and server RSS against `kubit ctr run`
#   make cross ARCH=arm64|armhf   build/<arch>/kubit with Debian's cross toolchain
#   make test-cross ARCH=...      the store's unit tests under qemu-user
#   make deps            install build and test dependencies (apt-get)

VERSION := 0.1.0
ARCH ?= native
JOBS ?= $(shell nproc)
MAKEFLAGS += -j$(JOBS)

ifeq ($(ARCH),native)
  B := build
  CXX := g++
  RUN :=
  SYSROOT_FLAGS :=
else
  B := build/$(ARCH)
  ifeq ($(ARCH),arm64)
    TRIPLET := aarch64-linux-gnu
    QEMU := qemu-aarch64-static
  else ifeq ($(ARCH),armhf)
    TRIPLET := arm-linux-gnueabihf
    QEMU := qemu-arm-static
  else
    $(error ARCH must be native, arm64 or armhf)
  endif
  CXX := $(TRIPLET)-g++
  RUN := $(QEMU)
  SR := build/sysroot/$(ARCH)
  SYSROOT_FLAGS := -isystem $(SR)/usr/include -isystem $(SR)/usr/include/$(TRIPLET) \
                   -L$(SR)/usr/lib/$(TRIPLET)
endif

DEPS_STAMP := build/.deps-$(ARCH)
CPPFLAGS := -I. -isystem build/third_party $(SYSROOT_FLAGS) -MMD -MP
# Each function and datum in a section of its own, so the linker drops
# what nothing calls (a static binary pulls in much of OpenSSL and glibc):
# about 1 MiB of the executable.
CXXFLAGS := -std=c++20 -O2 -g0 -Wall -Wextra -Wno-missing-field-initializers -Wno-psabi -pthread \
            -ffunction-sections -fdata-sections
LDFLAGS := -static -s -pthread -Wl,--gc-sections $(SYSROOT_FLAGS)
LIBS := -lsqlite3 -lssl -lcrypto -lz -lzstd -lseccomp -ldl -lyaml-cpp

STORE_SRCS := $(wildcard store/*.cc)
LIB_SRCS := $(STORE_SRCS) $(wildcard net/*.cc core/*/*.cc runtime/*/*.cc manifests/*.cc)
MAIN_SRCS := $(wildcard cmd/kubit/*.cc)
TEST_SRCS := $(wildcard test/unit/*.cc)
STORE_TEST_SRCS := test/unit/test_main.cc test/unit/child_modes.cc $(wildcard test/unit/store_*.cc)

obj = $(patsubst %.cc,$(B)/obj/%.o,$(1))

# The fuzz target: clang's libFuzzer with ASan and UBSan, over the request
# decoding and patch code (no store, no TLS).
FUZZ_SECONDS ?= 30
FUZZ_SRCS := test/fuzz/api_fuzzer.cc $(addprefix core/api/,printers.cc custom_resources.cc \
             protobuf.cc schema.cc resources.cc selectors.cc strategic_merge.cc yaml.cc) \
             core/apiserver/request_info.cc net/http_server.cc net/conn.cc
# New inputs go to build/fuzz/corpus; the seeds in test/fuzz/corpus stay as
# they are. A crash prints the fuzzer's report and fails.
FUZZ_RUN = @mkdir -p build/fuzz/corpus && echo "fuzz: $(FUZZ_SECONDS) s of build/fuzz/api_fuzzer" && \
  build/fuzz/api_fuzzer -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 build/fuzz/corpus test/fuzz/corpus > build/fuzz/last.log 2>&1 || \
  (tail -60 build/fuzz/last.log; false) && grep -E '^(Done|stat::new_units)' build/fuzz/last.log
FUZZ_FLAGS := -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

.PHONY: all deps test unit e2e fuzz bench-store bench-api bench-runtime bench-idle bench-sched bench-net bench-pods cross test-cross clean
all: $(B)/kubit

deps:
	sh mk/deps.sh native

# Every compile waits for the dependencies; the stamp is remade when the
# script changes, and the script itself does nothing that is already done.
$(DEPS_STAMP): mk/deps.sh
	@mkdir -p build
ifeq ($(ARCH),native)
	sh mk/deps.sh native
else
	sh mk/deps.sh cross $(ARCH)
endif
	@touch $@

# The precompiled header (mk/pch.h): order-only for objects, so remaking it
# never forces a rebuild; made again when the flags in this file change.
PCH := $(B)/pch/pch.h.gch
PCH_FLAGS := -include $(B)/pch/pch.h
$(B)/pch/pch.h: mk/pch.h
	@mkdir -p $(dir $@)
	cp $< $@
$(PCH): $(B)/pch/pch.h $(DEPS_STAMP) Makefile
	$(CXX) $(filter-out -MMD -MP,$(CPPFLAGS)) $(CXXFLAGS) -x c++-header $< -o $@

$(B)/obj/%.o: %.cc $(DEPS_STAMP) | $(PCH)
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(PCH_FLAGS) $(CXXFLAGS) $(OPT) -c $< -o $@

# Code off the hot paths (controllers, validation, defaulting, printing,
# the kubelet, images, commands) is compiled for size: a quarter smaller
# (about 1 MiB of the executable), at no cost that shows where time goes
# (the API's request path, the store, networking and the scheduler keep
# -O2). Its objects have a precompiled header of their own: GCC uses a
# header only with the optimization it was made with.
COLD_SRCS := $(wildcard core/controllers/*.cc core/api/validation*.cc core/api/defaults*.cc \
               core/api/printers.cc core/api/openapi.cc core/api/limit_ranger.cc core/api/quota_usage.cc \
               runtime/kubelet/*.cc runtime/image/*.cc manifests/*.cc cmd/kubit/*.cc)
PCH_OS := $(B)/pch-os/pch.h.gch
$(B)/pch-os/pch.h: mk/pch.h
	@mkdir -p $(dir $@)
	cp $< $@
$(PCH_OS): $(B)/pch-os/pch.h $(DEPS_STAMP) Makefile
	$(CXX) $(filter-out -MMD -MP,$(CPPFLAGS)) $(CXXFLAGS) -Os -x c++-header $< -o $@
$(call obj,$(COLD_SRCS)): OPT := -Os
$(call obj,$(COLD_SRCS)): PCH_FLAGS := -include $(B)/pch-os/pch.h
$(call obj,$(COLD_SRCS)): | $(PCH_OS)

# The commit shown by --version: rebuilt whenever HEAD moves.
$(B)/obj/cmd/kubit/version.o: $(wildcard .git/logs/HEAD)
$(B)/obj/cmd/kubit/version.o: CPPFLAGS += -DKUBIT_VERSION='"v$(VERSION)"' \
  -DKUBIT_COMMIT='"$(shell git rev-parse --short=8 HEAD 2>/dev/null || echo unknown)"'

$(B)/libkubit.a: $(call obj,$(LIB_SRCS))
	rm -f $@ && ar rcs $@ $^

$(B)/kubit: $(call obj,$(MAIN_SRCS)) $(B)/libkubit.a
	$(CXX) $^ -o $@ $(LDFLAGS) $(LIBS)
	@file $@ | grep -q 'statically linked' || (echo "$@ is not static" >&2; false)

$(B)/unit_tests: $(call obj,$(TEST_SRCS)) $(B)/libkubit.a
	$(CXX) $^ -o $@ $(LDFLAGS) $(LIBS)

$(B)/store_tests: $(call obj,$(STORE_TEST_SRCS) $(STORE_SRCS))
	$(CXX) $^ -o $@ $(LDFLAGS) $(LIBS)

$(B)/bench/%: bench/%.cc $(B)/libkubit.a $(DEPS_STAMP) | $(PCH)
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(PCH_FLAGS) $(CXXFLAGS) $< $(B)/libkubit.a -o $@ $(LDFLAGS) $(LIBS)

# Builds in parallel, then runs the unit tests, the e2e suite and a short
# fuzzing run in turn.
test: $(B)/unit_tests $(B)/kubit build/fuzz/api_fuzzer
	$(B)/unit_tests
	KUBIT=$(abspath $(B)/kubit) test/e2e/run.sh
	$(FUZZ_RUN)

build/fuzz/obj/%.o: %.cc $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	clang++ $(FUZZ_FLAGS:-fsanitize=fuzzer,%=-fsanitize=fuzzer-no-link,%) -I. -isystem build/third_party -MMD -MP -c $< -o $@

build/fuzz/api_fuzzer: $(patsubst %.cc,build/fuzz/obj/%.o,$(FUZZ_SRCS))
	clang++ $(FUZZ_FLAGS) $^ -o $@ -lyaml-cpp -lssl -lcrypto

fuzz: build/fuzz/api_fuzzer
	$(FUZZ_RUN)

unit: $(B)/unit_tests
	$(B)/unit_tests

e2e: $(B)/kubit
	KUBIT=$(abspath $(B)/kubit) test/e2e/run.sh

bench-store: $(B)/bench/store_bench
	$(B)/bench/store_bench

bench-api: $(B)/bench/api_bench $(B)/kubit
	$(B)/bench/api_bench $(abspath $(B)/kubit)

bench-runtime: $(B)/bench/runtime_bench $(B)/bench/runtime_pull_bench $(B)/kubit
	$(B)/bench/runtime_bench $(abspath $(B)/kubit)
	$(B)/bench/runtime_pull_bench $(abspath $(B)/kubit)

# SCHED_ARGS: e.g. "--nodes 100 --replicas 1000" (the defaults).
bench-sched: $(B)/bench/sched_bench $(B)/kubit
	$(B)/bench/sched_bench $(abspath $(B)/kubit) $(SCHED_ARGS)

# IDLE_ARGS: e.g. "--pods 10 --seconds 120 --settle 30".
bench-idle: $(B)/bench/idle_bench $(B)/kubit
	$(B)/bench/idle_bench $(abspath $(B)/kubit) $(IDLE_ARGS)

# PODS_ARGS: e.g. "--sequential 15 --parallel 30" (the defaults).
bench-pods: $(B)/bench/pods_bench $(B)/kubit
	$(B)/bench/pods_bench $(abspath $(B)/kubit) $(PODS_ARGS)

# NET_ARGS: e.g. "--size-mb 256 --runs 7" (the defaults); DNS_ARGS: e.g. "--seconds 5 --rounds 3".
bench-net: $(B)/bench/net_bench $(B)/bench/dns_bench $(B)/kubit
	$(B)/bench/net_bench $(abspath $(B)/kubit) $(NET_ARGS)
	$(B)/bench/dns_bench $(abspath $(B)/kubit) $(DNS_ARGS)

cross:
	@test "$(ARCH)" != native || (echo "usage: make cross ARCH=arm64|armhf" >&2; false)
	$(MAKE) ARCH=$(ARCH) $(B)/kubit
	$(RUN) $(B)/kubit --version

# The crash test re-executes the test binary, which needs binfmt_misc under
# qemu-user; it runs natively in `make test`.
test-cross:
	@test "$(ARCH)" != native || (echo "usage: make test-cross ARCH=arm64|armhf" >&2; false)
	$(MAKE) ARCH=$(ARCH) $(B)/store_tests
	$(RUN) $(B)/store_tests --test-case-exclude='*crash*'

clean:
	rm -rf build/obj build/*/obj build/pch build/*/pch build/kubit build/*/kubit build/unit_tests build/*.a build/bench

-include $(shell find $(B)/obj build/fuzz/obj -name '*.d' 2>/dev/null)
