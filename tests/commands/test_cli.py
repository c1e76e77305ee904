"""The `fengling` command on a fresh data directory, as an operator uses it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FENGLING = str(Path(sys.executable).with_name("fengling"))


@pytest.fixture
def fresh_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGLING_")}
    return {**env, "FENGLING_DATA_DIR": str(tmp_path / "data")}


def fengling(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [FENGLING, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def test_upgrade_and_seed_a_fresh_data_directory_then_seed_again_changes_nothing(fresh_env):
    assert fengling(fresh_env, "db", "upgrade").returncode == 0
    first = fengling(fresh_env, "seed-demo")
    assert first.returncode == 0
    assert "5 towns, 8 categories, 5 sites, 12 users, 75 members, 5 cases" in first.stdout
    assert "fengling-demo" in first.stdout
    second = fengling(fresh_env, "seed-demo")
    assert "0 towns, 0 categories, 0 sites, 0 users, 0 members, 0 cases" in second.stdout
    assert (Path(fresh_env["FENGLING_DATA_DIR"]) / "fengling.db").exists()
    assert (Path(fresh_env["FENGLING_DATA_DIR"]) / "secret_key").exists()


def test_user_add_reads_the_password_from_stdin_and_refuses_bad_input(fresh_env):
    fengling(fresh_env, "db", "upgrade")
    fengling(fresh_env, "seed-demo")
    added = fengling(
        fresh_env,
        "user",
        "add",
        "zhang_san",
        "--role",
        "worker",
        "--town",
        "xidian",
        "--password-stdin",
        stdin="a-long-secret\n",
    )
    assert added.returncode == 0, added.stderr
    assert "created worker zhang_san (xidian)" in added.stdout
    for args, reason in [
        (["zhang_san", "--role", "worker", "--town", "xidian"], "is taken"),
        (["li_si", "--role", "worker", "--town", "atlantis"], "unknown town"),
        (["li_si", "--role", "supervisor"], "needs --town"),
        (["li_si", "--role", "admin", "--town", "xidian"], "has no home town"),
    ]:
        refused = fengling(
            fresh_env, "user", "add", *args, "--password-stdin", stdin="a-long-secret\n"
        )
        assert refused.returncode != 0 and reason in refused.stderr
    short = fengling(
        fresh_env, "user", "add", "li_si", "--role", "admin", "--password-stdin", stdin="short\n"
    )
    assert short.returncode != 0 and "at least 8" in short.stderr


def test_device_revoke_from_the_command_line(fresh_env):
    fengling(fresh_env, "db", "upgrade")
    result = fengling(fresh_env, "device", "revoke", "00000000-0000-4000-8000-00000000abcd")
    assert result.returncode != 0 and "no device" in result.stderr


def test_tokens_are_only_for_integration_accounts(fresh_env):
    fengling(fresh_env, "db", "upgrade")
    fengling(fresh_env, "seed-demo")
    refused = fengling(fresh_env, "token", "create", "dayan_worker")
    assert refused.returncode != 0 and "not an integration account" in refused.stderr
    created = fengling(fresh_env, "token", "create", "integration")
    assert created.returncode == 0 and len(created.stdout.strip()) >= 40


def test_jobs_report_a_summary_line_and_their_exit_code(fresh_env):
    fengling(fresh_env, "db", "upgrade")
    fengling(fresh_env, "seed-demo")
    result = fengling(fresh_env, "jobs", "verify")
    assert result.returncode == 0
    assert result.stdout.startswith("verify: ok: cases=5")
