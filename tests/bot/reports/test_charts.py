"""Charts render headless as PNGs of a size a phone shows sharply."""

import struct
import subprocess
import sys
from datetime import date, timedelta

from bot.exports.codebook import Entry
from bot.reports.charts import _every_day, over_time_chart, question_chart

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HELPED = Entry(
    "helped",
    "What helped you most when you last visited the drop-in clinic? Choose up to 2.",
    "multiple_choice",
    (("staff", "The staff"), ("quick", "Being seen quickly without an appointment")),
    False,
)


def png_size(data):
    """Return (width, height) from a PNG's IHDR chunk, checking the signature first."""
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_question_chart_is_a_png_of_phone_size():
    data = question_chart(HELPED, {"staff": 12, "quick": 3}, 14)
    width, height = png_size(data)
    assert (width, height) == (900, 600)


def test_question_chart_is_deterministic():
    first = question_chart(HELPED, {"staff": 2}, 2)
    assert question_chart(HELPED, {"staff": 2}, 2) == first


def test_question_chart_grows_taller_for_many_options():
    options = tuple((str(i), f"Option number {i} with a longer label") for i in range(11))
    entry = Entry("scale", "Rate it", "scale", options, False)
    _, height = png_size(question_chart(entry, {"3": 1}, 1))
    assert height > 600


def test_question_chart_takes_dollars_emoji_and_no_answers():
    entry = Entry(
        "cost",
        "Did the $5 fee or $10 bus fare stop you? 💚",
        "single_choice",
        (("yes", "Yes, $5 is a lot"), ("no", "No 🙂")),
        False,
    )
    assert png_size(question_chart(entry, {}, 0))[0] == 900


def test_over_time_chart_renders_days_and_an_empty_record():
    first = date(2026, 5, 1)
    per_day = {first + timedelta(days=i): i % 4 for i in range(0, 45, 2)}
    assert png_size(over_time_chart(per_day)) == (900, 600)
    assert png_size(over_time_chart({}))[0] == 900


def test_per_day_spans_quiet_days():
    first = date(2026, 5, 1)
    assert _every_day({first: 1, first + timedelta(days=3): 2}) == [
        first + timedelta(days=i) for i in range(4)
    ]


def test_charts_matplotlib_is_loaded_only_to_draw() -> None:
    # A third of the bot's memory and start-up: `heard run` must not pay for it unasked.
    code = "import sys, bot.app, bot.cli; print('matplotlib' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"
