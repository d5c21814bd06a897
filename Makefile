# deskphone: the two commands of the README are `make demo` and `make test`.
# Both install what they need (apt) on a Debian 12 machine with Swift 6.3.

ARCH ?= x86_64
SWIFT ?= swift

.PHONY: all demo demo-run test build firmware firmware-all bench bench-sip bench-call bench-record fuzz jbscore deps sysroot format lint clean

all: build

## The phone's main job on the simulated board.
## The phone on the simulated board: keys from this terminal, the LCD and LEDs drawn in it, the
## event log in deskphone-demo.log. A second phone: make demo DEMO_CONFIG=config/demo-2.cfg DEMO_LOG=deskphone-demo-2.log
## `make demo-run` runs an already built phone (DEMO_BIN, e.g. the firmware: scripts/cli-tests-demo.sh).
DEMO_CONFIG ?= config/demo.cfg
DEMO_LOG ?= deskphone-demo.log
DEMO_BIN ?= .build/debug/deskphone
demo: deps
	$(SWIFT) build --product deskphone
	@$(MAKE) --no-print-directory demo-run

demo-run:
	$(DEMO_BIN) --board board/sim.cfg --config $(DEMO_CONFIG) --keys stdin --log $(DEMO_LOG)

## Every check: host tests, the three firmware builds, their self-tests under qemu.
test:
	scripts/test.sh

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

## Embedded Swift firmware: make firmware ARCH=x86_64|aarch64|armv7
## writes .build-firmware/$(ARCH)/deskphone (and deskphone.stripped).
firmware: deps
	python3 toolchain/build-firmware.py $(ARCH)

firmware-all: deps
	python3 toolchain/build-firmware.py x86_64
	python3 toolchain/build-firmware.py aarch64
	python3 toolchain/build-firmware.py armv7

sysroot:
	toolchain/sysroot.sh aarch64
	toolchain/sysroot.sh armv7

## Benchmarks print numbers; they are never pass/fail.
bench: firmware-all
	python3 toolchain/build-firmware.py x86_64 --product=deskphone-codec-bench
	$(SWIFT) build -c release --product deskphone-tool
	$(SWIFT) build -c release --product deskphone-codec-bench
	.build/release/deskphone-tool bench reactor
	.build/release/deskphone-tool bench codecs
	.build/release/deskphone-tool bench keys
	.build/release/deskphone-tool bench srtp
	.build/release/deskphone-tool bench tls
	$(MAKE) bench-sip

## SIP parse+serialize: host and Embedded builds against libosip2 on the same INVITE.
bench-sip: deps
	python3 toolchain/build-firmware.py x86_64 --product=deskphone-sip-bench
	$(SWIFT) build -c release --product deskphone-tool
	$(SWIFT) build -c release --product deskphone-sip-bench
	.build/release/deskphone-tool bench sip

## G.711, G.722 and Opus calls of BENCH_SECONDS (default 60), BENCH_RUNS (default 3) each, against
## SIPp echoing RTP, by the Embedded firmware (10 and 20 ms audio periods) and by baresip: CPU, RSS,
## context switches, system calls by kind, medians and ratios, in-phone latency, the loop's timer
## lateness; then a G.711 call with TLS+SRTP against plain through Kamailio (docs/PERFORMANCE.md).
BENCH_SECONDS ?= 60
BENCH_RUNS ?= 3
bench-call: deps
	python3 toolchain/build-firmware.py x86_64
	BENCH_SECONDS=$(BENCH_SECONDS) BENCH_RUNS=$(BENCH_RUNS) scripts/bench-call.sh .build-firmware/x86_64/deskphone

## Record key -> SIP INFO latency over BENCH_PRESSES (default 1000) presses, the whole phone running.
BENCH_PRESSES ?= 1000
bench-record: deps
	python3 toolchain/build-firmware.py x86_64
	BENCH_PRESSES=$(BENCH_PRESSES) scripts/bench-record.sh .build-firmware/x86_64/deskphone

## libFuzzer on every parser that reads the outside: make fuzz [FUZZ_TARGET=all|message|uri|sdp|auth|rtp|rtcp|
## dtmf|http|dns|phonetext|cfg|keys] [FUZZ_SECONDS=600]
FUZZ_TARGET ?= all
FUZZ_SECONDS ?= 600
fuzz: deps
	scripts/fuzz.sh $(FUZZ_TARGET) $(FUZZ_SECONDS)

## Jitter-buffer scores against speexdsp and the best fixed delay: Tools/jbeval's referee on traces
## it generates into .build/jbtraces (docs/JITTER.md). JB_SEEDS="1 2" JB_PROFILES=... JBSIM_ARGS=...
jbscore: deps
	scripts/jbscore.sh

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

lint:
	$(SWIFT) format lint --recursive Sources Tests Package.swift

clean:
	rm -rf .build .build-firmware/x86_64 .build-firmware/aarch64 .build-firmware/armv7
