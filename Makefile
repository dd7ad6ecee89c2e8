# pigw: make run runs the appliance on the built-in config; make test runs every test.
GO      ?= go
BIN     := bin/pigw
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: build run image update firmware wpa-supplicant test test-deps lwm2m-peer test-vm test-powercut test-update-powercut test-editor yaml-language-server vm-kernel bench lint fuzz screenshot clean flash pi3-emulated

PIGW_VM_KERNEL_DIR ?= /var/cache/pigw-vm
PIGW_VM_ARM64_DIR ?= /var/cache/pigw-vm-arm64
export PIGW_VM_KERNEL_DIR PIGW_VM_ARM64_DIR
# Every package but the QEMU tests, which make test-vm runs.
UNIT_PKGS = $(shell $(GO) list ./... | grep -v /internal/vmtest)

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/pigw

## run: the appliance on the built-in config (the tutorial's server example) on UDP 5683.
run: build
	./$(BIN) run

## image: the SD-card image bin/pigw-rpi.img (CONFIG=pigw.yaml, OVERLAYS="overlays/i2c ...",
## SIZE=1G; /perm grows to the card's end on the first boot), with the WiFi firmware that make
## firmware fetches into FIRMWARE_DIR, and with WPA_SUPPLICANT=1 the wpa_supplicant that make
## wpa-supplicant fetches (WPA3, ...).
IMAGE        := bin/pigw-rpi.img
CONFIG       ?=
OVERLAYS     ?=
SIZE         ?= 1G
FIRMWARE_DIR ?= /var/cache/pigw-firmware
SIGN_KEY     ?=
WPA_SUPPLICANT     ?=
WPA_SUPPLICANT_DIR ?= /var/cache/pigw-wpa-supplicant
export PIGW_WPA_SUPPLICANT_DIR = $(WPA_SUPPLICANT_DIR)
with_wpa = $(filter-out 0 no false,$(WPA_SUPPLICANT))
image: firmware $(if $(with_wpa),wpa-supplicant)
	@mkdir -p bin
	$(GO) run ./cmd/pigw image build --out $(IMAGE) --size $(SIZE) --version $(VERSION) \
		--firmware-dir $(FIRMWARE_DIR) $(if $(CONFIG),--config $(CONFIG)) $(foreach o,$(OVERLAYS),--overlay $(o)) \
		$(if $(with_wpa),--overlay $(WPA_SUPPLICANT_DIR)) $(if $(SIGN_KEY),--sign-key $(SIGN_KEY))

## update: the developer's daily loop: build the image and its signed bundle, push the bundle to
## HOST and apply it there (the device tries the new root, and commits it once healthy):
## make update HOST=192.168.1.50 SIGN_KEY=release.key IDENTITY=admin PSK_FILE=admin.psk
## (pigw keygen --out release.key makes the key; the device's image must trust it).
IDENTITY ?= admin
PSK_FILE ?=
update: image build
	@test -n "$(HOST)" -a -n "$(SIGN_KEY)" -a -n "$(PSK_FILE)" || { echo "usage: make update HOST=<device> SIGN_KEY=<key> PSK_FILE=<file> [IDENTITY=admin]"; exit 2; }
	./$(BIN) update --identity $(IDENTITY) --psk-file $(PSK_FILE) coaps://$(HOST) $(IMAGE:.img=.update)

## pi3-emulated: the image booted on QEMU's emulated Raspberry Pi 3 B, its serial console on
## this terminal (Ctrl-a x quits), CoAP on 127.0.0.1:15683, the status page on
## http://127.0.0.1:18080/. The card is a fresh copy of the
## image each time, bin/pigw-rpi-emulated.img; CARD_SIZE=4G makes it larger.
CARD_SIZE ?=
pi3-emulated: image vm-kernel
	cp --sparse=always $(IMAGE) bin/pigw-rpi-emulated.img
	$(GO) run ./cmd/pigw image emulate $(if $(CARD_SIZE),--card-size $(CARD_SIZE)) bin/pigw-rpi-emulated.img

## firmware: Debian's WiFi firmware for the Pi and the regulatory database (cached).
firmware:
	bash image/fetch-firmware.sh $(FIRMWARE_DIR)

## wpa-supplicant: Debian's arm64 wpa_supplicant and the libraries it loads, as an overlay
## (WPA_SUPPLICANT_DIR/root; cached).
wpa-supplicant:
	bash image/fetch-arm64-programs.sh $(WPA_SUPPLICANT_DIR) wpasupplicant:wpa_supplicant

## test: installs what the tests need (libcoap's client and server, iproute2, chrony, wpa_supplicant, dnsmasq,
## mtools, device-tree-compiler, python3-jsonschema, the LwM2M test server) and the YAML language server,
## then vet and every test with the race detector.
test: test-deps yaml-language-server
	$(GO) vet ./...
	PIGW_YAML_LANGUAGE_SERVER=$(YLS) $(GO) test -race -count=1 -timeout 20m $(UNIT_PKGS)

## vm-kernel: QEMU, host disk tools, Debian's amd64 and arm64 kernels with their modules and
## the WiFi lab's programs for both (cached).
vm-kernel:
	bash internal/vmtest/fetch-kernel.sh $(PIGW_VM_KERNEL_DIR)
	bash internal/vmtest/fetch-kernel.sh $(PIGW_VM_ARM64_DIR) arm64

## test-vm: pigw booted as PID 1 in QEMU (TCG) with those kernels; the arm64 WiFi lab runs the
## image's pigw and wpa_supplicant (make wpa-supplicant). The test program runs with the race
## detector (the guests' programs are static, without it); TestPigwPowerCut makes 20 cuts.
test-vm: vm-kernel test-deps wpa-supplicant
	$(GO) test -race -count=1 -timeout 45m ./internal/vmtest/

## test-powercut: TestPigwPowerCut alone with POWERCUT_ROUNDS power cuts (default 100, about
## 15 minutes under TCG).
POWERCUT_ROUNDS ?= 100
test-powercut: vm-kernel test-deps
	PIGW_POWERCUT_ROUNDS=$(POWERCUT_ROUNDS) $(GO) test -race -count=1 -timeout 60m -run '^TestPigwPowerCut$$' -v ./internal/vmtest/

## yaml-language-server: the YAML language server that VS Code's YAML extension runs (npm's
## yaml-language-server), installed once into YLS_DIR, for TestSchemaEditor.
YLS_DIR ?= /var/cache/pigw-yaml-language-server
YLS_VERSION ?= 1.25.0
YLS = $(YLS_DIR)/node_modules/yaml-language-server/bin/yaml-language-server
yaml-language-server:
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	@test -f $(YLS_DIR)/node_modules/yaml-language-server/package.json || npm install --prefix $(YLS_DIR) --no-audit --no-fund --silent yaml-language-server@$(YLS_VERSION)

## test-editor: pigw.schema.json in the engine of editors: the YAML language server checks the
## configurations of appliance/config/testdata/corpus as an editor does, through the modeline
## (make test runs it too).
test-editor: yaml-language-server
	PIGW_YAML_LANGUAGE_SERVER=$(YLS) $(GO) test -count=1 -run TestSchemaEditor -v ./appliance/config/

## lwm2m-peer: the LwM2M server the LwM2M tests register with (internal/lwm2mtest): npm's
## lwm2m-node-lib 1.4.0 and its dependencies, installed with npm ci from the committed lockfile
## into LWM2M_PEER_DIR, again only when the lockfile changed. lwm2m-node-lib is AGPL-3.0: it is a
## test tool run as its own process, never part of pigw's binary or the image.
LWM2M_PEER_DIR ?= /var/cache/pigw-lwm2m-peer
LWM2M_PEER_SRC := internal/lwm2mtest/peer
export PIGW_LWM2M_PEER = $(LWM2M_PEER_DIR)
lwm2m-peer:
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	@cmp -s $(LWM2M_PEER_SRC)/package-lock.json $(LWM2M_PEER_DIR)/installed-lock.json || { \
		echo "installing lwm2m-node-lib from $(LWM2M_PEER_SRC)/package-lock.json into $(LWM2M_PEER_DIR)"; \
		mkdir -p $(LWM2M_PEER_DIR) && rm -f $(LWM2M_PEER_DIR)/installed-lock.json \
		&& cp $(LWM2M_PEER_SRC)/package.json $(LWM2M_PEER_SRC)/package-lock.json $(LWM2M_PEER_DIR)/ \
		&& npm ci --prefix $(LWM2M_PEER_DIR) --no-audit --no-fund --silent \
		&& cp $(LWM2M_PEER_SRC)/package-lock.json $(LWM2M_PEER_DIR)/installed-lock.json; }

# NO_SERVICE_START prefixes an apt-get install: the packages' daemons (avahi-daemon, chronyd,
# dnsmasq) must not start on the machine's own network; the tests start them in namespaces.
NO_SERVICE_START = bash internal/netnstest/no-service-start.sh
test-deps: lwm2m-peer
	@command -v coap-client-notls >/dev/null && command -v coap-server-notls >/dev/null && command -v ip >/dev/null \
		&& command -v chronyd >/dev/null && command -v wpa_supplicant >/dev/null && { command -v dnsmasq || test -x /usr/sbin/dnsmasq; } >/dev/null \
		&& command -v sfdisk >/dev/null && command -v mdir >/dev/null && command -v unsquashfs >/dev/null && command -v e2fsck >/dev/null \
		&& command -v fdtget >/dev/null && command -v dtc >/dev/null && command -v fdtoverlay >/dev/null \
		&& { command -v avahi-daemon || test -x /usr/sbin/avahi-daemon; } >/dev/null && command -v avahi-browse >/dev/null \
		&& command -v avahi-resolve >/dev/null && command -v dbus-daemon >/dev/null \
		&& command -v chromium >/dev/null && test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
		&& /usr/bin/python3 -c 'import jsonschema' 2>/dev/null || { \
		echo "installing libcoap3-bin, iproute2, chrony, wpasupplicant, dnsmasq-base, fdisk, mtools, squashfs-tools, e2fsprogs, device-tree-compiler, python3-jsonschema, avahi-daemon, avahi-utils, dbus-daemon, chromium and fonts-dejavu-core for the tests"; \
		apt-get update -qq && $(NO_SERVICE_START) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcoap3-bin iproute2 chrony wpasupplicant dnsmasq-base fdisk mtools squashfs-tools e2fsprogs device-tree-compiler python3-jsonschema avahi-daemon avahi-utils dbus-daemon chromium fonts-dejavu-core; }

## test-update-powercut: TestUpdatePowerCuts alone with UPDATE_POWERCUT_ROUNDS power cuts at
## random moments of updates (default 100; about a minute each under TCG).
UPDATE_POWERCUT_ROUNDS ?= 100
test-update-powercut: vm-kernel test-deps
	PIGW_UPDATE_POWERCUT_ROUNDS=$(UPDATE_POWERCUT_ROUNDS) $(GO) test -race -count=1 -timeout 180m -run '^TestUpdatePowerCuts$$' -v ./internal/vmtest/

## bench: pigw against libcoap's coap-server-notls in one run, DTLS against coap-server-openssl
## (handshakes/s, GET/s, a handshake during floods of forged hellos: root), a 16 MiB update
## bundle's upload (pigw update and coap-client-openssl into pigw, coap-client into libcoap), the image's
## figures (build time cold and warm, size raw and compressed, QEMU start to first CoAP answer);
## prints them.
bench: test-deps vm-kernel firmware
	$(GO) test -run '^$$' -bench Compare -benchtime 1x -timeout 30m ./internal/coapbench/
	$(GO) test -run '^$$' -bench DTLS -benchtime 1x -timeout 20m ./internal/coapbench/
	$(GO) test -run '^$$' -bench Update -benchtime 1x -timeout 10m ./internal/coapbench/
	PIGW_FIRMWARE_DIR=$(FIRMWARE_DIR) $(GO) test -run '^$$' -bench Image -benchtime 1x -timeout 20m ./internal/vmtest/

## fuzz: every fuzz target in FUZZ_TARGETS (package:target) for FUZZTIME each (60s; 1000000x
## for a count of executions), one after the other; FUZZFLAGS=-parallel=1 for one worker. A
## failing input lands in the package's testdata/fuzz, where make test runs it from then on.
FUZZTIME  ?= 60s
FUZZFLAGS ?=
# Every func Fuzz... in a _test.go file, as package:target.
FUZZ_TARGETS ?= $(shell git grep -o '^func Fuzz[A-Za-z0-9_]*' -- '*_test.go' | sed 's|/[^/]*_test.go:func |:|')
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz: $$t for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) "./$${t%%:*}/"; \
	done

## screenshot: the README's picture of the status page (appliance/web/status-page.png), taken
## in headless Chromium at a phone's width by TestScreenshot.
screenshot: test-deps
	PIGW_WEB_SCREENSHOT=$(CURDIR)/appliance/web/status-page.png $(GO) test -count=1 -run '^TestScreenshot$$' ./appliance/web

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

clean:
	rm -rf bin

## flash: bin/pigw-rpi.img to an SD card, checked before and read back after: make flash DEVICE=/dev/sdX
## (lsblk lists the devices; it asks before writing, FLASH_FLAGS=--yes does not).
FLASH_IMAGE ?= bin/pigw-rpi.img
flash: build
	@test -n "$(DEVICE)" || { echo "usage: make flash DEVICE=/dev/sdX (lsblk lists the devices)"; exit 2; }
	./$(BIN) flash --device $(DEVICE) $(FLASH_FLAGS) $(FLASH_IMAGE)
