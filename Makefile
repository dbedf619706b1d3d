# The two commands that matter: `make dev` runs the API locally, `make test` runs every test.
.PHONY: dev test build bench fmt lint validate sam-build

dev: ## Run the whole API on http://127.0.0.1:9000 (DynamoDB Local + cargo lambda watch)
	scripts/dev.sh

test: ## Run every test (unit, integration on DynamoDB Local, end-to-end on the local stack)
	scripts/test.sh

build: ## Release build of all six functions for Lambda (arm64), zips in target/lambda/
	scripts/bootstrap.sh
	rustup target add aarch64-unknown-linux-gnu
	PATH="$(CURDIR)/.tools/venv/bin:$$PATH" cargo lambda build --release --arm64 --output-format zip \
		--bin register --bin login --bin refresh --bin tasks --bin account --bin recovery

bench: ## Lambda-style benchmark of the release functions (scripts/bench.sh; results in artifacts/)
	scripts/bench.sh

fmt:
	cargo fmt --all

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

validate: ## Infrastructure checks: cfn-lint (+ serverless rules), sam validate, checkov, actionlint
	scripts/check-infra.sh lint

sam-build: ## sam build: all five functions for arm64 into .aws-sam/build (reuses target/)
	scripts/check-infra.sh build
