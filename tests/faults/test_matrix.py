"""The fault matrix, short variant: every cell on Redis and on RabbitMQ, in each hand-off mode it runs in.

Real PostgreSQL, gunicorn, a Celery worker and the republisher (tests/faults/harness.py says what
each cell does and how events are counted). ``python bench/faults.py`` runs the long variant and
prints the table. Marked ``faults``: ``pytest -m faults`` runs only these, ``-m "not faults"`` skips them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_service
from tests.faults import harness

PLAN = list(harness.plan())


@pytest.fixture(scope="module", name="matrix")
def fixture_matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Matrix]:
    """The services (each must answer; under CI=true a missing one fails), one database, stacks on demand."""
    brokers = harness.default_brokers()
    require_service("PostgreSQL", harness.default_database_url().replace("postgres://", "tcp://", 1))
    require_service("Redis broker", brokers["redis"])
    require_service("RabbitMQ broker", brokers["rabbitmq"])
    matrix = harness.Matrix(Path(tmp_path_factory.mktemp("faults")), brokers, harness.default_database_url())
    yield matrix
    matrix.close()


@pytest.mark.faults
class TestFaultMatrix:
    @pytest.mark.parametrize(("broker", "mode", "cell"), PLAN, ids=["-".join(entry) for entry in PLAN])
    def test_every_accepted_event_is_delivered_exactly_once(
        self, matrix: harness.Matrix, broker: str, mode: str, cell: str
    ) -> None:
        """Under the cell's fault, every event the API or track() accepted is in the log exactly once."""
        result = matrix.run(broker, mode, cell, harness.SHORT)
        print(f"\n{harness.HEADER}\n{result.row()}")
        if not result.accepted or (result.missing, result.duplicated, result.malformed) != (0, 0, 0):
            print(matrix.log_tails())  # shown with the failure: what the processes said
        assert result.accepted > 0, result.row()
        assert (result.missing, result.duplicated, result.malformed) == (0, 0, 0), result.row()
