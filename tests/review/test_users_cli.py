"""`hashguard users add/list/disable/password`: accounts from the command line, audited."""

from __future__ import annotations

import os
from pathlib import Path

from hashguard.store.store import Store
from tests.helpers import run_cli


def test_users_from_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hg.db'}"
    os.environ["HG_TEST_PASSWORD"] = "a long enough password"
    try:
        code, out, err = run_cli(
            tmp_path,
            "users",
            "add",
            "rita",
            "--role",
            "reviewer",
            "--password-env",
            "HG_TEST_PASSWORD",
            db=db,
        )
        assert code == 0, err
        assert out == [{"name": "rita", "role": "reviewer", "disabled": False}]
        code, _, err = run_cli(
            tmp_path,
            "users",
            "add",
            "rita",
            "--role",
            "lead",
            "--password-env",
            "HG_TEST_PASSWORD",
            db=db,
        )
        assert code == 6 and "already exists" in err
        os.environ["HG_TEST_PASSWORD"] = "short"
        code, _, err = run_cli(
            tmp_path,
            "users",
            "add",
            "bob",
            "--role",
            "lead",
            "--password-env",
            "HG_TEST_PASSWORD",
            db=db,
        )
        assert code != 0 and "at least 12 characters" in err
        code, _, err = run_cli(
            tmp_path,
            "users",
            "add",
            "bad name",
            "--role",
            "lead",
            "--password-env",
            "HG_TEST_PASSWORD",
            db=db,
        )
        assert code != 0 and "no spaces" in err
    finally:
        del os.environ["HG_TEST_PASSWORD"]
    code, out, _ = run_cli(tmp_path, "users", "list", db=db)
    assert out == [{"name": "rita", "role": "reviewer", "disabled": False}]
    code, out, _ = run_cli(tmp_path, "users", "disable", "rita", db=db)
    assert out == [{"name": "rita", "role": "reviewer", "disabled": True}]
    code, _, err = run_cli(tmp_path, "users", "disable", "nobody", db=db)
    assert code == 5 and "no user 'nobody'" in err
    store = Store(db)
    actions = [(a["action"], a["target"]) for a in store.audit.read()]
    assert ("user.add", "rita") in actions and ("user.disable", "rita") in actions
    stored = store.users.get("rita")
    assert stored.disabled
    store.close()
