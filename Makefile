# The two commands of README.md:
#   make run    install what is missing, build, and run the three services on localhost until Ctrl-C
#   make test   install what is missing, check generated code and formatting, build, and run every test
.PHONY: deps test-deps build run test deploy-test generate check-generated format check-format bench clean

SWIFT ?= swift

deps:
	@deploy/install-deps.sh

test-deps:
	@deploy/install-deps.sh --test

build: deps
	$(SWIFT) build

run: build
	@deploy/run-local.sh .build/debug

generate: deps
	scripts/generate.sh

check-generated:
	scripts/generate.sh --check

format:
	scripts/format.sh

check-format:
	scripts/format.sh --check

test: test-deps check-generated check-format
	$(SWIFT) build --build-tests
	scripts/check-units.sh .build/debug
	/usr/bin/python3 Tests/Protocol/python_client.py .build/debug/interop-server
	@# Storage tests run on SQLite and on a real PostgreSQL server, started here and stopped afterwards.
	@url=$$(scripts/test-postgres.sh start) && status=0; \
	  FT_TEST_POSTGRES_URL=$$url $(SWIFT) test --skip-build || status=$$?; \
	  scripts/test-postgres.sh stop; exit $$status
	scripts/deploy-test.sh .build/debug

# The system on four hosts (network namespaces, needs root): example data, a report, an import and a follow
# across hosts, then failover, a hung host, a partition and a database restart under load (scripts/deploy-test.sh).
deploy-test: test-deps
	$(SWIFT) build
	scripts/deploy-test.sh .build/debug

# Benchmarks are measured on a release build; figures go in README.md.
bench: deps
	$(SWIFT) build -c release
	.build/release/rpc-bench

clean:
	rm -rf .build
