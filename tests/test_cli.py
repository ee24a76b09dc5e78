"""The `channelkit` entry point: command listing, lazy imports and error-to-exit-code mapping."""
from __future__ import annotations

import subprocess
import sys

import pytest

from channelkit import cli


def test_help_lists_every_command_without_importing_them(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in ("sample", "validate", "report", "forecast", "attribution", "elasticity"):
        assert name in out


def test_only_the_chosen_command_is_imported() -> None:
    code = (
        "import sys; from channelkit import cli\n"
        "cli.build_parser(['validate', 'x'])\n"
        "print('channelkit.commands.report' in sys.modules, 'channelkit.commands.validate' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]


def test_unknown_command_exits_2() -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["no-such-command"])
    assert exc.value.code == 2


def test_a_channelkit_error_becomes_a_message_and_its_exit_code(tmp_path, capsys) -> None:
    code = cli.main(["validate", str(tmp_path / "missing-folder")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("channelkit validate: error:") and "missing-folder" in err
