"""Problem interaction events."""

from __future__ import annotations

import copy

import attrs
import pytest

import event_hub.catalog.problem  # noqa: F401
from event_hub.catalog import RawString, registry
from event_hub.catalog.problem import ProblemCheckContext
from event_hub.catalog.validation import check_payload
from event_hub.exceptions import InvalidEventError
from tests.catalog.samples import SAMPLE_CONTEXT, SAMPLE_EVENT

_P2, _P4 = list(SAMPLE_EVENT["correct_map"])


@pytest.fixture(name="sample")
def _sample():
    return copy.deepcopy(SAMPLE_EVENT)


class TestProblemCheck:
    def test_reference_sample_validates(self, sample):
        """The sample server ``problem_check`` from the reference validates and is returned as given."""
        validated = registry.validate("problem_check", "server", sample)
        assert validated.data is sample
        assert validated.name == "problem_check"

    def test_reference_sample_context_module_matches(self):
        """The sample's ``context.module`` fits the extra context the server ``problem_check`` declares."""
        spec = registry.lookup("problem_check", "server")
        assert spec.context is ProblemCheckContext
        assert check_payload(ProblemCheckContext, SAMPLE_CONTEXT, forbid_extra_keys=False) is SAMPLE_CONTEXT

    def test_browser_and_server_forms_are_distinct(self, sample):
        """The browser form takes the raw input string; the server form takes the typed dictionary."""
        browser = registry.lookup("problem_check", "browser")
        server = registry.lookup("problem_check", "server")
        assert browser is not server
        assert browser.payload is RawString
        raw = f"input_{_P2}=yellow&input_{_P4}%5B%5D=choice_0"
        assert registry.validate("problem_check", "browser", raw).data == raw
        with pytest.raises(InvalidEventError):
            registry.validate("problem_check", "browser", sample)
        with pytest.raises(InvalidEventError):
            registry.validate("problem_check", "server", raw)

    def test_nested_correct_map_error_names_the_path(self, sample):
        """A string ``npoints`` inside ``correct_map`` is reported under its nested path."""
        sample["correct_map"][_P2]["npoints"] = "1"
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("problem_check", "server", sample)
        assert excinfo.value.errors == {
            f"correct_map[{_P2!r}].npoints": ["expected a number or null, got string"]
        }

    def test_missing_required_field_names_the_field(self, sample):
        """Leaving out ``attempts`` is reported under ``attempts``."""
        del sample["attempts"]
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("problem_check", "server", sample)
        assert excinfo.value.errors == {"attempts": ["this field is required"]}

    def test_queued_answer_has_key_and_time(self, sample):
        """A queued answer's ``queuestate`` must carry both ``key`` and ``time``."""
        sample["correct_map"][_P2]["queuestate"] = {"key": "abc", "time": "20140303161905"}
        registry.validate("problem_check", "server", sample)
        sample["correct_map"][_P2]["queuestate"] = {"key": "abc"}
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("problem_check", "server", sample)
        assert list(excinfo.value.errors) == [f"correct_map[{_P2!r}].queuestate.time"]

    @pytest.mark.parametrize("answer", ["yellow", ["a piano", "a guitar"], []])
    def test_submission_answer_is_a_string_or_a_list_of_strings(self, sample, answer):
        """A submission ``answer`` is the text entered or the list of choices selected."""
        sample["submission"][_P2]["answer"] = answer
        assert registry.validate("problem_check", "server", sample).data is sample

    @pytest.mark.parametrize(
        ("answer", "errors"),
        [
            (3, {"answer": ["expected a string or an array of strings, got integer"]}),
            (["a piano", 7], {"answer[1]": ["expected a string, got integer"]}),
        ],
    )
    def test_wrong_submission_answer_names_its_path(self, sample, answer, errors):
        """A number, or a list holding a number, is reported at the precise path with the expected types."""
        sample["submission"][_P2]["answer"] = answer
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("problem_check", "server", sample)
        prefix = f"submission[{_P2!r}]."
        assert excinfo.value.errors == {prefix + path: messages for path, messages in errors.items()}

    @pytest.mark.parametrize("variant", ["", "seed-3", 3])
    def test_submission_variant_is_a_string_or_an_integer(self, sample, variant):
        """``variant`` is an integer in the reference's table and an empty string in its example."""
        sample["submission"][_P4]["variant"] = variant
        assert registry.validate("problem_check", "server", sample).data is sample

    @pytest.mark.parametrize("variant", [None, 1.5, True])
    def test_other_variants_are_refused(self, sample, variant):
        """Null, a fraction and a boolean are none of the accepted variant types."""
        sample["submission"][_P4]["variant"] = variant
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("problem_check", "server", sample)
        assert list(excinfo.value.errors) == [f"submission[{_P4!r}].variant"]

    def test_success_is_a_closed_set(self, sample):
        """``success`` accepts only 'correct' or 'incorrect'."""
        sample["success"] = "maybe"
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("problem_check", "server", sample)
        assert list(excinfo.value.errors) == ["success"]


class TestHintEvents:
    def test_demandhint_displayed_validates(self):
        """A requested hint event validates unchanged."""
        data = {"hint_index": 0, "hint_len": 2, "hint_text": "Think of the sky.", "module_id": "block-v1:x"}
        assert registry.validate("edx.problem.hint.demandhint_displayed", "server", data).data is data

    def test_feedback_displayed_validates_with_and_without_choices(self):
        """Feedback events validate with ``choice_all`` (checkboxes) and without it (text input)."""
        data = {
            "choice_all": ["choice_0", "choice_1"],
            "correctness": False,
            "hint_label": "Incorrect: ",
            "hints": [{"text": "Not quite."}, {"text": "Guitars have strings."}],
            "module_id": "block-v1:x",
            "problem_part_id": "abc_2_1",
            "question_type": "choiceresponse",
            "student_answer": ["choice_0"],
            "trigger_type": "compound",
        }
        assert registry.validate("edx.problem.hint.feedback_displayed", "server", data).data is data
        text_input = {k: v for k, v in data.items() if k != "choice_all"}
        text_input.update(question_type="stringresponse", trigger_type="single", student_answer=["blue"])
        registry.validate("edx.problem.hint.feedback_displayed", "server", text_input)

    def test_feedback_hint_entries_are_checked(self):
        """A hint entry without ``text`` is reported at its list index."""
        data = {
            "correctness": True,
            "hint_label": "",
            "hints": [{"txt": "oops"}],
            "module_id": "m",
            "problem_part_id": "p",
            "question_type": "stringresponse",
            "student_answer": ["a"],
            "trigger_type": "single",
        }
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.problem.hint.feedback_displayed", "server", data)
        expected = {"hints[0].text": ["this field is required"], "hints[0].txt": ["unknown field"]}
        assert excinfo.value.errors == expected


class TestOtherProblemEvents:
    def test_problem_save_carries_the_serialized_inputs(self):
        """Browser ``problem_save`` carries the inputs as a query string, as capa's script logs them.

        Source: openedx/edx-platform xmodule/js/src/capa/display.js (``save_internal`` logs
        ``problem_save`` with ``this.answers``, the serialized form inputs).
        """
        raw = f"input_{_P2}=yellow&input_{_P4}%5B%5D=choice_0"
        assert registry.validate("problem_save", "browser", raw).data is raw
        assert registry.validate("problem_save", "browser", "").data == ""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("problem_save", "browser", {"answers": raw})
        assert excinfo.value.errors == {"": ["expected a string, got object"]}

    @pytest.mark.parametrize("source", ["browser", "server"])
    def test_problem_graded_is_a_two_item_array(self, source):
        """``problem_graded`` carries the bare ``[answers, contents]`` array, returned as given."""
        data = ["input_x=1", "<p>Problem</p>"]
        assert registry.validate("problem_graded", source, data).data is data

    @pytest.mark.parametrize(
        ("data", "errors"),
        [
            ({"answers": "a", "contents": "b"}, {"": ["expected an array of 2 items, got object"]}),
            (["input_x=1"], {"": ["expected 2 items, got 1"]}),
            (["input_x=1", 3], {"[1]": ["expected a string, got integer"]}),
        ],
    )
    def test_problem_graded_errors_are_precise(self, data, errors):
        """An object, a wrong item count and a wrong item type are each reported where they are."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("problem_graded", "browser", data)
        assert excinfo.value.errors == errors

    def test_rescore_validates(self, sample):
        """A ``problem_rescore`` reuses the ``problem_check`` correct map shape."""
        data = {
            "attempts": 2,
            "correct_map": sample["correct_map"],
            "new_score": 3,
            "new_total": 3,
            "orig_score": 2,
            "orig_total": 3,
            "problem_id": sample["problem_id"],
            "state": sample["state"],
            "success": "correct",
        }
        assert registry.validate("problem_rescore", "server", data).data is data

    @pytest.mark.parametrize(
        ("name", "failure"),
        [
            ("problem_check_fail", "unreset"),
            ("problem_rescore_fail", "input_error"),
            ("reset_problem_fail", "not_done"),
            ("save_problem_fail", "done"),
        ],
    )
    def test_failure_reasons_are_closed_sets(self, name, failure):
        """Each ``*_fail`` event accepts its documented reason and rejects an unknown one."""
        spec = registry.lookup(name, "server")
        names = {f.name for f in attrs.fields(spec.payload)}
        data = {"failure": failure, "problem_id": "p"}
        data.update({key: {} for key in ("answers", "state", "old_state") if key in names})
        assert registry.validate(name, "server", data).data is data
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate(name, "server", {**data, "failure": "bogus"})
        assert list(excinfo.value.errors) == ["failure"]

    def test_reset_and_reset_problem_differ_by_source(self):
        """``problem_reset`` comes from the browser and ``reset_problem`` from the server."""
        assert registry.validate("problem_reset", "browser", {"answers": "input_x=1"})
        data = {"new_state": {}, "old_state": {"seed": 1}, "problem_id": "p"}
        assert registry.validate("reset_problem", "server", data).data is data
        with pytest.raises(InvalidEventError):
            registry.validate("problem_reset", "server", {"answers": "input_x=1"})
