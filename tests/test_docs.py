"""Every code block in README.md and docs/*.md runs, so the docs cannot drift.

The convention (docs/architecture.md, "Code blocks in the docs"):

- ```python blocks run in this process, in one namespace per file, in order;
- ```bash blocks run with `bash -e`, the venv's bin on PATH;
- ```cpp blocks are compiled against the installed C++ package and run: a
  block with `main` as it is, any other inside `main` (its #includes above);
- ```cmake blocks are lines of a consumer's CMakeLists.txt, after
  `add_executable(app main.cc)`: configured and built against the package;
- ```text and ```json blocks are output shown, never run;
- `<!-- not-run: REASON -->` right before a block skips it (the reason is
  required); `<!-- file: NAME -->` writes the block to NAME instead of
  running it, for a later block to use;
- any other block (no language, an unknown one, an indented block) fails.

Every block of a file runs in one scratch directory, in order, which starts
with model.keras (the demo's digits CNN), model.pb (it, frozen) and images.npy
(float32 [8,8,8,1]), plus `tfreeze/`, the source tree. Shell blocks see a HOME
whose `.local` is the installed C++ package, as docs/cpp.md installs it, with
its bin on PATH.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from markdown_it import MarkdownIt

from tfreeze.examples.digits import load_digits_split

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]  # not docs/research/
BIN = Path(sys.executable).parent
CMAKE = str(BIN / "cmake") if (BIN / "cmake").exists() else "cmake"

RUN = ("python", "bash", "cpp", "cmake")
SHOWN = ("text", "json")
NOT_RUN = re.compile(r"<!--\s*not-run\b:?(?P<reason>.*?)-->", re.DOTALL)
FILE = re.compile(r"<!--\s*file:\s*(?P<name>\S+)\s*-->")
MAIN = re.compile(r"\bint\s+main\s*\(")
BLOCK_TIMEOUT_S = 600


@dataclass(frozen=True)
class Block:
    doc: str  # path from the repository root
    line: int  # 1-based line of the opening fence; the code starts on the next
    language: str
    code: str
    not_run: str | None = None  # the reason
    file: str | None = None  # written to this file instead of run

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.not_run is None and self.file is None and self.language in RUN


def parse(text: str, doc: str) -> tuple[list[Block], list[str]]:
    """The code blocks of a Markdown file, and what breaks the convention."""
    tokens = MarkdownIt("commonmark").parse(text)
    blocks: list[Block] = []
    problems: list[str] = []
    for i, token in enumerate(tokens):
        if token.type not in ("fence", "code_block"):
            continue
        where = f"{doc}:{token.map[0] + 1}"
        language = token.info.split()[0] if token.type == "fence" and token.info else ""
        before = tokens[i - 1].content.strip() if i and tokens[i - 1].type == "html_block" else ""
        not_run = file = None
        if match := NOT_RUN.fullmatch(before):
            not_run = match["reason"].strip()
            if not not_run:
                problems.append(f"{where}: <!-- not-run: REASON --> needs a reason")
        elif match := FILE.fullmatch(before):
            file = match["name"]
            if Path(file).is_absolute() or ".." in Path(file).parts:
                problems.append(f"{where}: <!-- file: {file} --> must be a relative path inside")
        if token.type == "code_block":
            problems.append(f"{where}: an indented code block; fence it with a language")
        elif not language and not_run is None:
            problems.append(f"{where}: a block without a language; give it one")
        elif language not in RUN + SHOWN and not_run is None and file is None:
            problems.append(
                f"{where}: ```{language} blocks are neither run nor output: use one of "
                f"{', '.join(RUN)} (run) or {', '.join(SHOWN)} (output shown), or put "
                "<!-- not-run: REASON --> before it"
            )
        blocks.append(Block(doc, token.map[0] + 1, language, token.content, not_run, file))
    return blocks, problems


def test_the_convention_is_enforced():
    text = "\n".join(
        [
            "```python\nx = 1\n```",
            "<!-- not-run: needs a GPU -->\n```bash\nnvidia-smi\n```",
            "<!-- not-run -->\n```bash\nls\n```",
            "<!-- file: main.cc -->\n```cpp\nint main() {}\n```",
            "<!-- file: a.toml -->\n```toml\nx = 1\n```",
            "```\nno language\n```",
            "```sh\nls\n```",
            "```text\nshown\n```",
            "<!-- an ordinary comment -->\n```json\n{}\n```",
            "para\n\n    indented\n",
        ]
    )
    blocks, problems = parse(text, "x.md")
    assert [(b.line, b.language, b.runs) for b in blocks] == [
        (1, "python", True),
        (5, "bash", False),
        (9, "bash", False),
        (13, "cpp", False),
        (17, "toml", False),
        (20, "", False),
        (23, "sh", False),
        (26, "text", False),
        (30, "json", False),
        (35, "", False),
    ]
    assert blocks[1].not_run == "needs a GPU" and blocks[3].file == "main.cc"
    assert [p.split(": ", 1)[0] for p in problems] == ["x.md:9", "x.md:20", "x.md:23", "x.md:35"]
    assert "needs a reason" in problems[0] and "without a language" in problems[1]
    assert "```sh" in problems[2] and "indented" in problems[3]


@pytest.fixture(scope="session")
def docs_inputs(frozen, tmp_path_factory) -> Path:
    """model.keras, model.pb and images.npy: what every file's scratch directory starts with."""
    digits = frozen("digits")
    folder = tmp_path_factory.mktemp("docs-inputs")
    digits.model.save(folder / "model.keras")
    shutil.copy(digits.path, folder / "model.pb")
    np.save(folder / "images.npy", load_digits_split()[2][:8])
    return folder


class Runner:
    """Runs one file's blocks, in order, in one scratch directory."""

    def __init__(self, blocks: list[Block], scratch: Path, work: Path, prefix: Path | None):
        self.blocks, self.scratch, self.work, self.prefix = blocks, scratch, work, prefix
        self.namespace: dict = {"__name__": "__main__"}
        self.cpp_built = False
        self.env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        path = [str(BIN), os.environ.get("PATH", "")]
        if prefix is not None:
            home = work / "home"
            home.mkdir()
            (home / ".local").symlink_to(prefix)
            self.env["HOME"] = str(home)
            path.insert(1, str(home / ".local" / "bin"))
        self.env["PATH"] = os.pathsep.join(path)

    def run(self, block: Block) -> None:
        if block.file is not None:
            (self.scratch / block.file).parent.mkdir(parents=True, exist_ok=True)
            (self.scratch / block.file).write_text(block.code)
        elif block.runs:
            getattr(self, f"_{block.language}")(block)

    def _shell(self, block: Block, command: list[str], cwd: Path, what: str) -> None:
        result = subprocess.run(
            command, cwd=cwd, env=self.env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S
        )
        if result.returncode != 0:
            pytest.fail(
                f"{block.where}: {what} exited {result.returncode}\n"
                f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}",
                pytrace=False,
            )

    def _python(self, block: Block) -> None:
        # Padded so that tracebacks show the doc's own lines.
        code = compile("\n" * block.line + block.code, str(ROOT / block.doc), "exec")
        try:
            exec(code, self.namespace)
        except Exception as error:
            raise AssertionError(f"{block.where}: the python block raised") from error

    def _bash(self, block: Block) -> None:
        script = self.work / f"block-{block.line}.sh"
        script.write_text(block.code)
        self._shell(block, ["bash", "-e", str(script)], self.scratch, "the bash block")

    def _cpp(self, block: Block) -> None:
        if not self.cpp_built:  # every C++ block of the file, in one project
            cpp = [b for b in self.blocks if b.runs and b.language == "cpp"]
            project = self.work / "cpp"
            project.mkdir()
            for each in cpp:
                (project / f"block_{each.line}.cc").write_text(self._program(each))
            (project / "CMakeLists.txt").write_text(
                "cmake_minimum_required(VERSION 3.18)\nproject(docs LANGUAGES CXX)\n"
                "find_package(tfreeze CONFIG REQUIRED)\n"
                + "".join(
                    f"add_executable(block_{b.line} block_{b.line}.cc)\n"
                    f"target_link_libraries(block_{b.line} PRIVATE tfreeze::tfreeze)\n"
                    for b in cpp
                )
            )
            self._build(block, project)
            self.cpp_built = True
        binary = self.work / "cpp" / "build" / f"block_{block.line}"
        self._shell(block, [str(binary)], self.scratch, "the compiled C++ block")

    def _program(self, block: Block) -> str:
        line = f'#line {block.line + 1} "{block.doc}"\n'
        if MAIN.search(block.code):
            return line + block.code
        lines = block.code.splitlines()
        includes = [s for s in lines if s.lstrip().startswith("#include")]
        body = ["" if s.lstrip().startswith("#include") else s for s in lines]
        return "\n".join([*includes, "int main() {", line + "\n".join(body), "return 0;", "}\n"])

    def _cmake(self, block: Block) -> None:
        project = self.work / f"cmake-{block.line}"
        project.mkdir()
        (project / "main.cc").write_text(
            "#include <tfreeze/tfreeze.h>\n"
            'int main() { return tfreeze::Model::Load("model.pb").inputs().empty(); }\n'
        )
        (project / "CMakeLists.txt").write_text(
            "cmake_minimum_required(VERSION 3.18)\nproject(app LANGUAGES CXX)\n"
            f"add_executable(app main.cc)\n# {block.where}\n{block.code}"
        )
        self._build(block, project)
        self._shell(block, [str(project / "build" / "app")], self.scratch, "the built app")

    def _build(self, block: Block, project: Path) -> None:
        configure = [CMAKE, "-S", str(project), "-B", str(project / "build"), "-G", "Ninja"]
        configure += ["-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_PREFIX_PATH={self.prefix}"]
        self._shell(block, configure, project, "cmake (configure)")
        self._shell(block, [CMAKE, "--build", str(project / "build")], project, "cmake --build")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_block_runs(doc: Path, request, tmp_path, monkeypatch):
    blocks, problems = parse(doc.read_text(), doc.relative_to(ROOT).as_posix())
    assert not problems, "\n".join(problems)
    running = [b for b in blocks if b.runs]
    if not running:
        return
    needs_cpp = any(b.language != "python" for b in running)
    prefix = request.getfixturevalue("cpp_prefix") if needs_cpp else None
    scratch = tmp_path / "scratch"
    shutil.copytree(request.getfixturevalue("docs_inputs"), scratch)
    (scratch / "tfreeze").symlink_to(ROOT, target_is_directory=True)
    runner = Runner(blocks, scratch, tmp_path, prefix)
    monkeypatch.chdir(scratch)
    for block in blocks:
        runner.run(block)
