"""The command line, ``python -m bot`` or ``qabot``: chat, ask, facts, eval, check.

Configuration and knowledge problems end with one line on standard error and exit code
2, never a traceback. Nothing here imports discord.py, so the command line starts fast.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot import wiring
from bot.engine.errors import KnowledgeError
from bot.engine.text import printable
from bot.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from bot.engine.conversation import Conversations
    from bot.engine.knowledge import Knowledge

T = TypeVar("T")

EXIT_CONFIG = 2
EXIT_FAILURE = 1


def _parser() -> argparse.ArgumentParser:
    knowledge_help = "knowledge folder (setting QABOT_KNOWLEDGE_DIR, default knowledge/)"
    parser = argparse.ArgumentParser(
        prog="qabot", description="Answers questions about news articles, quoting its sources."
    )
    parser.add_argument("--knowledge", metavar="DIR", type=Path, help=knowledge_help)
    # Every subcommand takes it too; SUPPRESS keeps a value given before the subcommand.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--knowledge", metavar="DIR", type=Path, default=argparse.SUPPRESS, help=knowledge_help)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    chat = commands.add_parser("chat", parents=[common], help="talk to the bot in this terminal (the default)")
    chat.add_argument("--verbose", action="store_true", help="also show fact ids and confidence")

    ask = commands.add_parser(
        "ask", parents=[common], help="answer questions once; with none, read one per line from standard input"
    )
    ask.add_argument("questions", nargs="*", metavar="QUESTION")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.add_argument("--verbose", action="store_true", help="also show fact ids and confidence")
    ask.add_argument("--conversation", metavar="ID", help="treat the questions as consecutive turns of conversation ID")

    facts = commands.add_parser("facts", parents=[common], help="list the fact base with ids")
    facts.add_argument("--article", metavar="ID", help="only this article")
    facts.add_argument(
        "--all", action="store_true", help="also the lines set aside (headline, byline, boilerplate ...)"
    )

    evaluate = commands.add_parser("eval", parents=[common], help="score a benchmark file (JSON Lines)")
    evaluate.add_argument("file", type=Path, metavar="FILE.jsonl")
    evaluate.add_argument("--predictions", type=Path, metavar="OUT.jsonl", help="write one prediction per question")
    evaluate.add_argument("--threshold", type=float, help="confidence needed to answer (default: the setting)")
    evaluate.add_argument("--sweep", action="store_true", help="also show the trade-off at thresholds 0.1 to 0.9")
    evaluate.add_argument(
        "--pooled",
        action="store_true",
        help="all the file's articles in one knowledge base, as a folder of them would be",
    )
    evaluate.add_argument(
        "--leave-one-out",
        action="store_true",
        help="score each article with models fit on --train and the file's other articles only",
    )
    evaluate.add_argument(
        "--train",
        type=Path,
        action="append",
        default=[],
        metavar="FILE.jsonl",
        help="training data for --leave-one-out",
    )
    evaluate.add_argument(
        "--ranking",
        choices=("hand", "learned"),
        default="hand",
        help="for --leave-one-out: keep the hand-set order of candidates, or fit one too",
    )
    evaluate.add_argument(
        "--read-order",
        choices=("learned", "reader", "lexical"),
        default="learned",
        help="for --leave-one-out with the reader: fit how its candidates are ordered, or order them by "
        "its logits alone, or keep the lexical order",
    )

    check = commands.add_parser("check", parents=[common], help="validate settings and knowledge (or one file)")
    check.add_argument(
        "file", type=Path, nargs="?", metavar="FILE", help="check this file as `add` would, not adding it"
    )
    backup = commands.add_parser(
        "backup", parents=[common], help="copy the feedback database, safely while the bot runs"
    )
    # A string, not a Path: "newdir/" says a folder is meant, and Path would drop the slash.
    backup.add_argument("path", metavar="PATH", help="the copy to write (a folder: a dated file in it)")
    commands.add_parser("health", parents=[common], help="whether the running bot is connected (QABOT_HEALTH_FILE)")
    add = commands.add_parser("add", parents=[common], help="check an article file and copy it into the knowledge")
    add.add_argument("file", type=Path, metavar="FILE", help="a .txt, .md or .html article")
    remove = commands.add_parser("remove", parents=[common], help="take an article out of the knowledge")
    remove.add_argument("article", metavar="ID", help="the article's id (see `qabot check`)")
    init = commands.add_parser("init", help="create a knowledge folder with an example article, and a .env")
    init.add_argument("folder", nargs="?", type=Path, default=Path("."), metavar="DIR", help="where (default: here)")
    commands.add_parser("run", parents=[common], help="run the Discord bot (without a token: the local chat)")
    commands.add_parser("sync", parents=[common], help="upload the slash commands to Discord now")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    if args.knowledge is not None:
        overrides["knowledge_dir"] = args.knowledge
    return load_settings(**overrides)


def _loaded(load: Callable[[Settings], T], settings: Settings, *, quiet: bool = False) -> T:
    """``load(settings)``, given up with a KnowledgeError after ``QABOT_LOAD_TIMEOUT`` seconds."""

    def expired(signum: int, frame: object) -> None:
        raise KnowledgeError(
            f"loading {settings.knowledge_dir.resolve()} took longer than {settings.load_timeout:g} s "
            "(QABOT_LOAD_TIMEOUT)"
        )

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, settings.load_timeout)
    try:
        with _saying(lambda: _reading_message(settings.knowledge_dir), quiet=quiet):
            return load(settings)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _reading_message(folder: Path) -> str:
    """What a slow load says: how many articles it reads, and where."""
    from bot.engine.folder import file_names
    from bot.engine.knowledge import ARTICLE_SUFFIXES
    from bot.render import counted

    try:
        count = len(file_names(folder, ARTICLE_SUFFIXES))
    except KnowledgeError:
        return f"Reading the articles in {folder}..."
    return f"Reading {counted(count, 'article')} in {folder}..."


@contextlib.contextmanager
def _saying(message: str | Callable[[], str], *, quiet: bool = False, after: float = 0.5) -> Iterator[None]:
    """Say on the terminal what is happening when it takes longer than ``after`` seconds
    (a first start on a large archive), and clear the line when it is done. Nothing is
    said to a pipe or a file, or when ``quiet``."""
    import threading

    stream = sys.stderr
    if quiet or stream is None or not stream.isatty():
        yield
        return
    shown = threading.Event()

    def say() -> None:
        stream.write(printable(message if isinstance(message, str) else message()))
        stream.flush()
        shown.set()

    timer = threading.Timer(after, say)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()
        if shown.is_set():
            stream.write("\r\x1b[K")
            stream.flush()


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.chat import run_chat

    settings = _settings(args)
    matcher = _loaded(wiring.matcher_for, settings)
    verbose = getattr(args, "verbose", False)

    def reload() -> Conversations:
        # Settings as they were at the start; the folder's files as they are now.
        return wiring.conversations_for(settings, wiring.matcher_for(settings))

    return run_chat(matcher.knowledge, wiring.conversations_for(settings, matcher), verbose=verbose, reload=reload)


def cmd_ask(args: argparse.Namespace) -> int:
    from bot.render import render_text

    settings = _settings(args)
    matcher = _loaded(wiring.matcher_for, settings, quiet=args.json)
    knowledge = matcher.knowledge
    questions = args.questions or (line.rstrip("\n") for line in sys.stdin)
    conversations = wiring.conversations_for(settings, matcher) if args.conversation is not None else None
    for question in questions:
        if not args.questions and not question.strip():
            continue
        if conversations is not None:
            answer = conversations.answer(args.conversation, question)
        else:
            answer = matcher.answer(question)
        if args.json:
            print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        else:
            color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
            print(render_text(answer, knowledge, color=color, verbose=args.verbose) + "\n", flush=True)
    return 0


def cmd_facts(args: argparse.Namespace) -> int:
    settings = _settings(args)
    knowledge = _loaded(wiring.load_knowledge, settings)
    if args.article and args.article not in knowledge.articles:
        known = ", ".join(sorted(knowledge.articles))
        raise KnowledgeError(f"no article '{args.article}' in {settings.knowledge_dir.resolve()} (known: {known})")
    for article in knowledge.articles.values():
        if args.article and article.id != args.article:
            continue
        print(printable(f"# {article.id}: {article.citation()}"))
        for fact in knowledge.facts_of(article.id):
            kind = " (caption)" if fact.kind == "caption" else ""
            print(printable(f"{fact.id}{kind} [{fact.start}:{fact.end}] {fact.text}"))
        if args.all:
            for part in article.set_aside:
                text = " ".join(article.text[part.start : part.end].split())
                print(printable(f"({part.kind}) [{part.start}:{part.end}] {text}"))
            found = {"author": article.author, "published": article.published, "dateline": article.dateline}
            print("metadata: " + ", ".join(f"{name} {value!r}" for name, value in found.items() if value))
        print()
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.evaluation.harness import (
        format_conversation_scores,
        format_scores,
        format_sweep,
        format_turn_scores,
        is_conversation_file,
        matchers,
        predict,
        read_conversations,
        read_records,
        score,
        score_conversations,
        score_turns,
        sweep,
        turn_scores,
        write_predictions,
    )

    settings = _settings(args)
    threshold = wiring.threshold(settings) if args.threshold is None else args.threshold
    if not 0.0 <= threshold <= 1.0:
        raise SettingsError("--threshold must be between 0 and 1")
    if is_conversation_file(args.file):
        matcher = _loaded(wiring.matcher_for, settings.model_copy(update={"answer_threshold": threshold}))
        scores = score_conversations(read_conversations(args.file), matcher)
        print(format_conversation_scores(args.file.name, scores))
        return 0
    aliases = wiring.load_knowledge(settings).aliases
    records = list(read_records(args.file))
    reader = wiring.reader(settings)
    if args.leave_one_out:
        from bot.evaluation.calibrate import leave_one_out, questions

        if not args.train:
            raise SettingsError("--leave-one-out needs at least one --train FILE.jsonl to fit on")
        train = [questions(path, aliases, reader) for path in args.train]
        predictions, latencies, counts = leave_one_out(
            records,
            aliases,
            train,
            ranking=args.ranking,
            threshold=args.threshold,
            pooled=args.pooled,
            reader=reader,
            read=args.read_order,
        )
        how = f"each article left out in turn, {args.ranking} ranking" + (", pooled" if args.pooled else "")
        if reader is not None:
            how += f", reader ({args.read_order} order)"
        print(format_scores(f"{args.file.name} ({how})", score(records, predictions, latencies)))
    else:
        predictions, latencies = predict(records, aliases, threshold, pooled=args.pooled, reader=reader)
        name = args.file.name + (" (pooled)" if args.pooled else "") + ("" if reader else " (reader off)")
        print(format_scores(name, score(records, predictions, latencies)))
        counts = score_turns(
            records, matchers(records, aliases, pooled=args.pooled, threshold=threshold, reader=reader)
        )
    if counts[1]:
        print(format_turn_scores(turn_scores(counts)))
    if args.predictions:
        write_predictions(args.predictions, predictions)
    if args.sweep:
        print(format_sweep(sweep(records, predictions, [round(0.1 * step, 1) for step in range(1, 10)])))
    return 0


# The largest article `add` and `check FILE` take: what a knowledge folder does.
_ADD_LIMIT = 5_000_000


def _file_bytes(path: Path) -> bytes:
    try:
        if not path.is_file():
            raise KnowledgeError(f"{path.resolve()}: no such file")
        return path.read_bytes()
    except OSError as exc:
        raise KnowledgeError(f"{path.resolve()}: cannot be read ({exc.strerror})") from None


def _check_file(path: Path) -> int:
    """``check FILE``: the file read as ``add`` reads it, and nothing added."""
    from bot.articles import read_article
    from bot.render import counted

    article, facts = read_article(path.name, _file_bytes(path), limit=_ADD_LIMIT)
    print(printable(f"article {article.id}: {counted(len(facts), 'fact')}, {article.citation()}"))
    for fact in facts[:3]:
        print(printable(f"  {fact.id}  {fact.text[:100]}"))
    print(f"{path.name}: ok; `qabot add {path}` adds it")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from bot.articles import add_article
    from bot.render import counted

    settings = _settings(args)
    path: Path = args.file
    article_id, count = add_article(settings.knowledge_dir, path.name, _file_bytes(path), limit=_ADD_LIMIT)
    print(printable(f"added {article_id} ({counted(count, 'fact')}) to {settings.knowledge_dir.resolve()}"))
    print("A running bot picks it up on /reload or SIGHUP.")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from bot.articles import remove_article

    settings = _settings(args)
    removed = remove_article(settings.knowledge_dir, args.article)
    print(printable("removed " + ", ".join(str(path) for path in removed)))
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from bot.scaffold import init

    try:
        done = init(args.folder)
    except OSError as exc:
        raise KnowledgeError(
            f"{Path(exc.filename or args.folder).resolve()}: cannot be created ({exc.strerror})"
        ) from None
    print("\n".join(done))
    where = "" if args.folder.resolve() == Path.cwd() else f"cd {args.folder} && "
    print(f"Next: {where}qabot chat   (edit .env to add a Discord token, then: qabot run)")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    import sqlite3
    import time

    from bot.discord_app.store import backup

    settings = _settings(args)
    if settings.database_url is not None:
        raise SettingsError(
            "QABOT_DATABASE_URL is set: back up PostgreSQL with pg_dump; `backup` copies the SQLite file"
        )
    source = settings.database_path
    if not source.is_file():
        raise SettingsError(f"{source.resolve()}: no database there to back up (QABOT_DATABASE_PATH)")
    path = Path(args.path).expanduser()
    if args.path.endswith(("/", os.sep)) and not path.is_dir():
        raise SettingsError(f"{printable(str(path.resolve()))}: no such folder to back up into")
    target = path / time.strftime("qabot-%Y%m%d-%H%M%S.sqlite3") if path.is_dir() else path
    if target.exists():
        raise SettingsError(f"{target.resolve()}: already exists; choose another path")
    try:
        votes, questions = backup(source, target)
    except (sqlite3.Error, OSError) as exc:
        raise SettingsError(f"backing up {source.resolve()} to {target.resolve()} failed: {exc}") from None
    from bot.render import counted

    done = f"{counted(votes, 'vote')} and {counted(questions, 'unanswered question')}"
    print(f"backed up {done} to {printable(str(target.resolve()))}")
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    from bot.discord_app.health import read_health

    settings = _settings(args)
    if settings.health_file is None:
        raise SettingsError("QABOT_HEALTH_FILE is not set; the running bot writes its state there")
    healthy, line = read_health(settings.health_file)
    print(line) if healthy else _error(line)
    return 0 if healthy else EXIT_FAILURE


def cmd_check(args: argparse.Namespace) -> int:
    from bot.render import counted

    if args.file is not None:
        return _check_file(args.file)
    settings = _settings(args)
    knowledge = _loaded(wiring.load_knowledge, settings)
    print(f"settings: ok (knowledge {settings.knowledge_dir}, threshold {wiring.threshold(settings)})")
    print(f"discord token: {'set' if settings.discord_token else 'not set'}")
    for article in knowledge.articles.values():
        count = len(knowledge.facts_of(article.id))
        print(printable(f"article {article.id}: {counted(count, 'fact')}, {article.citation()}"))
        aside = sum(part.end - part.start for part in article.set_aside)
        if aside > len(article.text.strip()) / 2:
            print(
                printable(
                    f"warning: {article.path or article.id}: most of the text ({aside:,} of "
                    f"{len(article.text.strip()):,} characters) was set aside as not the article; "
                    f"see `qabot facts --all --article {article.id}`"
                ),
                file=sys.stderr,
            )
    for first, second in _copies(knowledge):
        print(printable(f"warning: {second} holds the same text as {first}; it is quoted once"), file=sys.stderr)
    counts = ", ".join(
        counted(len(items), noun)
        for items, noun in (
            (knowledge.articles, "article"),
            (knowledge.facts, "fact"),
            (knowledge.aliases, "alias group"),
        )
    )
    print(f"knowledge: ok ({counts})")
    return 0


def _copies(knowledge: Knowledge) -> list[tuple[str, str]]:
    """Pairs of articles whose texts are the same but for spacing (a file saved twice)."""
    seen: dict[str, str] = {}
    pairs = []
    for article in knowledge.articles.values():
        key = " ".join(article.text.split())
        name = article.path or article.id
        if key in seen:
            pairs.append((seen[key], name))
        else:
            seen[key] = name
    return pairs


def _discord(args: argparse.Namespace, *, sync_only: bool) -> int:
    import asyncio

    settings = _settings(args)
    index = _loaded(wiring.load_index, settings)
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        if sync_only:
            raise SettingsError("QABOT_DISCORD_TOKEN is not set; syncing commands needs the bot's token")
        print(
            "QABOT_DISCORD_TOKEN is not set, so here is the local chat instead (see README: Discord).", file=sys.stderr
        )
        return cmd_chat(args)

    from bot import logs
    from bot.discord_app.bot import RunError, run_bot

    try:
        logs.configure(settings.log_level, settings.log_file)
    except OSError as exc:
        raise SettingsError(f"QABOT_LOG_FILE: {settings.log_file}: cannot be written ({exc.strerror})") from None
    try:
        asyncio.run(run_bot(settings, index, sync_only=sync_only))
    except RunError as exc:
        if exc.config:
            raise SettingsError(str(exc)) from None
        _error(str(exc))
        return EXIT_FAILURE
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    return _discord(args, sync_only=False)


def cmd_sync(args: argparse.Namespace) -> int:
    return _discord(args, sync_only=True)


_COMMANDS = {
    "chat": cmd_chat,
    "ask": cmd_ask,
    "facts": cmd_facts,
    "eval": cmd_eval,
    "check": cmd_check,
    "init": cmd_init,
    "add": cmd_add,
    "remove": cmd_remove,
    "backup": cmd_backup,
    "health": cmd_health,
    "run": cmd_run,
    "sync": cmd_sync,
}


def _text_streams() -> None:
    """Read standard input as UTF-8, invalid bytes replaced, and write only valid UTF-8,
    whatever the locale says."""
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8", errors="replace")


def _drop_stdout() -> None:
    """Send what is left of standard output nowhere, so that the interpreter's last flush
    does not fail again on an output that cannot be written."""
    with contextlib.suppress(OSError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)


def _error(message: str) -> None:
    if sys.stderr is not None:
        print(f"error: {printable(message)}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = _COMMANDS[args.command or "chat"]
    if sys.stdout is None:
        _error("standard output is closed; run the command with its output going somewhere")
        return EXIT_FAILURE
    try:
        _text_streams()
        code = command(args)
        sys.stdout.flush()
        return code
    except (KnowledgeError, SettingsError) as exc:
        _error(str(exc))
        return EXIT_CONFIG
    except BrokenPipeError:
        _drop_stdout()
        return 0
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # writing the output failed: a full disk, a closed descriptor
        _drop_stdout()
        _error(f"cannot write the output ({exc.strerror or exc})")
        return EXIT_FAILURE
