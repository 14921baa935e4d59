"""Command, option and menu names and descriptions in Japanese and Korean, beside English.

discord.py passes every command's name, description and option texts through the tree's
``app_commands.Translator``; Discord then shows each user the words of their client's
language. The seed article's readers are in Japan and South Korea, so those come first.
"""

from __future__ import annotations

from discord import Locale, app_commands

# English text -> {locale: text}: command, option and menu names (lower case, no
# spaces, as Discord requires of names) and descriptions.
_TEXTS: dict[str, dict[Locale, str]] = {
    "ask": {Locale.japanese: "質問", Locale.korean: "질문"},
    "question": {Locale.japanese: "質問内容", Locale.korean: "질문내용"},
    "private": {Locale.japanese: "非公開", Locale.korean: "비공개"},
    "facts": {Locale.japanese: "事実", Locale.korean: "사실"},
    "article": {Locale.japanese: "記事", Locale.korean: "기사"},
    "source": {Locale.japanese: "出典", Locale.korean: "출처"},
    "help": {Locale.japanese: "ヘルプ", Locale.korean: "도움말"},
    "unanswered": {Locale.japanese: "未回答", Locale.korean: "미답변"},
    "status": {Locale.japanese: "状態", Locale.korean: "상태"},
    "reload": {Locale.japanese: "再読み込み", Locale.korean: "다시불러오기"},
    "add": {Locale.japanese: "追加", Locale.korean: "추가"},
    "list": {Locale.japanese: "一覧", Locale.korean: "목록"},
    "remove": {Locale.japanese: "削除", Locale.korean: "삭제"},
    "file": {Locale.japanese: "ファイル", Locale.korean: "파일"},
    "Ask a question about the article": {
        Locale.japanese: "記事について質問する",
        Locale.korean: "기사에 대해 질문하기",
    },
    "Your question, in your own words": {
        Locale.japanese: "あなたの言葉で質問してください",
        Locale.korean: "자유롭게 질문을 입력하세요",
    },
    "Only you see the answer": {
        Locale.japanese: "回答をあなただけに表示します",
        Locale.korean: "답변을 나에게만 표시합니다",
    },
    "Browse the facts the bot knows": {
        Locale.japanese: "ボットが知っている事実を見る",
        Locale.korean: "봇이 알고 있는 사실 보기",
    },
    "Only the facts of this article": {
        Locale.japanese: "この記事の事実だけ",
        Locale.korean: "이 기사의 사실만",
    },
    "Where the bot's knowledge comes from": {
        Locale.japanese: "ボットの知識の出典",
        Locale.korean: "봇이 아는 내용의 출처",
    },
    "What the bot knows and how to ask": {
        Locale.japanese: "ボットが知っていることと質問のしかた",
        Locale.korean: "봇이 아는 내용과 질문 방법",
    },
    "The questions the bot could not answer most often": {
        Locale.japanese: "ボットが答えられなかった質問(多い順)",
        Locale.korean: "봇이 답하지 못한 질문(많은 순)",
    },
    "How the bot is doing (bot owner only)": {
        Locale.japanese: "ボットの状態(ボットの所有者のみ)",
        Locale.korean: "봇 상태(봇 소유자 전용)",
    },
    "Load the knowledge folder again (bot owner only)": {
        Locale.japanese: "知識フォルダを再読み込み(ボットの所有者のみ)",
        Locale.korean: "지식 폴더 다시 불러오기(봇 소유자 전용)",
    },
    "Add, list or remove the articles the bot answers from": {
        Locale.japanese: "ボットが答えに使う記事を追加・一覧・削除",
        Locale.korean: "봇이 답에 쓰는 기사 추가·목록·삭제",
    },
    "Add an article: a .txt, .md or .html file": {
        Locale.japanese: "記事を追加(.txt、.md、.html ファイル)",
        Locale.korean: "기사 추가(.txt, .md, .html 파일)",
    },
    "The article, as a file": {Locale.japanese: "記事のファイル", Locale.korean: "기사 파일"},
    "The articles the bot answers from": {
        Locale.japanese: "ボットが答えに使う記事",
        Locale.korean: "봇이 답에 쓰는 기사",
    },
    "Remove an article": {Locale.japanese: "記事を削除", Locale.korean: "기사 삭제"},
    "The article's id": {Locale.japanese: "記事の ID", Locale.korean: "기사 ID"},
    "Ask the article": {
        Locale.japanese: "記事に質問",
        Locale.korean: "기사에 질문",
    },
}


class Translator(app_commands.Translator):
    """Japanese and Korean texts for the commands; English otherwise."""

    async def translate(
        self, string: app_commands.locale_str, locale: Locale, context: app_commands.TranslationContextTypes
    ) -> str | None:
        return _TEXTS.get(string.message, {}).get(locale)
