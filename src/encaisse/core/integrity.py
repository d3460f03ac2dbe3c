# SPDX-License-Identifier: AGPL-3.0-or-later
"""Foreign keys checked once per statement on PostgreSQL, for the tables filled by the million.

Why: PostgreSQL checks a foreign key with one query per new row, which also locks the parent row
(``SELECT … FOR KEY SHARE``, a WAL record each). The billing run writes about twelve such
references per invoice (entries → transaction and account, transaction → customer and invoice,
invoice → customer and run, charge → invoice): at 1 M invoices those checks were ≈ 40 % of the
run (docs/benchmarks.md). These references are given the same guarantee, still enforced by the
database for every writer (ORM, raw SQL, shell), by three triggers each:

- on the child table, an ``AFTER INSERT`` (and, where the column is set later, ``AFTER UPDATE``)
  statement trigger looks up, in one anti-join of the distinct values of the statement's new rows
  (its transition table, SQL:2011) with the parent's primary key, any reference to a row not there
  yet; if there is one, it records their ids (one row per statement) in an unlogged table whose
  deferred constraint trigger checks them again at COMMIT and aborts it with
  ``foreign_key_violation`` if a parent is still missing — Django's ``INITIALLY DEFERRED``
  semantics, so a transaction may write children before their parent;
- on the parent table, an ``AFTER DELETE`` statement trigger refuses to delete a row still
  referenced (``NO ACTION``, as Django's ``PROTECT`` asks), and a row trigger refuses to change a
  referenced table's primary key.

Concurrency: a statement's check cannot see the rows another transaction has not committed yet, so
a parent must never be deleted while children may be written to it (a native foreign key locks the
parent instead). That holds here: journal transactions and invoices are append-only, accounts can
be neither deleted nor changed (ledger migration 0006), customers keep their accounts and billing
runs their chunks (native foreign keys, which do lock).

As with Django's ``DEFERRABLE INITIALLY DEFERRED`` constraints, a transaction may write a child
before its parent: the billing run writes an invoice's charges and entries before the invoice and
its journal transaction, so that it takes the gapless number last (``invoicing.issuance``). The
common case costs one probe per distinct value; the deferred one, a row per statement and one
probe per value at COMMIT. SQLite keeps its native foreign keys (deferred too): there a check is
one primary-key look-up without a lock. The model fields keep ``db_constraint``: a later
``AlterField`` of one of these fields on PostgreSQL would add the constraint back (correct, only
slower) and should call :func:`check_per_statement` again.

Written here because no library offers it; the trigger SQL follows the PostgreSQL manual, "CREATE
TRIGGER" (transition relations, constraint triggers deferred to COMMIT) and "Trigger Functions"
(PL/pgSQL).
"""

from __future__ import annotations

from typing import Any

# The checks must probe the other table's index for each distinct value, whatever the planner
# believes of its size: PL/pgSQL keeps a query's plan for the session, and a plan chosen while a
# table was small (a hash join over a sequential scan of it) would read the whole table at every
# statement once it holds millions of rows (measured: a 1 M billing run 123 s → 288 s).
PROBES_ONLY = "SET enable_hashjoin = off SET enable_mergejoin = off"

KEY_FUNCTION = """
CREATE OR REPLACE FUNCTION encaisse_forbid_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'encaisse: the id of % rows never changes (other rows refer to it)',
        TG_TABLE_NAME USING ERRCODE = 'foreign_key_violation';
END
$$;
"""


# References whose parent a statement did not find yet, checked again at COMMIT (see the module
# docstring). UNLOGGED: its rows live within one transaction, so a crash may lose them freely.
PENDING = "encaisse_pending_reference"

PENDING_TABLE = f"""
CREATE UNLOGGED TABLE IF NOT EXISTS {PENDING} (
    id bigserial PRIMARY KEY, child text NOT NULL, parent text NOT NULL, ids bigint[] NOT NULL
);
"""

PENDING_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {PENDING}_check() RETURNS trigger LANGUAGE plpgsql
{PROBES_ONLY} AS $$
DECLARE
    missing boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM unnest($1) AS n(id) '
                   'WHERE NOT EXISTS (SELECT 1 FROM %I p WHERE p.id = n.id))', NEW.parent)
        INTO missing USING NEW.ids;
    IF missing THEN
        RAISE EXCEPTION 'encaisse: % refers to a % row that does not exist', NEW.child, NEW.parent
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    DELETE FROM {PENDING} WHERE id = NEW.id;
    RETURN NULL;
END
$$;
"""


def _run(schema_editor: Any, sql: str) -> None:
    """Without parameters, so that ``%`` in a RAISE message is not taken for a placeholder."""
    schema_editor.execute(sql, None)


def _names(child: str, column: str) -> tuple[str, str]:
    return f"encaisse_ref_{child}_{column}", f"encaisse_refd_{child}_{column}"


def _foreign_key_name(cursor: Any, child: str, column: str) -> str | None:
    cursor.execute(
        "SELECT c.conname FROM pg_constraint c JOIN pg_attribute a "
        "ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) "
        "WHERE c.contype = 'f' AND c.conrelid = %s::regclass AND a.attname = %s",
        [child, column],
    )
    row = cursor.fetchone()
    return None if row is None else str(row[0])


def install_deferred_check(schema_editor: Any) -> None:
    """The table of references waiting for their parent, and its check at COMMIT (PostgreSQL).

    A constraint trigger is the only kind PostgreSQL defers to COMMIT, and only per row: hence one
    row per statement that found parents missing, holding all of that statement's missing ids.
    """
    _run(schema_editor, PENDING_TABLE)
    _run(schema_editor, PENDING_FUNCTION)
    _run(schema_editor, f"DROP TRIGGER IF EXISTS {PENDING}_at_commit ON {PENDING}")
    _run(
        schema_editor,
        f"CREATE CONSTRAINT TRIGGER {PENDING}_at_commit AFTER INSERT ON {PENDING} "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {PENDING}_check()",
    )


def check_per_statement(
    schema_editor: Any, child: str, column: str, parent: str, *, on_update: bool = False
) -> None:
    """Replace the foreign key ``child.column → parent.id`` by statement-level triggers (PostgreSQL).

    ``on_update``: also check UPDATE statements of ``child`` (a column set after the row is
    written, like a charge's invoice); columns that never change after INSERT need not.
    """
    if schema_editor.connection.vendor != "postgresql":
        return
    check, guard = _names(child, column)
    with schema_editor.connection.cursor() as cursor:
        name = _foreign_key_name(cursor, child, column)
    if name is not None:
        _run(schema_editor, f'ALTER TABLE {child} DROP CONSTRAINT "{name}"')
    install_deferred_check(schema_editor)
    _run(
        schema_editor,
        f"""CREATE OR REPLACE FUNCTION {check}() RETURNS trigger LANGUAGE plpgsql
{PROBES_ONLY} AS $$
BEGIN
    INSERT INTO {PENDING} (child, parent, ids)
    SELECT '{child}.{column}', '{parent}', array_agg(n.id)
    FROM (SELECT DISTINCT {column} AS id FROM new_rows) n
    WHERE n.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = n.id)
    HAVING COUNT(*) > 0;
    RETURN NULL;
END
$$;""",
    )
    events = ["INSERT", "UPDATE"] if on_update else ["INSERT"]
    for event in events:
        _run(
            schema_editor,
            f"CREATE OR REPLACE TRIGGER {check}_{event.lower()} AFTER {event} ON {child} "
            f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {check}()",
        )
    _run(
        schema_editor,
        f"""CREATE OR REPLACE FUNCTION {guard}() RETURNS trigger LANGUAGE plpgsql
{PROBES_ONLY} AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows o
               WHERE EXISTS (SELECT 1 FROM {child} c WHERE c.{column} = o.id)) THEN
        RAISE EXCEPTION 'encaisse: {parent} rows referred to by {child}.{column} cannot be deleted'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;""",
    )
    _run(
        schema_editor,
        f"CREATE OR REPLACE TRIGGER {guard} AFTER DELETE ON {parent} "
        f"REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {guard}()",
    )
    _run(schema_editor, KEY_FUNCTION)
    _run(
        schema_editor,
        f"CREATE OR REPLACE TRIGGER {parent}_key_fixed AFTER UPDATE OF id ON {parent} "
        "FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) "
        "EXECUTE FUNCTION encaisse_forbid_key_change()",
    )


def check_per_row(schema_editor: Any, child: str, column: str, parent: str) -> None:
    """Undo :func:`check_per_statement`: the foreign key as Django creates it (PostgreSQL).

    The parent's ``…_key_fixed`` trigger stays: other references may still rely on it.
    """
    if schema_editor.connection.vendor != "postgresql":
        return
    check, guard = _names(child, column)
    _run(schema_editor, f"DROP TRIGGER IF EXISTS {check}_insert ON {child}")
    _run(schema_editor, f"DROP TRIGGER IF EXISTS {check}_update ON {child}")
    _run(schema_editor, f"DROP TRIGGER IF EXISTS {guard} ON {parent}")
    _run(schema_editor, f"DROP FUNCTION IF EXISTS {check}()")
    _run(schema_editor, f"DROP FUNCTION IF EXISTS {guard}()")
    _run(
        schema_editor,
        f"ALTER TABLE {child} ADD CONSTRAINT {child}_{column}_fk FOREIGN KEY ({column}) "
        f"REFERENCES {parent} (id) DEFERRABLE INITIALLY DEFERRED",
    )
