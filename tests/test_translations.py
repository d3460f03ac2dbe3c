# SPDX-License-Identifier: AGPL-3.0-or-later
"""The French catalog: complete, well-formed, compiled, and what French customers and staff see.

The catalog is src/encaisse/locale/fr/LC_MESSAGES/django.po; its compiled django.mo is committed so
that a fresh checkout needs no gettext tools. After changing a translatable string: run
``encaisse makemessages -l fr -i "migrations/*"`` in src/encaisse, translate, then compile with
``msgfmt --check -o django.mo django.po`` (or ``encaisse compilemessages``).
"""

from __future__ import annotations

import ast
import gettext as gnu_gettext
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

import encaisse

SRC = Path(encaisse.__file__).resolve().parent
CATALOG = SRC / "locale" / "fr" / "LC_MESSAGES" / "django.po"
COMPILED = CATALOG.with_suffix(".mo")


# --- a small .po reader (no polib dependency) -----------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0


def _unquote(text: str) -> str:
    value = ast.literal_eval(text)  # PO strings use C escapes: \" \\ \n \t, as Python does
    assert isinstance(value, str)
    return value


def _logical_lines(path: Path) -> list[tuple[int, str, str]]:
    """(line number, keyword, text): continuation strings joined, comments as keyword "#"."""
    lines: list[tuple[int, str, str]] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):  # blank, or an obsolete entry
            continue
        if line.startswith('"'):
            assert lines and lines[-1][1] != "#", f"{path.name}:{number}: stray string"
            first, keyword, text = lines[-1]
            lines[-1] = (first, keyword, text + _unquote(line))
        elif line.startswith("#"):
            lines.append((number, "#", line))
        else:
            keyword, _, quoted = line.partition(" ")
            lines.append((number, keyword, _unquote(quoted.strip())))
    return lines


def read_po(path: Path) -> list[Entry]:
    """Entries of a gettext catalog, the header (msgid "") first; obsolete #~ entries skipped."""
    entries: list[Entry] = []
    current = Entry()
    for number, keyword, text in _logical_lines(path):
        if keyword in ("#", "msgctxt", "msgid") and (not entries or current.msgstr):
            current = Entry(line=number)  # a comment or msgid after a msgstr: the next entry
            entries.append(current)
        if keyword == "#":
            if text.startswith("#,"):
                current.flags |= {flag.strip() for flag in text[2:].split(",") if flag.strip()}
        elif keyword in ("msgctxt", "msgid", "msgid_plural"):
            setattr(current, keyword, text)
        else:
            match = re.fullmatch(r"msgstr(?:\[(\d+)\])?", keyword)
            assert match, f"{path.name}:{number}: unknown keyword {keyword}"
            current.msgstr[int(match.group(1) or 0)] = text
    return entries


@pytest.fixture(scope="module")
def catalog() -> list[Entry]:
    entries = read_po(CATALOG)
    assert entries and entries[0].msgid == "", "the catalog has no header entry"
    return entries


def _messages(entries: list[Entry]) -> list[Entry]:
    return [entry for entry in entries if entry.msgid]


# --- (a) the catalog is complete and well-formed ----------------------------------------------


def test_the_catalog_has_french_header(catalog):
    header = catalog[0].msgstr[0]
    assert "Language: fr\n" in header
    assert "charset=UTF-8" in header
    assert "Plural-Forms: nplurals=" in header


def test_no_entry_is_fuzzy_or_untranslated(catalog):
    fuzzy = [entry.msgid or "(header)" for entry in catalog if "fuzzy" in entry.flags]
    empty = [
        entry.msgid
        for entry in _messages(catalog)
        if not entry.msgstr
        or any(not text.strip() for text in entry.msgstr.values())
        or (entry.msgid_plural is not None and len(entry.msgstr) < 2)
    ]

    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not empty, f"untranslated entries: {empty}"
    assert len(_messages(catalog)) > 250


_PERCENT = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?([sdifrx%])")
_BRACES = re.compile(r"\{(\w*)\}")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def _placeholders(text: str, flags: set[str]) -> Counter[str]:
    found: Counter[str] = Counter()
    if "python-format" in flags:
        found.update(f"%({name}){conv}" for name, conv in _PERCENT.findall(text))
    if "python-brace-format" in flags:
        found.update(f"{{{name}}}" for name in _BRACES.findall(text))
    found.update(_TAG.findall(text))
    return found


def test_translations_keep_placeholders_and_markup(catalog):
    broken = []
    for entry in _messages(catalog):
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
        wanted = _placeholders(sources[-1], entry.flags)
        for text in entry.msgstr.values():
            if _placeholders(text, entry.flags) != wanted:
                broken.append((entry.msgid, text))
    assert not broken, broken


def test_the_committed_mo_is_compiled_from_the_po(catalog):
    """A .po edited without recompiling would leave users with the old (or no) translation."""
    with COMPILED.open("rb") as handle:
        compiled = gnu_gettext.GNUTranslations(handle)

    stale = []
    for entry in _messages(catalog):
        if entry.msgid_plural is not None:
            got = [compiled.ngettext(entry.msgid, entry.msgid_plural, n) for n in (1, 2)]
            ok = got[0] in entry.msgstr.values() and got[1] in entry.msgstr.values()
        elif entry.msgctxt is not None:
            ok = compiled.pgettext(entry.msgctxt, entry.msgid) == entry.msgstr[0]
        else:
            ok = compiled.gettext(entry.msgid) == entry.msgstr[0]
        if not ok:
            stale.append(entry.msgid)
    assert not stale, f"django.mo is older than django.po; recompile it. Differs: {stale[:5]}"


# Strings marked for translation in the code and templates, found without gettext tools.

_TRANSLATION_FUNCTIONS = {"gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy"}


def _python_msgids(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()  # local names of django.utils.translation's functions
    modules: set[str] = set()  # local names of the django.utils.translation module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            names |= {
                alias.asname or alias.name
                for alias in node.names
                if alias.name in _TRANSLATION_FUNCTIONS
            }
        elif isinstance(node, ast.ImportFrom) and node.module == "django.utils":
            modules |= {a.asname or a.name for a in node.names if a.name == "translation"}
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        marked = (isinstance(func, ast.Name) and func.id in names) or (
            isinstance(func, ast.Attribute)
            and func.attr in _TRANSLATION_FUNCTIONS
            and isinstance(func.value, ast.Name)
            and func.value.id in modules
        )
        first = node.args[0]
        if marked and isinstance(first, ast.Constant) and isinstance(first.value, str):
            found.add(first.value)
    return found


_TRANSLATE_TAG = re.compile(r"""\{%\s*trans(?:late)?\s+("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
_BLOCK_TAG = re.compile(
    r"\{%\s*blocktrans(?:late)?\b[^%]*%\}(.*?)\{%\s*endblocktrans(?:late)?\s*%\}", re.DOTALL
)


def _template_msgids(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    found = {ast.literal_eval(quoted) for quoted in _TRANSLATE_TAG.findall(text)}
    for body in _BLOCK_TAG.findall(text):
        singular = re.split(r"\{%\s*plural\s*%\}", body)[0]
        found.add(re.sub(r"\{\{\s*(\w+)\s*\}\}", r"%(\1)s", singular.replace("%", "%%")))
    return found


def _source_msgids() -> dict[str, str]:
    where: dict[str, str] = {}
    for path in sorted(SRC.rglob("*")):
        if "migrations" in path.parts or not path.is_file():
            continue
        if path.suffix == ".py":
            msgids = _python_msgids(path)
        elif path.suffix in (".html", ".txt"):
            msgids = _template_msgids(path)
        else:
            continue
        for msgid in msgids:
            where.setdefault(msgid, str(path.relative_to(SRC)))
    return where


def test_every_string_marked_in_the_code_has_a_french_translation(catalog):
    """Source strings come and go: each one marked for translation must be in the catalog.

    ``makemessages`` only knows the usual names (``_``, ``gettext``, ``gettext_lazy``…): a string
    wrapped in another alias (``gettext as _t``) has to be added by hand or with
    ``xgettext --keyword=_t``.
    """
    translated = {entry.msgid for entry in _messages(catalog) if entry.msgctxt is None}
    sources = _source_msgids()

    missing = sorted(
        f"{where}: {msgid!r}" for msgid, where in sources.items() if msgid not in translated
    )

    assert len(sources) > 250
    assert not missing, "not in the French catalog:\n" + "\n".join(missing)


# --- (b) key strings in French ----------------------------------------------------------------


def test_key_strings_are_french():
    from django.utils.translation import gettext

    from encaisse.invoicing.models import InvoiceKind
    from encaisse.payments.exceptions import ChequeRefused
    from encaisse.payments.models import PaymentMethod

    with translation.override("fr"):
        assert gettext("Invoice") == "Facture"
        assert gettext("Credit note") == "Avoir"
        assert gettext("Prepaid balance") == "Solde prépayé"
        assert gettext("Amount due") == "Montant dû"
        assert gettext("Total excl. VAT") == "Total HT"
        assert gettext("Total incl. VAT") == "Total TTC"
        assert gettext("Due date") == "Date d'échéance"
        assert gettext("Ledger") == "Grand livre"
        assert str(InvoiceKind.CREDIT_NOTE.label) == "Avoir"
        assert str(PaymentMethod.SEPA_DEBIT.label) == "Prélèvement SEPA"
        assert str(PaymentMethod.MANDAT_ADMINISTRATIF.label) == "Mandat administratif"
        refused = str(ChequeRefused())
        assert "chèques" in refused
        assert "tout chèque reçu sera systématiquement détruit" in refused

    with translation.override("en"):
        assert gettext("Invoice") == "Invoice"
        assert "Cheques are not accepted" in str(ChequeRefused())


def test_messages_with_values_are_french():
    from encaisse.customers.validators import clean_postal_code
    from encaisse.invoicing.exceptions import InvalidAmount, UnknownVatRate

    with translation.override("fr"):
        assert str(UnknownVatRate(rate="19", allowed="20, 10")) == (
            "19 % n'est pas un taux de TVA facturé par ce prestataire (taux autorisés\xa0: 20, 10)."
        )
        assert "4 décimales" in str(InvalidAmount(field="quantity", places=4))
        with pytest.raises(Exception, match="n'est pas un code postal valide") as error:
            clean_postal_code("7500", "FR")
        assert "«\xa07500\xa0»" in str(error.value)


# --- (c) the invoice in the customer's language -------------------------------------------------


@pytest.fixture
def billed(make_customer, charge, top_up, bill):
    from encaisse.invoicing.models import Invoice

    french = make_customer(name="Atelier Numérique SARL", siret="73282932000074")
    english = make_customer(name="Example Ltd", language="en")
    for customer in (french, english):
        charge(customer, "14.90", description="Hébergement Pro")
        top_up(customer, "5.00")
    bill()
    return Invoice.objects.get(customer=french), Invoice.objects.get(customer=english)


def _xmp_title(data: bytes) -> str:
    """The document title in the PDF's XMP packet (WeasyPrint compresses it in a stream)."""
    import zlib

    chunks = [data]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.DOTALL):
        try:
            chunks.append(zlib.decompress(stream))
        except zlib.error:
            continue
    match = re.search(rb"<dc:title>.*?</dc:title>", b"\n".join(chunks), re.DOTALL)
    assert match, "no dc:title in the PDF's XMP metadata"
    return re.sub(r"<[^>]+>", " ", match.group().decode())


def test_a_french_customer_gets_a_french_invoice_pdf(billed):
    from encaisse.invoicing.models import Invoice
    from encaisse.invoicing.pdf import render_invoice_html, render_invoice_pdf

    french, _ = billed

    render_invoice_pdf(french)
    with Invoice.objects.get(pk=french.pk).pdf.open("rb") as stored:
        data = stored.read()
    assert data.startswith(b"%PDF-")
    assert f"Facture {french.number}" in _xmp_title(data)

    html = render_invoice_html(french)
    for text in (
        "<h1>Facture</h1>",
        "Date d'échéance",
        "Prix unitaire HT",
        "Taux de TVA",
        "Total TTC",
        "Montant dû",
        "Réglé par votre compte prépayé",
        "Les chèques ne sont pas acceptés",
        "pénalités de retard au taux de trois fois le taux d'intérêt légal",
        "indemnité forfaitaire pour frais de recouvrement de 40,00\xa0€",
        "Pas d'escompte pour paiement anticipé",
    ):
        assert text in html, text
    assert "Invoice" not in html
    assert "VAT" not in html


def test_an_english_customer_still_gets_an_english_invoice(billed):
    from encaisse.invoicing.pdf import build_invoice_pdf, render_invoice_html

    _, english = billed

    with translation.override("fr"):  # the staff's language does not matter: the customer's does
        html = render_invoice_html(english)
        data = build_invoice_pdf(english)

    assert "<h1>Invoice</h1>" in html
    assert "Total incl. VAT" in html
    assert "Cheques are not accepted" in html
    assert "Facture" not in html
    assert f"Invoice {english.number}" in _xmp_title(data)


def test_a_credit_note_is_an_avoir(billed):
    from encaisse.core.actors import Actor
    from encaisse.invoicing.credit_notes import issue_credit_note
    from encaisse.invoicing.pdf import render_invoice_html

    invoice, _ = billed
    note = issue_credit_note(invoice, actor=Actor.system("tests"), reason="Panne de service")

    html = render_invoice_html(note)

    assert "<h1>Avoir</h1>" in html
    assert f"Cet avoir annule tout ou partie de la facture {invoice.number}" in html
    assert "Crédité sur votre compte prépayé" in html


# --- (d) the back-office and the home page in French ---------------------------------------------


def test_the_admin_login_page_is_french(client, db):
    french = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    english = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<html lang="fr"' in french
    assert "Back-office Encaisse" in french  # ours
    assert "Connexion" in french  # Django's own French catalog
    assert "Encaisse back-office" in english
    assert "Back-office Encaisse" not in english


def test_french_is_the_default_language(client, db):
    home = client.get("/").content.decode()  # no Accept-Language: LANGUAGE_CODE

    assert "Les chèques ne sont pas acceptés." in home
    assert "Documentation de l'API REST" in home


def test_the_admin_pages_are_french(settings, make_customer, admin_client):
    from django.urls import reverse

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    customer = make_customer(name="Atelier Numérique")

    index = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    record = admin_client.get(
        reverse("admin:customers_customer_record_payment", args=[customer.pk]),
        HTTP_ACCEPT_LANGUAGE="fr",
    ).content.decode()

    assert "Clients, factures et encaissements" in index
    assert "Grand livre" in index
    assert "Facturation" in index
    assert f"Enregistrer un paiement pour {customer}" in record
    assert "Solde prépayé" in record
    assert "Les chèques ne sont pas acceptés" in record
    assert "Virement bancaire" in record
