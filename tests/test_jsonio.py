"""Exact JSON: integers beyond 64 bits keep every digit, and lines never hold raw U+2028/U+2029."""

from __future__ import annotations

import io
import json
from pathlib import Path

import orjson
import pytest

from event_hub import invalid, jsonio
from event_hub.api.parsers import JSONParser
from event_hub.backends.base import decode
from event_hub.backends.jsonlog import JsonLinesBackend
from event_hub.models import InvalidEvent
from tests.support_backends import as_batch, read_lines, wire_line

#: Integers orjson cannot hold; 2**70 + 1 is not a float either (2**70 alone would compare equal to one).
ODD = 2**70 + 1
BIG = [2**70, -(2**70), 2**64, -(2**63) - 1, 10**40, ODD]


class TestLoads:
    @pytest.mark.parametrize("number", BIG)
    def test_big_integers_stay_exact(self, number: int) -> None:
        """An integer orjson would read as a float comes back as the same int, bytes or text."""
        text = f'{{"n": {number}, "list": [1, {number}], "f": 1.5}}'
        for data in (text, text.encode()):
            parsed = jsonio.loads(data)
            assert parsed == {"n": number, "list": [1, number], "f": 1.5}
            assert type(parsed["n"]) is int

    @pytest.mark.parametrize(
        "template",
        ['{{"n":{n}}}', "[{n}]", "[1,{n}]", '{{"n":\n\t{n}}}', '{{"n":\r{n}}}', "{n}", " {n} "],
    )
    @pytest.mark.parametrize("number", [ODD, -ODD])
    def test_big_integers_stay_exact_after_any_separator(self, template: str, number: int) -> None:
        """However the number is set off (no space, a newline, a tab, at the top level), it stays exact."""
        text = template.format(n=number)
        for data in (text, text.encode()):
            parsed = jsonio.loads(data)
            found = (
                parsed
                if isinstance(parsed, int)
                else (parsed["n"] if isinstance(parsed, dict) else parsed[-1])
            )
            assert found == number
            assert type(found) is int

    def test_64_bit_values_take_the_fast_path_unchanged(self) -> None:
        """Values orjson holds exactly are returned as orjson parsed them."""
        text = b'{"max": 18446744073709551615, "min": -9223372036854775808, "f": 1.25e300}'
        assert jsonio.loads(text) == orjson.loads(text)

    def test_long_digit_runs_inside_strings_change_nothing(self) -> None:
        """A string of many digits is no integer: the value is what orjson reads."""
        text = b'{"id": "12345678901234567890123", "x": 1.0}'
        assert jsonio.loads(text) == {"id": "12345678901234567890123", "x": 1.0}

    @pytest.mark.parametrize("text", [b'{"n": 12345678901234567890123, "bad": NaN}', b"[1,", b""])
    def test_invalid_json_is_refused_like_orjson(self, text: bytes) -> None:
        """What orjson refuses is refused with orjson's error, also when big integers are present."""
        with pytest.raises(orjson.JSONDecodeError):
            jsonio.loads(text)


class TestDumps:
    @pytest.mark.parametrize("number", BIG)
    def test_big_integers_are_written_as_their_digits(self, number: int) -> None:
        """orjson refuses such an integer; dumps writes its exact digits, readable by any JSON parser."""
        value = {"n": number, "nested": [{"m": number}], "s": "text", 3: True}
        encoded = jsonio.dumps(value, option=orjson.OPT_NON_STR_KEYS)
        assert str(number).encode() in encoded
        assert json.loads(encoded) == {"n": number, "nested": [{"m": number}], "s": "text", "3": True}

    def test_big_integer_keys_become_their_digits(self) -> None:
        """A big integer dict key is written as its decimal string, as for any integer key."""
        assert json.loads(jsonio.dumps({2**70: 1}, option=orjson.OPT_NON_STR_KEYS)) == {str(2**70): 1}

    def test_other_refusals_still_raise(self) -> None:
        """A value JSON cannot hold at all is still refused (the caller decides what to do)."""
        with pytest.raises(TypeError):
            jsonio.dumps({"n": 2**70, "x": object()})

    def test_same_bytes_as_orjson_without_big_integers(self) -> None:
        """The fast path is orjson's output, byte for byte."""
        value = {"a": [1, 2.5, "é", None, True], "b": {"c": 2**63}}
        assert jsonio.dumps(value) == orjson.dumps(value)


class TestLineSeparators:
    def test_escaped(self) -> None:
        """U+2028 and U+2029 become JSON escapes: same value, no line break for str.splitlines()."""
        raw = orjson.dumps({"t": "a\u2028b\u2029c"})
        escaped = jsonio.escape_line_separators(raw)
        assert escaped == b'{"t":"a\\u2028b\\u2029c"}'
        assert orjson.loads(escaped) == orjson.loads(raw)
        assert len(escaped.decode().splitlines()) == 1

    def test_other_text_untouched(self) -> None:
        """Other characters sharing the first UTF-8 bytes (an en dash, an ellipsis) stay as they are."""
        raw = orjson.dumps({"t": "a \u2013 b \u2026 c"})
        assert jsonio.escape_line_separators(raw) == raw


class TestBackends:
    def test_log_line_has_no_raw_separators(self, tmp_path: Path) -> None:
        """The JSON-lines file splits into one line per event with str.splitlines(), value intact."""
        log = tmp_path / "tracking.log"
        text = "first\u2028second\u2029third"
        JsonLinesBackend("log", path=str(log)).deliver(as_batch([wire_line("e1", {"text": text})]))
        content = log.read_text()
        assert "\u2028" not in content
        assert "\u2029" not in content
        [line] = content.splitlines()
        assert json.loads(line)["event"]["text"] == text

    def test_truncated_line_has_no_raw_separators(self, tmp_path: Path) -> None:
        """A line shortened by oversize="truncate" is escaped as well."""
        log = tmp_path / "tracking.log"
        backend = JsonLinesBackend("log", path=str(log), max_event_bytes=1024, oversize="truncate")
        backend.deliver(as_batch([wire_line("e1", {"text": "\u2028" * 2000})]))
        [line] = log.read_text().splitlines()
        assert json.loads(line)["event_hub_truncated"] == ["event.text"]

    def test_big_integer_reaches_the_log_exactly(self, tmp_path: Path) -> None:
        """A wire line carrying 2**70 is decoded and written with the exact integer, never a float."""
        log = tmp_path / "tracking.log"
        line = jsonio.dumps({**orjson.loads(wire_line("e1")), "event": {"n": 2**70}})
        assert decode(line).event == {"n": 2**70}
        JsonLinesBackend("log", path=str(log)).deliver(as_batch([line]))
        [written] = read_lines(log)
        assert f'"n":{2**70}'.encode() in written
        assert json.loads(written)["event"]["n"] == 2**70


class TestApiAndStore:
    def test_api_body_keeps_big_integers(self) -> None:
        """The tracking API's parser reads 2**70 + 1 as that int, not the float 1.1805916207174113e+21."""
        body = f'{{"event_type": "x", "event": {{"n": {ODD}}}}}'.encode()
        parsed = JSONParser().parse(io.BytesIO(body))["event"]["n"]
        assert type(parsed) is int
        assert parsed == ODD

    @pytest.mark.django_db
    def test_invalid_event_with_big_integer_is_stored_exactly(self) -> None:
        """Recording an invalid event holding 2**70 + 1 neither fails nor changes the number."""
        row = invalid.record(name="x", source="server", payload={"n": ODD}, errors={"": ["bad"]})
        assert row is not None
        stored = InvalidEvent.objects.get(pk=row.pk).payload["n"]
        assert type(stored) is int
        assert stored == ODD
