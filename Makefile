.PHONY: setup run test synth lint clean
setup: ; scripts/setup.sh
run: ; scripts/run
test: ; scripts/test
synth: setup ; PATH="$(CURDIR)/.venv/bin:$$PATH" npx cdk synth --quiet
lint: synth ; .venv/bin/cfn-lint
clean: ; rm -rf cdk.out build .pytest_cache .mypy_cache .ruff_cache
