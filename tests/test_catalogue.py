"""The English catalogue holds a translation of every piece of interface text in the code."""

import re
from collections import Counter

from babel.messages.checkers import python_format
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from config import ROOT

PO = ROOT / "tracker" / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def test_every_message_in_the_code_has_an_english_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    # The same command the catalogue is kept with (see babel.cfg).
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(pot), str(ROOT)]
    )
    with pot.open("rb") as f:
        extracted = read_po(f)
    with PO.open("rb") as f:
        catalogue = read_po(f, locale="en")
    missing = [
        (m.context, m.id)
        for m in extracted
        if m.id and not (catalogue.get(m.id, context=m.context) or _Empty).string
    ]
    assert missing == []
    # Placeholders match, so that no translation fails when it is filled in.
    for message in catalogue:
        if message.id and message.python_format and message.string:
            python_format(catalogue, message)


class _Empty:
    string = ""


def test_each_message_is_defined_once():
    # Gettext keeps the first of two definitions and Babel the last: a second one would make
    # the English depend on the tool that compiled it.
    keys = re.findall(r'^(?:msgctxt (".*")\n)?msgid ((?:".*"\n)+)', PO.read_text(), flags=re.M)
    repeated = [key for key, count in Counter(keys).items() if count > 1]
    assert repeated == []
