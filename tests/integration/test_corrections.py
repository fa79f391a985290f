"""The correction use cases on a real journal (the CLI tests cover the command layer)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.factories import make_trade, png_bytes
from zorivest_core.application.use_cases import corrections
from zorivest_core.domain.entities import Account, BalanceSnapshot, ImageAttachment
from zorivest_core.domain.enums import AccountType, MistakeCategory
from zorivest_core.domain.errors import ConflictError, NotFoundError, ValidationError
from zorivest_infra.journal import Journal


@pytest.fixture
def journal(tmp_path: Path, fast_kdf: None) -> Iterator[Journal]:
    with Journal.create(tmp_path / "j.zorivest", "use case passphrase") as opened:
        with opened.unit_of_work() as uow:
            uow.accounts.save(Account("ACC1", "Main", AccountType.BROKER))
            uow.accounts.save(Account("ACC2", "Other", AccountType.BROKER))
            uow.trades.save(make_trade("E1", instrument="AAPL"))
            uow.commit()
        yield opened


def test_edit_reports_each_change_and_the_pairs_whose_round_trips_move(
    journal: Journal,
) -> None:
    with journal.unit_of_work() as uow:
        result = corrections.edit_trade(
            uow, "E1", {"account_id": "ACC2", "instrument": "MSFT", "price": "190"}
        )
    assert [(c.name, c.old, c.new) for c in result.changes] == [
        ("instrument", "AAPL", "MSFT"),
        ("price", Decimal("189.25"), Decimal(190)),
        ("account_id", "ACC1", "ACC2"),
    ]
    assert result.affected == {("ACC1", "AAPL"), ("ACC2", "MSFT")}
    with journal.unit_of_work(read_only=True) as uow:
        stored = uow.trades.get("E1")
    assert stored is not None
    assert (stored.account_id, stored.price) == ("ACC2", Decimal(190))


def test_a_refused_edit_changes_nothing(journal: Journal) -> None:
    with journal.unit_of_work() as uow, pytest.raises(ValidationError, match="exec_id"):
        corrections.edit_trade(uow, "E1", {"exec_id": "E9"})
    with journal.unit_of_work() as uow, pytest.raises(ValidationError, match="price"):
        corrections.edit_trade(uow, "E1", {"instrument": "MSFT", "price": "-1"})
    with journal.unit_of_work(read_only=True) as uow:
        assert uow.trades.get("E1") == make_trade("E1", instrument="AAPL")


def test_notes_tags_and_mistakes_go_to_the_trade_report_and_mistakes(journal: Journal) -> None:
    with journal.unit_of_work() as uow:
        first = corrections.annotate_trade(uow, "E1", note="late", add_tags=["a", "b", "a"])
    with journal.unit_of_work() as uow:
        second = corrections.annotate_trade(uow, "E1", setup_quality=2, remove_tags=["a"])
    assert first.id == second.id
    assert (second.lessons_learned, second.setup_quality, second.tags) == ("late", 2, ["b"])
    with journal.unit_of_work() as uow:
        mistake = corrections.record_mistake(uow, "E1", "no_stop", estimated_cost="12.5")
    assert mistake.category is MistakeCategory.NO_STOP
    with journal.unit_of_work() as uow:
        deleted = corrections.delete_trade(uow, "E1")
    assert (deleted.report, deleted.mistakes) == (True, 1)
    with journal.unit_of_work(read_only=True) as uow:
        assert uow.trade_reports.count() == 0
        assert uow.mistakes.count() == 0


def test_an_account_is_deleted_only_when_nothing_belongs_to_it(journal: Journal) -> None:
    import datetime as dt

    with journal.unit_of_work() as uow:
        uow.balance_snapshots.save(
            BalanceSnapshot("ACC1", dt.datetime(2024, 1, 31, tzinfo=dt.UTC), Decimal(100))
        )
        uow.commit()
    with journal.unit_of_work() as uow, pytest.raises(ConflictError) as refused:
        corrections.delete_account(uow, "ACC1")
    assert "1 trade, 1 balance snapshot" in str(refused.value)
    with journal.unit_of_work() as uow:
        corrections.delete_account(uow, "ACC2")
    with journal.unit_of_work(read_only=True) as uow:
        assert [account.account_id for account in uow.accounts.list_all()] == ["ACC1"]


def test_image_delete(journal: Journal) -> None:
    with journal.unit_of_work() as uow:
        image_id = uow.images.save("E1", ImageAttachment(data=png_bytes(seed=1)))
        uow.commit()
    with journal.unit_of_work() as uow:
        gone = corrections.delete_image(uow, image_id)
    assert (gone.owner_id, gone.data) == ("E1", None)
    with journal.unit_of_work() as uow, pytest.raises(NotFoundError):
        corrections.delete_image(uow, image_id)
