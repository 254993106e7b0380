"""Tests of the context stack, course context and content-node resolution."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace
from typing import Any

import pytest
from opaque_keys.edx.keys import UsageKey

from event_hub import context as ctx

COURSE = "course-v1:edX+DemoX+2024"
BLOCK = "block-v1:edX+DemoX+2024+type@{kind}+block@{name}"


def block(kind: str, name: str, parent: Any = None, display_name: str | None = None) -> Any:
    node = SimpleNamespace(location=UsageKey.from_string(BLOCK.format(kind=kind, name=name)), parent=parent)
    if display_name is not None:
        node.display_name = display_name
    return node


class TestStack:
    def test_frames_merge_and_unwind(self) -> None:
        """Inner frames add to outer ones and disappear when their block ends."""
        with ctx.push("outer", {"course_id": COURSE, "a": 1}):
            with ctx.push("inner", {"a": 2, "b": 3}):
                assert ctx.current().values == {"course_id": COURSE, "a": 2, "b": 3}
                assert ctx.current().names == ("outer", "inner")
            assert ctx.current().values == {"course_id": COURSE, "a": 1}
        assert ctx.current().values == {}

    def test_exception_still_unwinds(self) -> None:
        """A frame is popped even when its block raises."""
        with pytest.raises(RuntimeError), ctx.push("failing", {"x": 1}):
            raise RuntimeError
        assert ctx.current().names == ()

    def test_threads_do_not_see_each_other(self) -> None:
        """A frame pushed in one thread is invisible to another running at the same time."""
        seen: dict[str, Any] = {}
        inside = threading.Event()
        release = threading.Event()

        def holder() -> None:
            with ctx.push("holder", {"owner": "holder"}):
                inside.set()
                release.wait(5)

        def observer() -> None:
            inside.wait(5)
            seen["values"] = dict(ctx.current().values)
            release.set()

        threads = [threading.Thread(target=holder), threading.Thread(target=observer)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(5)
        assert seen["values"] == {}

    def test_asyncio_tasks_are_isolated(self) -> None:
        """Concurrent asyncio tasks each keep their own frames across awaits."""

        async def task(name: str) -> str:
            with ctx.push(name, {"who": name}):
                await asyncio.sleep(0.01)
                return str(ctx.current().values["who"])

        async def main() -> list[str]:
            return list(await asyncio.gather(task("a"), task("b"), task("c")))

        assert asyncio.run(main()) == ["a", "b", "c"]


class TestCourseInfo:
    def test_new_style_key_is_split(self) -> None:
        """A course-v1 key yields org, run and the org+course slug."""
        info = ctx.course_info(COURSE)
        assert (info.course_id, info.org_id, info.course_run, info.course_slug) == (
            COURSE,
            "edX",
            "2024",
            "edX+DemoX",
        )

    def test_old_slashed_key_is_understood(self) -> None:
        """A deprecated org/course/run id is parsed too."""
        info = ctx.course_info("edX/DemoX/Demo_Course")
        assert (info.org_id, info.course_run) == ("edX", "Demo_Course")

    def test_unparsable_id_is_kept_as_given(self) -> None:
        """An id opaque-keys cannot parse is kept, with blank parts, rather than dropped."""
        info = ctx.course_info("not a course")
        assert (info.course_id, info.org_id) == ("not a course", "")

    def test_course_in_url_path(self) -> None:
        """A course key inside a URL path is found; a path without one gives nothing."""
        assert ctx.course_id_from_path(f"/courses/{COURSE}/courseware/ch1/") == COURSE
        assert ctx.course_id_from_path("/dashboard") == ""


class TestContentNode:
    def test_component_key_gives_module_and_course(self) -> None:
        """A component usage key fills context.module and the course id."""
        node = ctx.resolve_content_node(BLOCK.format(kind="problem", name="p1"))
        assert node is not None
        assert node.course_id == COURSE
        assert node.module == {"usage_key": BLOCK.format(kind="problem", name="p1")}

    def test_structural_keys_fill_their_level(self) -> None:
        """Chapter, sequential and vertical keys fill module_id, section_id and unit_id."""
        for kind, field in (("chapter", "module_id"), ("sequential", "section_id"), ("vertical", "unit_id")):
            node = ctx.resolve_content_node(BLOCK.format(kind=kind, name="x"))
            assert node is not None
            assert getattr(node, field) == BLOCK.format(kind=kind, name="x")

    def test_block_tree_fills_every_level(self) -> None:
        """A block with parents yields the ids of its vertical, sequential and chapter."""
        chapter = block("chapter", "c1")
        sequential = block("sequential", "s1", parent=chapter)
        vertical = block("vertical", "v1", parent=sequential)
        problem = block("problem", "p1", parent=vertical, display_name="Question 1")
        node = ctx.resolve_content_node(problem)
        assert node is not None
        assert node.module_id.endswith("block@c1")
        assert node.section_id.endswith("block@s1")
        assert node.unit_id.endswith("block@v1")
        assert node.module == {
            "usage_key": BLOCK.format(kind="problem", name="p1"),
            "display_name": "Question 1",
        }

    def test_mapping_of_ids(self) -> None:
        """A plain mapping of ids is taken as given (for LMSes without opaque keys)."""
        node = ctx.resolve_content_node(
            {"course_id": COURSE, "module_id": "m", "section_id": "s", "unit_id": "u"}
        )
        assert node == ctx.ContentNode(course_id=COURSE, module_id="m", section_id="s", unit_id="u")

    def test_unreadable_node_is_a_typed_error(self) -> None:
        """Something that is not a node raises InvalidContentNodeError, a ValueError."""
        with pytest.raises(ctx.InvalidContentNodeError):
            ctx.resolve_content_node(object())
        with pytest.raises(ValueError, match="usage key"):
            ctx.resolve_content_node("definitely not a key")
