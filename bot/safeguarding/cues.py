"""Context cues: signs that words of risk are not about the writer, now.

A cue can lower a flag to a concern, never to ok: a person still reads every concern. The cues
are read from normalised text (bot/safeguarding/normalise.py), sentence by sentence:

- `past`: the words are about a time that is over ("two years ago", "I used to", "I'm in a
  good place now"), with nothing saying it is back ("again", "still", "lately", "tonight");
- `negated`: the writer says plainly it is not so ("I'm not suicidal", "no thoughts of harming
  myself", "I would never");
- `quoted`: they report what someone asked or said ("the nurse asked if I wanted to die");
- `general`: they talk about people or services in general ("people who self-harm", "staff
  should", "suicide prevention").
"""

from __future__ import annotations

import re
from functools import lru_cache

_PAST = re.compile(
    r"\b(?:(?:\w+|a few|a couple of) (?:years?|months?|decades?) ago|used to|back then|"
    r"at the time|in the past|in (?:19|20)\d\d|back in|as a (?:teenager|teen|student|child|kid)|"
    r"in my (?:teens|twenties|thirties|twenties)|when i was (?:younger|little|a teenager|a kid|"
    r"at school|at uni|\d+)|years back|once upon|last (?:time|year) i was in hospital|"
    r"(?:i am|i feel) (?:much |a lot |so much )?(?:better|well|fine|ok|okay|safe|stable|"
    r"happier)(?: now| these days)|in a (?:good|better) place|recovered|in recovery|"
    r"got through|came through|pulled through|(?:have|had) not (?:\w+ )?(?:since|for years)|"
    r"clean (?:from|of)|survived|"
    r"(?:have|has|had) not (?:\w+ ){1,2}(?:for|since) (?:\w+ )?"
    r"(?:years?|months?|ages|a long time)|(?:years?|months?) since|"
    r"it is been (?:\w+ )?(?:years?|months?)|(?:that|it) is (?:all )?over|"
    r"(?:been|kept|stayed) (?:\w+ )?(?:well|stable|safe|fine|better) (?:for|since)|"
    r"stopped (?:at|when|years|in|after)|"
    r"(?:when|as) (?:i|he|she|they) (?:was|were) "
    r"(?:\d+|young|younger|little|a teenager|a student|at school)|"
    r"feels like (?:a long time|ages|another life))\b"
)
_BACK = re.compile(
    r"\b(?:again|still|lately|recently|at the moment|right now|tonight|these days|this week|"
    r"today|this morning|every day|keep|keeps|starting to|started|coming back|came back|"
    r"creeping back|back to|relapse\w*)\b"
)
_NEGATED = re.compile(
    r"\b(?:(?:i am|i m|am|i have) (?:not|never) (?:been )?(?:suicidal|at risk|in danger|"
    r"going to (?:kill|hurt|harm|end)|planning (?:to|on))|not (?:feeling )?suicidal|"
    r"no (?:thoughts|intention|intentions|plans?|urges?|wish|desire) (?:of|to|about)|"
    r"would never|never (?:would|have|had|thought|tried|wanted|felt)|nothing like that|"
    r"not like that|no risk|not a risk|not in crisis|not in danger|nowhere near|"
    r"not (?:\w+ ){0,2}(?:self harming|suicidal|thinking about (?:it|death|dying|suicide))|"
    r"(?:not|never) (?:\w+ ){0,3}(?:been )?a danger|"
    r"not (?:planning|going) to (?:\w+ )?(?:hurt|harm|kill|end)|"
    r"not having (?:a crisis|any thoughts|thoughts)|no (?:i am|i m) not)\b"
)
_QUOTED = re.compile(
    r"\b(?:asked (?:me |us |him |her |them )?(?:if|whether|about|how)|"
    r"(?:ask|asks|asking) (?:me |us |people )?(?:if|whether)|(?:said|says|told (?:me|us|him|her|"
    r"them)) (?:that )?(?:i|you|we|he|she|they) (?:should|would|could|might)|tick box|"
    r"questionnaire|the form (?:asks|asked)|risk assessment|they (?:ask|asked) (?:if|whether))\b"
)
_GENERAL = re.compile(
    r"\b(?:(?:people|someone|somebody|anyone|anybody|patients|service users|those|men|women|"
    r"young people|kids|teenagers|others|everyone|carers|families|children|pupils|students|adults|"
    r"someone s|a person|clients|residents|veterans) (?:who|that|with|in|at)|"
    r"(?:staff|nurses|doctors|services|the service|the team|teams|gps?|police|hospitals?|"
    r"wards?|schools?|a and e|the nhs|nhs) (?:should|need|needs|must|could|ought|have to)|"
    r"prevention|awareness|training|strategy|policy|statistics|campaign|charity)\b"
)
_RAW_QUOTE = re.compile(r"[\"\u201c\u201d]|(?<!\w)'[^']{6,}'(?!\w)")


def cues(normal: str, raw: str = "") -> tuple[str, ...]:
    """Return the context cues in one normalised sentence (`raw`, its original text)."""
    found = _normal_cues(normal)
    if "quoted" in found or not _RAW_QUOTE.search(raw):
        return found
    # Quotation marks are gone from normalised text: only the original shows them.
    return tuple(c for c in CUES if c in found or c == "quoted")


CUES = ("past", "negated", "quoted", "general")


@lru_cache(maxsize=256)
def _normal_cues(normal: str) -> tuple[str, ...]:
    """Return the cues normalised text shows by itself (read by the screener and its model)."""
    found: list[str] = []
    if _PAST.search(normal) and not _BACK.search(normal):
        found.append("past")
    if _NEGATED.search(normal):
        found.append("negated")
    if _QUOTED.search(normal):
        found.append("quoted")
    if _GENERAL.search(normal):
        found.append("general")
    return tuple(found)
