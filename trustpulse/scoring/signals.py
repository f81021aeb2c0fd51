"""Text signals the scores need: questions, gratitude-only closings, advocacy and detraction.

Rules are explicit regular expressions so an analyst can read (and defend) them; see
docs/methodology.md for what each one means.
"""

from __future__ import annotations

import re

_INTERROGATIVE_START = re.compile(
    r"(?:^|[.!?]\s+|\n)(?:how|what|when|where|why|who|which|whose|can|could|would|will|do|does|did|is|are|"
    r"was|were|should|shall|may|might|have|has|any(?:one|body| update| news| idea)|is there|are there)\b[^.!?\n]{3,}$",
    re.IGNORECASE | re.MULTILINE,
)
_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w.])[@＠][\w.\-']+")
# angry, sad or unamused faces and a thumbs down: a turn with one is not a closing
_NEGATIVE_EMOJI = re.compile(
    "[\U0001f620\U0001f621\U0001f92c\U0001f624\U0001f612\U0001f44e\U0001f622\U0001f62d\U0001f61e\U0001f629\U0001f62b\U0001f644\U0001f92e]"
)
# thanks / acknowledgement / "solved" cues, by language (text is case-folded, handles and links removed)
_CLOSING_CUE = re.compile(
    r"(?:\b(?:thanks?|thank\s*(?:you|u)|thnx|thx|tks|ty|tysm|cheers|ta|appreciated?|appreciate it|"
    r"grateful|kudos|(?:will|i'll|ill|shall) do(?: that)?|i will|got it|noted|understood|dm(?:'?d|'?ed)|dming|"
    r"dm sent|sent (?:you )?(?:a |the |an )?(?:dm|message|pm|email)|message sent|just did|done|following|"
    r"no worries|no problem|all good|all set|sounds good|"
    r"(?:it |that |this )?(?:worked|works now|sorted|fixed|solved|resolved|found|taken care of)|problem solved|"
    r"(?:lo|te|os) (?:paso|mando|envío) por (?:dm|md|privado)|"
    r"made it|got through|have a (?:good|great|nice) (?:day|night|one|evening|weekend)|"
    # fr, de, es, it, pt, nl
    r"merci|bonne (?:journée|soirée|fin de journée)|c'est (?:bon|réglé|noté)|ça marche|"
    r"danke|dankeschön|vielen dank|besten dank|hat geklappt|geklappt|gelöst|alles klar|passt|"
    r"gracias|muchas gracias|resuelto|solucionado|perfecto|vale|"
    r"grazie|risolto|obrigad[oa]|valeu|resolvido|dank je|bedankt)\b"
    # ja, zh, ko (no word boundaries)
    r"|ありがと|有難う|感謝|お世話になって|助かりました|了解|承知|解決しました|楽しみ|谢谢|多谢|感谢|감사|고마워)",
    re.IGNORECASE,
)
# an acknowledgement word that opens the turn ("ok", "cool", "perfect"): mid-sentence they are no closing
_LEADING_ACK = re.compile(
    r"^\W*(?:ok(?:ay)?|k|kk|cool|great|perfect|awesome|excellent|brilliant|lovely|nice|sure|yes|yep|yup|"
    r"alright|right|fine|super|genial|parfait|d'accord|okidoki|top)\b",
    re.IGNORECASE,
)
# something that reopens the conversation: a contrast, a problem still open, a request, a negation of success
_REOPENS = re.compile(
    r"(?:\b(?:but|however|still|yet|except|unfortunately|although|"
    r"not (?:working|work|fixed|resolved|solved|received|delivered|arrived|yet|helpful)|"
    r"(?:does|did|is|was|has|have|had|do|can|could|would|will|wo)n[’']?t(?! (?:blame|worry|mind))|cannot|can not|"
    r"no (?:one|body|response|reply|answer|help|luck|change)|nobody|nothing|never|"
    r"(?<!no )(?:issues?|problems?(?! solved)|delay(?:ed|s)?)|broken|wrong|missing|lost|damaged|cancel(?:l?ed)?|"
    r"refund|complain(?:t|ts)?|waiting|ridiculous|terrible|horrible|awful|useless|worst|disappointed|"
    r"please (?!and thank)|pls|plz|help me|answer me|call me|(?:dm|pm|email|text) me|follow (?:me )?back|"
    r"when you follow|until you follow|if you|need|want|let me know|any help|here (?:are|is)|attached|screenshots?|"
    r"\d{4,}|[a-z]*\d[a-z\d]{4,}|"
    r"aber|immer noch|noch immer|nicht|kein(?:e|en)?|leider|bitte|"
    r"mais|toujours pas|pas|jamais|problème|svp|s'il vous plaît|"
    r"pero|todavía|aún|sigue|problema|por favor|"
    r"però|ancora|non|"
    r"mas|ainda|não)\b"
    r"|でも|しかし|ません|ない|けど|困|問題)",
    re.IGNORECASE,
)
# "thanks for losing my luggage": thanks followed by a complaint
_SARCASTIC_THANKS = re.compile(
    r"\bthanks? (?:a lot |so much )?(?:for|to you)\b.{0,40}\b(?:nothing|losing|leaving|ruining|being so|breaking|"
    r"wasting|cancel|delay|robotic|non ?helpful|unhelpful|making me|switch|being so (?:bad|slow|rude|useless))",
    re.IGNORECASE,
)
_ADVOCACY = re.compile(
    r"\b(?:recommend(?:ed|ing)?|highly recommend|go with|switch(?:ed)? to|worth (?:it|every)|best (?:\w+ )?ever|"
    r"love (?:it|them|this|their)|in (?:their|its) defen[cs]e|to be fair|give them a (?:try|chance)|"
    r"can't fault|never had a problem|always (?:helpful|reliable))\b",
    re.IGNORECASE,
)
_DETRACTION = re.compile(
    r"\b(?:avoid|stay away|never again|don't (?:buy|use|fly|bother)|do not (?:buy|use)|switching away|"
    r"cancel(?:l?ing|l?ed)? my|worst|scam|useless|awful)\b",
    re.IGNORECASE,
)


def is_question(text: str) -> bool:
    """A question mark (outside links; full-width too), or a sentence opening with an interrogative form."""
    bare = _LINK.sub(" ", text)
    return "?" in bare or "？" in bare or bool(_INTERROGATIVE_START.search(bare.strip()))


def _bare(text: str) -> str:
    """The words of a turn: links, @handles, '#' signs, 'RT' and HTML entities taken out, lower-cased."""
    text = _LINK.sub(" ", text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))
    text = _HANDLE.sub(" ", text).replace("#", " ")
    return re.sub(r"\s+", " ", re.sub(r"^\s*rt\b", " ", text, flags=re.IGNORECASE)).strip().casefold()


def closing_reason(text: str) -> str | None:
    """Why a turn closes its conversation (the cue that matched), or None when it needs (or may need) an answer.

    A closing is a thanks, an acknowledgement ("ok", "will do", "DM sent") or a report that the problem is gone
    ("it worked", "problem solved", "hat geklappt"), in any of the languages in `_CLOSING_CUE`, with nothing that
    reopens it: no question, no request ("please ...", "follow me back"), no contrast or open problem ("but",
    "still", "doesn't work", "aber", "mais", "pero", "ません") and no sarcastic thanks ("thanks for nothing").
    A turn of emoji alone (no link, no angry face) is a closing too: a thumbs up, a smile.
    """
    bare = _bare(text)
    if not re.search(r"\w", bare):
        has_link = bool(_LINK.search(text))
        return "emoji-only" if bare and not has_link and not _NEGATIVE_EMOJI.search(bare) else None
    if is_question(text) or _NEGATIVE_EMOJI.search(bare):
        return None
    if _REOPENS.search(bare) or _SARCASTIC_THANKS.search(bare):
        return None
    if _contributes_more(bare):
        return None
    cue = _CLOSING_CUE.search(bare) or _LEADING_ACK.match(bare)
    return cue.group(0).strip() if cue else None


# A sentence this long without a thanks or acknowledgement in it is a contribution of its own ("Interesting
# article. Social media is a whole new animal that everyone is trying to ... Thanks for sharing."): the turn
# opens a conversation with the owner, it does not close one.
CONTRIBUTION_MIN_WORDS = 15
_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])\s+")


# cue words that close a short reply ("Done.", "Understood") but mean nothing inside a long sentence
# ("... all that is understood by large organizations")
WEAK_CUES = frozenset({"understood", "noted", "done", "following", "found", "i will", "got it", "just did"})


def _contributes_more(bare: str) -> bool:
    def closes(sentence: str) -> bool:
        return any(m.group(0).strip().lower() not in WEAK_CUES for m in _CLOSING_CUE.finditer(sentence))

    return any(
        len(sentence.split()) >= CONTRIBUTION_MIN_WORDS and not closes(sentence)
        for sentence in _SENTENCE_END.split(bare)
    )


def is_closing(text: str) -> bool:
    """Thanks, an acknowledgement or "solved": closes a conversation, needs no answer (see `closing_reason`)."""
    return closing_reason(text) is not None


def is_gratitude_only(text: str) -> bool:
    """Kept for callers: the same judge as `is_closing`."""
    return is_closing(text)


def is_advocacy(text: str, sentiment_score: float | None) -> bool:
    """Recommends or defends: an advocacy phrase in a mention that is not negative."""
    return bool(_ADVOCACY.search(text)) and (sentiment_score is None or sentiment_score > -0.2)


def is_detraction(text: str, sentiment_score: float | None) -> bool:
    """Warns others away: a detraction phrase in a mention that is not positive."""
    return bool(_DETRACTION.search(text)) and (sentiment_score is None or sentiment_score < 0.2)
