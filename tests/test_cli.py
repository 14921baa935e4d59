"""The command line through a real subprocess, as a user runs it."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT, SEED_ID


def run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=60,
    )


def test_ask_json_schema() -> None:
    result = run("ask", "--json", "Will Lee meet Donald Trump?", "Who wrote Hamlet?")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2
    answered, abstained = lines
    assert set(answered) >= {"question", "answered", "confidence", "facts", "suggestions"}
    assert answered["answered"] is True
    fact = answered["facts"][0]
    assert set(fact) == {"id", "article", "text", "start", "end", "score"}
    assert fact["id"] == f"{SEED_ID}:p6.s1"
    raw = (ROOT / "knowledge" / f"{SEED_ID}.txt").read_text(encoding="utf-8")
    assert raw[fact["start"] : fact["end"]] == fact["text"]
    assert abstained["answered"] is False
    assert abstained["facts"] == []
    assert 0.0 <= abstained["confidence"] <= 1.0


def test_ask_reads_questions_from_stdin_in_one_process() -> None:
    result = run("ask", "--json", stdin="Who is Cho Hyun?\n\nWhen did Kishida travel to Seoul?\n")
    assert result.returncode == 0, result.stderr
    questions = [json.loads(line)["question"] for line in result.stdout.splitlines()]
    assert questions == ["Who is Cho Hyun?", "When did Kishida travel to Seoul?"]


def test_ask_plain_text_quotes_and_cites() -> None:
    result = run("ask", "Will Lee meet Donald Trump?")
    assert result.returncode == 0
    assert "\u201cLee is expected to stop in Japan" in result.stdout
    assert "[1] Japan, South Korea arranging Lee visit for talks with Ishiba, Kyodo" in result.stdout
    assert "\x1b[" not in result.stdout  # a pipe gets no colour


def test_chat_through_a_pipe_answers_and_ends_on_eof() -> None:
    result = run("chat", stdin="hello\nWho is Yoon Suk Yeol?\nWhat is the capital of Peru?\n")
    assert result.returncode == 0
    out = result.stdout
    assert "I answer questions about" in out
    assert "predecessor Yoon Suk Yeol" in out
    assert "The article does not say." in out


def test_facts_lists_ids() -> None:
    result = run("facts", "--article", SEED_ID)
    assert result.returncode == 0
    assert f"{SEED_ID}:p1.s1 (caption)" in result.stdout
    assert result.stdout.count(f"{SEED_ID}:p") == 10


def test_check_ok_and_never_prints_the_token() -> None:
    result = run("check", env={"QABOT_DISCORD_TOKEN": "MTk4NjIyNDgzNDcxOTI1MjQ4.secret-token-value"})
    assert result.returncode == 0, result.stderr
    assert "knowledge: ok (1 article, 10 facts" in result.stdout
    assert "discord token: set" in result.stdout
    assert "secret-token-value" not in result.stdout + result.stderr


@pytest.mark.parametrize("command", ["check", "ask", "chat", "facts", "run"])
def test_bad_knowledge_exits_2_without_traceback(tmp_path: Path, command: str) -> None:
    (tmp_path / "broken.txt").write_bytes(b"\xff\xfe not utf-8")
    result = run(command, "--knowledge", str(tmp_path), stdin="")
    assert result.returncode == 2
    assert "broken.txt" in result.stderr and "UTF-8" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_setting_names_the_variable() -> None:
    result = run("check", env={"QABOT_ANSWER_THRESHOLD": "lots"})
    assert result.returncode == 2
    assert "QABOT_ANSWER_THRESHOLD" in result.stderr
    assert "Traceback" not in result.stderr


def test_env_file_with_unknown_keys_is_fine(tmp_path: Path) -> None:
    knowledge = tmp_path / "kb"
    knowledge.mkdir()
    (knowledge / "note.txt").write_text("The bridge opened in 1932.", encoding="utf-8")
    (tmp_path / ".env").write_text(
        f"QABOT_KNOWLEDGE_DIR={knowledge}\nSOMETHING_ELSE=1\nQABOT_NOT_A_SETTING=x\n", encoding="utf-8"
    )
    result = run("check", cwd=tmp_path, env={"PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert "1 article, 1 fact" in result.stdout


def test_eval_scores_a_fixture(tmp_path: Path) -> None:
    out = tmp_path / "predictions.jsonl"
    result = run("eval", str(FIXTURES / "small-eval.jsonl"), "--predictions", str(out))
    assert result.returncode == 0, result.stderr
    assert "5 questions (3 answerable, 2 unanswerable)" in result.stdout
    assert "answerable-correct     1.000" in result.stdout
    assert "unanswerable-abstained 1.000" in result.stdout
    predictions = [json.loads(line) for line in out.read_text().splitlines()]
    assert [p["question_id"] for p in predictions] == ["h1", "h2", "h3", "h4", "h5"]
    assert all(p["facts"] for p in predictions[:3])


def test_eval_predictions_do_not_depend_on_answers(tmp_path: Path) -> None:
    stripped = tmp_path / "no-answers.jsonl"
    record = json.loads((FIXTURES / "small-eval.jsonl").read_text(encoding="utf-8"))
    for question in record["questions"]:
        question.pop("answers")
        question.pop("answerable")
    stripped.write_text(json.dumps(record) + "\n", encoding="utf-8")
    with_answers, without = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert run("eval", str(FIXTURES / "small-eval.jsonl"), "--predictions", str(with_answers)).returncode == 0
    result = run("eval", str(stripped), "--predictions", str(without))
    assert result.returncode == 0, result.stderr
    assert "answerable-correct     n/a" in result.stdout
    assert with_answers.read_text() == without.read_text()


def test_eval_of_a_missing_file_exits_2() -> None:
    result = run("eval", "no-such-file.jsonl")
    assert result.returncode == 2
    assert "no-such-file.jsonl" in result.stderr


def test_run_without_a_token_starts_the_local_chat() -> None:
    result = run("run", stdin="Who is Cho Hyun?\n")
    assert result.returncode == 0
    assert "QABOT_DISCORD_TOKEN is not set" in result.stderr
    assert "Cho Hyun visited Japan" in result.stdout


def test_env_example_works_as_a_dot_env(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text(encoding="utf-8"), encoding="utf-8")
    result = run("check", "--knowledge", str(ROOT / "knowledge"), cwd=tmp_path, env={"PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert "discord token: not set" in result.stdout


@pytest.mark.parametrize("order", ["before", "after"])
def test_knowledge_option_before_or_after_the_command(tmp_path: Path, order: str) -> None:
    missing = str(tmp_path / "nowhere")
    args = ["--knowledge", missing, "check"] if order == "before" else ["check", "--knowledge", missing]
    result = run(*args)
    assert result.returncode == 2
    assert "nowhere: knowledge folder does not exist" in result.stderr


def test_hostile_lines_on_stdin_get_one_clean_record_each() -> None:
    lines = [
        "\x00\x01 who is Iwaya?",
        "x" * 100_000,
        "\U0001f600\U0001f600",
        "石破首相は誰ですか",
        "",
        "@everyone <@123> hi",
        "   ",
    ]
    result = run("ask", "--json", "--conversation", "c", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 5  # blank lines are skipped in a batch
    assert records[0]["answered"] and records[0]["facts"][0]["id"] == f"{SEED_ID}:p10.s1"
    assert all(record["kind"] in ("answer", "abstain", "greeting", "help", "empty") for record in records)
    assert "Traceback" not in result.stderr


def run_bytes(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, cwd=ROOT, env=full_env, timeout=60
    )


@pytest.mark.parametrize("locale", ["en_US.UTF-8", "C.UTF-8", "C"])
def test_invalid_utf8_on_stdin_is_replaced_and_the_output_stays_utf8(locale: str) -> None:
    stdin = b"Who is Cho Hyun?\n\xff\xfe\xc3( Ishiba \xed\xa0\x80?\n"
    env = {"LANG": locale, "LC_ALL": locale}
    answered = run_bytes("ask", "--json", stdin=stdin, env=env)
    assert answered.returncode == 0 and b"Traceback" not in answered.stderr
    records = [json.loads(line) for line in answered.stdout.decode("utf-8").splitlines()]
    assert len(records) == 2 and records[0]["answered"]
    chatted = run_bytes("chat", stdin=stdin, env=env)
    assert chatted.returncode == 0 and b"Traceback" not in chatted.stderr
    chatted.stdout.decode("utf-8")  # valid UTF-8
    assert b"Cho Hyun" in chatted.stdout


def test_escape_sequences_are_never_printed_and_do_not_change_the_answer() -> None:
    hostile = "Who is \x1b]2;pwned\x07 Cho \x1b[2J\x1b[31mHyun\x1b[0m?"
    chatted = run("chat", stdin=hostile + "\n")
    assert "\x1b" not in chatted.stdout and "\x07" not in chatted.stdout
    asked = [
        json.loads(line) for line in run("ask", "--json", stdin=f"{hostile}\nWho is Cho Hyun?\n").stdout.splitlines()
    ]
    assert asked[0]["facts"] == asked[1]["facts"] and asked[0]["answered"]


@pytest.mark.parametrize(
    "contents",
    [
        "QABOT_MAX_FACTS=2\nQABOT_OWNER_ID=caf\u00e9\n".encode("latin-1"),
        "QABOT_MAX_FACTS=2\n".encode("utf-16"),
        bytes(range(256)) * 4,
    ],
    ids=["latin-1", "utf-16", "random bytes"],
)
def test_a_dot_env_in_another_encoding_is_one_line_and_exit_2(tmp_path: Path, contents: bytes) -> None:
    (tmp_path / ".env").write_bytes(contents)
    result = run("check", "--knowledge", str(ROOT / "knowledge"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and ".env: not UTF-8" in result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_dot_env_that_is_a_fifo_is_an_error_not_a_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / ".env")
    result = run("check", "--knowledge", str(ROOT / "knowledge"), cwd=tmp_path)
    assert result.returncode == 2 and ".env: not a regular file" in result.stderr


def test_an_unwritable_output_is_one_line_and_exit_1() -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "bot", "ask", "Who is Cho Hyun?"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.strip() == "error: cannot write the output (No space left on device)"


def test_a_closed_output_is_one_line_and_exit_1() -> None:
    script = "import os, sys; os.close(1); from bot.cli import main; sys.exit(main(['ask', 'Who is Cho Hyun?']))"
    result = subprocess.run([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stderr.startswith("error: ")


def test_chat_in_a_terminal_never_echoes_escape_sequences() -> None:
    from tests.support.terminal import Terminal

    env = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
    env["TERM"] = "xterm"
    terminal = Terminal([sys.executable, "-m", "bot", "chat"], cwd=ROOT, env=env)
    try:
        terminal.read_until(b"you> ")
        terminal.send("Who is \x1b]2;pwned\x07 Cho \x1b[2JHyun?\r")
        shown = terminal.read_until(b"you> ")
        terminal.send("quit\r")
    finally:
        terminal.close()
    reply = shown.split(b"bot> ", 1)[1]
    assert b"Cho Hyun" in reply
    assert b"\x1b]" not in shown and b"\x1b[2J" not in shown  # the title and the screen are left alone


def test_loading_past_the_time_limit_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run("ask", "Who is Cho Hyun?", env={"QABOT_LOAD_TIMEOUT": "0.001", "QABOT_USE_CACHE": "false"})
    assert result.returncode == 2
    assert "took longer than" in result.stderr and "QABOT_LOAD_TIMEOUT" in result.stderr
    assert "Traceback" not in result.stderr


def chat_in_terminal(typed: list[str], *, columns: int = 80, extra: dict[str, str] | None = None) -> list[bytes]:
    """What the chat shows after each typed line, in a pseudo-terminal ``columns`` wide."""
    from tests.support.terminal import Terminal

    env = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_") and k != "NO_COLOR"}
    env.update({"TERM": "xterm", "COLUMNS": str(columns), **(extra or {})})
    terminal = Terminal([sys.executable, "-m", "bot", "chat"], cwd=ROOT, env=env, columns=columns)
    shown = []
    try:
        shown.append(terminal.read_until(b"you> "))
        for line in typed:
            terminal.send(line + "\r")
            shown.append(terminal.read_until(b"you> "))
        terminal.send("quit\r")
    finally:
        terminal.close()
    return shown


def test_chat_wraps_to_the_terminal_width_between_words() -> None:
    shown = chat_in_terminal(["Why are the governments arranging the visit?"], columns=50)
    lines = [line.rstrip() for line in re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", shown[1].decode()).split("\r\n")]
    reply = lines[lines.index(next(line for line in lines if line.startswith("bot> "))) :]
    assert len(reply) > 3 and max(len(line) for line in reply) <= 50
    # Lines break between words: joined with spaces, the quote is the article's sentence.
    assert "Prime Minister Shigeru Ishiba, diplomatic sources said Friday." in " ".join(reply)


def test_chat_suggestions_are_numbered_and_picked_by_number() -> None:
    shown = chat_in_terminal(["What is Ishiba's favourite food?", "1"])
    assert b"1. This combined photo shows" in shown[1]
    picked = shown[2].decode()
    assert "\u201cThis combined photo shows Japanese Prime Minister Shigeru Ishiba" in picked.replace("\r\n", " ")


def test_chat_honours_no_color_and_explains_itself() -> None:
    colored = chat_in_terminal(["Will Lee meet Donald Trump?"])
    assert re.search(rb"\x1b\[[0-9;]*m", colored[1])
    plain = chat_in_terminal(["Will Lee meet Donald Trump?", "help"], extra={"NO_COLOR": "1"})
    assert not re.search(rb"\x1b\[[0-9;]*m", plain[1] + plain[2])
    helped = plain[2].decode().replace("\r\n", " ")
    assert "Follow up" in helped and "quit" in helped and "number" in helped


def test_init_creates_a_knowledge_folder_and_a_dot_env_and_keeps_what_exists(tmp_path: Path) -> None:
    result = run("init", str(tmp_path / "mine"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "created" in result.stdout and "qabot chat" in result.stdout
    assert (tmp_path / "mine" / "knowledge" / f"{SEED_ID}.txt").read_bytes() == (
        ROOT / "knowledge" / f"{SEED_ID}.txt"
    ).read_bytes()
    assert (tmp_path / "mine" / ".env").read_text() == (ROOT / ".env.example").read_text()
    (tmp_path / "mine" / ".env").write_text("QABOT_MAX_FACTS=2\n")
    again = run("init", str(tmp_path / "mine"), cwd=tmp_path)
    assert "kept" in again.stdout and (tmp_path / "mine" / ".env").read_text() == "QABOT_MAX_FACTS=2\n"
    asked = run("ask", "Who is Cho Hyun?", cwd=tmp_path / "mine")
    assert asked.returncode == 0 and "Cho Hyun visited Japan" in asked.stdout


def test_a_file_name_with_escape_sequences_is_printed_without_them_and_removed_by_its_shown_id(
    tmp_path: Path,
) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "tram.txt").write_text("Tram line\n\nThe city approved a tram line.\n", encoding="utf-8")
    hostile = knowledge / "evil\x1b]2;pwned\x07.txt"
    hostile.write_text("Ferry cuts\n\nThe ferry runs twice a day.\n", encoding="utf-8")
    checked = run("check", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "\x1b" not in checked.stdout and "article evil:" in checked.stdout
    removed = run("remove", "evil", cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert "\x1b" not in removed.stdout + removed.stderr and "removed" in removed.stdout
    assert not hostile.exists() and (knowledge / "tram.txt").exists()


def test_init_never_writes_through_a_dangling_link(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / ".env").symlink_to(tmp_path / "elsewhere.env")
    result = run("init", str(tmp_path / "mine"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "link to nothing" in result.stdout
    assert not (tmp_path / "elsewhere.env").exists()


def test_a_missing_knowledge_folder_names_the_full_path_and_the_way_out(tmp_path: Path) -> None:
    result = run("ask", "Who is Cho Hyun?", cwd=tmp_path)
    assert result.returncode == 2
    assert str(tmp_path / "knowledge") in result.stderr
    assert "qabot init" in result.stderr and "--knowledge" in result.stderr and "QABOT_KNOWLEDGE_DIR" in result.stderr


def test_the_package_ships_the_example_and_its_data(tmp_path: Path) -> None:
    """The copies shipped inside the package are the repository's own."""
    data = ROOT / "bot" / "data"
    for name in (f"{SEED_ID}.txt", f"{SEED_ID}.meta.toml", "aliases.toml"):
        assert (data / "example" / name).read_bytes() == (ROOT / "knowledge" / name).read_bytes(), name
    assert (data / "env.example").read_bytes() == (ROOT / ".env.example").read_bytes()
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    import zipfile

    (wheel,) = tmp_path.glob("qabot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (f"bot/data/example/{SEED_ID}.txt", "bot/data/example/aliases.toml", "bot/data/env.example"):
        assert name in names
    assert "bot/engine/confidence.json" in names


def test_importing_the_command_line_loads_no_engine() -> None:
    """`qabot --help`, `health` and errors stay quick: numpy and the rest load when needed."""
    heavy = "('numpy', 'rapidfuzz', 'discord', 'onnxruntime')"
    code = f"import sys, bot.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_two_copies_of_one_article_are_named_by_check_and_quoted_once(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    story = "Ferry cuts\n\nThe ferry now runs twice a day. The ferry used to run four times a day.\n"
    (knowledge / "ferry.txt").write_text(story, encoding="utf-8")
    (knowledge / "ferry-copy.txt").write_text(story.replace(". ", ".  "), encoding="utf-8")
    checked = run("check", cwd=tmp_path)
    assert checked.returncode == 0
    assert "holds the same text as" in checked.stderr and "ferry-copy.txt" in checked.stderr
    asked = run("ask", "how often does the ferry run", cwd=tmp_path, env={"QABOT_ANSWER_THRESHOLD": "0.05"})
    quotes = [line for line in asked.stdout.splitlines() if line.startswith("\u201c")]
    assert quotes and len(quotes) == len(set(quotes))


def test_check_reads_one_file_as_add_would_and_adds_nothing(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "tram.txt").write_text("Tram line\n\nThe city approved a tram line.\n", encoding="utf-8")
    story = tmp_path / "Ferry Cuts.txt"
    story.write_text("Ferry cuts\n\nThe ferry now runs twice a day. It used to run four times.\n", encoding="utf-8")
    result = run("check", str(story), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "article ferry-cuts: 2 facts, Ferry cuts" in result.stdout
    assert sorted(path.name for path in knowledge.iterdir()) == ["tram.txt"]
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\xff\xd8\xff\xe0 not text")
    refused = run("check", str(binary), cwd=tmp_path)
    assert refused.returncode == 2 and "not UTF-8" in refused.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_slow_load_says_what_is_happening_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import cli

    for stream, quiet, expected in (
        (_Terminal(), False, True),
        (io.StringIO(), False, False),
        (_Terminal(), True, False),
    ):
        monkeypatch.setattr(sys, "stderr", stream)
        with cli._saying("Reading 3,000 articles...", quiet=quiet, after=0.01):
            time.sleep(0.2)
        said = stream.getvalue()
        assert ("Reading 3,000 articles..." in said) is expected
        assert said.endswith("\r\x1b[K") is expected
