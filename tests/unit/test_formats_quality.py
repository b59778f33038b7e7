"""The text-layer quality score: ordinary pages in several languages pass, garbage text layers do not."""

# ruff: noqa: RUF001 - the pages are written in Cyrillic, Greek and CJK on purpose

from __future__ import annotations

import random

import pytest

from docproc.formats.quality import GARBLED_BELOW, MIN_LETTERS, score_text

GOOD_PAGES = {
    "en": (
        "The tenant shall pay the monthly rent of 1,250.00 USD on the first business day of each month. "
        "Late payments incur a fee of 5% after a grace period of ten days. Either party may terminate this "
        "agreement with sixty days' written notice, delivered by registered mail to the address in Section 12. "
        "The landlord is responsible for structural repairs; the tenant for minor maintenance (e.g. light bulbs)."
    ),
    "de": (
        "Der Mieter zahlt die monatliche Miete in Höhe von 1.250,00 EUR jeweils am ersten Werktag des Monats. "
        "Bei verspäteter Zahlung wird nach einer Schonfrist von zehn Tagen eine Gebühr von 5 % fällig. Beide "
        "Vertragsparteien können diesen Vertrag mit einer Frist von sechzig Tagen schriftlich kündigen. "
        "Die Donaudampfschifffahrtsgesellschaft übernimmt keine Haftung für Schäden durch höhere Gewalt."
    ),
    "fr": (
        "Le locataire s'engage à payer un loyer mensuel de 1 250,00 euros le premier jour ouvrable de chaque "
        "mois. Tout retard entraîne des pénalités de 5 % après un délai de grâce de dix jours. Chacune des "
        "parties peut résilier le présent contrat moyennant un préavis écrit de soixante jours."
    ),
    "ru": (
        "Арендатор обязуется ежемесячно вносить арендную плату в размере 1 250 долларов США в первый рабочий "
        "день каждого месяца. За просрочку платежа взимается штраф в размере 5 % по истечении десяти дней. "
        "Любая из сторон вправе расторгнуть настоящий договор, письменно уведомив другую сторону за шестьдесят дней."
    ),
    "el": (
        "Ο μισθωτής υποχρεούται να καταβάλλει το μηνιαίο μίσθωμα των 1.250 ευρώ την πρώτη εργάσιμη ημέρα κάθε "
        "μήνα. Σε περίπτωση καθυστέρησης επιβάλλεται πρόστιμο 5 % μετά από περίοδο χάριτος δέκα ημερών."
    ),
    "ja": (
        "借主は、毎月の賃料として金一万二千五百円を、各月の最初の営業日までに貸主の指定する口座に振り込むものとする。"
        "支払いが遅れた場合、十日間の猶予期間の後に五パーセントの遅延損害金が発生する。"
        "いずれの当事者も、六十日前までに書面で通知することにより、本契約を解除することができる。"
        "なお、PDFファイルで送付された通知も有効とする。"
    ),
    "zh": (
        "承租人应于每月第一个工作日向出租人支付月租金人民币一万二千五百元。逾期付款的，在十天宽限期届满后，"
        "承租人应按未付金额的百分之五支付滞纳金。任何一方均可提前六十天以书面形式通知对方解除本合同。"
        "双方因本合同发生的争议，应首先通过友好协商解决。"
    ),
    "ar": (
        "يلتزم المستأجر بدفع الإيجار الشهري البالغ ألفاً ومائتين وخمسين دولاراً في أول يوم عمل من كل شهر. "
        "ويترتب على التأخر في السداد غرامة قدرها خمسة في المائة بعد فترة سماح مدتها عشرة أيام. "
        "ويجوز لأي من الطرفين إنهاء هذا العقد بموجب إشعار خطي مدته ستون يوماً."
    ),
    "he": (
        "השוכר מתחייב לשלם את דמי השכירות החודשיים בסך 1,250 דולר ביום העסקים הראשון של כל חודש. "
        "איחור בתשלום יגרור קנס של חמישה אחוזים לאחר תקופת חסד של עשרה ימים."
    ),
    "table of figures": (
        "Region Q1 Q2 Q3 Q4 Total\nNorth 12,553 13,020 12,871 14,002 52,446\nSouth 9,467 9,901 10,220 "
        "10,874 40,462\nEast 6,082 6,310 6,455 6,902 25,749\nWest 2,548 2,611 2,720 2,890 10,769\n"
        "Operating margin 18.4% 18.9% 19.2% 20.1% 19.2%\nNet income (USD m) 1,204 1,266 1,301 1,412 5,183"
    ),
    "invoice with codes and mail": (
        "Invoice INV-2024-00172 dated 2024-03-15. Bill to: ACME GmbH, Hauptstr. 5, 10115 Berlin, VAT DE123456789. "
        "Contact billing@acme.example or https://acme.example/invoices for questions. Item SKU-4471-B qty 3 "
        "unit price 49.90 total 149.70. Payment due within 30 days, IBAN DE89 3704 0044 0532 0130 00."
    ),
}


def _cid_page() -> str:
    rng = random.Random(7)
    return " ".join("".join(f"(cid:{rng.randint(3, 400)})" for _ in range(rng.randint(2, 8))) for _ in range(80))


def _consonant_soup() -> str:
    rng = random.Random(11)
    consonants = "bcdfghjklmnpqrstvwxz"
    return " ".join("".join(rng.choice(consonants) for _ in range(rng.randint(4, 9))) for _ in range(90))


def _random_letters() -> str:
    rng = random.Random(5)
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return " ".join("".join(rng.choice(letters) for _ in range(rng.randint(5, 12))) for _ in range(80))


def _private_use_glyphs() -> str:
    rng = random.Random(3)
    return " ".join("".join(chr(rng.randint(0xE000, 0xE0FF)) for _ in range(rng.randint(3, 8))) for _ in range(60))


GARBAGE_PAGES = {
    "cid codes": _cid_page(),
    "cyrillic utf-8 read as windows-1252": GOOD_PAGES["ru"].encode("utf-8").decode("cp1252", errors="replace"),
    "chinese utf-8 read as latin-1": GOOD_PAGES["zh"].encode("utf-8").decode("latin-1"),
    "random consonant strings": _consonant_soup(),
    "random letters": _random_letters(),
    "private-use glyphs": _private_use_glyphs(),
    "replacement characters": "\ufffd\ufffd\ufffd \ufffd\ufffd Inv\ufffd\ufffdce \ufffd\ufffd\ufffd\ufffd " * 20,
    "letter-spaced": "T h e t e n a n t s h a l l p a y t h e m o n t h l y r e n t " * 4,
    "words glued together": (
        "Thetenantshallpaythemonthlyrentonthefirstbusinessdayofeachmonth "
        "Latepaymentsincurafeeoffivepercentafteragraceperiodoftendays "
        "Eitherpartymayterminatethisagreementwithsixtydayswrittennotice "
    )
    * 3,
}


@pytest.mark.parametrize("name", sorted(GOOD_PAGES))
def test_ordinary_pages_score_high(name: str) -> None:
    quality = score_text(GOOD_PAGES[name])

    assert quality.score >= 0.85, (name, quality)
    assert not quality.garbled


@pytest.mark.parametrize("name", sorted(GARBAGE_PAGES))
def test_garbage_text_layers_score_low(name: str) -> None:
    quality = score_text(GARBAGE_PAGES[name])

    assert quality.score <= 0.35, (name, quality)
    assert quality.garbled
    assert quality.reasons


def test_the_threshold_sits_in_the_gap_between_good_and_garbage() -> None:
    good = min(score_text(text).score for text in GOOD_PAGES.values())
    bad = max(score_text(text).score for text in GARBAGE_PAGES.values())

    assert bad < GARBLED_BELOW < good


def test_a_few_odd_tokens_do_not_condemn_a_page() -> None:
    page = GOOD_PAGES["en"] + " Ref: xkq7-ZZ1 qwrtzp (cid:12) \ufffd getElementById"

    assert not score_text(page).garbled


def test_short_pages_are_not_judged() -> None:
    quality = score_text("xkcdqrst zzvbn")

    assert quality.letters < MIN_LETTERS
    assert not quality.garbled


def test_mojibake_in_a_few_words_lowers_the_score_and_is_named() -> None:
    # Only the words with umlauts break, so the page stays readable: lower, but not garbled.
    quality = score_text(GOOD_PAGES["de"].encode("utf-8").decode("cp1252", errors="replace"))

    assert quality.score < score_text(GOOD_PAGES["de"]).score - 0.2
    assert "mojibake" in quality.reasons
    assert not quality.garbled
