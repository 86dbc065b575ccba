"""What every tfreeze command shares: help with examples, --json, exit codes,
TensorFlow's log lines hidden unless --verbose, shell completion."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

import numpy as np
import pytest

from tfreeze import cli
from tfreeze.cli import bench as bench_command

# Commands that print no result a script would read: a shell script, and the
# demo (a guided tour whose figures are for reading).
NO_JSON = {"completion": "prints a shell script", "demo": "a tour printed for people"}
# Commands that hand every argument to another program, which parses -v itself.
PASSTHROUGH = {"serve": "tfreeze-serve: its replies are JSON, it takes -v and --help"}
CHATTER = re.compile(r"InitializeLog|oneDNN|cpu_feature_guard|^[IW]\d{4} |WARNING:tensorflow", re.M)


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def tfreeze(*args: str, **environment: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "tfreeze", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **environment},
    )


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_every_command_has_examples_and_json(name):
    parser = _subcommands()[name]
    assert parser.epilog and parser.epilog.startswith("examples:"), name
    examples = [line.strip() for line in parser.epilog.splitlines()[1:]]
    assert examples and all(f"tfreeze {name}" in line for line in examples), examples
    if name in PASSTHROUGH:
        return
    flags = {flag for action in parser._actions for flag in action.option_strings}
    assert ("--json" in flags) == (name not in NO_JSON), name
    assert {"-v", "--verbose"} <= flags
    # The examples survive help formatting line by line.
    assert examples[0] in parser.format_help().splitlines()[-len(examples)].strip()


def test_help_loads_no_tensorflow_and_prints_no_log_line():
    probe = (
        "import sys; from tfreeze import cli\n"
        "for name in ('', *(c for c in cli._COMMANDS if not c.__name__.endswith('serve'))):\n"
        "    try:\n"
        "        cli.main([getattr(name, '__name__', '').rpartition('.')[2], '--help'] if name "
        "else ['--help'])\n"
        "    except SystemExit as done:\n"
        "        assert done.code == 0\n"
        "loaded = [m for m in ('tensorflow', 'keras', 'tfreeze._core') if m in sys.modules]\n"
        "print(loaded, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env={"PATH": ""}
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "[]"  # no TensorFlow library loaded, no log line
    assert "examples:" in result.stdout
    # serve hands --help to the C++ server, which hides TensorFlow's lines itself.
    served = tfreeze("serve", "--help")
    assert served.returncode == 0 and "--port" in served.stdout, served.stderr
    assert not CHATTER.search(served.stderr), served.stderr


def test_bench_executor_choices_match_the_runtime():
    from tfreeze.runtime.options import EXECUTORS

    assert bench_command.EXECUTORS == EXECUTORS


@pytest.fixture(scope="module")
def mlp_pb(frozen):
    folder = frozen("mlp").path.parent
    np.save(folder / "x.npy", np.zeros((2, 12), np.float32))
    return folder / "mlp.pb"


def test_commands_print_no_tensorflow_log_line(mlp_pb):
    pb, x = str(mlp_pb), str(mlp_pb.parent / "x.npy")
    # TF_CPP_MIN_LOG_LEVEL=0 in the environment: quiet all the same unless --verbose.
    for args in (("inspect", pb), ("run", pb, "--input", x, "--json"), ("verify", pb)):
        result = tfreeze(*args, TF_CPP_MIN_LOG_LEVEL="0")
        assert result.returncode == 0, result.stderr
        assert not CHATTER.search(result.stderr), (args, result.stderr)


def test_verbose_brings_the_log_lines_back(mlp_pb):
    pb = str(mlp_pb)
    for args in (("-v", "inspect", pb), ("inspect", pb, "--verbose")):
        result = tfreeze(*args, TF_CPP_MIN_LOG_LEVEL="2")
        assert result.returncode == 0 and "InitializeLog" in result.stderr, result.stderr


def test_tf1_checkpoint_freeze_is_quiet(tmp_path):
    import tf1_models

    model = tf1_models.build("mlp", tmp_path / "tf1")
    # A TF1 checkpoint: tf.compat.v1 deprecation warnings, grappler in a child process.
    pb = str(tmp_path / "model.pb")
    result = tfreeze("freeze", model.meta, "-o", pb, TF_CPP_MIN_LOG_LEVEL="0")
    assert result.returncode == 0, result.stderr
    assert not CHATTER.search(result.stderr) and "deprecat" not in result.stderr.lower()
    assert result.stderr == ""


def test_a_real_error_is_one_line_exit_2(tmp_path):
    result = tfreeze("inspect", str(tmp_path / "missing.pb"))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("tfreeze inspect: error:")


@pytest.mark.parametrize(
    "command",
    [
        ("inspect",),
        ("graph", "-o", "g.dot"),
        ("export", "--saved-model", "sm"),
        ("compile", "-o", "compiled"),
    ],
)
def test_every_command_names_a_missing_model_file_the_same_way(command, tmp_path):
    missing = str(tmp_path / "missing.pb")
    out = [str(tmp_path / part) if "." in part or part.isalpha() else part for part in command[2:]]
    result = tfreeze(command[0], missing, *command[1:2], *out)
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        f'tfreeze {command[0]}: error: model file "{missing}" does not exist or cannot be read\n'
    )


def test_usage_error_exits_2():
    assert tfreeze("inspect").returncode == 2
    assert tfreeze("no-such-command").returncode == 2


def test_ctrl_c_is_one_line_exit_130(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr("tfreeze.cli.inspect.run", interrupted)
    assert cli.main(["inspect", "model.pb"]) == 130
    assert capsys.readouterr().err == "tfreeze inspect: interrupted\n"


def test_bash_completion_script_registers_every_command():
    script = tfreeze("completion", "bash")
    assert script.returncode == 0 and script.stderr == ""
    for name in _subcommands():
        assert name in script.stdout
    registered = subprocess.run(
        ["bash", "-c", "source /dev/stdin && complete -p tfreeze"],
        input=script.stdout,
        capture_output=True,
        text=True,
    )
    assert registered.returncode == 0, registered.stderr
    assert "tfreeze" in registered.stdout


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_other_shells_get_a_script(shell):
    script = tfreeze("completion", shell)
    assert script.returncode == 0 and "freeze" in script.stdout and "inspect" in script.stdout


def test_completion_of_an_unknown_shell_is_a_usage_error():
    result = tfreeze("completion", "powershell")
    assert result.returncode == 2 and "bash" in result.stderr


def test_an_unexpected_failure_is_still_one_line(monkeypatch, capsys, tmp_path):
    from tfreeze.cli import inspect as inspect_command

    def fails(args):
        raise RuntimeError("InternalError: something inside TensorFlow\n  more lines")

    monkeypatch.setattr(inspect_command, "run", fails)
    assert cli.main(["inspect", str(tmp_path / "m.pb")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "RuntimeError: InternalError" in error
    assert "--verbose" in error
    with pytest.raises(RuntimeError):
        cli.main(["inspect", str(tmp_path / "m.pb"), "--verbose"])
