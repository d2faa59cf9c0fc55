"""The form recipes (prefix, closing, banned, letter case, length, Markdown, JSON, terse) against the planner
probe's findings and new variants of each class: a task is planned only with what it asks for, or refused
naming what was not read; never the opposite (a ban read as a requirement), never a narrower or wider check
than the task (a scope, a frequency or a template dropped; a requirement added), never a question as an order.
Each planned check is then shown saying "no" to answers that break the task and "yes" to ones the task allows."""

from __future__ import annotations

import pytest

from recipe_suite import planned_as_expected
from rl_agent.kit.planning.recipes import CheckItem, plan_and_prove, run_check

# (task, expected): a dict of parameters the plan must have, or a word the refusal must name.
REPORT = [
    # a ban read as a requirement: words between the verb and "with"
    ("Start no answers with 'Well'.", "'no'"),
    ("Begin your replies not with 'Honestly'.", "'not'"),
    ("Begin none of your answers with 'Look'.", "'none'"),
    ("Start answers never with 'Well'.", "'never'"),
    ("End none of your replies with 'Cheers'.", "'none'"),
    ("Finish no reply with 'Regards'.", "'no'"),
    # asking for hedging/filler is not the terse task
    ("Hedge your answers.", "a requirement the offline library covers"),
    ("Always hedge.", "a requirement the offline library covers"),
    ("Use more filler.", "a requirement the offline library covers"),
    # a frequency
    ("Answer in all caps at times.", "at times"),
    ("Reply in all caps from time to time.", "from time to time"),
    ("Start most answers with 'Okay'.", "'most'"),
    ("Start some answers with 'Hmm'.", "'some'"),
    ("Avoid Markdown from time to time.", "from time to time"),
    ("Never say 'I think' from time to time.", "from time to time"),
    # JSON
    ("Reply in JSON with the key 'answer' or 'result'.", "'or'"),
    ('Reply in JSON like {"answer": "..."} or {"error": "..."}.', "'or'"),
    ("Reply in JSON with only the keys 'answer' and 'source'.", {"keys": ["answer", "source"], "exact": True}),
    ("Reply with a JSON object with exactly the keys 'answer' and 'source'.", {"keys": ["answer", "source"], "exact": True}),
    ("Reply in JSON with keys 'a' and 'b' of type string.", "which of the keys"),
    ("Reply in JSON with keys 'answer' and 'notes' and nothing else.", {"keys": ["answer", "notes"], "exact": True}),
    # a unit or a scope inside the trigger
    ("End every line with ';'.", "'line'"),
    ("End online answers with 'Bye'.", "'online'"),
    ("Never start a sentence with 'And'.", "'sentence'"),
    ("Don't begin sentences with 'So'.", "'sentences'"),
    ("Never start a paragraph with 'Also'.", "'paragraph'"),
    ("Prefix every line with '> '.", "'line'"),
    ("Start every paragraph with 'Note:'.", "'paragraph'"),
    ("End each sentence with '!'.", "'sentence'"),
    ("Never start replies except greetings with 'Hi'.", "except"),
    ("Never start answers about weather with 'Sure'.", "weather"),
    ("Start answers to history questions with 'Fact:'.", "history"),
    ("End replies to complaints with 'Sorry for the trouble.'", "complaints"),
    ("Keep answers to short questions under 10 words.", "short questions"),
    ("Keep introductions under 20 words.", "introductions"),
    ("Limit explanations to 3 sentences.", "explanations"),
    ("Cap greetings at 5 words.", "greetings"),
    ("Use all caps only for those users.", "those"),
    ("For this question only, reply in all caps.", "this"),
    # a requirement added
    ("No bold text.", {"ban": "elements", "elements": ["bold"]}),
    ("Don't use tables.", {"ban": "elements", "elements": ["table"]}),
    ("Avoid headings.", {"ban": "elements", "elements": ["heading"]}),
    ("No code blocks.", {"ban": "elements", "elements": ["code_block"]}),
    ("Conclude every response with the sentence 'Have a nice day.'", {"closing": "Have a nice day.", "whole_line": False}),
    ("Don't hedge.", {"word_limit": None, "fillers": []}),
    # a template
    ("Begin with 'Dear <name>,' in every reply.", "placeholder"),
    ("End every answer with 'Confidence: N%'.", "placeholder"),
    ("End every answer with 'Score: X/10'.", "placeholder"),
    ("Never begin a reply with 'As a <role>'.", "placeholder"),
    # a question
    ("Should answers start with 'Answer:'?", "question"),
    ("Do answers need to start with 'Answer:'?", "question"),
    ("Should answers be in all caps?", "question"),
    # in-library phrasings that were refused, or refused as the opposite
    ("Be less verbose.", {"word_limit": 12}),
    ("Don't be verbose.", {"word_limit": 12}),
    ("Never more than 20 words.", {"unit": "words", "max": 20}),
    ("Not over 20 words.", {"unit": "words", "max": 20}),
    ("Never use bullet points or numbered lists.", {"ban": "bullets"}),
]

VARIANTS = [
    ("Open none of the replies with 'Look'.", "'none'"),
    ("Start not a single answer with 'So'.", "not"),
    ("Close no answer with 'Bye'.", "'no'"),
    ("Begin a few answers with 'Hey'.", "few"),
    ("Start half of your answers with 'Note:'.", "half"),
    ("End many replies with 'Cheers'.", "many"),
    ("Write in lowercase every now and then.", "now and then"),
    ("Answer in capital letters once in a while.", "once in a while"),
    ("Begin every other answer with 'Tip:'.", "every other"),
    ("Ideally, keep answers under 12 words.", "ideally"),
    ("Start every bullet with '-'.", "bullet"),
    ("End each paragraph with 'Next.'", "paragraph"),
    ("Start each list item with '*'.", "list item"),
    ("Never open emails to customers with 'Hey'.", "emails"),
    ("Answer history questions in at most five words.", "history"),
    ("Reply in lowercase to casual users.", "casual"),
    ("Start answers about cooking with 'Chef says:'.", "cooking"),
    ("Finish every answer with 'Regards, {name}'.", "placeholder"),
    ("Start every answer with '[Bot]: ...'.", "placeholder"),
    ("Start every answer with 'Step N:'.", "placeholder"),
    ("Is it OK to answer in lowercase?", "question"),
    ("Must answers be under 10 words?", "question"),
    ("Please be brief and hedge where unsure.", "where"),
    ("Do hedge.", "a requirement the offline library covers"),
    ("Reply in JSON with key 'answer', or 'text' if it is long.", "or"),
    ("Answer in JSON with exactly the fields 'name' and 'age'.", {"keys": ["name", "age"], "exact": True}),
    ('Reply in JSON with keys "answer" and "confidence" as numbers.', "numbers"),
    ("No italics.", {"ban": "elements", "elements": ["italic"]}),
    ("Avoid bold and tables.", {"ban": "elements", "elements": ["bold", "table"]}),
    ("No hedging.", {"word_limit": None, "fillers": []}),
    ("No filler words.", {"word_limit": None, "hedges": []}),
    ("Stop being so verbose.", {"word_limit": 12}),
    ("End every answer with the line 'Over.'", {"closing": "Over.", "whole_line": True}),
    ("Limit yourself to 30 words.", {"unit": "words", "max": 30}),
    ("Answer in at most five words for all questions.", {"unit": "words", "max": 5}),
]

# the second probe (new kinds of wording)
SECOND = [
    ('Reply in JSON like [{"name": "...", "age": 0}].', "array of objects"),
    ('Reply in JSON like [{"name": "..."}, {"name": "..."}].', "array of objects"),
    ("Never write 3 sentences.", "exactly or at most"),
    ("Don't use 50 words.", "exactly or at most"),
    ('Reply in JSON like {"answer": "...", "meta": {"source": "...", "year": 0}}.', "nested"),
    ('Reply in JSON like {"result": {"answer": "..."}}.', "nested"),
    ('Reply in JSON like {"answer": "...", "steps": [{"n": 1, "text": "..."}]}.', "nested"),
    ("Don't hedge, don't ramble.", {"word_limit": 12}),
    ("No hedging, no waffle.", {"word_limit": 12}),
    ('Reply in JSON like {"answer": "string", "score": "number"}.', "type or its value"),
    ('Reply in JSON with keys "user.name" and "user.email".', "nested key"),
    ("Never start with a greeting like 'Hi'.", "examples of a kind"),
    ("Don't begin with greetings like 'Hello' or 'Hey'.", "examples of a kind"),
    ("Avoid words like 'very'.", "examples of a kind"),
    ("Never use phrases like 'to be honest'.", "examples of a kind"),
    ("Don't use `**bold**`.", "formatting or the literal text"),
    ("Never use `*italics*`.", "formatting or the literal text"),
    ("Start every answer with the word 'Yes'.", {"prefix": "Yes"}),
    ("End every answer with the word 'done'.", {"closing": "done", "whole_line": False}),
    ("Never use numbered lists.", {"ban": "elements", "elements": ["numbered"]}),
    ("Don't use code blocks.", {"ban": "elements", "elements": ["code_block"]}),
    ("No fluff.", {"word_limit": None, "hedges": []}),
    ('Reply in JSON like {"answer": "Paris", "confidence": 0.9}.', {"types": {"confidence": "number"}}),
    ('Reply with JSON like {"answer": "...", "sources": []}.', {"types": {"sources": "array"}}),
    ("No longer than 15 words.", {"unit": "words", "max": 15}),
    # new variants of the same kinds
    ('Answer with a JSON list like [{"id": 1}].', "array of objects"),
    ('Reply in JSON like {"a": {"b": 1}}.', "nested"),
    ('Reply in JSON with the fields "address/city" and "zip".', "nested key"),
    ("Don't use 12 words.", "exactly or at most"),
    ("Avoid fillers such as 'um'.", "such"),
    ("Don't say things like 'no problem'.", "a requirement the offline library covers"),
    ("Don't say words like 'no problem'.", "examples of a kind"),
    ("Never use `# headings`.", "formatting or the literal text"),
    ("Begin each reply with the word 'No'.", {"prefix": "No"}),
    ("Avoid numbered lists in your replies.", {"ban": "elements", "elements": ["numbered"]}),
    ('Reply in JSON like {"ok": true, "answer": "..."}.', {"types": {"ok": "boolean"}}),
    ("Stop rambling.", {"word_limit": 12}),
]

# the third probe: negations and frequencies written as symbols or numbers, contradictions, nested arithmetic
THIRD = [
    ("❌ Capital letters", "❌"),
    ("🚫 ALL CAPS", "🚫"),
    ("Uppercase ✗", "✗"),
    ("⛔ Reply in lowercase.", "⛔"),
    ("🚫 Start with 'Hello'.", "🚫"),
    ("Start every answer with 'Well,' ❌", "❌"),
    ("End with 'Cheers' 👎", "👎"),
    ("At most 5 words ❌", "❌"),
    ("Capital letters: 0.", "'0'"),
    ("ALL CAPS: 0%", "0%"),
    ("Answers starting with 'Hi': 0", "'0'"),
    ("Be direct and use more words.", "longer"),
    ("Be concise and say more.", "longer"),
    ("Compute the sum of products; final answer after '####'.", "one operation per problem"),
    ("Compute the product of differences; final answer after '####'.", "one operation per problem"),
    ("Start with 'Answer:' in 50% of answers.", "50%"),
    ("Start 2 of 3 answers with 'Tip:'.", "2 3"),
    ("In 2025, start every answer with 'Hi'.", "2025"),
    ("At most 10 words in 90% of answers.", "90%"),
    ("Reply in all caps on 12/25.", "12/25"),
    ("Don't say 'sorry' 2 times.", "'2'"),
    ("At most 50 words (±10).", "±"),
    ("Don't use uppercase letters to shout.", "shout"),
    ("No caps.", "a requirement the offline library covers"),
    ("Don't write 'IT'.", "any case"),
    ("End every answer with '\\n'.", "line break"),
    ("Don't use 'z'.", "the letter"),
    ("~~Start every answer with 'Answer:'~~", "~"),
    ("Answer with a sentence.", "a requirement the offline library covers"),
    # faithful readings whose own proof used to fail
    ("No bullet points or headings.", {"ban": "elements", "elements": ["bullets", "heading"]}),
    ("End every answer with '?'.", {"closing": "?", "whole_line": False}),
    ("Start every answer with 'Sure'.", {"prefix": "Sure"}),
    # new variants of the same kinds
    ("✅ Lowercase only. ❌ Capitals.", "one letter case"),
    ("Bullet points: never (0).", "a ban I can read"),
    ("Use 'Answer:' as the prefix 3 times out of 4.", "a requirement the offline library covers"),
    ("Keep it under 30 words, say more if needed.", "'if'"),
    ("Compute totals of products; final answer after 'Answer:'.", "totals"),
    ("Never say 'OK'.", "any case"),
    ("Never start with 'I'.", "the letter"),
    ("Start every answer with '\\t'.", "line break"),
    ("Never start with \"'Sure'\".", {"openers": ["Sure"]}),  # a quote inside a quote is the text it quotes
    ("Never use over 10 words.", {"unit": "words", "max": 10}),
]

# the fourth probe: sentences about someone else's text, past habits and permissions are not orders
FOURTH = [
    ("User messages are in JSON with the key 'query'.", "is about"),
    ("The user writes in all caps.", "is about 'user'"),
    ("Questions start with 'Q:'.", "is about 'questions'"),
    ("Questions end with '?'.", "is about 'questions'"),
    ("Chats end with 'Bye'.", "is about 'chats'"),
    ("Questions are under 20 words.", "is about 'questions'"),
    ("Answers from the user start with 'Q:'.", "from the user"),
    ("Answers used to be in all caps.", "used to"),
    ("Answers used to start with 'Sure'.", "used to"),
    ("You used to reply in lowercase.", "used to"),
    ("Answers started with 'Sure'.", "a requirement the offline library covers"),
    ("Replies ended with 'Cheers'.", "a requirement the offline library covers"),
    ("Answers need not start with 'Sure'.", "need not"),
    ("You need not say 'please'.", "need not"),
    ("Answers need not use bullet points.", "need not"),
    ("They must start with 'Sure'.", "is about 'they'"),
    ("Begin each answer with '>> '.", {"prefix": ">> "}),
    ("Start every answer with 'Q: '.", {"prefix": "Q: "}),
    # new variants of the same kinds
    ("Customers always write in lowercase.", "is about 'customers'"),
    ("Prompts end with 'Answer:'.", "is about 'prompts'"),
    ("The model used to start every answer with 'Sure'.", "used to"),
    ("Answers opened with 'Well'.", "a requirement the offline library covers"),
    ("You don't have to use JSON with the key 'answer'.", "have to"),
    ("Bullet points are not required.", "not required"),
    ("Start every answer with '-> '.", {"prefix": "-> "}),
]

# the fifth probe: other parties named anywhere, conditions repeating the trigger, "not every time", verbatim quotes
FIFTH = [
    ("Only questions are in lowercase.", "question"),
    ("Only the user starts with 'Hi'.", "user"),
    ("Each question ends with '?'.", "question"),
    ("A user always starts with 'Hi'.", "user"),
    ("Your users write in lowercase.", "users"),
    ("Text from users is in lowercase.", "from users"),
    ("Every answer the user writes is in lowercase.", "user"),
    ("Messages to you end with 'Over'.", "messages to you"),
    ("Their replies are in all caps.", "their"),
    ("Reply in all caps to questions in all caps.", "questions"),
    ("Under 10 words for questions under 10 words.", "questions"),
    ("Be concise with concise users.", "users"),
    ("Use all caps in case you need to.", "in case"),
    ("Don't say 'sorry' every time.", "sometimes"),
    ("Don't use bullet points all the time.", "sometimes"),
    ("Don't start every answer with 'So'.", "negates every answer"),
    ("Do not say 'yes' or 'no' only.", "'only'"),
    ("Never start with 'And' in any sentence.", "sentence"),
    ('Reply in JSON like {"type": "list", "items": []}.', "type or its value"),
    ("Brief the user.", "user"),
    ("Direct your answers to the user.", "a requirement the offline library covers"),
    ("Give a list of numbers in ascending order.", "what to do with a given list"),
    ("Given a list of numbers in descending order, sort it.", "describes the input"),
    ("Start every answer with '答：'.", {"prefix": "答："}),
    ("Start every answer with 'Ａ:'.", {"prefix": "Ａ:"}),
    ("Reply in JSON with the keys 'x²' and 'y²'.", {"keys": ["x²", "y²"]}),
    # still read: the harmless mentions
    ("Please answer every question in lowercase.", {"case": "lower"}),
    ("Answer every question in at most 10 words.", {"unit": "words", "max": 10}),
    ("Never start any answer with 'Sure'.", {"openers": ["Sure"]}),
    # new variants of the same kinds
    ("Customers' messages end with 'Thanks'.", "customers"),
    ("Reply in lowercase to lowercase users.", "users"),
    ("Don't end with 'Cheers' each time.", "sometimes"),
    ("Don't say 'like' only.", "'only'"),
    ("Start every answer with '①'.", {"prefix": "①"}),
]


@pytest.mark.parametrize("task, expected", REPORT + VARIANTS + SECOND + THIRD + FOURTH + FIFTH,
                         ids=[t[:50] for t, _ in REPORT + VARIANTS + SECOND + THIRD + FOURTH + FIFTH])
def test_each_task_is_planned_with_what_it_asks_or_refused(task, expected, tmp_path):
    planned_as_expected(task, expected, tmp_path)


def test_variants_are_at_least_half_as_many_as_the_report_strings():
    assert len(VARIANTS) * 2 >= len(REPORT)


# (task, answers the check must reject, answers the task allows and the check must accept)
SAYS_NO = [
    ("No bold text.", ["**Paris.**", "It is __Paris__."], ["Paris.", "- Paris\n- Lyon", "# Answer\n\nParis.", "`Paris`"]),
    ("Don't use tables.", ["| city |\n|---|\n| Paris |"], ["**Paris.**", "- Paris"]),
    ("Reply in JSON with only the keys 'answer' and 'source'.",
     ['{"answer": "Paris", "source": "atlas", "mood": "happy"}', '{"answer": "Paris"}', "Paris."],
     ['{"answer": "Paris", "source": "atlas"}', '{"source": "atlas", "answer": "Paris"}']),
    ("Reply in JSON with the keys 'answer' and 'source'.", ['{"answer": "Paris"}'],
     ['{"answer": "Paris", "source": "atlas", "mood": "happy"}']),
    ("Conclude every response with the sentence 'Have a nice day.'", ["Paris.", "Have a nice day. Paris."],
     ["Paris. Have a nice day.", "Paris.\nHave a nice day."]),
    ("Don't hedge.", ["I think it is Paris.", "Probably Paris."],
     ["Paris.", "Paris is the capital of France, on the Seine, and has been for a very long time indeed."]),
    ("No filler words.", ["Great question! Paris."], ["Paris.", "Paris, as far as I know it is the capital of France."]),
    ("Start every answer with the word 'Yes'.", ["Yesterday it was Paris.", "Paris."], ["Yes, Paris.", "Yes Paris."]),
    ("End every answer with the word 'done'.", ["Paris is undone", "Paris."], ["Paris, done", "Paris. done"]),
    ("Never use numbered lists.", ["1. Paris\n2. Lyon"], ["- Paris\n- Lyon", "**Paris**"]),
    ("Don't use code blocks.", ["```\nParis\n```"], ["`Paris`", "- Paris"]),
    ('Reply in JSON like {"answer": "Paris", "confidence": 0.9}.', ['{"answer": "Paris", "confidence": "very"}'],
     ['{"answer": "Paris", "confidence": 0.9}', '{"answer": "Paris", "confidence": 1}']),
    ("Don't hedge, don't ramble.", ["Paris, which is the capital of France and its largest city, on the river Seine."],
     ["Paris."]),
    ("No bullet points or headings.", ["- Paris", "1. Paris", "# Paris"], ["**Paris**", "Paris."]),
    ("End every answer with '?'.", ["Paris.", "?"], ["Paris?", "Is it Paris?"]),
    ("Begin each answer with '>> '.", [">>Paris.", "Paris."], [">> Paris."]),
]


@pytest.mark.parametrize("task, bad, allowed", SAYS_NO, ids=[t[:40] for t, _, _ in SAYS_NO])
def test_the_planned_check_rejects_what_breaks_the_task_and_nothing_more(task, bad, allowed, tmp_path):
    plan, proof = plan_and_prove(task, tmp_path)
    assert proof.passed, proof.message()
    q = "What is the capital of France?"
    scores = run_check(tmp_path, "check.py", [CheckItem(q, a, "Paris.") for a in bad + allowed])
    assert scores == [0.0] * len(bad) + [1.0] * len(allowed), list(zip(bad + allowed, scores))
