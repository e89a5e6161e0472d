# qubemem: the two commands a newcomer runs are `make demo` and `make check`.
SWIFT  ?= swift
PREFIX ?= /usr/local
MANDIR ?= $(PREFIX)/share/man
# A fixed date keeps the generated man page reproducible (it is checked in and snapshot-tested).
MAN_DATE ?= 2026-11-21

.PHONY: all build release plugin install deb demo check test man fuzz clean

all: build

## build: debug build of the library and the qubemem CLI
build:
	$(SWIFT) build

## release: optimised, self-contained qubemem CLI (Swift runtime and Foundation linked in:
## no shared Swift libraries to install, and a third of the start-up time)
release:
	$(SWIFT) build -c release --product qubemem -Xswiftc -static-stdlib

## plugin: job_submit_qubemem.so against the installed SLURM headers (plugin/build/)
plugin:
	$(MAKE) -C plugin

## install: qubemem on the PATH, the plugin in a folder of its own, the man pages
install: release plugin
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 .build/release/qubemem $(DESTDIR)$(PREFIX)/bin/qubemem
	install -m 0644 man/qubemem.1 $(DESTDIR)$(MANDIR)/man1/
	-install -m 0644 man/qubemem.conf.5 $(DESTDIR)$(MANDIR)/man5/
	-install -m 0644 man/job_submit_qubemem.8 $(DESTDIR)$(MANDIR)/man8/
	$(MAKE) -C plugin install

## deb: Debian packages into build/deb/: qubemem (the CLI) and slurm-wlm-qubemem-plugin for the
## host's SLURM and for every other release the project builds for (DEB_SLURM_RELEASES, each built
## against its Debian root, made once by scripts/slurm-root.sh; DEB_SLURM_RELEASES= for the host's
## alone). Each plugin package depends on exactly its slurmctld.
DEB_SLURM_RELEASES ?= 24.11 26.05
deb: release plugin
	for r in $(DEB_SLURM_RELEASES); do $(MAKE) -C plugin SLURM_RELEASE=$$r || exit 1; done
	scripts/make-deb.sh --out build/deb "$$(readlink -f plugin/build/job_submit_qubemem.so)" \
		$(foreach r,$(DEB_SLURM_RELEASES),"$$(scripts/slurm-root.sh $(r) >/dev/null && \
		ls -d plugin/build/$(r).*/job_submit_qubemem.so | tail -n 1):$$(scripts/slurm-root.sh $(r))")
	lintian --fail-on error,warning build/deb/*.deb

## demo: the main job on a local single-node SLURM sandbox (installs what it needs first);
## DEMO_NODES=3 adds the multi-node part (MPI QUBE across two nodes, scripts/demo.sh --nodes 3)
DEMO_NODES ?=
demo:
	scripts/install-deps.sh
	scripts/demo.sh $(if $(DEMO_NODES),--nodes $(DEMO_NODES))

## check: install what the tests need, build, start the sandbox, run every test
check:
	scripts/check.sh

## fuzz: every parser of outside input under libFuzzer + ASan, FUZZ_SECONDS each (scripts/fuzz.sh)
FUZZ_SECONDS ?= 60
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

## man: regenerate man/qubemem.1 from the argument parser's own help
man:
	$(SWIFT) package plugin --allow-writing-to-package-directory generate-manual --date $(MAN_DATE) --authors "the qubemem developers"
	cp "$$(find .build/plugins -path "*GenerateManual*" -name qubemem.1 | head -1)" man/qubemem.1

clean:
	$(SWIFT) package clean
	rm -rf build/deb
	-$(MAKE) -C plugin clean
