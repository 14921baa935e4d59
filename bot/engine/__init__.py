"""The engine: knowledge files in, answers out, with no surface attached.

Modules, in the order data flows: ``text`` and ``lexicon`` (words), ``knowledge``
(files to articles and facts), ``index`` (the searchable form) and ``cache`` (kept on
disk), ``query`` (a question analysed), ``rank`` (candidate facts ordered),
``confidence`` (how likely the best one answers), ``matcher`` (the decision),
``answer`` (what is decided) and ``conversation`` (follow-ups). Nothing here imports
discord, sqlite, argparse or the settings; ``bot.wiring`` connects the engine to them.
"""
