"""The sample server ``problem_check`` at the top of the tracking-log reference, as data.

Shared by the catalog tests and the benchmarks (so this module imports nothing test-only).
"""

from __future__ import annotations

from typing import Any

_P2 = "i4x-edx-AN101-problem-a0effb954cca4759994f1ac9e9434bf4_2_1"
_P4 = "i4x-edx-AN101-problem-a0effb954cca4759994f1ac9e9434bf4_4_1"
_EMPTY_CORRECT_MAP = {"hint": "", "hintmode": None, "msg": "", "npoints": None, "queuestate": None}

#: The ``context`` and ``event`` members of the sample event at the top of the tracking-log reference.
SAMPLE_CONTEXT: dict[str, Any] = {
    "course_id": "edx/AN101/2014_T1",
    "module": {"display_name": "Multiple Choice Questions"},
    "org_id": "edx",
    "user_id": 9999999,
}
SAMPLE_EVENT: dict[str, Any] = {
    "answers": {_P2: "yellow", _P4: ["choice_0", "choice_2"]},
    "attempts": 1,
    "correct_map": {
        _P2: {"correctness": "incorrect", **_EMPTY_CORRECT_MAP},
        _P4: {"correctness": "correct", **_EMPTY_CORRECT_MAP},
    },
    "grade": 2,
    "max_grade": 3,
    "problem_id": "i4x://edx/AN101/problem/a0effb954cca4759994f1ac9e9434bf4",
    "state": {
        "correct_map": {},
        "done": None,
        "input_state": {_P2: {}, _P4: {}},
        "seed": 1,
        "student_answers": {},
    },
    "submission": {
        _P2: {
            "answer": "yellow",
            "correct": False,
            "input_type": "optioninput",
            "question": "What color is the open ocean on a sunny day?",
            "response_type": "optionresponse",
            "variant": "",
        },
        _P4: {
            "answer": ["a piano", "a guitar"],
            "correct": True,
            "input_type": "checkboxgroup",
            "question": "Which of the following are musical instruments?",
            "response_type": "choiceresponse",
            "variant": "",
        },
    },
    "success": "incorrect",
}
