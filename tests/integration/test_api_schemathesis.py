"""Schemathesis against the app's own OpenAPI document: every API operation, with a valid sales token, answers
generated requests (valid and invalid ones) without a server error."""
from __future__ import annotations

import anyio
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi as schemathesis_asgi
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from admin_support import add_user, bearer
from kroi.api.tokens import TokenService
from kroi.app import create_app
from kroi.db.models import Car, Lead
from support import with_settings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

EXAMPLES = {"positive": 25, "negative": 15}  # per operation


def fuzz(schema, header: dict[str, str], real_ids: dict[str, int]) -> list[str]:  # noqa: ANN001
    """Run the stateless check on every operation; returns the failures (operation, mode: error)."""
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 8, [op.label for op in operations]
    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # Generated ids (almost always unknown ones) and, for valid changes, a real car or lead too.
            fixed: list[dict[str, int] | None] = [None]
            if op.method.upper() == "PATCH" and mode == GenerationMode.POSITIVE:
                fixed.append({k: v for k, v in real_ids.items() if f"{{{k}}}" in op.path})
            for path_parameters in fixed:
                strategy = op.as_strategy(mode, headers=header, path_parameters=path_parameters)

                @given(case=strategy)
                @hypothesis_settings(max_examples=EXAMPLES[mode.value], deadline=None, database=None,
                                     phases=[Phase.explicit, Phase.generate],
                                     suppress_health_check=list(HealthCheck))
                def check(case) -> None:  # noqa: ANN001
                    case.call_and_validate(headers=header, checks=[not_a_server_error])

                try:
                    check()
                except Exception as exc:  # noqa: BLE001 - collected, reported together below
                    failures.append(f"{op.label} [{mode.value}, ids={path_parameters}]: {exc}"[:2000])
    return failures


async def test_no_operation_answers_with_a_server_error(settings, reset, db: AsyncSession) -> None:  # noqa: ANN001
    uid = await add_user(db, "fuzz@example.test", "sales")
    _, token = await TokenService(db).create(uid, "schemathesis", ip=None)
    real_ids = {"car_id": await db.scalar(select(Car.id).order_by(Car.id)),
                "lead_id": await db.scalar(select(Lead.id).order_by(Lead.id))}
    await db.commit()
    app = create_app(with_settings(settings, run_worker=False))

    def run() -> list[str]:
        # Schemathesis drives the app in its own thread and event loop (and runs its lifespan there).
        try:
            schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
            return fuzz(schema, bearer(token), real_ids)
        finally:
            schemathesis_asgi.shutdown_lifespans()

    failures = await anyio.to_thread.run_sync(run)
    assert failures == [], "\n\n".join(failures)
