"""`kroi serve | migrate | seed`: the command line; starts embedded servers when no URL is configured."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from kroi.settings import Settings

log = logging.getLogger("kroi")


@contextlib.contextmanager
def servers(settings: Settings) -> Iterator[Settings]:
    """Settings with DATABASE_URL/REDIS_URL filled in, starting embedded servers for what is missing."""
    need_db, need_redis = not settings.database_url, not settings.redis_url
    if not (need_db or need_redis):
        yield settings
        return
    if settings.env == "production":
        raise click.ClickException("production needs DATABASE_URL and REDIS_URL")
    from kroi import embedded

    click.secho("DEVELOPMENT MODE: starting embedded " + " and ".join(
        n for n, need in (("PostgreSQL", need_db), ("Redis", need_redis)) if need) +
        f" with data under {settings.var_dir.resolve()}", fg="yellow", err=True)
    emb = embedded.start(settings.var_dir, need_db=need_db, need_redis=need_redis)
    try:
        yield settings.model_copy(update={
            "database_url": settings.database_url or emb.database_url,
            "redis_url": settings.redis_url or emb.redis_url,
        })
    finally:
        emb.stop()


def _migrate(settings: Settings) -> None:
    from kroi.db.migrate import upgrade

    upgrade(settings.database_url)


async def _seed(settings: Settings, demo: int) -> None:
    from kroi.db.session import make_engine, make_sessionmaker
    from kroi.seeding.original import seed_all
    from kroi.storage import make_storage

    storage = make_storage(settings)  # the bucket when KROI_S3_BUCKET is set: media_url points there
    # A demo load of 100,000 cars rebuilds the search index in one statement: no 30 s request limit.
    engine = make_engine(settings, command_timeout=None if demo else 30)
    try:
        async with make_sessionmaker(engine)() as session:
            report = await seed_all(
                session, storage, settings.admin_email,
                settings.admin_password.get_secret_value() if settings.admin_password else None,
            )
        click.echo(f"seed: {report.cars_added} cars, {report.settings_added} settings, "
                   f"{report.leads_added} sample leads added")
        if report.admin_email:
            click.echo(f"seed: admin user {report.admin_email} created")
            if report.admin_password:
                click.secho(f"seed: its generated password (shown once, store it now): {report.admin_password}",
                            fg="green")
        if demo:
            from kroi.seeding.demo import load_demo

            async with make_sessionmaker(engine)() as session:
                added, seconds = await load_demo(session, demo, storage)
            click.echo(f"seed: {added} demo cars added in {seconds:.1f} s")
        await _bump_all(settings)
    finally:
        await engine.dispose()


async def _bump_all(settings: Settings) -> None:
    """Seeding writes outside the services: invalidate every cached listing."""
    if not settings.redis_url:
        return
    from kroi.cache import keys
    from kroi.cache.client import SafeRedis, make_redis
    from kroi.cache.fragments import FragmentCache

    safe = SafeRedis(make_redis(settings.redis_url, 1.0), 0)
    await FragmentCache(safe).bump(keys.INVENTORY, keys.SETTINGS)
    await safe.close()


@click.group()
def main() -> None:
    """Kroi Auto Center."""
    from kroi import logs

    # The same handler and format as the app's (create_app configures it again from its Settings).
    logs.configure(os.environ.get("KROI_LOG_LEVEL", "INFO"), os.environ.get("KROI_LOG_FORMAT", "text"))


@main.command()
def migrate() -> None:
    """Apply the database migrations (alembic upgrade head)."""
    with servers(Settings()) as settings:
        _migrate(settings)


@main.command()
@click.option("--demo", type=click.IntRange(0, 1_000_000), default=0, help="Also add N synthetic demo cars.")
def seed(demo: int) -> None:
    """Load the original cars, settings, the first admin and sample leads (idempotent)."""
    with servers(Settings()) as settings:
        _migrate(settings)
        asyncio.run(_seed(settings, demo))


@main.command()
def worker() -> None:
    """Send queued e-mails (the outbox) and run the saved-search alerts until stopped; run one or more beside
    `kroi serve --workers N`."""
    import signal

    from kroi.db.session import make_engine, make_sessionmaker
    from kroi.alerts import worker as alerts_worker
    from kroi.mail.worker import run_forever

    signal.signal(signal.SIGTERM, _exit_on_signal)

    async def run(settings: Settings) -> None:
        engine = make_engine(settings)
        sessionmaker = make_sessionmaker(engine)
        try:
            # The saved-search job (kroi.alerts) runs beside the sender; its mails go through the same outbox.
            await asyncio.gather(run_forever(sessionmaker, settings), alerts_worker.run_forever(sessionmaker, settings))
        finally:
            await engine.dispose()

    with servers(Settings()) as settings:
        click.secho(f"outbox worker running; mail goes to {settings.smtp_host or settings.mail_dir}", err=True)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run(settings))


@main.command()
@click.argument("action", type=click.Choice(["status", "dead", "retry-dead"]), default="status")
def outbox(action: str) -> None:
    """Show the mail outbox, list dead (undeliverable) messages, or queue them again."""
    from kroi.db.session import make_engine, make_sessionmaker
    from kroi.mail.outbox import OutboxRepository

    async def run(settings: Settings) -> None:
        engine = make_engine(settings)
        try:
            async with make_sessionmaker(engine)() as session:
                repo = OutboxRepository(session)
                if action == "status":
                    click.echo(await repo.counts())
                elif action == "dead":
                    for m in await repo.dead():
                        click.echo(f"{m.id}\t{m.kind}\t{m.payload.get('to')}\t{m.attempts}\t{m.last_error}")
                else:
                    click.echo(f"{await repo.retry_dead()} messages queued again")
        finally:
            await engine.dispose()

    with servers(Settings()) as settings:
        asyncio.run(run(settings))


@main.command()
@click.option("--once", is_flag=True, help="Print the state once and exit (non-zero when a threshold is crossed).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of tables (implies --once).")
@click.option("--interval", type=click.FloatRange(0.5, 3600), default=5.0, show_default=True,
              help="Seconds between refreshes of the live view.")
def monitor(once: bool, as_json: bool, interval: float) -> None:
    """Database, Redis, cache, outbox, leads and backups at a glance; live, or once for cron and alerting.

    Exit status with --once/--json: 0 when every threshold is fine, 1 when one is crossed (see
    docs/operations.md, "What to watch")."""
    import json

    from kroi import monitor as mon

    with servers(Settings()) as settings:
        if not (once or as_json):
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(mon.live(settings, interval))
            return
        report = asyncio.run(mon.collect(settings))
    if as_json:
        click.echo(json.dumps(report, default=str, ensure_ascii=False))
    else:
        from rich.console import Console

        Console().print(mon.render(report))
    sys.exit(0 if report["ok"] else 1)


@main.group()
def user() -> None:
    """Manage staff users (no default passwords: each is typed in or generated and shown once)."""


async def _user_action(settings: Settings, action: str, email: str, role: str | None = None,
                       password: str | None = None) -> str:
    from kroi.accounts.repositories import UserRepository
    from kroi.accounts.services import UserError, UserService
    from kroi.cache.client import SafeRedis, make_redis
    from kroi.db.session import make_engine, make_sessionmaker
    from kroi.security.auth import SessionStore
    from kroi.web import i18n

    engine = make_engine(settings)
    # Sessions live in the state Redis (revoked on deactivation and password change).
    safe = SafeRedis(make_redis(settings.state_redis, 1.0) if settings.state_redis else None, 0)
    store = SessionStore(safe, settings.session_idle_minutes * 60, settings.session_absolute_hours * 3600)
    try:
        async with make_sessionmaker(engine)() as session:
            # The same service as the admin pages, so the command line is audited (no actor, no address) and
            # deactivation revokes API tokens too.
            svc = UserService(session, store)
            existing = await UserRepository(session).by_email(email)
            try:
                if action == "create":
                    if existing:
                        raise click.ClickException(f"{email} already exists")
                    await svc.create_with_password(email, role or "", password or "")
                elif existing is None:
                    raise click.ClickException(f"no user {email}")
                elif action == "set-password":
                    await svc.set_password(existing, password or "", actor_id=None, ip=None)
                elif action == "deactivate":
                    await svc.deactivate(existing.id, actor_id=None, ip=None)
            except UserError as exc:
                raise click.ClickException(i18n.translate("en", exc.key, min=12)) from None
            return "ok"
    finally:
        await safe.close()
        await engine.dispose()


def _ask_password(generate: bool) -> tuple[str, bool]:
    from kroi.security.passwords import generate_password, password_problem

    if generate:
        return generate_password(), True
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password)
    if problem:
        raise click.ClickException(f"the password needs {problem}")
    return password, False


@user.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "sales", "viewer"]), required=True)
@click.option("--generate", is_flag=True, help="Generate a strong password and print it once.")
def user_create(email: str, role: str, generate: bool) -> None:
    password, generated = _ask_password(generate)
    with servers(Settings()) as settings:
        asyncio.run(_user_action(settings, "create", email, role, password))
    click.echo(f"created {email} ({role})" + (f"; password (shown once): {password}" if generated else ""))


@user.command("set-password")
@click.argument("email")
@click.option("--generate", is_flag=True, help="Generate a strong password and print it once.")
def user_set_password(email: str, generate: bool) -> None:
    password, generated = _ask_password(generate)
    with servers(Settings()) as settings:
        asyncio.run(_user_action(settings, "set-password", email, password=password))
    click.echo(f"password of {email} changed; their sessions ended" + (f"; new password: {password}" if generated else ""))


@user.command("deactivate")
@click.argument("email")
def user_deactivate(email: str) -> None:
    with servers(Settings()) as settings:
        asyncio.run(_user_action(settings, "deactivate", email))
    click.echo(f"{email} deactivated; their sessions ended")


# --- backups (issue 9 §1) ---------------------------------------------------------------------------------

def _human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"  # pragma: no cover - unreachable


def _human_age(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min ago"
    return f"{hours // 24} days ago"


@main.group(invoke_without_command=True)
@click.option("--to", "where", metavar="DIR|s3://BUCKET/PREFIX",
              help="Where backups go (default $KROI_BACKUP_DIR, else var/backups).")
@click.option("--media/--no-media", default=True, show_default=True,
              help="Also store the media files the data refers to (media.tar).")
@click.option("--keep-days", type=click.IntRange(0, 3650), default=None,
              help="After a good backup, remove those older than this (default $KROI_BACKUP_KEEP_DAYS, 30); "
                   "the newest good one always stays.")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="More than 1: pg_dump's directory format with this many parallel jobs (large databases).")
@click.option("--if-older-than", "if_older", type=click.FloatRange(0), metavar="HOURS",
              help="Only back up when the newest good backup is older than this (a schedule catching up).")
@click.pass_context
def backup(ctx: click.Context, where: str | None, media: bool, keep_days: int | None, jobs: int,
           if_older: float | None) -> None:
    """Back up the database (and media): `kroi backup`, `kroi backup list`."""
    import asyncpg

    ctx.obj = {"where": where}
    if ctx.invoked_subcommand:
        return
    from kroi.backup.locations import location_for
    from kroi.backup.services import BackupError, make_backup
    from kroi.storage import make_storage

    if if_older is not None:
        from datetime import datetime, timedelta, timezone

        good = [e for e in location_for(Settings(), where).scan() if e.good]
        if good and datetime.now(timezone.utc) - good[-1].created_at < timedelta(hours=if_older):
            click.echo(f"backup skipped: {good[-1].name} is newer than {if_older:g} h")
            return
    with servers(Settings()) as settings:
        location = location_for(settings, where)
        try:
            result = asyncio.run(make_backup(
                settings, location, make_storage(settings) if media else None, media=media, jobs=jobs,
                keep_days=settings.backup_keep_days if keep_days is None else keep_days))
        except (BackupError, FileExistsError, OSError, asyncpg.PostgresError) as exc:
            raise click.ClickException(f"backup failed: {exc}") from None
    click.echo(f"backup {result.name} written to {result.location}: {_human_size(result.size)}, "
               f"{result.tables} tables, {result.rows} rows, {result.media} media files")
    if result.missing_media:
        click.secho(f"warning: {len(result.missing_media)} media files the data refers to are not in storage, "
                    f"e.g. {result.missing_media[0]}", fg="yellow", err=True)
    for name in result.pruned:
        click.echo(f"pruned {name}")


@backup.command("list")
@click.pass_context
def backup_list(ctx: click.Context) -> None:
    """The backups with size and age, oldest first; incomplete ones are marked and cannot be restored."""
    from datetime import datetime, timezone

    from kroi.backup.locations import location_for

    settings = Settings()
    location = location_for(settings, ctx.obj["where"])
    entries = location.scan()
    if not entries:
        click.echo(f"no backups in {location.description}")
        return
    now = datetime.now(timezone.utc)
    click.echo(f"backups in {location.description}:")
    click.echo(f"{'NAME':<22} {'SIZE':>9}  {'CREATED (UTC)':<17}  AGE")
    for e in entries:
        click.echo(f"{e.name:<22} {_human_size(e.size):>9}  {e.created_at:%Y-%m-%d %H:%M}  "
                   f"{_human_age((now - e.created_at).total_seconds())}" + ("" if e.good else "  INCOMPLETE"))


@main.command()
@click.argument("name")
@click.option("--from", "where", metavar="DIR|s3://BUCKET/PREFIX", help="Where the backup is (default as kroi backup).")
@click.option("--target-db", help="Restore into this database (created if missing); default the one in DATABASE_URL.")
@click.option("--yes", is_flag=True, help="Replace a non-empty database after typing its name to confirm.")
@click.option("--force", is_flag=True, help="Replace a non-empty database without asking (scripts).")
@click.option("--media/--no-media", default=True, show_default=True, help="Put the backup's media files back.")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True, help="pg_restore parallel jobs.")
def restore(name: str, where: str | None, target_db: str | None, yes: bool, force: bool, media: bool,
            jobs: int) -> None:
    """Restore backup NAME (or `latest`), verify every table against its manifest, migrate forward.

    Exit status: 0 restored and verified; 1 refused or failed (the target is unchanged); 2 restored data
    differs from the manifest (the target is unchanged)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    from kroi.backup import repository
    from kroi.backup.locations import location_for
    from kroi.backup.services import BackupError, inspect_target, restore as run_restore
    from kroi.storage import make_storage

    with servers(Settings()) as settings:
        location = location_for(settings, where)
        if name == "latest":
            good = [e for e in location.scan() if e.good]
            if not good:
                raise click.ClickException(f"no good backup in {location.description}")
            name = good[-1].name
        target = target_db or make_url(settings.database_url).database
        if not target or not repository.DB_NAME_RE.match(target):
            raise click.ClickException(f"not a database name to restore into: {target!r}")
        found = asyncio.run(inspect_target(settings, target))
        if found.tables and not force:
            if not yes:
                raise click.ClickException(
                    f"database {target} is not empty ({found.tables} tables): restore will not overwrite it. "
                    "Run again with --yes to confirm by typing its name, with --force in scripts, "
                    "or restore into another database with --target-db NAME.")
            typed = click.prompt(f"This replaces database {target} ({found.tables} tables) with backup {name}. "
                                 f"Type the database name to confirm", default="", show_default=False)
            if typed.strip() != target:
                raise click.ClickException("the name typed does not match: nothing was changed")
        try:
            folder, temporary = asyncio.run(location.fetch(name))
        except FileNotFoundError as exc:
            raise click.ClickException(str(exc)) from None
        try:
            report = asyncio.run(run_restore(settings, folder, target, make_storage(settings), media=media,
                                             jobs=jobs, progress=lambda m: click.echo(f"... {m}", err=True)))
        except (BackupError, OSError, asyncpg.PostgresError) as exc:
            raise click.ClickException(str(exc)) from None
        finally:
            if temporary:
                import shutil

                shutil.rmtree(folder, ignore_errors=True)
        if not report.ok:
            click.secho(f"restore of {name} FAILED verification ({len(report.differences)} differences); "
                        f"{target} was left as it was:", fg="red", err=True)
            for line in report.differences:
                click.echo(f"  {line}", err=True)
            sys.exit(2)
        if target == make_url(settings.database_url).database:
            asyncio.run(_bump_all(settings))  # the cached pages show the data that was replaced
    click.echo(f"restored {name} into {target}"
               + (" (replacing the database that was there)" if report.replaced_existing else " (new database)")
               + f": {report.tables} tables, {report.rows} rows match the manifest"
               + (f"; migrated {report.migrated_from} -> {report.migrated_to}" if report.migrated_from else "")
               + (f"; {report.media_restored} media files put back" if report.media_restored else ""))
def _prepare_metrics_dir(default: Path) -> Path:
    """PROMETHEUS_MULTIPROC_DIR (default: `default`), emptied of an earlier run's files, set before anything
    imports prometheus-client: every worker then writes its metrics there and /metrics adds them up, and the
    counters start from zero with the server. Only prometheus-client's *.db files are removed."""
    path = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or default).resolve()
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("*.db"):
        with contextlib.suppress(FileNotFoundError):
            old.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", "8000")), show_default="8000 or $PORT")
@click.option("--workers", type=int, default=1, show_default=True, help="Only with external servers.")
@click.option("--no-seed", is_flag=True, help="Skip the idempotent seeding step.")
def serve(host: str, port: int, workers: int, no_seed: bool) -> None:
    """Migrate, seed and serve the site (embedded servers when DATABASE_URL/REDIS_URL are unset)."""
    import signal

    import uvicorn

    # uvicorn re-raises SIGTERM after its graceful shutdown; turn it into SystemExit so that `servers()`
    # still stops the embedded PostgreSQL and Redis on the way out.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    with servers(Settings()) as settings:
        _prepare_metrics_dir(settings.var_dir / "prometheus")
        _migrate(settings)
        if not no_seed:
            asyncio.run(_seed(settings, 0))
        from kroi.app import create_server_app

        click.secho(f"Kroi is serving on http://{host}:{port}", fg="green", err=True)
        if workers > 1:
            os.environ["DATABASE_URL"], os.environ["REDIS_URL"] = settings.database_url, settings.redis_url or ""
            uvicorn.run("kroi.app:create_app_from_env", factory=True, host=host, port=port, workers=workers,
                        proxy_headers=True, log_level="info", access_log=False, log_config=None)
        else:
            # Kroi logs each request itself (with its request id): uvicorn's access log would double the lines.
            # log_config=None: uvicorn's own lines go through Kroi's handler (main() set it up) in its format.
            uvicorn.run(create_server_app(settings), host=host, port=port, proxy_headers=True, log_level="info",
                        access_log=False, log_config=None)


if __name__ == "__main__":
    sys.exit(main())
