# WikiSync: one multi-call binary, its ws-* links, man pages, scripts.
# make; make check; make install [PREFIX=/usr/local] [DESTDIR=]; make clean
# make deps installs the Debian packages the build and the tests need.
# make check SANITIZE=1 runs the suite against an ASan+UBSan build;
# J=N runs N test files at once (each with its own test bed).

VERSION	= 0.1.0
PREFIX	= /usr/local
BINDIR	= $(PREFIX)/bin
SBINDIR	= $(PREFIX)/sbin
MANDIR	= $(PREFIX)/share/man
SHAREDIR = $(PREFIX)/share/wikisync

CC	= cc
CFLAGS	= -std=c11 -O2 -g -Wall -Wextra -Werror
PKGS	= libmd libbsd-overlay libcurl jansson
PKG_CFLAGS != pkg-config --cflags $(PKGS) 2>/dev/null || echo -DMISSING_DEPS_RUN_MAKE_DEPS
# libcurl is loaded when a wiki is first opened (common/libcurl.h), not linked;
# -pthread on every compile and link: a job replays onto its peers at once
PKG_LIBS != pkg-config --libs libmd libbsd-overlay jansson 2>/dev/null
CPPFLAGS = -D_GNU_SOURCE -DVERSION='"$(VERSION)"' -Icommon

BUILD	= build
J	= 3
ifeq ($(SANITIZE),1)
BUILD	= build-san
CFLAGS	+= -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=all
LDFLAGS	+= -fsanitize=address,undefined
endif

APPLETS	= api conf groups login merge push queue recv scan status store verify
SCRIPTS	= ws-peerd ws-setup-spool
MAN1	= man/wikisync.1 $(APPLETS:%=man/ws-%.1)
MAN5	= man/wikisync.conf.5
MAN7	= man/wikisync.7
MAN8	= $(SCRIPTS:%=man/%.8)

CMD_SRC	= $(wildcard cmd/*.c)
COM_SRC	= $(wildcard common/*.c)
OBJ	= $(CMD_SRC:%.c=$(BUILD)/%.o) $(COM_SRC:%.c=$(BUILD)/%.o)
HDR	= $(wildcard common/*.h)

all: $(BUILD)/wikisync $(APPLETS:%=$(BUILD)/ws-%)

$(BUILD)/wikisync: $(OBJ)
	$(CC) -pthread $(LDFLAGS) -o $@ $(OBJ) $(PKG_LIBS) -ldl

$(BUILD)/%.o: %.c $(HDR) Makefile
	@mkdir -p $(@D)
	$(CC) -pthread $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/ws-%: $(BUILD)/wikisync
	ln -sf wikisync $@

# check installs what is missing first (quick when nothing is), then
# builds in a sub-make so pkg-config sees the new packages.
check:
	scripts/deps
	$(MAKE) all
	WS_BUILD=$(CURDIR)/$(BUILD) J=$(J) tests/run $(TESTS)

deps:
	scripts/deps

# the README's first command: WikiSync on local test wikis
# (one a user: a demo another user started is not touched)
DEMO	= /var/tmp/wikisync-demo-$(shell id -un)
DEMORUN	= PATH="$(CURDIR)/$(BUILD):$(CURDIR)/scripts:$$PATH" scripts/ws-demo
demo:
	scripts/deps
	$(MAKE) all
	$(DEMORUN) $(DEMO)

demo-down demo-pause demo-resume:
	$(DEMORUN) $(@:demo-%=%) $(DEMO)

lint:
	mandoc -Tlint -Wwarning man/*

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(BUILD)/wikisync $(DESTDIR)$(BINDIR)/wikisync
	for a in $(APPLETS); do ln -sf wikisync $(DESTDIR)$(BINDIR)/ws-$$a; done
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5
	install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7
	install -m 644 $(MAN8) $(DESTDIR)$(MANDIR)/man8
	for s in $(SCRIPTS); do install -m 755 scripts/$$s $(DESTDIR)$(SBINDIR); done
	install -d $(DESTDIR)$(SHAREDIR)/cron $(DESTDIR)$(SHAREDIR)/systemd
	install -m 644 scripts/cron/wikisync $(DESTDIR)$(SHAREDIR)/cron
	install -m 644 scripts/WikiSync_group.wiki $(DESTDIR)$(SHAREDIR)
	for u in ws-peerd.service ws-scan.service ws-scan.timer; do \
		sed 's|/usr/local/sbin|$(SBINDIR)|g; s|/usr/local/bin|$(BINDIR)|g' \
		    scripts/systemd/$$u >$(DESTDIR)$(SHAREDIR)/systemd/$$u || exit; \
	done
	install -d $(DESTDIR)$(SHAREDIR)/exim4/router $(DESTDIR)$(SHAREDIR)/exim4/transport
	install -m 644 scripts/exim4/router/140_wikisync_relay scripts/exim4/router/150_wikisync \
	    $(DESTDIR)$(SHAREDIR)/exim4/router
	sed 's|/usr/bin/ws-recv|$(BINDIR)/ws-recv|' scripts/exim4/transport/30_wikisync \
	    >$(DESTDIR)$(SHAREDIR)/exim4/transport/30_wikisync

# make deb: the Debian package of debian/, built by dpkg-buildpackage from a
# copy of the tree in $(BUILD)/deb/src, so that the .deb lands in
# $(BUILD)/deb/ (needs dpkg-dev and debhelper: make deps installs them).
deb:
	rm -rf $(BUILD)/deb
	mkdir -p $(BUILD)/deb/src
	tar -cf - --exclude='./build*' --exclude=./.git . | tar -xf - -C $(BUILD)/deb/src
	cd $(BUILD)/deb/src && dpkg-buildpackage -us -uc -b
	@ls $(BUILD)/deb/*.deb

# make fuzz [FUZZTIME=seconds]: ws-recv's mail parser under libFuzzer (clang),
# seeded with the captured notifications; what it finds stays in
# tests/fuzz/corpus-recv/ (not in git).
FUZZTIME = 60
FUZZCC	= clang
build/fuzz/recv-fuzz: tests/fuzz/recv-fuzz.c common/mail.c $(HDR) Makefile
	@mkdir -p $(@D)
	$(FUZZCC) $(CPPFLAGS) $(PKG_CFLAGS) -g -O1 -Wall -Wextra -Werror \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o $@ tests/fuzz/recv-fuzz.c common/mail.c $(PKG_LIBS)

fuzz: build/fuzz/recv-fuzz
	@mkdir -p tests/fuzz/corpus-recv
	build/fuzz/recv-fuzz -max_total_time=$(FUZZTIME) -max_len=65536 \
	    -dict=tests/fuzz/recv.dict -print_final_stats=1 \
	    tests/fuzz/corpus-recv tests/fixtures/mail

clean:
	rm -rf build build-san

.PHONY: all check deps demo demo-down demo-pause demo-resume lint install deb fuzz clean
